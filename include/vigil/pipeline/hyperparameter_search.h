// Hyperparameter search for a training job: grid or random candidates, each scored by one
// metric on walk-forward folds only, never on purged k-fold folds (whose training rows come
// after the test rows) and never on the evaluation's gate window (the last fold's test
// rows), which stays out of sample for the promotion decision.
//
//   search:
//     method: random                  # grid | random
//     metric: pr_auc                  # default pr_auc (binary), log_loss (multiclass), rmse
//     trials: 20                      # random only
//     seed: 7                         # default: the job's seed
//     params:
//       max_depth: [3, 6]                                     # a list: sampled uniformly
//       learning_rate: {min: 0.01, max: 0.3, log: true}       # log-uniform
//       n_estimators: {min: 50, max: 400, integer: true}      # uniform, rounded
//     validation: {train: 3d, test: 12h}   # optional; required with purged k-fold
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::SearchResult search,
//                          vigil::RunHyperparameterSearch(config, set));
//   config.model_params = search.best_params;  // what the evaluation and final fit use
//
// Grid: the Cartesian product of the lists, in the order written (the last list varies
// fastest). Random: `trials` independent draws from an Rng seeded by search.seed. A
// candidate's score is its pooled out-of-fold metric over the search folds (as Evaluate
// computes it); ties keep the earlier candidate. The folds are the walk-forward folds of
// search.validation (or validation's own walk-forward options) whose test rows all precede
// the gate window.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/splitters.h"
#include "vigil/pipeline/training_config.h"
#include "vigil/pipeline/training_job.h"

namespace vigil {

struct SearchTrial {
  nlohmann::json params;            // the searched values only
  double score = 0.0;               // the metric, pooled over the folds
  std::vector<double> fold_scores;  // per fold (NaN where undefined)
  double fold_stddev = 0.0;         // population standard deviation of the defined ones
};

struct SearchResult {
  std::string metric;
  bool higher_is_better = true;
  std::vector<SearchTrial> trials;  // in candidate order
  size_t best = 0;                  // index into trials
  nlohmann::json best_params;       // config.model_params with the best candidate applied
  std::vector<Fold> folds;          // the walk-forward folds every candidate was scored on

  // {"method", "metric", "folds", "best": {params, score}, "trials": [...]}.
  nlohmann::json ToJson(const SearchConfig& config) const;
};

// The candidates (searched values only): the grid, or search.trials random draws.
// InvalidArgument when a grid is given a range.
Result<std::vector<nlohmann::json>> SearchCandidates(const SearchConfig& search);

// The walk-forward folds a search scores on (see above). FailedPrecondition when none
// ends before the gate window (shorten search.validation.test or add data).
Result<std::vector<Fold>> SearchFolds(const TrainingConfig& config, const TrainingSet& set);

// Scores every candidate and picks the best by config.search_metric(). Fails naming the
// trial when a candidate cannot be built or fitted, or when the metric is undefined for
// every candidate.
Result<SearchResult> RunHyperparameterSearch(const TrainingConfig& config, const TrainingSet& set);

}  // namespace vigil
