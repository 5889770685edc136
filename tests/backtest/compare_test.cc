// The bootstrap comparison of Sharpe ratios (src/backtest/compare.cc): point estimates and the
// automatic block length against an independent numpy computation
// (scripts/fixtures/backtest_sharpe_reference.py), the bootstrap's statistics against theory
// (coverage of a known difference, the asymptotic standard error for iid normal returns), its
// symmetries and determinism, and the errors the header promises.
#include "vigil/backtest/compare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "vigil/backtest/metrics.h"
#include "vigil/core/rng.h"

namespace vigil {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Two return series from a bivariate normal: correlation `rho`, per-period means and
// deviations as given.
struct NormalPair {
  double mean_x = 0.0, sd_x = 0.01;
  double mean_y = 0.0, sd_y = 0.01;
  double rho = 0.0;
};

void Simulate(const NormalPair& p, int64_t n, Rng& rng, std::vector<double>& x,
              std::vector<double>& y) {
  x.resize(static_cast<size_t>(n));
  y.resize(static_cast<size_t>(n));
  const double rest = std::sqrt(1.0 - p.rho * p.rho);
  for (size_t t = 0; t < x.size(); ++t) {
    const double z1 = rng.Normal(), z2 = rng.Normal();
    x[t] = p.mean_x + p.sd_x * z1;
    y[t] = p.mean_y + p.sd_y * (p.rho * z1 + rest * z2);
  }
}

std::vector<double> Ar1(double phi, double sd, int64_t n, Rng& rng) {
  std::vector<double> x(static_cast<size_t>(n));
  double previous = 0.0;
  for (double& value : x) {
    value = phi * previous + sd * rng.Normal();
    previous = value;
  }
  return x;
}

// The standard error of the annualised Sharpe difference of iid normal returns: Jobson &
// Korkie (1981) with Memmel's (2003) correction, per period
//   Var = (2 - 2 rho + (S1^2 + S2^2) / 2 - S1 S2 rho^2) / n,
// S1, S2 the per-period Sharpe ratios; times P once annualised.
double JobsonKorkieMemmel(double s1, double s2, double rho, double n, double periods_per_year) {
  const double variance = (2.0 - 2.0 * rho + 0.5 * (s1 * s1 + s2 * s2) - s1 * s2 * rho * rho) / n;
  return std::sqrt(variance * periods_per_year);
}

SharpeComparison Compare(const std::vector<double>& x, const std::vector<double>& y,
                         const BootstrapOptions& options, double periods_per_year = 365.25,
                         double risk_free = 0.0) {
  Result<SharpeComparison> result = CompareSharpe(x, y, periods_per_year, risk_free, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? *result : SharpeComparison{};
}

nlohmann::json LoadReference() {
  std::ifstream in(std::string(VIGIL_TEST_DATA) + "/backtest/sharpe_reference.json");
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

void ExpectError(const Status& status, StatusCode code, const std::string& field) {
  EXPECT_EQ(status.code(), code) << status.ToString();
  EXPECT_NE(status.message().find(field), std::string::npos) << status.ToString();
}

TEST(BootstrapOptionsTest, ValidateNamesTheField) {
  EXPECT_TRUE(BootstrapOptions{}.Validate().ok());
  BootstrapOptions options;
  options.resamples = 99;
  ExpectError(options.Validate(), StatusCode::kInvalidArgument, "resamples");
  for (double bad : {0.0, 1.0, -0.5, std::nan("")}) {
    options = {};
    options.confidence = bad;
    ExpectError(options.Validate(), StatusCode::kInvalidArgument, "confidence");
  }
  for (double bad : {0.5, -1.0, std::nan(""), kInf}) {
    options = {};
    options.mean_block_length = bad;
    ExpectError(options.Validate(), StatusCode::kInvalidArgument, "mean_block_length");
  }
  options = {};
  options.mean_block_length = 1.0;
  EXPECT_TRUE(options.Validate().ok());
}

TEST(CompareSharpeTest, RejectsBadInputsNamingTheField) {
  const std::vector<double> x{0.01, -0.02, 0.03, 0.0, 0.01};
  const std::vector<double> y{0.02, 0.01, -0.01, 0.02, 0.0};
  const BootstrapOptions options;
  const std::vector<double> shorter(x.begin(), x.end() - 1);
  ExpectError(CompareSharpe(x, shorter, 365, 0, options).status(), StatusCode::kInvalidArgument,
              "baseline_returns");
  const std::vector<double> two{0.01, 0.02};
  ExpectError(CompareSharpe(two, two, 365, 0, options).status(), StatusCode::kInvalidArgument,
              "strategy_returns: need at least 3 periods");
  std::vector<double> broken = x;
  broken[3] = std::nan("");
  ExpectError(CompareSharpe(broken, y, 365, 0, options).status(), StatusCode::kInvalidArgument,
              "strategy_returns: not finite at period 3");
  broken = y;
  broken[1] = kInf;
  ExpectError(CompareSharpe(x, broken, 365, 0, options).status(), StatusCode::kInvalidArgument,
              "baseline_returns: not finite at period 1");
  for (double bad : {0.0, -1.0, std::nan("")}) {
    ExpectError(CompareSharpe(x, y, bad, 0, options).status(), StatusCode::kInvalidArgument,
                "periods_per_year");
  }
  for (double bad : {-1.0, std::nan(""), kInf}) {
    ExpectError(CompareSharpe(x, y, 365, bad, options).status(), StatusCode::kInvalidArgument,
                "risk_free_per_period");
  }
  BootstrapOptions invalid;
  invalid.resamples = 10;
  ExpectError(CompareSharpe(x, y, 365, 0, invalid).status(), StatusCode::kInvalidArgument,
              "resamples");
}

TEST(CompareSharpeTest, ASeriesWithoutDispersionHasNoSharpeRatio) {
  const std::vector<double> flat(50, 0.001);
  std::vector<double> moving(50);
  for (size_t t = 0; t < moving.size(); ++t) moving[t] = 0.001 * std::sin(t);
  ExpectError(CompareSharpe(flat, moving, 365, 0, {}).status(), StatusCode::kFailedPrecondition,
              "strategy_returns");
  ExpectError(CompareSharpe(moving, flat, 365, 0, {}).status(), StatusCode::kFailedPrecondition,
              "baseline_returns");
}

TEST(CompareSharpeTest, IdenticalSeriesDifferByExactlyZero) {
  Rng rng(1);
  std::vector<double> x, y;
  Simulate({0.001, 0.02, 0.0, 0.01, 0.0}, 800, rng, x, y);
  const SharpeComparison c = Compare(x, x, {});
  EXPECT_EQ(c.sharpe_strategy, c.sharpe_baseline);
  EXPECT_EQ(c.difference, 0.0);
  EXPECT_EQ(c.lower, 0.0);
  EXPECT_EQ(c.upper, 0.0);
  EXPECT_EQ(c.standard_error, 0.0);
  EXPECT_EQ(c.p_value, 1.0);
  EXPECT_EQ(c.block_length, 1.0);  // the influence difference is 0: nothing to keep together
  EXPECT_EQ(c.resamples, 2000);
  EXPECT_EQ(c.periods, 800);
}

TEST(CompareSharpeTest, SwappingTheSeriesNegatesTheDifference) {
  Rng rng(2);
  std::vector<double> x, y;
  Simulate({0.001, 0.02, 0.0002, 0.01, 0.4}, 600, rng, x, y);
  for (double block : {0.0, 7.5}) {
    BootstrapOptions options;
    options.mean_block_length = block;
    const SharpeComparison a = Compare(x, y, options);
    const SharpeComparison b = Compare(y, x, options);
    EXPECT_EQ(b.difference, -a.difference);
    EXPECT_EQ(b.sharpe_strategy, a.sharpe_baseline);
    EXPECT_NEAR(b.lower, -a.upper, 1e-12);
    EXPECT_NEAR(b.upper, -a.lower, 1e-12);
    EXPECT_EQ(b.standard_error, a.standard_error);
    EXPECT_EQ(b.p_value, a.p_value);
    EXPECT_EQ(b.block_length, a.block_length);
    EXPECT_LT(a.lower, a.upper);
  }
}

TEST(CompareSharpeTest, SameSeedSameBitsOtherSeedOtherDraws) {
  Rng rng(3);
  std::vector<double> x, y;
  Simulate({0.0005, 0.01, 0.0, 0.012, 0.3}, 3000, rng, x, y);
  BootstrapOptions options;
  options.seed = 123;
  const nlohmann::json first = ToJson(Compare(x, y, options));
  EXPECT_EQ(ToJson(Compare(x, y, options)).dump(), first.dump());
  options.seed = 124;
  const nlohmann::json other = ToJson(Compare(x, y, options));
  EXPECT_EQ(other.at("difference"), first.at("difference"));
  EXPECT_NE(other.at("lower"), first.at("lower"));
  EXPECT_NE(other.at("standard_error"), first.at("standard_error"));
}

TEST(CompareSharpeTest, MatchesNumpyReference) {
  const nlohmann::json reference = LoadReference();
  ASSERT_EQ(reference.at("cases").size(), 3u);
  for (const auto& item : reference.at("cases")) {
    SCOPED_TRACE(item.at("name").get<std::string>());
    const nlohmann::json& input = item.at("input");
    const nlohmann::json& e = item.at("expected");
    const auto x = input.at("strategy").get<std::vector<double>>();
    const auto y = input.at("baseline").get<std::vector<double>>();
    const SharpeComparison c = Compare(x, y, {}, input.at("periods_per_year").get<double>(),
                                       input.at("risk_free_per_period").get<double>());
    for (const auto& [name, actual] :
         {std::pair{"sharpe_strategy", c.sharpe_strategy},
          std::pair{"sharpe_baseline", c.sharpe_baseline}, std::pair{"difference", c.difference}}) {
      const double expected = e.at(name).get<double>();
      EXPECT_NEAR(actual, expected, 1e-12 * std::max(1.0, std::abs(expected))) << name;
    }
    EXPECT_NEAR(c.block_length, e.at("block_length").get<double>(), 1e-9);
    EXPECT_NEAR(StationaryBootstrapBlockLength(x), e.at("strategy_block_length").get<double>(),
                1e-9);
    std::vector<double> squares(x.size());
    for (size_t t = 0; t < x.size(); ++t) squares[t] = x[t] * x[t];
    EXPECT_NEAR(StationaryBootstrapBlockLength(squares),
                e.at("squared_strategy_block_length").get<double>(), 1e-9);
    if (item.at("iid").get<bool>()) {
      const double asymptotic = e.at("asymptotic_standard_error").get<double>();
      EXPECT_NEAR(c.standard_error / asymptotic, 1.0, 0.15);
    }
  }
}

// The bootstrap's standard error against the asymptotic one with the true moments, for a few
// correlations and Sharpe ratios.
TEST(CompareSharpeTest, StandardErrorAgreesWithJobsonKorkieMemmel) {
  const int64_t n = 4000;
  const double periods_per_year = 365.25;
  Rng rng(4);
  for (const NormalPair& p :
       {NormalPair{0.002, 0.02, 0.0005, 0.01, 0.0}, NormalPair{0.003, 0.02, 0.001, 0.015, 0.7},
        NormalPair{-0.001, 0.01, 0.002, 0.01, -0.5}}) {
    std::vector<double> x, y;
    Simulate(p, n, rng, x, y);
    const SharpeComparison c = Compare(x, y, {}, periods_per_year);
    const double asymptotic = JobsonKorkieMemmel(p.mean_x / p.sd_x, p.mean_y / p.sd_y, p.rho,
                                                 static_cast<double>(n), periods_per_year);
    EXPECT_NEAR(c.standard_error / asymptotic, 1.0, 0.15) << "rho " << p.rho;
  }
}

// 200 seeded replications of iid normal returns whose true Sharpe difference is known: the 95 %
// interval must cover it in roughly 95 % of them (a binomial 95 % band is about 92-98 %).
TEST(CompareSharpeTest, IntervalCoversTheTrueDifference) {
  const NormalPair p{0.002, 0.02, 0.0005, 0.015, 0.5};
  const double periods_per_year = 365.25;
  const double truth = (p.mean_x / p.sd_x - p.mean_y / p.sd_y) * std::sqrt(periods_per_year);
  const int replications = 200;
  int covered = 0, significant = 0;
  BootstrapOptions options;
  options.resamples = 1000;
  for (int replication = 0; replication < replications; ++replication) {
    Rng rng(1000 + replication);
    std::vector<double> x, y;
    Simulate(p, 500, rng, x, y);
    options.seed = static_cast<uint64_t>(replication);
    const SharpeComparison c = Compare(x, y, options, periods_per_year);
    if (c.lower <= truth && truth <= c.upper) ++covered;
    if (c.p_value < 0.05) ++significant;
  }
  EXPECT_GE(covered, 180);
  EXPECT_LE(covered, 198);
  // The difference is ~1.5 standard errors: the test rejects H0 sometimes, but not always.
  EXPECT_GT(significant, 20);
  EXPECT_LT(significant, 180);
}

// Under H0 (equal Sharpe ratios) the p-value must not reject much more often than its level.
TEST(CompareSharpeTest, PValueHoldsItsLevelUnderTheNull) {
  const NormalPair p{0.001, 0.02, 0.0005, 0.01, 0.3};
  int rejected = 0;
  BootstrapOptions options;
  options.resamples = 500;
  for (int replication = 0; replication < 200; ++replication) {
    Rng rng(5000 + replication);
    std::vector<double> x, y;
    Simulate(p, 400, rng, x, y);
    options.seed = static_cast<uint64_t>(replication);
    if (Compare(x, y, options).p_value < 0.05) ++rejected;
  }
  EXPECT_LE(rejected, 20);  // 10 expected; 20 is far in the binomial tail
}

TEST(CompareSharpeTest, AutomaticBlockLengthGrowsWithAutocorrelation) {
  Rng rng(6);
  const std::vector<double> iid = Ar1(0.0, 0.01, 5000, rng);
  const std::vector<double> persistent = Ar1(0.9, 0.01, 5000, rng);
  const double iid_length = StationaryBootstrapBlockLength(iid);
  const double persistent_length = StationaryBootstrapBlockLength(persistent);
  EXPECT_LT(iid_length, 3.0);
  EXPECT_GT(persistent_length, 20.0);
  // Through the comparison: an AR(1) strategy against an iid baseline, and iid against iid.
  std::vector<double> shifted = persistent;
  for (double& r : shifted) r += 0.001;
  const std::vector<double> baseline = Ar1(0.0, 0.01, 5000, rng);
  const SharpeComparison dependent = Compare(shifted, baseline, {});
  const SharpeComparison independent = Compare(iid, baseline, {});
  EXPECT_GT(dependent.block_length, 20.0);
  EXPECT_LT(independent.block_length, 3.0);
  // Resampling single periods would ignore the dependence and understate the error: the
  // mean of an AR(1) with phi = 0.9 has sqrt((1 + phi) / (1 - phi)) = 4.4 times the iid error.
  BootstrapOptions single_periods;
  single_periods.mean_block_length = 1.0;
  EXPECT_GT(dependent.standard_error,
            2.0 * Compare(shifted, baseline, single_periods).standard_error);
}

TEST(CompareSharpeTest, UsesTheGivenBlockLength) {
  Rng rng(7);
  std::vector<double> x, y;
  Simulate({0.001, 0.02, 0.0, 0.01, 0.2}, 500, rng, x, y);
  BootstrapOptions options;
  options.mean_block_length = 12.5;
  EXPECT_EQ(Compare(x, y, options).block_length, 12.5);
  options.mean_block_length = 1e6;  // longer than the series: whole circular rotations
  const SharpeComparison c = Compare(x, y, options);
  EXPECT_EQ(c.resamples, 2000);
  // A rotation of the whole series has the sample's Sharpe ratios.
  EXPECT_NEAR(c.lower, c.difference, 1e-9);
  EXPECT_NEAR(c.upper, c.difference, 1e-9);
}

// Three periods: an iid resample draws one value three times with probability 1/9; such a
// resample has no Sharpe ratio and is dropped, the rest are kept.
TEST(CompareSharpeTest, DropsResamplesWithoutDispersion) {
  const std::vector<double> x{0.01, -0.02, 0.03};
  const std::vector<double> y{0.02, 0.0, 0.01};
  BootstrapOptions options;
  options.mean_block_length = 1.0;
  const SharpeComparison c = Compare(x, y, options);
  EXPECT_GT(c.resamples, 1720);  // 1778 +- 14 expected
  EXPECT_LT(c.resamples, 1840);
  EXPECT_TRUE(std::isfinite(c.lower) && std::isfinite(c.upper) && std::isfinite(c.standard_error));
}

// The same with blocks: three periods, the first two equal. With L = 2 a resample is constant
// when it holds periods 0 and 1 only, or one period thrice: 19.5 % of them (a brute-force
// simulation of the scheme), so 1610 +- 18 kept. A constant resample kept by mistake would show
// as an absurd Sharpe ratio (a variance of rounding noise).
TEST(CompareSharpeTest, DropsBlockResamplesWithoutDispersion) {
  const std::vector<double> x{0.01, 0.01, -0.02};
  const std::vector<double> y{0.02, 0.0, 0.01};
  BootstrapOptions options;
  options.mean_block_length = 2.0;
  const SharpeComparison c = Compare(x, y, options, 1.0);
  EXPECT_GT(c.resamples, 1530);
  EXPECT_LT(c.resamples, 1690);
  EXPECT_LT(std::max(std::abs(c.lower), std::abs(c.upper)), 100.0);
  EXPECT_LT(c.standard_error, 100.0);
}

TEST(PeriodReturnsTest, FirstReturnFromTheInitialCapital) {
  const std::vector<double> equity{11'000, 9'900, 9'900};
  const std::vector<double> returns = PeriodReturns(equity, 10'000);
  ASSERT_EQ(returns.size(), 3u);
  EXPECT_NEAR(returns[0], 0.1, 1e-15);
  EXPECT_NEAR(returns[1], -0.1, 1e-15);
  EXPECT_EQ(returns[2], 0.0);
}

BacktestResult HandMadeRun(const std::vector<double>& returns, double initial) {
  BacktestResult run;
  double equity = initial;
  for (size_t t = 0; t < returns.size(); ++t) {
    equity *= 1.0 + returns[t];
    run.mark_times.emplace_back(static_cast<int64_t>(t + 1) * 3'600'000'000'000);
    run.equity.push_back(equity);
    run.exposure.push_back(1.0);
  }
  PerformanceInput input;
  input.initial_capital = initial;
  input.times = run.mark_times;
  input.equity = run.equity;
  input.exposure = run.exposure;
  input.risk_free_rate = 0.05;
  run.metrics = *ComputePerformance(input);
  return run;
}

TEST(CompareSharpeTest, FromBacktestsAgreesWithTheirMetrics) {
  Rng rng(8);
  std::vector<double> x, y;
  Simulate({0.0004, 0.01, 0.0001, 0.008, 0.5}, 700, rng, x, y);
  const BacktestResult strategy = HandMadeRun(x, 10'000);
  const BacktestResult baseline = HandMadeRun(y, 10'000);
  Result<SharpeComparison> c = CompareSharpe(strategy, baseline, 10'000, 0.05, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_NEAR(c->sharpe_strategy, strategy.metrics.sharpe, 1e-10);
  EXPECT_NEAR(c->sharpe_baseline, baseline.metrics.sharpe, 1e-10);
  EXPECT_EQ(c->periods, 700);

  BacktestResult shifted = baseline;
  shifted.mark_times[5] = Timestamp(shifted.mark_times[5].nanos() + 1);
  ExpectError(CompareSharpe(strategy, shifted, 10'000, 0.05, {}).status(),
              StatusCode::kInvalidArgument, "baseline.mark_times: differs from");
  shifted = baseline;
  shifted.mark_times.pop_back();
  ExpectError(CompareSharpe(strategy, shifted, 10'000, 0.05, {}).status(),
              StatusCode::kInvalidArgument, "baseline.mark_times");
  BacktestResult wiped = strategy;
  wiped.equity[10] = 0.0;
  ExpectError(CompareSharpe(wiped, baseline, 10'000, 0.05, {}).status(),
              StatusCode::kInvalidArgument, "strategy.equity: not finite and > 0 at mark 10");
  ExpectError(CompareSharpe(strategy, baseline, 0.0, 0.05, {}).status(),
              StatusCode::kInvalidArgument, "initial_capital");
  ExpectError(CompareSharpe(strategy, baseline, 10'000, -1.0, {}).status(),
              StatusCode::kInvalidArgument, "risk_free_rate_annual");
  BacktestResult unmeasured = strategy;
  unmeasured.metrics.periods_per_year = 0.0;
  ExpectError(CompareSharpe(unmeasured, baseline, 10'000, 0.05, {}).status(),
              StatusCode::kInvalidArgument, "strategy.metrics.periods_per_year");
}

TEST(CompareSharpeTest, ToJsonHasEveryFieldAndNullForNaN) {
  SharpeComparison c;
  c.sharpe_strategy = 1.5;
  c.lower = std::nan("");
  c.resamples = 2000;
  c.periods = 123;
  const nlohmann::json json = ToJson(c);
  for (const char* key :
       {"sharpe_strategy", "sharpe_baseline", "difference", "lower", "upper", "confidence",
        "p_value", "standard_error", "block_length", "resamples", "periods"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
  EXPECT_EQ(json.size(), 11u);
  EXPECT_EQ(json.at("sharpe_strategy").get<double>(), 1.5);
  EXPECT_TRUE(json.at("lower").is_null());
  EXPECT_EQ(json.at("periods").get<int64_t>(), 123);
}

}  // namespace
}  // namespace vigil
