// Forecasting (issue 8): ARIMA fits (css-ml) on R's classic series and on crypto returns,
// GARCH(1,1) fits, auto_arima over 1,000 generated series, and three inner loops (one exact
// Kalman likelihood evaluation, one GARCH likelihood evaluation, a 100k-path VaR/ES simulation).
// scripts/run-benchmarks.sh (group `forecast`) times the same fits with statsmodels
// (scripts/bench/arima_statsmodels.py) and R (scripts/bench/forecast_r.R: stats::arima,
// forecast::auto.arima, fGarch::garchFit) on the same files:
//
//   Rscript scripts/bench/forecast_r.R export DIR              # R's series -> DIR/series
//   forecast_benchmark --write_reference_inputs=DIR            # crypto returns, case tables,
//                                                              # generated series, Vigil's answers
//   forecast_benchmark --forecast_data=DIR                     # the cases
//
// Options: --forecast_data=DIR (where series/ lives; without it only the crypto, generated
// and inner-loop cases run), --shared_data=DIR (../shared/data by default).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "forecast_inputs.h"
#include "garch_likelihood.h"  // src/models/forecast: the likelihood the GARCH fit optimises
#include "reference_run.h"
#include "vigil/models/forecast/arima.h"
#include "vigil/models/forecast/auto_arima.h"
#include "vigil/models/forecast/garch.h"

namespace vigil::bench {
namespace {

namespace fs = std::filesystem;

fs::path g_forecast_data;                    // --forecast_data
fs::path g_shared_data = VIGIL_SHARED_DATA;  // --shared_data

constexpr std::string_view kCryptoSeries = "eth_btc_5m";
constexpr int64_t kCryptoReturns = 2000;
constexpr int kAutoSeries = 1000;
constexpr int kAutoLength = 500;
constexpr uint64_t kAutoSeed = 8;
constexpr int kRiskHorizon = 10;
constexpr int kRiskPaths = 100'000;

// Every sides' model: a mean for d = 0, nothing for d = 1 (R arima's default; no drift).
struct ArimaCase {
  std::string_view series;
  ArimaOrder order;
  std::string Name() const {
    return "arima_fit_" + std::string(series) + "_" + std::to_string(order.p) +
           std::to_string(order.d) + std::to_string(order.q);
  }
  bool constant() const { return order.d == 0; }
};
constexpr ArimaCase kArimaCases[] = {
    {"air_log", {0, 1, 1}},     {"air_log", {2, 1, 1}},      {"lynx", {2, 0, 0}},
    {"lynx", {3, 0, 1}},        {"nile", {1, 0, 1}},         {"nile", {0, 1, 1}},
    {"lakehuron", {2, 0, 0}},   {"lakehuron", {1, 0, 1}},    {"wwwusage", {1, 1, 1}},
    {"wwwusage", {3, 1, 0}},    {"sunspot_year", {2, 0, 0}}, {"sunspot_year", {2, 0, 2}},
    {kCryptoSeries, {1, 0, 1}}, {kCryptoSeries, {2, 0, 2}},
};
constexpr std::string_view kGarchSeries[] = {"dem2gbp", kCryptoSeries};

// The inner-loop ARIMA case: ARMA(2,2) + mean at fixed (stationary, invertible) values.
const ArimaCase kLoglikCase{kCryptoSeries, {2, 0, 2}};
const std::vector<std::string> kLoglikNames = {"ar1", "ar2", "ma1", "ma2", "intercept"};
const std::vector<double> kLoglikCoefficients = {0.5, -0.2, -0.4, 0.1, 0.0};

ArimaOptions OptionsFor(const ArimaCase& arima_case) {
  ArimaOptions options;
  options.order = arima_case.order;
  options.method = ArimaMethod::kCssMl;
  options.include_constant = arima_case.constant();
  return options;
}

// The series by name: the crypto returns from ../shared/data, the rest from
// --forecast_data's series/ (absent ones are skipped with an error naming the fix).
Result<std::vector<double>> LoadSeries(std::string_view name) {
  if (name == kCryptoSeries) {
    return PercentLogReturns(g_shared_data / "candles" / "ETH_BTC-5m.csv", kCryptoReturns);
  }
  if (g_forecast_data.empty()) {
    return NotFound("series '" + std::string(name) +
                    "' needs --forecast_data=DIR (Rscript scripts/bench/forecast_r.R export DIR)");
  }
  return ReadValueCsv(g_forecast_data / "series" / (std::string(name) + ".csv"));
}

const Result<std::vector<double>>& Series(std::string_view name) {
  static std::map<std::string, Result<std::vector<double>>, std::less<>> cache;
  auto found = cache.find(name);
  if (found == cache.end()) found = cache.emplace(std::string(name), LoadSeries(name)).first;
  return found->second;
}

const std::vector<std::vector<double>>& AutoSeries() {
  static const auto series = MixedArimaSeries(kAutoSeries, kAutoLength, kAutoSeed);
  return series;
}

// Fails the case (instead of crashing) when a fit or input returns an error.
bool SkipIfError(benchmark::State& state, const Status& status) {
  if (status.ok()) return false;
  state.SkipWithError(status.ToString().c_str());
  return true;
}

void BM_ArimaFit(benchmark::State& state, ArimaCase arima_case) {
  const auto& y = Series(arima_case.series);
  if (SkipIfError(state, y.status())) return;
  const ArimaOptions options = OptionsFor(arima_case);
  for (auto _ : state) {
    auto model = ArimaModel::Fit(*y, options);
    if (SkipIfError(state, model.status())) return;
    benchmark::DoNotOptimize(model->fit().loglik);
  }
  state.counters["n"] = static_cast<double>(y->size());
}

// One exact likelihood evaluation: the Kalman filter over the series at fixed coefficients.
void BM_ArimaLoglik(benchmark::State& state) {
  const auto& y = Series(kLoglikCase.series);
  if (SkipIfError(state, y.status())) return;
  const ArimaOptions options = OptionsFor(kLoglikCase);
  for (auto _ : state) {
    auto model = ArimaModel::FromCoefficients(*y, options, kLoglikCoefficients);
    if (SkipIfError(state, model.status())) return;
    benchmark::DoNotOptimize(model->fit().loglik);
  }
}

void BM_GarchFit(benchmark::State& state, std::string_view series) {
  const auto& y = Series(series);
  if (SkipIfError(state, y.status())) return;
  for (auto _ : state) {
    auto model = GarchModel::Fit(*y, GarchOptions{});
    if (SkipIfError(state, model.status())) return;
    benchmark::DoNotOptimize(model->fit().loglik);
  }
  state.counters["n"] = static_cast<double>(y->size());
}

// One exact GARCH(1,1) log-likelihood evaluation over the 2,000 crypto returns (the
// function the optimiser calls; private to vigil_models: garch_likelihood.h), at fixed
// values near R's fit, without gradient or scores.
void BM_GarchLoglik(benchmark::State& state) {
  const auto& y = Series(kCryptoSeries);
  if (SkipIfError(state, y.status())) return;
  garch_internal::ParamVector params{};
  params[garch_internal::kMu] = 0.002;
  params[garch_internal::kOmega] = 0.0055;
  params[garch_internal::kAlpha] = 0.13;
  params[garch_internal::kBeta] = 0.845;
  const GarchOptions options;
  for (auto _ : state) {
    benchmark::DoNotOptimize(garch_internal::LogLikelihood(options, *y, params));
  }
}

// VaR and ES at 95% and 99% over 10 days by simulating 100,000 paths of the fitted
// GARCH(1,1) on dem2gbp.
void BM_GarchRisk(benchmark::State& state) {
  const auto& y = Series("dem2gbp");
  if (SkipIfError(state, y.status())) return;
  GarchOptions options;
  options.simulations = kRiskPaths;
  const auto model = GarchModel::Fit(*y, options);
  if (SkipIfError(state, model.status())) return;
  const std::vector<double> levels = {0.95, 0.99};
  for (auto _ : state) {
    auto risk = model->Risk(kRiskHorizon, levels);
    if (SkipIfError(state, risk.status())) return;
    benchmark::DoNotOptimize(risk->es.data());
  }
}

// auto_arima (defaults: stepwise, AICc, KPSS for d, CSS approximation for n > 150) on every
// generated series; `threads` 0 = all cores. One call lasts seconds, so Google Benchmark
// runs one iteration per repeat by itself (an explicit Iterations(1) would put
// "/iterations:1" into the name the reference lines are matched by).
void BM_AutoArimaMany(benchmark::State& state, int threads) {
  const auto& series = AutoSeries();
  int failed = 0;
  for (auto _ : state) {
    const auto results = AutoArimaMany(series, AutoArimaOptions{}, threads);
    failed = 0;
    for (const auto& result : results) failed += result.ok() ? 0 : 1;
    if (failed == kAutoSeries && SkipIfError(state, results.front().status())) return;
  }
  state.counters["failed"] = failed;
  state.SetItemsProcessed(state.iterations() * kAutoSeries);
}

void RegisterCases() {
  for (const ArimaCase& arima_case : kArimaCases) {
    benchmark::RegisterBenchmark(arima_case.Name().c_str(), [arima_case](benchmark::State& state) {
      BM_ArimaFit(state, arima_case);
    })->Apply(BestOfThree);
  }
  for (std::string_view series : kGarchSeries) {
    benchmark::RegisterBenchmark(("garch_fit_" + std::string(series)).c_str(),
                                 [series](benchmark::State& state) { BM_GarchFit(state, series); })
        ->Apply(BestOfThree);
  }
  benchmark::RegisterBenchmark("auto_arima_1000x500", [](benchmark::State& state) {
    BM_AutoArimaMany(state, 0);
  })->Apply(BestOfThree);
  benchmark::RegisterBenchmark("auto_arima_1000x500_one_thread", [](benchmark::State& state) {
    BM_AutoArimaMany(state, 1);
  })->Apply(BestOfThree);
  benchmark::RegisterBenchmark("arima_loglik_eth_btc_5m_202", BM_ArimaLoglik)
      ->Apply(BestOfThree)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("garch_loglik_eth_btc_5m", BM_GarchLoglik)
      ->Apply(BestOfThree)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("garch_var_es_10d_100k_paths", BM_GarchRisk)->Apply(BestOfThree);
}

// --- Reference inputs: case tables, the crypto and generated series, Vigil's answers -------

Status WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  return out ? Status::Ok() : IoError(path.string() + ": write failed");
}

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.17g", value);
  return text;
}

// arima_cases.csv, and vigil_arima.csv with Vigil's fits where they succeed.
Status WriteArimaCases(const fs::path& dir) {
  std::string cases = "case,series,p,d,q,constant\n";
  std::string answers = "case,loglik,sigma2\n";
  for (const ArimaCase& arima_case : kArimaCases) {
    const ArimaOrder& order = arima_case.order;
    cases += arima_case.Name() + "," + std::string(arima_case.series) + "," +
             std::to_string(order.p) + "," + std::to_string(order.d) + "," +
             std::to_string(order.q) + "," + (arima_case.constant() ? "1" : "0") + "\n";
    const auto& y = Series(arima_case.series);
    if (!y.ok()) continue;
    const auto model = ArimaModel::Fit(*y, OptionsFor(arima_case));
    if (!model.ok()) {
      std::fprintf(stderr, "forecast_benchmark: %s: %s\n", arima_case.Name().c_str(),
                   model.status().ToString().c_str());
      continue;
    }
    answers += arima_case.Name() + "," + Number(model->fit().loglik) + "," +
               Number(model->fit().sigma2) + "\n";
  }
  VIGIL_RETURN_IF_ERROR(WriteText(dir / "arima_cases.csv", cases));
  return WriteText(dir / "vigil_arima.csv", answers);
}

// arima_loglik_case.csv: the fixed coefficients of the likelihood case (and sigma2 for
// statsmodels, whose likelihood does not concentrate it out).
Status WriteLoglikCase(const fs::path& dir) {
  VIGIL_ASSIGN_OR_RETURN(const std::vector<double> y, LoadSeries(kLoglikCase.series));
  const std::string prefix =
      "arima_loglik_eth_btc_5m_202," + std::string(kLoglikCase.series) + ",2,0,2,";
  std::string text = "case,series,p,d,q,name,value\n";
  for (size_t i = 0; i < kLoglikNames.size(); ++i) {
    text += prefix + kLoglikNames[i] + "," + Number(kLoglikCoefficients[i]) + "\n";
  }
  const auto model = ArimaModel::FromCoefficients(y, OptionsFor(kLoglikCase), kLoglikCoefficients);
  if (model.ok()) text += prefix + "sigma2," + Number(model->fit().sigma2) + "\n";
  return WriteText(dir / "arima_loglik_case.csv", text);
}

// garch_cases.csv, and vigil_garch.csv with Vigil's coefficients where the fits succeed.
Status WriteGarchCases(const fs::path& dir) {
  std::string cases = "case,series\n";
  std::string answers = "case,mu,omega,alpha1,beta1,loglik\n";
  for (std::string_view series : kGarchSeries) {
    const std::string name = "garch_fit_" + std::string(series);
    cases += name + "," + std::string(series) + "\n";
    const auto& y = Series(series);
    if (!y.ok()) continue;
    const auto model = GarchModel::Fit(*y, GarchOptions{});
    if (!model.ok()) {
      std::fprintf(stderr, "forecast_benchmark: %s: %s\n", name.c_str(),
                   model.status().ToString().c_str());
      continue;
    }
    answers += name;
    for (const char* coefficient : {"mu", "omega", "alpha1", "beta1"}) {
      answers += "," + Number(model->fit().Coefficient(coefficient));
    }
    answers += "," + Number(model->fit().loglik) + "\n";
  }
  VIGIL_RETURN_IF_ERROR(WriteText(dir / "garch_cases.csv", cases));
  return WriteText(dir / "vigil_garch.csv", answers);
}

// auto_arima_series.csv, and vigil_auto_arima.csv with the orders Vigil chose (NA: failed).
Status WriteAutoArimaInputs(const fs::path& dir) {
  VIGIL_RETURN_IF_ERROR(WriteSeriesRows(dir / "auto_arima_series.csv", AutoSeries()));
  const auto results = AutoArimaMany(AutoSeries(), AutoArimaOptions{});
  std::string text = "series,p,d,q,constant\n";
  for (size_t index = 0; index < results.size(); ++index) {
    const auto& result = results[index];
    text += std::to_string(index + 1) + ",";
    if (!result.ok()) {
      text += "NA,NA,NA,NA\n";
      continue;
    }
    text += std::to_string(result->order.p) + "," + std::to_string(result->order.d) + "," +
            std::to_string(result->order.q) + "," + (result->constant ? "1" : "0") + "\n";
  }
  return WriteText(dir / "vigil_auto_arima.csv", text);
}

Status WriteReferenceInputs(const std::string& dir_name) {
  const fs::path dir(dir_name);
  fs::create_directories(dir / "series");
  if (g_forecast_data.empty()) g_forecast_data = dir;
  VIGIL_ASSIGN_OR_RETURN(const std::vector<double> crypto, LoadSeries(kCryptoSeries));
  VIGIL_RETURN_IF_ERROR(
      WriteValueCsv(dir / "series" / (std::string(kCryptoSeries) + ".csv"), crypto));
  VIGIL_RETURN_IF_ERROR(WriteArimaCases(dir));
  VIGIL_RETURN_IF_ERROR(WriteLoglikCase(dir));
  VIGIL_RETURN_IF_ERROR(WriteGarchCases(dir));
  return WriteAutoArimaInputs(dir);
}

// Takes this benchmark's own flags out of argv (Google Benchmark rejects unknown ones).
void TakeOwnFlags(int& argc, char** argv) {
  int kept = 1;
  for (int arg = 1; arg < argc; ++arg) {
    const std::string_view text = argv[arg];
    if (text.rfind("--forecast_data=", 0) == 0) {
      g_forecast_data = text.substr(text.find('=') + 1);
    } else if (text.rfind("--shared_data=", 0) == 0) {
      g_shared_data = text.substr(text.find('=') + 1);
    } else {
      argv[kept++] = argv[arg];
    }
  }
  argc = kept;
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  vigil::bench::TakeOwnFlags(argc, argv);
  vigil::bench::RegisterCases();
  return vigil::bench::BenchmarkMain(argc, argv, "forecast_benchmark",
                                     vigil::bench::WriteReferenceInputs);
}
