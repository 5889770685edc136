// Rolling-origin evaluation (forecast/rolling_origin.h) and the random-walk baselines
// (forecast/baselines.h): closed forms, R's forecast::rwf / naive / accuracy, metrics by
// hand, no lookahead, the refit schedule and thread-count independence.
#include "vigil/models/forecast/rolling_origin.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "vigil/models/forecast/baselines.h"

namespace vigil {
namespace {

std::vector<double> RandomWalk(int n, double drift, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> shock(0.0, 1.0);
  std::vector<double> y = {100.0};
  while (static_cast<int>(y.size()) < n) y.push_back(y.back() + drift + shock(rng));
  return y;
}

std::unique_ptr<Forecaster> MustCreate(const std::string& kind, const nlohmann::json& config) {
  Result<std::unique_ptr<Forecaster>> made = ForecastMethodOfKind(kind, kind, config).make();
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return made.ok() ? std::move(*made) : nullptr;
}

// R: qnorm(c(0.9, 0.975, 0.995, 0.65, 1 - 1e-12)); the last one is in AS 241's far tail.
TEST(NormalIntervalMultiplierTest, MatchesRQnorm) {
  EXPECT_NEAR(NormalIntervalMultiplier(0.8), 1.28155156554460081, 1e-15);
  EXPECT_NEAR(NormalIntervalMultiplier(0.95), 1.95996398454005361, 1e-15);
  EXPECT_NEAR(NormalIntervalMultiplier(0.99), 2.57582930354889994, 1e-15);
  EXPECT_NEAR(NormalIntervalMultiplier(0.3), 0.38532046640756762, 1e-15);
  EXPECT_NEAR(NormalIntervalMultiplier(1 - 2e-12), 7.03448691004783555, 1e-12);
  EXPECT_TRUE(std::isnan(NormalIntervalMultiplier(1.0)));
  EXPECT_TRUE(std::isnan(NormalIntervalMultiplier(0.0)));
}

// y = 1, 3, 2, 5, 4: d = 2, -1, 3, -1 (m = 4).
// naive: sigma2 = 15 / 4; drift: b = 3 / 4, sum (d - b)^2 = 12.75, s2 = 12.75 / 3 = 4.25,
// se(b)^2 = 4.25 / 4.
TEST(RandomWalkModelTest, ClosedForms) {
  const std::vector<double> y = {1, 3, 2, 5, 4};
  Result<RandomWalkModel> naive = RandomWalkModel::Fit(y, false);
  ASSERT_TRUE(naive.ok()) << naive.status().ToString();
  Result<ForecastPath> path = naive->Forecast(3, std::vector<double>{0.95});
  ASSERT_TRUE(path.ok());
  for (int h = 1; h <= 3; ++h) {
    EXPECT_DOUBLE_EQ(path->mean[h - 1], 4.0);
    EXPECT_DOUBLE_EQ(path->se[h - 1], std::sqrt(3.75 * h));
    EXPECT_NEAR(path->upper[0][h - 1], 4.0 + 1.959963984540054 * std::sqrt(3.75 * h), 1e-12);
  }
  Result<RandomWalkModel> drift = RandomWalkModel::Fit(y, true);
  ASSERT_TRUE(drift.ok());
  EXPECT_DOUBLE_EQ(drift->drift(), 0.75);
  EXPECT_DOUBLE_EQ(drift->sigma2(), 4.25);
  EXPECT_DOUBLE_EQ(drift->drift_se(), std::sqrt(4.25 / 4));
  path = drift->Forecast(2, {});
  ASSERT_TRUE(path.ok());
  EXPECT_DOUBLE_EQ(path->mean[1], 4.0 + 2 * 0.75);
  EXPECT_DOUBLE_EQ(path->se[1], std::sqrt(4.25 * 2 + 4 * 4.25 / 4));
}

// R (forecast 8.20):
//   y <- c(10.2, 11.5, 10.9, 12.3, 13.1, 12.8, 14.0, 14.6, 13.9, 15.2, 16.0, 15.7)
//   rwf(y, h = 3, drift = TRUE, level = c(80, 95)); naive(y, h = 3, level = c(80, 95))
TEST(RandomWalkModelTest, MatchesForecastRwfAndNaive) {
  const std::vector<double> y = {10.2, 11.5, 10.9, 12.3, 13.1, 12.8,
                                 14.0, 14.6, 13.9, 15.2, 16.0, 15.7};
  const std::vector<double> levels = {0.8, 0.95};
  Result<RandomWalkModel> drift = RandomWalkModel::Fit(y, true);
  ASSERT_TRUE(drift.ok());
  Result<ForecastPath> path = drift->Forecast(3, levels);
  ASSERT_TRUE(path.ok());
  const double drift_mean[3] = {16.2, 16.7, 17.2};
  const double drift_lower95[3] = {14.524363650908034, 14.233530077648853, 14.065171438436565};
  const double drift_upper80[3] = {17.295639717566637, 18.312737996866588, 19.249754221238064};
  for (int h = 0; h < 3; ++h) {
    EXPECT_NEAR(path->mean[h], drift_mean[h], 1e-12);
    EXPECT_NEAR(path->lower[1][h], drift_lower95[h], 1e-12);
    EXPECT_NEAR(path->upper[0][h], drift_upper80[h], 1e-12);
  }
  Result<RandomWalkModel> naive = RandomWalkModel::Fit(y, false);
  ASSERT_TRUE(naive.ok());
  path = naive->Forecast(3, levels);
  ASSERT_TRUE(path.ok());
  const double naive_lower80[3] = {14.512166287151814, 14.020149453446107, 13.642611658403762};
  const double naive_upper95[3] = {17.516634897414832, 18.269109709804315, 18.846503941125167};
  for (int h = 0; h < 3; ++h) {
    EXPECT_NEAR(path->lower[0][h], naive_lower80[h], 1e-12);
    EXPECT_NEAR(path->upper[1][h], naive_upper95[h], 1e-12);
  }
}

TEST(RandomWalkModelTest, AppendMovesTheOriginKeepsParameters) {
  Result<RandomWalkModel> drift = RandomWalkModel::Fit(std::vector<double>{1, 3, 2, 5, 4}, true);
  ASSERT_TRUE(drift.ok());
  ASSERT_TRUE(drift->Append(std::vector<double>{7, 6}).ok());
  EXPECT_EQ(drift->size(), 7);
  EXPECT_DOUBLE_EQ(drift->drift(), 0.75);
  Result<ForecastPath> path = drift->Forecast(1, {});
  ASSERT_TRUE(path.ok());
  EXPECT_DOUBLE_EQ(path->mean[0], 6.75);
  EXPECT_EQ(drift->Append(std::vector<double>{NAN}).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(RandomWalkModel::Fit(std::vector<double>{1, 2}, true).ok());
}

// y = 1, 2, 4, 3, 5, 6; naive, min_train 3, H = 2: origins 3, 4, 5.
//   t = 3 (last 4): errors -1 (y=3), 1 (y=5); s_3 = (1 + 2) / 2 = 1.5, sigma2 = 5 / 2
//   t = 4 (last 3): errors  2 (y=5), 3 (y=6); s_4 = 4 / 3,            sigma2 = 6 / 3
//   t = 5 (last 5): error   1 (y=6);          s_5 = 6 / 4 = 1.5,      sigma2 = 10 / 4
// MAE 8/5, RMSE sqrt(16/5), MAPE 100 (1/3 + 1/5 + 2/5 + 3/6 + 1/6) / 5 = 32,
// MASE (1/1.5 + 1/1.5 + 2/(4/3) + 3/(4/3) + 1/1.5) / 5 = 1.15. 80% half-widths
// 1.2816 sqrt(sigma2 h): 2.03, 2.87 | 1.81, 2.56 | 2.03 -> 3 of 5 covered; 95%: all 5.
// The first origin alone is R's accuracy(naive(c(1, 2, 4), h = 2), c(3, 5)):
// test-set MAPE 26.666666666666664, MASE 0.66666666666666663.
TEST(RollingOriginTest, MetricsByHand) {
  const std::vector<double> y = {1, 2, 4, 3, 5, 6};
  RollingOriginOptions options;
  options.horizon = 2;
  options.min_train = 3;
  Result<RollingOriginResult> result =
      EvaluateRollingOrigin(y, {ForecastMethodOfKind("naive", "naive", {})}, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->origins, (std::vector<int64_t>{3, 4, 5}));
  const ForecastAccuracy& all = result->methods[0].overall;
  EXPECT_EQ(all.forecasts, 5);
  EXPECT_DOUBLE_EQ(all.mae, 1.6);
  EXPECT_DOUBLE_EQ(all.rmse, std::sqrt(16.0 / 5));
  EXPECT_NEAR(all.mape, 32.0, 1e-12);
  EXPECT_EQ(all.mape_skipped, 0);
  EXPECT_NEAR(all.mase, 1.15, 1e-12);
  EXPECT_EQ(all.coverage, (std::vector<double>{0.6, 1.0}));
  const auto& steps = result->methods[0].by_horizon;
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].forecasts, 3);
  EXPECT_DOUBLE_EQ(steps[0].mae, 4.0 / 3);
  EXPECT_EQ(steps[1].forecasts, 2);
  EXPECT_DOUBLE_EQ(steps[1].mae, 2.0);
  EXPECT_NEAR(steps[1].mase, (1 / 1.5 + 3 / (4.0 / 3)) / 2, 1e-12);
  EXPECT_EQ(result->methods[0].refits, 3);

  options.origins = 1;  // the last full-horizon origin only: t = 4 = n - H
  result = EvaluateRollingOrigin(y, {ForecastMethodOfKind("naive", "naive", {})}, options);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->origins, (std::vector<int64_t>{4}));
}

TEST(RollingOriginTest, ZeroActualsAreSkippedByMapeAndCounted) {
  const std::vector<double> y = {1, 2, 0, 2, 0};
  RollingOriginOptions options;
  options.min_train = 2;
  Result<RollingOriginResult> result =
      EvaluateRollingOrigin(y, {ForecastMethodOfKind("naive", "naive", {})}, options);
  ASSERT_TRUE(result.ok());
  // Origins 2, 3, 4: forecasts 2, 0, 2 for actuals 0, 2, 0.
  const ForecastAccuracy& all = result->methods[0].overall;
  EXPECT_EQ(all.forecasts, 3);
  EXPECT_EQ(all.mape_skipped, 2);
  EXPECT_DOUBLE_EQ(all.mape, 100.0);
  const nlohmann::ordered_json json = result->ToJson();
  EXPECT_EQ(json["methods"][0]["overall"]["mape_skipped"], 2);
  EXPECT_TRUE(json["methods"][0]["overall"]["coverage"].contains("0.95"));
}

// Changing every value after t0 must leave every forecast made at an origin <= t0 exactly
// as it was, for every refit schedule.
TEST(RollingOriginTest, NoLookahead) {
  const std::vector<double> original = RandomWalk(120, 0.3, 7);
  const int64_t t0 = 80;
  std::vector<double> altered = original;
  for (size_t i = t0; i < altered.size(); ++i) altered[i] = 1000.0 - 3.0 * altered[i];
  const std::vector<ForecastMethod> methods = {ForecastMethodOfKind("naive", "naive", {}),
                                               ForecastMethodOfKind("drift", "drift", {})};
  for (int refit_every : {1, 4}) {
    RollingOriginOptions options;
    options.horizon = 5;
    options.min_train = 30;
    options.refit_every = refit_every;
    Result<RollingOriginResult> a = EvaluateRollingOrigin(original, methods, options);
    Result<RollingOriginResult> b = EvaluateRollingOrigin(altered, methods, options);
    ASSERT_TRUE(a.ok() && b.ok());
    for (size_t method = 0; method < methods.size(); ++method) {
      const auto& fa = a->methods[method].forecasts;
      const auto& fb = b->methods[method].forecasts;
      ASSERT_EQ(fa.size(), fb.size());
      int compared = 0, changed = 0;
      for (size_t k = 0; k < fa.size(); ++k) {
        if (fa[k].origin <= t0) {
          EXPECT_EQ(fa[k].path.mean, fb[k].path.mean) << "origin " << fa[k].origin;
          EXPECT_EQ(fa[k].path.upper, fb[k].path.upper) << "origin " << fa[k].origin;
          ++compared;
        } else {
          changed += fa[k].path.mean != fb[k].path.mean;
        }
      }
      EXPECT_EQ(compared, t0 - options.min_train + 1);
      EXPECT_GT(changed, 0);  // the alteration is visible after t0
    }
  }
}

// refit_every = 3 must equal fitting at origins 0, 3, ... and Appending in between.
TEST(RollingOriginTest, RefitScheduleEqualsManualFitAndAppend) {
  const std::vector<double> y = RandomWalk(60, 0.5, 11);
  RollingOriginOptions options;
  options.horizon = 3;
  options.min_train = 20;
  options.origin_step = 2;
  options.refit_every = 3;
  Result<RollingOriginResult> result =
      EvaluateRollingOrigin(y, {ForecastMethodOfKind("drift", "drift", {})}, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const auto& forecasts = result->methods[0].forecasts;
  ASSERT_EQ(forecasts.size(), result->origins.size());
  std::unique_ptr<Forecaster> model;
  for (size_t k = 0; k < forecasts.size(); ++k) {
    const int64_t t = result->origins[k];
    if (k % 3 == 0) {
      model = MustCreate("drift", {});
      ASSERT_TRUE(model->Fit(std::span<const double>(y).first(t)).ok());
    } else {
      const int64_t previous = result->origins[k - 1];
      ASSERT_TRUE(model->Append(std::span<const double>(y).subspan(previous, t - previous)).ok());
    }
    Result<ForecastPath> path = model->Forecast(options.horizon, options.levels);
    ASSERT_TRUE(path.ok());
    EXPECT_EQ(forecasts[k].refit, k % 3 == 0);
    EXPECT_EQ(forecasts[k].path.mean, path->mean) << "origin " << t;
    EXPECT_EQ(forecasts[k].path.lower, path->lower) << "origin " << t;
  }
  EXPECT_EQ(result->methods[0].refits, static_cast<int64_t>((forecasts.size() + 2) / 3));
  // Appending keeps the fitted drift, so a non-refit origin differs from refitting there.
  options.refit_every = 1;
  Result<RollingOriginResult> every =
      EvaluateRollingOrigin(y, {ForecastMethodOfKind("drift", "drift", {})}, options);
  ASSERT_TRUE(every.ok());
  EXPECT_EQ(every->methods[0].forecasts[0].path.mean, forecasts[0].path.mean);
  EXPECT_NE(every->methods[0].forecasts[1].path.mean, forecasts[1].path.mean);
}

TEST(RollingOriginTest, ResultsDoNotDependOnThreads) {
  const std::vector<double> y = RandomWalk(150, 0.1, 5);
  const std::vector<ForecastMethod> methods = {
      ForecastMethodOfKind("naive", "naive", {}), ForecastMethodOfKind("drift", "drift", {}),
      ForecastMethodOfKind("arima", "arima", {{"order", {1, 1, 0}}})};
  RollingOriginOptions options;
  options.horizon = 4;
  options.min_train = 60;
  options.origin_step = 3;
  options.refit_every = 2;
  Result<RollingOriginResult> one = EvaluateRollingOrigin(y, methods, options);
  options.threads = 3;
  Result<RollingOriginResult> three = EvaluateRollingOrigin(y, methods, options);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_TRUE(three.ok()) << three.status().ToString();
  EXPECT_EQ(one->ToJson(true).dump(), three->ToJson(true).dump());
  EXPECT_EQ(one->methods[2].failed_origins, 0);
}

TEST(RollingOriginTest, FailuresNameMethodAndOriginOrAreCounted) {
  ForecastMethod broken{"broken", []() -> Result<std::unique_ptr<Forecaster>> {
                          return Unimplemented("no such forecaster");
                        }};
  const std::vector<double> y = RandomWalk(30, 0, 3);
  RollingOriginOptions options;
  options.min_train = 25;
  Result<RollingOriginResult> result = EvaluateRollingOrigin(y, {broken}, options);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("method 'broken' at origin 25"), std::string::npos)
      << result.status().message();
  options.skip_failures = true;
  result = EvaluateRollingOrigin(y, {broken, ForecastMethodOfKind("naive", "naive", {})}, options);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->methods[0].failed_origins, 5);
  EXPECT_EQ(result->methods[0].overall.forecasts, 0);
  EXPECT_TRUE(std::isnan(result->methods[0].overall.mae));
  EXPECT_TRUE(result->ToJson()["methods"][0]["overall"]["mae"].is_null());
  EXPECT_EQ(result->methods[1].overall.forecasts, 5);
}

TEST(RollingOriginTest, RejectsBadInput) {
  const std::vector<double> y = RandomWalk(40, 0, 2);
  const std::vector<ForecastMethod> naive = {ForecastMethodOfKind("naive", "naive", {})};
  RollingOriginOptions options;
  options.refit_every = 0;
  Result<RollingOriginResult> result = EvaluateRollingOrigin(y, naive, options);
  EXPECT_NE(result.status().message().find("refit_every"), std::string::npos);
  options = {};
  options.levels = {0.8, 1.5};
  EXPECT_NE(EvaluateRollingOrigin(y, naive, options).status().message().find("levels"),
            std::string::npos);
  options = {};
  options.min_train = 40;
  EXPECT_EQ(EvaluateRollingOrigin(y, naive, options).status().code(), StatusCode::kInvalidArgument);
  options = {};
  options.origins = 30;  // needs 20 + 1 + 29 = 50 values
  EXPECT_NE(EvaluateRollingOrigin(y, naive, options).status().message().find("at least 50"),
            std::string::npos);
  std::vector<double> bad = y;
  bad[7] = NAN;
  EXPECT_NE(EvaluateRollingOrigin(bad, naive, {}).status().message().find("value 7"),
            std::string::npos);
  EXPECT_NE(EvaluateRollingOrigin(y, {naive[0], naive[0]}, {}).status().message().find("duplicate"),
            std::string::npos);
  EXPECT_FALSE(EvaluateRollingOrigin(y, {ForecastMethodOfKind("x", "logistic", {})}, {}).ok());
}

}  // namespace
}  // namespace vigil
