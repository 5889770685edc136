// ScoreRows: the same numbers as the models' own predictions, per task, with risk levels,
// confidence and explanations; SliceRows; bad input.
#include "vigil/serve/scoring.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "serve/serve_fixture.h"
#include "vigil/models/multi_horizon.h"
#include "vigil/models/probability_calibration.h"
#include "vigil/models/risk_levels.h"

namespace vigil {
namespace {

class ScoringTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const testing::ServeWorld& world = testing::SharedWorld();
    registry_ = new ModelRegistry(*ModelRegistry::Open(world.models_dir));
    live_ = new LiveModels(*registry_, {});
    for (const std::string& name : world.model_names) ASSERT_TRUE(live_->Add(name).ok()) << name;
    ta_rows_ = new FeatureMatrix(testing::WorldFeatureRows(world, "ta", "sim:ETH-PERP", 12));
    oracle_rows_ =
        new FeatureMatrix(testing::WorldFeatureRows(world, "oracle", "sim:BTC-PERP", 12));
  }
  static void TearDownTestSuite() {
    delete live_;
    delete registry_;
    delete ta_rows_;
    delete oracle_rows_;
  }

  static ScoredRows MustScore(const std::string& name, const FeatureMatrix& x,
                              ScoreOptions options = {}) {
    auto scored = ScoreRows(*live_->Get(name), x, options);
    EXPECT_TRUE(scored.ok()) << scored.status().ToString();
    return scored.ok() ? std::move(*scored) : ScoredRows{};
  }

  static inline ModelRegistry* registry_ = nullptr;
  static inline LiveModels* live_ = nullptr;
  static inline FeatureMatrix* ta_rows_ = nullptr;
  static inline FeatureMatrix* oracle_rows_ = nullptr;
};

TEST_F(ScoringTest, BinaryClassifierMatchesPredictProbaWithLevelsAndCalibratedConfidence) {
  ASSERT_EQ(ta_rows_->rows, 12);
  const std::shared_ptr<const ServedModel> served = live_->Get("risk_clf");
  const auto& calibrated = dynamic_cast<const CalibratedClassifier&>(served->model());
  const ProbabilityMatrix p = *calibrated.PredictProba(*ta_rows_);
  const ScoredRows scored = MustScore("risk_clf", *ta_rows_);
  EXPECT_EQ(scored.task, Task::kClassification);
  EXPECT_EQ(scored.rows, 12);
  EXPECT_EQ(scored.classes, 2);
  EXPECT_EQ(scored.probabilities, p.values);
  ASSERT_EQ(scored.levels.size(), 12u);
  // Platt: every held-out row stands behind every probability.
  const double evidence = calibrated.calibrator().Evidence(0.5);
  ASSERT_GT(evidence, 0.0);
  for (int64_t row = 0; row < 12; ++row) {
    EXPECT_EQ(scored.Probability(row), p.at(row, 1));
    EXPECT_EQ(scored.Score(row), 100.0 * p.at(row, 1));
    const RiskAssessment risk = AssessRisk(p.at(row, 1), served->cutpoints, evidence);
    EXPECT_EQ(scored.levels[row], risk.level);
    EXPECT_EQ(scored.confidence[row], risk.confidence);
  }
  EXPECT_TRUE(scored.horizons.empty());
  EXPECT_TRUE(scored.explanations.empty());
}

TEST_F(ScoringTest, UncalibratedClassifierHasZeroConfidence) {
  const std::shared_ptr<const ServedModel> served = live_->Get("risk_xgb");
  const ProbabilityMatrix p = *AsClassifier(&served->model())->PredictProba(*ta_rows_);
  const ScoredRows scored = MustScore("risk_xgb", *ta_rows_);
  EXPECT_EQ(scored.probabilities, p.values);
  for (int64_t row = 0; row < 12; ++row) {
    EXPECT_EQ(scored.levels[row], RiskLevelOf(p.at(row, 1), served->cutpoints));
    EXPECT_EQ(scored.confidence[row], 0.0);
  }
}

TEST_F(ScoringTest, MultiHorizonMatchesPredictHorizonsAndNamesTheHorizons) {
  const std::shared_ptr<const ServedModel> served = live_->Get("liq_long");
  const auto& model = dynamic_cast<const MultiHorizonClassifier&>(served->model());
  const std::vector<double> horizons = *model.PredictHorizons(*ta_rows_);
  const ProbabilityMatrix primary = *model.PredictProba(*ta_rows_);
  const ScoredRows scored = MustScore("liq_long", *ta_rows_);
  EXPECT_EQ(scored.horizon_names, (std::vector<std::string>{"5m", "15m", "30m", "1h"}));
  EXPECT_EQ(scored.horizons, horizons);
  EXPECT_EQ(scored.probabilities, primary.values);
  for (int64_t row = 0; row < 12; ++row) {
    EXPECT_EQ(scored.levels[row], RiskLevelOf(primary.at(row, 1), served->cutpoints));
  }
}

TEST_F(ScoringTest, AnomalyDetectorMatchesScoreAndExplainsByShares) {
  ASSERT_EQ(oracle_rows_->rows, 12);
  const std::shared_ptr<const ServedModel> served = live_->Get("oracle_anom");
  const AnomalyDetector& detector = *AsAnomalyDetector(&served->model());
  const AnomalyScores expected = *detector.Score(*oracle_rows_);
  const std::vector<double> shares = *detector.Contributions(*oracle_rows_);
  const ScoredRows scored = MustScore("oracle_anom", *oracle_rows_, {.explain = true, .top_k = 2});
  EXPECT_EQ(scored.task, Task::kAnomaly);
  EXPECT_EQ(scored.scores, expected.score);
  EXPECT_EQ(scored.raw_scores, expected.raw);
  EXPECT_EQ(scored.flags, std::vector<uint8_t>(expected.flag.begin(), expected.flag.end()));
  EXPECT_TRUE(std::isnan(scored.Probability(0)));
  EXPECT_EQ(scored.Score(3), expected.score[3]);
  ASSERT_EQ(scored.explanations.size(), 12u);
  const size_t cols = oracle_rows_->cols();
  for (int64_t row = 0; row < 12; ++row) {
    const std::vector<Contribution>& top = scored.explanations[row];
    ASSERT_EQ(top.size(), 2u);
    std::vector<double> row_shares(shares.begin() + row * cols, shares.begin() + (row + 1) * cols);
    std::sort(row_shares.rbegin(), row_shares.rend());
    EXPECT_EQ(top[0].value, row_shares[0]);
    EXPECT_EQ(top[1].value, row_shares[1]);
  }
}

// The top k by |SHAP|, ordered, plus the features left out plus the bias give the margin.
TEST_F(ScoringTest, ShapTopKIsOrderedAndSumsWithTheRestToTheMargin) {
  for (const std::string name : {"risk_xgb", "risk_clf", "liq_long"}) {
    const std::shared_ptr<const ServedModel> served = live_->Get(name);
    const ExplainableModel& explainable = *AsExplainable(&served->model());
    const Attributions shap = *explainable.Shap(*ta_rows_);
    const std::vector<double> margins = *explainable.RawMargin(*ta_rows_);
    const ScoredRows scored = MustScore(name, *ta_rows_, {.explain = true, .top_k = 3});
    ASSERT_EQ(scored.explanations.size(), 12u) << name;
    for (int64_t row = 0; row < 12; ++row) {
      const std::vector<Contribution>& top = scored.explanations[row];
      ASSERT_EQ(top.size(), 3u);
      std::set<std::string> named;
      double sum = shap.at(row, 0, shap.features.size());  // the bias
      double smallest_top = std::abs(top[0].value);
      for (size_t i = 0; i < top.size(); ++i) {
        if (i > 0) EXPECT_GE(std::abs(top[i - 1].value), std::abs(top[i].value)) << name;
        smallest_top = std::min(smallest_top, std::abs(top[i].value));
        named.insert(top[i].feature);
        sum += top[i].value;
      }
      for (size_t j = 0; j < shap.features.size(); ++j) {
        if (named.count(shap.features[j]) > 0) continue;
        EXPECT_LE(std::abs(shap.at(row, 0, j)), smallest_top) << name;
        sum += shap.at(row, 0, j);
      }
      EXPECT_NEAR(sum, margins[row * shap.outputs], 1e-4) << name << " row " << row;
    }
  }
}

TEST_F(ScoringTest, RegressorMatchesPredict) {
  auto ridge = CreateModel("ridge", {});
  ASSERT_TRUE(ridge.ok());
  std::vector<double> targets;
  for (int64_t row = 0; row < ta_rows_->rows; ++row) targets.push_back(ta_rows_->at(row, 0) * 2.0);
  ASSERT_TRUE(AsRegressor(ridge->get())->Fit(*ta_rows_, targets).ok());
  ServedModel served;
  served.name = "ridge";
  served.loaded.manifest.name = "ridge";
  served.loaded.manifest.kind = "ridge";
  served.loaded.manifest.task = Task::kRegression;
  served.loaded.manifest.feature_set.features = ta_rows_->columns;
  served.loaded.model = std::move(*ridge);
  auto scored = ScoreRows(served, *ta_rows_, {.explain = true, .top_k = 1});
  ASSERT_TRUE(scored.ok()) << scored.status().ToString();
  EXPECT_EQ(scored->values, *AsRegressor(&served.model())->Predict(*ta_rows_));
  EXPECT_EQ(scored->explanations.size(), 12u);
  EXPECT_TRUE(std::isnan(scored->Score(0)));
}

TEST_F(ScoringTest, SliceRowsEqualsScoringTheSubset) {
  const ScoredRows all = MustScore("liq_long", *ta_rows_, {.explain = true, .top_k = 2});
  FeatureMatrix middle;
  middle.columns = ta_rows_->columns;
  middle.rows = 4;
  middle.values.assign(ta_rows_->values.begin() + 3 * ta_rows_->cols(),
                       ta_rows_->values.begin() + 7 * ta_rows_->cols());
  const ScoredRows part = MustScore("liq_long", middle, {.explain = true, .top_k = 2});
  const ScoredRows sliced = SliceRows(all, 3, 7);
  EXPECT_EQ(sliced.rows, 4);
  EXPECT_EQ(sliced.probabilities, part.probabilities);
  EXPECT_EQ(sliced.horizons, part.horizons);
  EXPECT_EQ(sliced.horizon_names, part.horizon_names);
  EXPECT_EQ(sliced.levels, part.levels);
  EXPECT_EQ(sliced.confidence, part.confidence);
  ASSERT_EQ(sliced.explanations.size(), 4u);
  EXPECT_EQ(sliced.explanations[1][0].feature, part.explanations[1][0].feature);
  EXPECT_EQ(SliceRows(all, 5, 5).rows, 0);
  EXPECT_TRUE(SliceRows(all, 5, 5).probabilities.empty());
}

TEST_F(ScoringTest, UnnamedColumnsAreTheModelsAndEmptyInputScoresNothing) {
  FeatureMatrix unnamed = *ta_rows_;
  unnamed.columns.clear();
  EXPECT_EQ(MustScore("risk_clf", unnamed).probabilities,
            MustScore("risk_clf", *ta_rows_).probabilities);
  FeatureMatrix empty;
  empty.columns = ta_rows_->columns;
  EXPECT_EQ(MustScore("risk_clf", empty).rows, 0);
}

TEST_F(ScoringTest, BadInputIsInvalidArgument) {
  const ServedModel& served = *live_->Get("risk_clf");
  FeatureMatrix narrow = *ta_rows_;
  narrow.columns.pop_back();
  narrow.values.resize(narrow.rows * narrow.cols());
  auto width = ScoreRows(served, narrow);
  EXPECT_EQ(width.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(width.status().message().find("features"), std::string::npos);

  FeatureMatrix renamed = *ta_rows_;
  renamed.columns[2] = "not_a_feature";
  auto names = ScoreRows(served, renamed);
  EXPECT_EQ(names.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(names.status().message().find("not_a_feature"), std::string::npos);

  FeatureMatrix short_values = *ta_rows_;
  short_values.values.pop_back();
  EXPECT_EQ(ScoreRows(served, short_values).status().code(), StatusCode::kInvalidArgument);

  FeatureMatrix missing = *ta_rows_;
  missing.values[5] = std::nan("");
  EXPECT_EQ(ScoreRows(served, missing).status().code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(ScoreRows(served, *ta_rows_, {.explain = true, .top_k = 0}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil
