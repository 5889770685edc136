// FitModel, ScoreModel and Evaluate: fitting a config's model on rows of a training set and
// scoring it out of sample, fold by fold.
#include <cmath>

#include "vigil/models/metrics.h"
#include "vigil/models/multi_horizon.h"
#include "vigil/pipeline/risk_training.h"
#include "vigil/pipeline/training_job.h"

namespace vigil {
namespace {

FeatureMatrix SelectRows(const FeatureMatrix& x, std::span<const int64_t> rows) {
  FeatureMatrix out;
  out.columns = x.columns;
  out.rows = static_cast<int64_t>(rows.size());
  out.values.reserve(rows.size() * x.cols());
  for (int64_t row : rows) {
    const std::span<const double> values = x.row(row);
    out.values.insert(out.values.end(), values.begin(), values.end());
  }
  return out;
}

// A model's outputs on `rows`, in the form its metrics need.
Result<FoldPredictions> Predict(const Model& model, const TrainingSet& set,
                                std::span<const int64_t> rows) {
  const FeatureMatrix x = SelectRows(set.x, rows);
  FoldPredictions out;
  out.rows.assign(rows.begin(), rows.end());
  if (set.multi_horizon()) {
    const auto* multi = dynamic_cast<const MultiHorizonClassifier*>(&model);
    if (multi == nullptr || multi->horizons_ns() != set.horizons_ns) {
      return FailedPrecondition(
          "a multi-horizon set is scored by a multi_horizon model of the "
          "same horizons, not a '" +
          std::string(model.kind()) + "' model");
    }
    VIGIL_ASSIGN_OR_RETURN(out.values, multi->PredictHorizons(x));
    out.width = static_cast<int>(set.horizons_ns.size());
    out.per_horizon = true;
  } else if (const Classifier* classifier = AsClassifier(&model)) {
    VIGIL_ASSIGN_OR_RETURN(ProbabilityMatrix probs, classifier->PredictProba(x));
    out.width = probs.num_classes;
    out.values = std::move(probs.values);
  } else if (const Regressor* regressor = AsRegressor(&model)) {
    VIGIL_ASSIGN_OR_RETURN(out.values, regressor->Predict(x));
  } else if (const AnomalyDetector* detector = AsAnomalyDetector(&model)) {
    VIGIL_ASSIGN_OR_RETURN(AnomalyScores scores, detector->Score(x));
    out.values = std::move(scores.raw);
    out.scores = std::move(scores.score);
    out.flags = std::move(scores.flag);
  } else {
    return InvalidArgument("model kind '" + std::string(model.kind()) +
                           "' cannot be trained by a training job");
  }
  return out;
}

// Adds `name` when the metric is defined on these rows (both classes present, ...).
void AddIfDefined(std::map<std::string, double>& metrics, const std::string& name,
                  const Result<double>& value) {
  if (value.ok() && std::isfinite(*value)) metrics[name] = *value;
}

void BinaryMetrics(std::span<const int> labels, std::span<const double> positive,
                   std::map<std::string, double>& metrics) {
  int64_t correct = 0;
  for (size_t row = 0; row < labels.size(); ++row) {
    // The most probable class, class 0 on a tie (as for the multiclass case).
    correct += (positive[row] > 0.5 ? 1 : 0) == labels[row] ? 1 : 0;
  }
  metrics["accuracy"] = static_cast<double>(correct) / static_cast<double>(labels.size());
  AddIfDefined(metrics, "roc_auc", RocAuc(labels, positive));
  AddIfDefined(metrics, "pr_auc", AveragePrecision(labels, positive));
  AddIfDefined(metrics, "log_loss", LogLoss(labels, positive));
  AddIfDefined(metrics, "brier", BrierScore(labels, positive));
  Result<ThresholdMetrics> at_half = PrecisionRecallF1At(labels, positive, 0.5);
  if (at_half.ok()) {
    metrics["precision"] = at_half->precision;
    metrics["recall"] = at_half->recall;
    metrics["f1"] = at_half->f1;
  }
}

void ClassificationMetrics(const std::vector<int>& labels, const FoldPredictions& predicted,
                           std::map<std::string, double>& metrics) {
  const int k = predicted.width;
  if (k == 2) {
    BinaryMetrics(labels, PositiveProbabilities(predicted, 0), metrics);
    return;
  }
  int64_t correct = 0;
  for (size_t row = 0; row < labels.size(); ++row) {
    int best = 0;
    for (int c = 1; c < k; ++c) {
      if (predicted.values[row * k + c] > predicted.values[row * k + best]) best = c;
    }
    correct += best == labels[row] ? 1 : 0;
  }
  metrics["accuracy"] = static_cast<double>(correct) / static_cast<double>(labels.size());
  AddIfDefined(metrics, "log_loss", MulticlassLogLoss(labels, predicted.values, k));
}

// Per horizon "<metric>@<h>", and the plain name the mean over the horizons defining it.
void MultiHorizonMetrics(const TrainingSet& set, const FoldPredictions& predicted,
                         std::map<std::string, double>& metrics) {
  std::map<std::string, std::pair<double, int>> sums;
  for (int k = 0; k < NumOutputs(set); ++k) {
    std::map<std::string, double> horizon;
    BinaryMetrics(OutputLabels(set, k, predicted.rows), PositiveProbabilities(predicted, k),
                  horizon);
    const std::string suffix = "@" + FormatDuration(set.horizons_ns[k]);
    for (const auto& [name, value] : horizon) {
      metrics[name + suffix] = value;
      sums[name].first += value;
      sums[name].second += 1;
    }
  }
  for (const auto& [name, sum] : sums) metrics[name] = sum.first / sum.second;
}

void AnomalyMetrics(const TrainingConfig& config, const std::vector<int>& labels,
                    const FoldPredictions& predicted, std::map<std::string, double>& metrics) {
  double flagged = 0;
  double score_sum = 0;
  for (size_t row = 0; row < predicted.flags.size(); ++row) {
    flagged += predicted.flags[row] ? 1 : 0;
    score_sum += predicted.scores[row];
  }
  const double n = static_cast<double>(predicted.flags.size());
  metrics["flag_rate"] = flagged / n;
  metrics["mean_score"] = score_sum / n;
  if (config.label.kind == LabelKind::kNone) return;
  AddIfDefined(metrics, "roc_auc", RocAuc(labels, predicted.values));
  AddIfDefined(metrics, "pr_auc", AveragePrecision(labels, predicted.values));
}

std::map<std::string, double> MetricsOf(const TrainingConfig& config, const TrainingSet& set,
                                        const FoldPredictions& predicted) {
  std::map<std::string, double> metrics;
  if (predicted.rows.empty()) return metrics;
  if (set.multi_horizon()) {
    MultiHorizonMetrics(set, predicted, metrics);
    return metrics;
  }
  std::vector<double> labels;
  labels.reserve(predicted.rows.size());
  for (int64_t row : predicted.rows) labels.push_back(set.labels[row]);
  const std::vector<int> classes(labels.begin(), labels.end());
  switch (config.task) {
    case Task::kClassification:
      ClassificationMetrics(classes, predicted, metrics);
      break;
    case Task::kRegression:
      AddIfDefined(metrics, "mae", Mae(labels, predicted.values));
      AddIfDefined(metrics, "rmse", Rmse(labels, predicted.values));
      AddIfDefined(metrics, "mape", Mape(labels, predicted.values));
      break;
    case Task::kAnomaly:
      AnomalyMetrics(config, classes, predicted, metrics);
      break;
    case Task::kForecast:
      break;
  }
  return metrics;
}

FoldPredictions Pool(std::span<const FoldPredictions> parts) {
  FoldPredictions pooled;
  for (const FoldPredictions& part : parts) {
    pooled.width = part.width;
    pooled.per_horizon = part.per_horizon;
    pooled.rows.insert(pooled.rows.end(), part.rows.begin(), part.rows.end());
    pooled.values.insert(pooled.values.end(), part.values.begin(), part.values.end());
    pooled.scores.insert(pooled.scores.end(), part.scores.begin(), part.scores.end());
    pooled.flags.insert(pooled.flags.end(), part.flags.begin(), part.flags.end());
  }
  return pooled;
}

}  // namespace

Result<std::vector<Fold>> ValidationFolds(const TrainingConfig& config, const TrainingSet& set) {
  if (config.validation.method == ValidationMethod::kPurgedKFold) {
    return PurgedKFoldSplit(config.validation.purged_kfold, set.windows);
  }
  const WalkForwardTimeOptions& wf = config.validation.walk_forward;
  const int64_t first = set.windows.start_ts.front();
  const int64_t last = set.windows.start_ts.back();
  if (wf.train_ns + wf.gap_ns + wf.test_ns > last - first + 1) {
    return FailedPrecondition("validation: train " + FormatDuration(wf.train_ns) + " + gap " +
                              FormatDuration(wf.gap_ns) + " + test " + FormatDuration(wf.test_ns) +
                              " is longer than the usable rows span (" + Timestamp(first).ToIso() +
                              " to " + Timestamp(last).ToIso() +
                              "): not even one test window fits; shorten them or add data");
  }
  return WalkForwardTimeSplit(wf, set.windows);
}

Result<std::unique_ptr<Model>> FitModel(const TrainingConfig& config, const TrainingSet& set,
                                        std::span<const int64_t> rows, FitReport* report) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Model>> models,
                         FitOutputModels(config, set, rows, report));
  return AssembleModel(set, std::move(models), {});
}

Result<std::map<std::string, double>> ScoreModel(const Model& model, const TrainingConfig& config,
                                                 const TrainingSet& set,
                                                 std::span<const int64_t> rows) {
  VIGIL_ASSIGN_OR_RETURN(FoldPredictions predicted, Predict(model, set, rows));
  return MetricsOf(config, set, predicted);
}

std::map<std::string, double> PooledMetrics(const TrainingConfig& config, const TrainingSet& set,
                                            std::span<const FoldPredictions> predictions) {
  return MetricsOf(config, set, Pool(predictions));
}

Result<Evaluation> EvaluateOnFolds(const TrainingConfig& config, const TrainingSet& set,
                                   std::vector<Fold> folds) {
  Evaluation evaluation;
  evaluation.folds = std::move(folds);
  for (size_t f = 0; f < evaluation.folds.size(); ++f) {
    const Fold& fold = evaluation.folds[f];
    if (fold.train.empty() || fold.test.empty()) continue;
    Result<std::unique_ptr<Model>> model = FitModel(config, set, fold.train);
    if (!model.ok()) return model.status().WithContext("fold " + std::to_string(f + 1));
    Result<FoldPredictions> predicted = Predict(**model, set, fold.test);
    if (!predicted.ok()) return predicted.status().WithContext("fold " + std::to_string(f + 1));
    evaluation.fold_metrics.push_back(MetricsOf(config, set, *predicted));
    evaluation.predictions.push_back(std::move(*predicted));
    evaluation.gate_rows = fold.test;
    evaluation.last_fold_model = std::shared_ptr<const Model>(std::move(*model));
  }
  if (evaluation.predictions.empty()) return FailedPrecondition("validation produced no test rows");
  // Only the last fold's window gates promotion.
  evaluation.gate_metrics = evaluation.fold_metrics.back();
  const FoldPredictions pooled = Pool(evaluation.predictions);
  evaluation.metrics = MetricsOf(config, set, pooled);
  evaluation.metrics["folds"] = static_cast<double>(evaluation.folds.size());
  evaluation.metrics["test_rows"] = static_cast<double>(pooled.rows.size());
  return evaluation;
}

Result<Evaluation> Evaluate(const TrainingConfig& config, const TrainingSet& set) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<Fold> folds, ValidationFolds(config, set));
  return EvaluateOnFolds(config, set, std::move(folds));
}

}  // namespace vigil
