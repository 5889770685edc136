// Grid and random hyperparameter search scored on walk-forward folds before the gate
// window (hyperparameter_search.h).
#include "vigil/pipeline/hyperparameter_search.h"

#include <cmath>
#include <limits>

#include "vigil/core/rng.h"

namespace vigil {
namespace {

void CrossProduct(const std::vector<SearchParam>& params, size_t index, nlohmann::json current,
                  std::vector<nlohmann::json>& out) {
  if (index == params.size()) {
    out.push_back(std::move(current));
    return;
  }
  for (const nlohmann::json& value : params[index].values) {
    nlohmann::json next = current;
    next[params[index].name] = value;
    CrossProduct(params, index + 1, std::move(next), out);
  }
}

nlohmann::json Draw(const SearchParam& param, Rng& rng) {
  if (!param.is_range) {
    const int64_t last = static_cast<int64_t>(param.values.size()) - 1;
    return param.values[static_cast<size_t>(rng.UniformInt(0, last))];
  }
  const double u = rng.Uniform();
  const double value =
      param.log ? std::exp(std::log(param.min) + u * (std::log(param.max) - std::log(param.min)))
                : param.min + u * (param.max - param.min);
  if (param.integer) return static_cast<int64_t>(std::llround(value));
  return value;
}

double Stddev(const std::vector<double>& values) {
  double sum = 0;
  int n = 0;
  for (double v : values) {
    if (std::isfinite(v)) sum += v, ++n;
  }
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  const double mean = sum / n;
  double squares = 0;
  for (double v : values) {
    if (std::isfinite(v)) squares += (v - mean) * (v - mean);
  }
  return std::sqrt(squares / n);
}

// The gate window's first timestamp: the evaluation's last fold's first test row.
Result<int64_t> GateWindowStart(const TrainingConfig& config, const TrainingSet& set) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<Fold> folds, ValidationFolds(config, set));
  for (auto fold = folds.rbegin(); fold != folds.rend(); ++fold) {
    if (!fold->test.empty() && !fold->train.empty())
      return set.windows.start_ts[fold->test.front()];
  }
  return FailedPrecondition("validation produced no test rows");
}

Result<SearchTrial> ScoreCandidate(const TrainingConfig& config, const TrainingSet& set,
                                   const std::vector<Fold>& folds, const nlohmann::json& candidate,
                                   const std::string& metric) {
  TrainingConfig trial = config;
  for (const auto& [name, value] : candidate.items()) trial.model_params[name] = value;
  VIGIL_ASSIGN_OR_RETURN(Evaluation evaluation, EvaluateOnFolds(trial, set, folds));
  SearchTrial out;
  out.params = candidate;
  const auto pooled = evaluation.metrics.find(metric);
  out.score = pooled == evaluation.metrics.end() ? std::numeric_limits<double>::quiet_NaN()
                                                 : pooled->second;
  for (const auto& fold : evaluation.fold_metrics) {
    const auto found = fold.find(metric);
    out.fold_scores.push_back(found == fold.end() ? std::numeric_limits<double>::quiet_NaN()
                                                  : found->second);
  }
  out.fold_stddev = Stddev(out.fold_scores);
  return out;
}

nlohmann::json Number(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

}  // namespace

Result<std::vector<nlohmann::json>> SearchCandidates(const SearchConfig& search) {
  std::vector<nlohmann::json> out;
  if (search.method == SearchMethod::kGrid) {
    for (const SearchParam& param : search.params) {
      if (param.is_range) {
        return InvalidArgument("search.params." + param.name +
                               ": grid search takes lists of values, not ranges");
      }
    }
    CrossProduct(search.params, 0, nlohmann::json::object(), out);
    return out;
  }
  Rng rng = Rng(search.seed).Derive("hyperparameter_search");
  for (int trial = 0; trial < search.trials; ++trial) {
    nlohmann::json candidate = nlohmann::json::object();
    for (const SearchParam& param : search.params) candidate[param.name] = Draw(param, rng);
    out.push_back(std::move(candidate));
  }
  return out;
}

Result<std::vector<Fold>> SearchFolds(const TrainingConfig& config, const TrainingSet& set) {
  const WalkForwardTimeOptions& options =
      config.search.has_validation ? config.search.validation : config.validation.walk_forward;
  if (!config.search.has_validation && config.validation.method != ValidationMethod::kWalkForward) {
    return InvalidArgument(
        "search: hyperparameters are searched on walk-forward folds only; give "
        "search.validation: {train: ..., test: ...}");
  }
  VIGIL_ASSIGN_OR_RETURN(int64_t gate_start, GateWindowStart(config, set));
  Result<std::vector<Fold>> split = WalkForwardTimeSplit(options, set.windows);
  if (!split.ok()) return split.status().WithContext("search.validation");
  std::vector<Fold> folds;
  for (Fold& fold : *split) {
    if (fold.test.empty() || fold.train.empty()) continue;
    if (set.windows.start_ts[fold.test.back()] >= gate_start) continue;
    // A training label must not read into the gate window either (walk-forward already
    // purges against the fold's own, earlier, test window).
    folds.push_back(std::move(fold));
  }
  if (folds.empty()) {
    return FailedPrecondition(
        "search: no walk-forward fold ends before the gate window (" +
        Timestamp(gate_start).ToIso() +
        "), which is kept out of the search; shorten search.validation or add data");
  }
  return folds;
}

Result<SearchResult> RunHyperparameterSearch(const TrainingConfig& config, const TrainingSet& set) {
  SearchResult result;
  result.metric = config.search_metric();
  VIGIL_ASSIGN_OR_RETURN(result.higher_is_better, HigherIsBetter(result.metric));
  VIGIL_ASSIGN_OR_RETURN(result.folds, SearchFolds(config, set));
  VIGIL_ASSIGN_OR_RETURN(std::vector<nlohmann::json> candidates, SearchCandidates(config.search));
  bool found = false;
  for (size_t i = 0; i < candidates.size(); ++i) {
    Result<SearchTrial> trial =
        ScoreCandidate(config, set, result.folds, candidates[i], result.metric);
    if (!trial.ok()) {
      return trial.status().WithContext("search trial " + std::to_string(i + 1) + " " +
                                        candidates[i].dump());
    }
    const double score = trial->score;
    result.trials.push_back(std::move(*trial));
    if (!std::isfinite(score)) continue;
    const double best = result.trials[result.best].score;
    const bool better = result.higher_is_better ? score > best : score < best;
    if (!found || better) {
      result.best = i;
      found = true;
    }
  }
  if (!found) {
    return FailedPrecondition("search: " + result.metric +
                              " is undefined on the search folds for every candidate");
  }
  result.best_params = config.model_params;
  for (const auto& [name, value] : result.trials[result.best].params.items()) {
    result.best_params[name] = value;
  }
  return result;
}

nlohmann::json SearchResult::ToJson(const SearchConfig& config) const {
  nlohmann::json trials_json = nlohmann::json::array();
  for (const SearchTrial& trial : trials) {
    nlohmann::json folds_json = nlohmann::json::array();
    for (double score : trial.fold_scores) folds_json.push_back(Number(score));
    trials_json.push_back({{"params", trial.params},
                           {"score", Number(trial.score)},
                           {"fold_scores", folds_json},
                           {"fold_stddev", Number(trial.fold_stddev)}});
  }
  return {{"method", config.method == SearchMethod::kGrid ? "grid" : "random"},
          {"metric", metric},
          {"higher_is_better", higher_is_better},
          {"folds", folds.size()},
          {"scored_on", "walk-forward folds before the gate window"},
          {"best",
           {{"trial", best + 1},
            {"params", trials[best].params},
            {"score", Number(trials[best].score)}}},
          {"trials", trials_json}};
}

}  // namespace vigil
