#include "vigil/models/robust_zscore.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>

namespace vigil {
namespace {

// Seeded standard-normal rows over three features.
FeatureMatrix NormalData(int64_t rows, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  FeatureMatrix x{{"volume_z", "spread_bps", "funding"}, rows, {}};
  for (int64_t i = 0; i < rows * 3; ++i) x.values.push_back(normal(rng));
  return x;
}

std::filesystem::path FreshDir(const std::string& name) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / ("vigil_zscore_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(RobustZscoreTest, HandComputedMediansAndScales) {
  // a: median 3, |dev| {2,1,0,1,97} -> MAD 1.  b: MAD 0, mean |dev| 2/5.  c: constant.
  // d: even count {1,2,3,4} + NaN -> median 2.5, |dev| {1.5,.5,.5,1.5} -> MAD 1.
  const double nan = std::nan("");
  FeatureMatrix x{
      {"a", "b", "c", "d"}, 5, {1, 5, 2, 1, 2, 5, 2, 2, 3, 5, 2, 3, 4, 5, 2, 4, 100, 7, 2, nan}};
  RobustZscore model;
  ASSERT_TRUE(model.Fit(x).ok());
  EXPECT_EQ(model.medians(), (std::vector<double>{3, 5, 2, 2.5}));
  EXPECT_DOUBLE_EQ(model.scales()[0], 1.4826);
  EXPECT_DOUBLE_EQ(model.scales()[1], 0.4 * 1.2533);
  EXPECT_EQ(model.scales()[2], 0.0);
  EXPECT_DOUBLE_EQ(model.scales()[3], 1.4826);
  using Method = RobustZscore::ScaleMethod;
  EXPECT_EQ(model.scale_methods(),
            (std::vector<Method>{Method::kMad, Method::kMeanAbsoluteDeviation, Method::kIgnored,
                                 Method::kMad}));
  EXPECT_EQ(model.Describe()["features"]["b"]["method"], "mean_absolute_deviation");

  // Row {3, 5, 999, NaN}: c is ignored, d is NaN -> raw = max(0, 0) = 0.
  FeatureMatrix probe{x.columns, 2, {3, 5, 999, nan, 3 + 2 * 1.4826, 5, 2, 2.5}};
  Result<AnomalyScores> scores = model.Score(probe);
  ASSERT_TRUE(scores.ok()) << scores.status().ToString();
  EXPECT_EQ(scores->raw[0], 0.0);
  EXPECT_EQ(scores->score[0], 0.0);
  EXPECT_NEAR(scores->raw[1], 2.0, 1e-12);
}

TEST(RobustZscoreTest, MeanSquareCombine) {
  FeatureMatrix x{{"a", "b"}, 4, {1, 10, 2, 20, 3, 30, 4, 40}};  // medians 2.5, 25; MADs 1, 10
  RobustZscore model(RobustZscoreOptions{.combine = RobustZscoreOptions::Combine::kMeanSquare});
  ASSERT_TRUE(model.Fit(x).ok());
  const double z_a = 3.0 / 1.4826, z_b = 40.0 / 14.826;
  Result<AnomalyScores> scores = model.Score(FeatureMatrix{x.columns, 1, {5.5, 65}});
  ASSERT_TRUE(scores.ok());
  EXPECT_NEAR(scores->raw[0], std::sqrt((z_a * z_a + z_b * z_b) / 2), 1e-12);
}

TEST(RobustZscoreTest, InjectedAnomaliesScoreHighest) {
  FeatureMatrix train = NormalData(2000, 17);
  RobustZscore model;
  ASSERT_TRUE(model.Fit(train).ok());
  FeatureMatrix test = NormalData(500, 18);
  const std::vector<std::pair<int64_t, size_t>> injected = {{10, 0}, {200, 1}, {333, 2}, {499, 1}};
  for (const auto& [row, col] : injected) test.values[row * 3 + col] = (row % 2 ? -1 : 1) * 9.0;
  Result<AnomalyScores> scores = model.Score(test);
  ASSERT_TRUE(scores.ok());

  std::vector<int64_t> order(test.rows);
  for (int64_t row = 0; row < test.rows; ++row) order[row] = row;
  std::sort(order.begin(), order.end(),
            [&](int64_t a, int64_t b) { return scores->score[a] > scores->score[b]; });
  std::vector<int64_t> top(order.begin(), order.begin() + injected.size());
  std::sort(top.begin(), top.end());
  EXPECT_EQ(top, (std::vector<int64_t>{10, 200, 333, 499}));
  for (const auto& [row, col] : injected) {
    EXPECT_TRUE(scores->flag[row]);
    EXPECT_GT(scores->score[row], 95.0);
    double best = 0;
    size_t best_col = 99;
    double total = 0;
    for (size_t c = 0; c < 3; ++c) {
      const double share = scores->contributions[row * 3 + c];
      total += share;
      if (share > best) best = share, best_col = c;
    }
    EXPECT_EQ(best_col, col) << "row " << row;
    EXPECT_GT(best, 0.6);
    EXPECT_NEAR(total, 1.0, 1e-12);
  }
  for (int64_t row = 0; row < test.rows; ++row) {
    EXPECT_EQ(scores->flag[row], scores->score[row] >= 80.0) << row;
    if (!scores->flag[row]) {
      for (size_t c = 0; c < 3; ++c) EXPECT_EQ(scores->contributions[row * 3 + c], 0.0);
    }
  }
}

TEST(RobustZscoreTest, ContaminationSetsTrainingFlagRate) {
  FeatureMatrix train = NormalData(1000, 21);
  for (double contamination : {0.01, 0.05, 0.2}) {
    RobustZscore model(RobustZscoreOptions{.contamination = contamination});
    ASSERT_TRUE(model.Fit(train).ok());
    Result<AnomalyScores> scores = model.Score(train);
    ASSERT_TRUE(scores.ok());
    const auto flagged = std::count(scores->flag.begin(), scores->flag.end(), true);
    EXPECT_NEAR(static_cast<double>(flagged), contamination * 1000, 1.0) << contamination;
  }
}

TEST(RobustZscoreTest, ScoreIsMonotoneAndCalibrated) {
  RobustZscore model(RobustZscoreOptions{.threshold_score = 90});
  ASSERT_TRUE(model.Fit(NormalData(1000, 5)).ok());
  const double t = model.threshold_raw();
  const double m = model.median_raw();
  ASSERT_GT(m, 0);
  ASSERT_LT(m, t);
  EXPECT_EQ(model.ScoreOfRaw(0), 0.0);
  EXPECT_DOUBLE_EQ(model.ScoreOfRaw(m), 50.0);
  EXPECT_EQ(model.ScoreOfRaw(t), 90.0);
  EXPECT_LT(model.ScoreOfRaw(std::nextafter(t, 0.0)), 90.0);
  EXPECT_EQ(model.ScoreOfRaw(2 * t), 100.0);
  EXPECT_EQ(model.ScoreOfRaw(1e9), 100.0);
  double previous = -1;
  for (double raw = 0; raw < 3 * t; raw += t / 1000) {
    const double score = model.ScoreOfRaw(raw);
    EXPECT_GE(score, previous) << raw;
    EXPECT_LE(score, 100.0);
    if (raw < 2 * t) {
      EXPECT_GT(score, previous) << raw;
    }
    previous = score;
  }
}

TEST(RobustZscoreTest, SaveLoadAndConfigRoundTrip) {
  FeatureMatrix train = NormalData(400, 8);
  train.values[7] = std::nan("");
  RobustZscore model(RobustZscoreOptions{.combine = RobustZscoreOptions::Combine::kMeanSquare,
                                         .contamination = 0.03,
                                         .threshold_score = 75});
  ASSERT_TRUE(model.Fit(train).ok());
  const auto dir = FreshDir("roundtrip");
  ASSERT_TRUE(model.SaveWeights(dir).ok());
  ASSERT_TRUE(std::filesystem::exists(dir / "zscore.json"));

  Result<std::unique_ptr<Model>> loaded = CreateModel("zscore", model.config());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->config(), model.config());
  ASSERT_TRUE((*loaded)->LoadWeights(dir).ok());
  EXPECT_EQ((*loaded)->Describe(), model.Describe());
  FeatureMatrix test = NormalData(300, 9);
  test.values[4] = 40;
  Result<AnomalyScores> a = model.Score(test);
  Result<AnomalyScores> b = AsAnomalyDetector(loaded->get())->Score(test);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->raw, b->raw);
  EXPECT_EQ(a->score, b->score);
  EXPECT_EQ(a->flag, b->flag);
  EXPECT_EQ(a->contributions, b->contributions);

  Result<std::unique_ptr<Model>> refit = CreateModel("zscore", model.config());
  ASSERT_TRUE(refit.ok());
  ASSERT_TRUE(AsAnomalyDetector(refit->get())->Fit(train).ok());
  EXPECT_EQ((*refit)->Describe(), model.Describe());
}

TEST(RobustZscoreTest, Errors) {
  RobustZscore model;
  FeatureMatrix x = NormalData(50, 1);
  EXPECT_EQ(model.Score(x).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(model.SaveWeights(FreshDir("unfitted")).ok());
  EXPECT_FALSE(model.Fit(FeatureMatrix{{"a"}, 1, {1.0}}).ok());  // too few rows
  FeatureMatrix infinite = x;
  infinite.values[3] = INFINITY;
  EXPECT_EQ(model.Fit(infinite).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(model.fitted());

  ASSERT_TRUE(model.Fit(x).ok());
  FeatureMatrix two_cols{{"volume_z", "spread_bps"}, 1, {0, 0}};
  EXPECT_EQ(model.Score(two_cols).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(model.Score(infinite).ok());
  Status missing = RobustZscore().LoadWeights(FreshDir("missing"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("zscore.json"), std::string::npos);
}

}  // namespace
}  // namespace vigil
