// The forecasting kinds of the model factory (src/models/forecast/forecast_kinds.cc):
// configs with defaults, config errors naming the key, Fit/Forecast/Append agreeing with
// the engines, Describe, and persistence through the model registry.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "vigil/core/text_file.h"
#include "vigil/models/forecast/arima.h"
#include "vigil/models/forecast/baselines.h"
#include "vigil/models/forecast/garch.h"
#include "vigil/models/model.h"
#include "vigil/registry/registry.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kKinds = {"arima", "auto_arima", "garch", "naive", "drift"};

fs::path FreshDir(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("vigil_forecast_kinds_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// AR(1) around 10 with coefficient 0.6.
std::vector<double> Ar1Series(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> shock(0.0, 1.0);
  std::vector<double> y;
  double x = 0;
  for (int t = 0; t < n; ++t) {
    x = 0.6 * x + shock(rng);
    y.push_back(10 + x);
  }
  return y;
}

// GARCH(1,1) returns: omega 0.1, alpha1 0.1, beta1 0.8, mu 0.05.
std::vector<double> GarchReturns(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z(0.0, 1.0);
  std::vector<double> r;
  double h = 1.0, e = 0.0;
  for (int t = 0; t < n; ++t) {
    h = 0.1 + 0.1 * e * e + 0.8 * h;
    e = std::sqrt(h) * z(rng);
    r.push_back(0.05 + e);
  }
  return r;
}

std::vector<double> SeriesFor(const std::string& kind) {
  return kind == "garch" ? GarchReturns(800, 3) : Ar1Series(200, 4);
}

nlohmann::json SmallConfig(const std::string& kind) {
  if (kind == "arima") return {{"order", {1, 0, 0}}};
  if (kind == "auto_arima") return {{"max_p", 2}, {"max_q", 2}};
  return nlohmann::json::object();
}

std::unique_ptr<Model> MustCreate(const std::string& kind, const nlohmann::json& config) {
  Result<std::unique_ptr<Model>> model = CreateModel(kind, config);
  EXPECT_TRUE(model.ok()) << kind << ": " << model.status().ToString();
  return model.ok() ? std::move(*model) : nullptr;
}

std::unique_ptr<Model> MustFit(const std::string& kind) {
  std::unique_ptr<Model> model = MustCreate(kind, SmallConfig(kind));
  if (model == nullptr) return nullptr;
  const Status status = AsForecaster(model.get())->Fit(SeriesFor(kind));
  EXPECT_TRUE(status.ok()) << kind << ": " << status.ToString();
  return status.ok() ? std::move(model) : nullptr;
}

TEST(ForecastKindsTest, RegisteredWithCompleteDefaults) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected_keys = {
      {"arima", {"order", "method", "include_constant"}},
      {"auto_arima",
       {"max_p", "max_q", "max_d", "stepwise", "approximation", "allow_drift", "allow_mean", "ic"}},
      {"garch", {"spec", "dist", "mean", "variance_targeting"}},
      {"naive", {}},
      {"drift", {}}};
  for (const auto& [kind, keys] : expected_keys) {
    std::unique_ptr<Model> model = MustCreate(kind, nlohmann::json());
    ASSERT_NE(model, nullptr);
    EXPECT_EQ(model->task(), Task::kForecast);
    EXPECT_EQ(model->kind(), kind);
    EXPECT_FALSE(model->fitted());
    EXPECT_TRUE(model->feature_names().empty());
    for (const std::string& key : keys) EXPECT_TRUE(model->config().contains(key)) << kind << key;
    std::unique_ptr<Model> again = MustCreate(kind, model->config());
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(again->config(), model->config());
  }
  EXPECT_EQ(MustCreate("arima", {})->config()["method"], "css-ml");
  EXPECT_EQ(MustCreate("garch", {})->config()["dist"], "normal");
}

TEST(ForecastKindsTest, BadConfigNamesTheKey) {
  const std::vector<std::tuple<std::string, nlohmann::json, std::string>> cases = {
      {"arima", {{"order", {1, 2}}}, "'order'"},
      {"arima", {{"order", {1, -1, 0}}}, "'order'"},
      {"arima", {{"method", "mle"}}, "'method'"},
      {"arima", {{"include_constant", 3}}, "'include_constant'"},
      {"arima", {{"p", 1}}, "'p'"},
      {"auto_arima", {{"ic", "hqc"}}, "'ic'"},
      {"auto_arima", {{"approximation", 2}}, "'approximation'"},
      {"auto_arima", {{"stepwise", "yes"}}, "'stepwise'"},
      {"garch", {{"spec", "figarch"}}, "'spec'"},
      {"garch", {{"dist", "ged"}}, "'dist'"},
      {"garch", {{"mean", "ar2"}}, "'mean'"},
      {"naive", {{"drift", true}}, "'drift'"},
      {"drift", {{"lag", 2}}, "'lag'"}};
  for (const auto& [kind, config, key] : cases) {
    Result<std::unique_ptr<Model>> model = CreateModel(kind, config);
    ASSERT_FALSE(model.ok()) << kind << " " << config.dump();
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(model.status().message().find(key), std::string::npos)
        << kind << ": " << model.status().message();
    EXPECT_NE(model.status().message().find(kind), std::string::npos) << model.status().message();
  }
}

TEST(ForecastKindsTest, BaselineKindsForecastAsTheBaselines) {
  const std::vector<double> y = Ar1Series(50, 9);
  const std::vector<double> levels = {0.8, 0.95};
  for (bool with_drift : {false, true}) {
    std::unique_ptr<Model> model = MustCreate(with_drift ? "drift" : "naive", {});
    Forecaster* forecaster = AsForecaster(model.get());
    EXPECT_EQ(forecaster->Forecast(3, levels).status().code(), StatusCode::kFailedPrecondition);
    ASSERT_TRUE(forecaster->Fit(y).ok());
    EXPECT_EQ(model->feature_names(), std::vector<std::string>{"y"});
    Result<RandomWalkModel> engine = RandomWalkModel::Fit(y, with_drift);
    ASSERT_TRUE(engine.ok());
    ASSERT_TRUE(forecaster->Append(std::vector<double>{11, 12}).ok());
    ASSERT_TRUE(engine->Append(std::vector<double>{11, 12}).ok());
    Result<ForecastPath> a = forecaster->Forecast(3, levels);
    Result<ForecastPath> b = engine->Forecast(3, levels);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->mean, b->mean);
    EXPECT_EQ(a->se, b->se);
    EXPECT_EQ(a->upper, b->upper);
    EXPECT_EQ(model->Describe().contains("coefficients"), with_drift);
  }
}

TEST(ForecastKindsTest, ArimaKindIsTheEngine) {
  const std::vector<double> y = Ar1Series(200, 4);
  std::unique_ptr<Model> model = MustFit("arima");
  ASSERT_NE(model, nullptr);
  ArimaOptions options;
  options.order = {1, 0, 0};
  Result<ArimaModel> engine = ArimaModel::Fit(y, options);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  const std::vector<double> levels = {0.9};
  Forecaster* forecaster = AsForecaster(model.get());
  ASSERT_TRUE(forecaster->Append(std::vector<double>{10.5, 9.5}).ok());
  ASSERT_TRUE(engine->Append(std::vector<double>{10.5, 9.5}).ok());
  Result<ForecastPath> a = forecaster->Forecast(5, levels);
  Result<ArimaForecast> b = engine->Forecast(5, levels);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString() << b.status().ToString();
  EXPECT_EQ(a->mean, b->mean);
  EXPECT_EQ(a->se, b->se);
  EXPECT_EQ(a->lower, b->lower);
  const nlohmann::json described = model->Describe();
  EXPECT_EQ(described["order"], nlohmann::json({1, 0, 0}));
  EXPECT_EQ(described["coefficients"]["ar1"].get<double>(), engine->fit().Coefficient("ar1"));
  EXPECT_TRUE(described["coefficients"].contains("intercept"));
  EXPECT_TRUE(described["loglik"].is_number());
  EXPECT_TRUE(described["aic"].is_number());
}

// Var(r_{T+k}) is the variance forecast for a constant mean; the 95% interval is
// mean -/+ 1.96 sqrt(h_{T+k}) with normal innovations.
TEST(ForecastKindsTest, GarchKindForecastsMeanWithVarianceIntervals) {
  std::unique_ptr<Model> model = MustFit("garch");
  ASSERT_NE(model, nullptr);
  const std::vector<double> returns = GarchReturns(800, 3);
  Result<GarchModel> engine = GarchModel::Fit(returns, GarchOptions{});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  Result<ForecastPath> path = AsForecaster(model.get())->Forecast(4, std::vector<double>{0.95});
  Result<std::vector<double>> variance = engine->VarianceForecast(4);
  Result<std::vector<double>> mean = engine->MeanForecast(4);
  ASSERT_TRUE(path.ok() && variance.ok() && mean.ok()) << path.status().ToString();
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(path->mean[k], (*mean)[k]);
    EXPECT_DOUBLE_EQ(path->se[k], std::sqrt((*variance)[k]));
    EXPECT_NEAR(path->upper[0][k], (*mean)[k] + 1.959963984540054 * path->se[k], 1e-12);
  }
  const nlohmann::json described = model->Describe();
  for (const char* name : {"mu", "omega", "alpha1", "beta1"}) {
    EXPECT_TRUE(described["coefficients"].contains(name)) << name;
    EXPECT_TRUE(described["se"].contains(name)) << name;
  }
  EXPECT_GT(described["var"]["99"].get<double>(), described["var"]["95"].get<double>());
  EXPECT_GT(described["es"]["95"].get<double>(), described["var"]["95"].get<double>());
  EXPECT_EQ(described["variance_forecast"].size(), 10u);
}

// With an AR(1) mean the return's error variance propagates earlier shocks:
// Var(r_{T+2}) = E[h_{T+2}] + ar1^2 E[h_{T+1}].
TEST(ForecastKindsTest, GarchAr1MeanWidensTheErrorVariance) {
  std::unique_ptr<Model> model = MustCreate("garch", {{"mean", "ar1"}});
  ASSERT_TRUE(AsForecaster(model.get())->Fit(GarchReturns(800, 8)).ok());
  Result<ForecastPath> path = AsForecaster(model.get())->Forecast(2, std::vector<double>{0.9});
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  const nlohmann::json described = model->Describe();
  const double ar1 = described["coefficients"]["ar1"].get<double>();
  const std::vector<double> variance = described["variance_forecast"].get<std::vector<double>>();
  EXPECT_NEAR(path->se[0] * path->se[0], variance[0], 1e-12 * variance[0]);
  EXPECT_NEAR(path->se[1] * path->se[1], variance[1] + ar1 * ar1 * variance[0],
              1e-12 * variance[1]);
}

// P(|z| <= c) for the unit-variance Student-t with `shape` degrees of freedom, by Simpson's
// rule on its density (independent of the engine's quantile code).
double StandardizedTCentralMass(double c, double shape) {
  const double scale = std::sqrt(shape / (shape - 2));  // z = x / scale, x ~ t(shape)
  const double log_norm =
      std::lgamma((shape + 1) / 2) - std::lgamma(shape / 2) - 0.5 * std::log(shape * M_PI);
  const auto density = [&](double z) {
    const double x = z * scale;
    return scale * std::exp(log_norm - (shape + 1) / 2 * std::log1p(x * x / shape));
  };
  const int intervals = 20000;
  const double step = c / intervals;
  double sum = density(0) + density(c);
  for (int i = 1; i < intervals; ++i) sum += (i % 2 ? 4 : 2) * density(i * step);
  return 2 * sum * step / 3;
}

// Returns with Student-t(5) innovations, so the fitted shape is small and the t interval
// differs clearly from the normal one. fGarch's predict uses the same multiplier (qstd).
TEST(ForecastKindsTest, GarchStudentTIntervalsUseTheTQuantile) {
  std::mt19937_64 rng(5);
  std::student_t_distribution<double> t5(5.0);
  std::vector<double> returns;
  double h = 1.0, e = 0.0;
  for (int t = 0; t < 1500; ++t) {
    h = 0.1 + 0.1 * e * e + 0.8 * h;
    e = std::sqrt(h) * t5(rng) / std::sqrt(5.0 / 3.0);
    returns.push_back(0.05 + e);
  }
  std::unique_ptr<Model> model = MustCreate("garch", {{"dist", "t"}});
  ASSERT_TRUE(AsForecaster(model.get())->Fit(returns).ok());
  const std::vector<double> levels = {0.8, 0.99};
  Result<ForecastPath> path = AsForecaster(model.get())->Forecast(2, levels);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  const double shape = model->Describe()["coefficients"]["shape"].get<double>();
  ASSERT_LT(shape, 15);
  for (size_t i = 0; i < levels.size(); ++i) {
    const double multiplier = (path->upper[i][0] - path->mean[0]) / path->se[0];
    EXPECT_NEAR(StandardizedTCentralMass(multiplier, shape), levels[i], 1e-9) << levels[i];
    EXPECT_NEAR((path->upper[i][1] - path->mean[1]) / path->se[1], multiplier, 1e-12);
  }
  EXPECT_GT((path->upper[1][0] - path->mean[0]) / path->se[0], NormalIntervalMultiplier(0.99));
}

TEST(ForecastKindsTest, RoundTripThroughTheRegistry) {
  const fs::path dir = FreshDir("registry");
  Result<ModelRegistry> registry = ModelRegistry::Open(dir);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  const std::vector<double> levels = {0.8, 0.95};
  for (const std::string& kind : kKinds) {
    std::unique_ptr<Model> model = MustFit(kind);
    ASSERT_NE(model, nullptr) << kind;
    Manifest manifest;
    manifest.name = "forecast_" + kind;
    manifest.task = Task::kForecast;
    manifest.feature_set = {"series", "0123456789abcdef", model->feature_names()};
    Result<Manifest> stored = registry->Register(*model, manifest);
    ASSERT_TRUE(stored.ok()) << kind << ": " << stored.status().ToString();
    EXPECT_TRUE(fs::exists(dir / manifest.name / "1" / (kind + ".json"))) << kind;
    Result<LoadedModel> loaded = registry->Load(manifest.name);
    ASSERT_TRUE(loaded.ok()) << kind << ": " << loaded.status().ToString();
    EXPECT_EQ(loaded->manifest.kind, kind);
    Result<ForecastPath> a = AsForecaster(model.get())->Forecast(6, levels);
    Result<ForecastPath> b = AsForecaster(loaded->model.get())->Forecast(6, levels);
    ASSERT_TRUE(a.ok() && b.ok()) << kind << ": " << b.status().ToString();
    EXPECT_EQ(a->mean, b->mean) << kind;
    EXPECT_EQ(a->se, b->se) << kind;
    EXPECT_EQ(a->lower, b->lower) << kind;
    EXPECT_EQ(a->upper, b->upper) << kind;
    EXPECT_EQ(loaded->model->Describe(), model->Describe()) << kind;
    EXPECT_EQ(loaded->model->feature_names(), model->feature_names());
  }
}

TEST(ForecastKindsTest, CorruptWeightsFailNamingTheFile) {
  std::unique_ptr<Model> model = MustFit("drift");
  const fs::path dir = FreshDir("corrupt");
  ASSERT_TRUE(model->SaveWeights(dir).ok());
  const std::string path = (dir / "drift.json").string();
  nlohmann::json doc = nlohmann::json::parse(*ReadFileToString(path));
  EXPECT_EQ(doc["format"], "vigil.drift");
  EXPECT_EQ(doc["version"], 1);
  auto expect_data_error = [&](const nlohmann::json& bad, const std::string& what) {
    ASSERT_TRUE(WriteFileAtomically(path, bad.dump()).ok());
    std::unique_ptr<Model> reloaded = MustCreate("drift", {});
    const Status status = reloaded->LoadWeights(dir);
    EXPECT_EQ(status.code(), StatusCode::kDataError) << what << ": " << status.ToString();
    EXPECT_NE(status.message().find("drift.json"), std::string::npos) << status.message();
    EXPECT_FALSE(reloaded->fitted()) << what;
  };
  nlohmann::json bad = doc;
  bad["format"] = "vigil.naive";
  expect_data_error(bad, "format");
  bad = doc;
  bad["version"] = 2;
  expect_data_error(bad, "version");
  bad = doc;
  bad["model"]["sigma2"] = "x";
  expect_data_error(bad, "sigma2 type");
  bad = doc;
  bad["model"]["with_drift"] = false;
  expect_data_error(bad, "with_drift");
  std::unique_ptr<Model> naive = MustCreate("naive", {});
  const Status missing = naive->LoadWeights(dir);
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("naive.json"), std::string::npos) << missing.message();
  EXPECT_EQ(MustCreate("arima", {})->SaveWeights(dir).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace vigil
