// Hyperparameter search: candidates (grid and random), scoring on walk-forward folds only
// (never purged k-fold folds, never the gate window), and the choice of the best.
#include "vigil/pipeline/hyperparameter_search.h"

#include <gtest/gtest.h>

#include <cmath>

#include "pipeline/pipeline_fixture.h"
#include "vigil/pipeline/risk_training.h"

namespace vigil {
namespace {

std::string SearchYaml(const std::string& validation, const std::string& search) {
  return R"(name: crash_search
task: crash
model: {kind: logistic, params: {standardize: true}}
seed: 4
data: {instruments: [sim:BTC-PERP], timeframe: 1m}
features: ta
label: {horizon: 30m, k: 1.5, vol_window: 60}
validation: )" +
         validation + "\nsearch: " + search + "\n";
}

class HyperparameterSearchTest : public testing_util::PipelineTest {};

TEST_F(HyperparameterSearchTest, GridIsTheCrossProductAndRandomRespectsRanges) {
  SearchConfig grid;
  grid.method = SearchMethod::kGrid;
  grid.params = {{"a", {1, 2}}, {"b", {"x", "y", "z"}}};
  auto candidates = SearchCandidates(grid);
  ASSERT_TRUE(candidates.ok());
  ASSERT_EQ(candidates->size(), 6u);
  EXPECT_EQ((*candidates)[0], nlohmann::json({{"a", 1}, {"b", "x"}}));
  EXPECT_EQ((*candidates)[5], nlohmann::json({{"a", 2}, {"b", "z"}}));
  grid.params.push_back(SearchParam{"c", {}, true, 0.0, 1.0});
  EXPECT_FALSE(SearchCandidates(grid).ok());

  SearchConfig random;
  random.method = SearchMethod::kRandom;
  random.trials = 400;
  random.seed = 3;
  SearchParam rate{"rate", {}, true, 0.001, 1.0, true, false};
  SearchParam depth{"depth", {}, true, 2, 9, false, true};
  SearchParam kind{"kind", {"a", "b"}};
  random.params = {rate, depth, kind};
  auto drawn = SearchCandidates(random);
  ASSERT_TRUE(drawn.ok());
  ASSERT_EQ(drawn->size(), 400u);
  int below_001 = 0;
  int kind_a = 0;
  for (const nlohmann::json& c : *drawn) {
    const double r = c["rate"].get<double>();
    ASSERT_GE(r, 0.001);
    ASSERT_LE(r, 1.0);
    below_001 += r < 0.01 ? 1 : 0;
    ASSERT_TRUE(c["depth"].is_number_integer());
    ASSERT_GE(c["depth"].get<int>(), 2);
    ASSERT_LE(c["depth"].get<int>(), 9);
    kind_a += c["kind"] == "a" ? 1 : 0;
  }
  // Log-uniform on [0.001, 1]: a third of the draws fall below 0.01 (uniform: under 1%).
  EXPECT_GT(below_001, 90);
  EXPECT_LT(below_001, 180);
  EXPECT_GT(kind_a, 150);
  EXPECT_LT(kind_a, 250);
  EXPECT_EQ(*SearchCandidates(random), *drawn);  // seeded
}

// With purged k-fold evaluation the search still scores on walk-forward folds (every
// training row before every test row), none touching the gate window; the best candidate
// is the one with the best pooled metric, recomputed here from the folds.
TEST_F(HyperparameterSearchTest, ScoresOnWalkForwardFoldsOnlyAndPicksTheBest) {
  StoreSimulation(1, 3);
  auto config = Config(SearchYaml("{method: purged_kfold, k: 4}",
                                  "{method: grid, metric: pr_auc, params: {C: [0.0001, 0.01, 1.0]},"
                                  " validation: {train: 1d, test: 6h}}"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto set = BuildTrainingSet(*config, *store_);
  ASSERT_TRUE(set.ok());
  auto search = RunHyperparameterSearch(*config, *set);
  ASSERT_TRUE(search.ok()) << search.status().ToString();
  ASSERT_EQ(search->trials.size(), 3u);
  auto gate_folds = ValidationFolds(*config, *set);
  ASSERT_TRUE(gate_folds.ok());
  const int64_t gate_start = set->windows.start_ts[gate_folds->back().test.front()];
  ASSERT_GE(search->folds.size(), 2u);
  for (const Fold& fold : search->folds) {
    const int64_t test_start = set->windows.start_ts[fold.test.front()];
    for (int64_t row : fold.train) {
      ASSERT_LT(set->windows.end_ts[row], test_start) << "walk-forward trains on the past only";
    }
    EXPECT_LT(set->windows.start_ts[fold.test.back()], gate_start);
  }
  for (size_t i = 0; i < search->trials.size(); ++i) {
    TrainingConfig trial = *config;
    trial.model_params["C"] = search->trials[i].params["C"];
    std::vector<FoldPredictions> predictions;
    std::vector<double> fold_scores;
    for (const Fold& fold : search->folds) {
      auto model = FitModel(trial, *set, fold.train);
      ASSERT_TRUE(model.ok());
      auto scored = ScoreModel(**model, trial, *set, fold.test);
      ASSERT_TRUE(scored.ok());
      fold_scores.push_back(scored->at("pr_auc"));
      auto evaluated = EvaluateOnFolds(trial, *set, {fold});
      ASSERT_TRUE(evaluated.ok());
      predictions.push_back(evaluated->predictions[0]);
    }
    EXPECT_DOUBLE_EQ(search->trials[i].score, PooledMetrics(trial, *set, predictions).at("pr_auc"));
    EXPECT_EQ(search->trials[i].fold_scores, fold_scores);
  }
  for (const SearchTrial& trial : search->trials) {
    EXPECT_GE(search->trials[search->best].score, trial.score);
  }
  EXPECT_EQ(search->best_params["C"], search->trials[search->best].params["C"]);
  EXPECT_EQ(search->best_params["standardize"], true);

  // The job uses the best params for the evaluation and final fit, and records the trials.
  auto result = RunTrainingJob(*config, *store_, *registry_, {});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const nlohmann::json& details = result->manifest.details["search"];
  EXPECT_EQ(details["trials"].size(), 3u);
  EXPECT_EQ(details["best"]["params"]["C"], search->best_params["C"]);
  EXPECT_EQ(result->manifest.parameters["C"], search->best_params["C"]);
  EXPECT_EQ(details["trials"][0]["fold_scores"].size(), search->folds.size());
}

TEST_F(HyperparameterSearchTest, LowerIsBetterMetricsPickTheSmallest) {
  StoreSimulation(1, 3);
  auto config = Config(SearchYaml("{train: 1d, test: 12h}",
                                  "{method: random, metric: log_loss, trials: 3, seed: 1,"
                                  " params: {C: {min: 0.0001, max: 10, log: true}}}"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto set = BuildTrainingSet(*config, *store_);
  ASSERT_TRUE(set.ok());
  auto search = RunHyperparameterSearch(*config, *set);
  ASSERT_TRUE(search.ok()) << search.status().ToString();
  EXPECT_FALSE(search->higher_is_better);
  EXPECT_EQ(search->folds.size(), 2u);  // three walk-forward folds, less the gate window
  for (const SearchTrial& trial : search->trials) {
    EXPECT_LE(search->trials[search->best].score, trial.score);
  }
}

}  // namespace
}  // namespace vigil
