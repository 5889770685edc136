// FitModel, ScoreModel and Evaluate: fitting a config's model on rows of a training set and
// scoring it out of sample, fold by fold.
#include <cmath>

#include "vigil/models/metrics.h"
#include "vigil/pipeline/training_job.h"

namespace vigil {
namespace {

FeatureMatrix SelectRows(const FeatureMatrix& x, std::span<const int64_t> rows) {
  if (rows.empty()) return x;
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

template <typename T>
std::vector<T> SelectValues(const std::vector<T>& values, std::span<const int64_t> rows) {
  if (rows.empty()) return values;
  std::vector<T> out;
  out.reserve(rows.size());
  for (int64_t row : rows) out.push_back(values[row]);
  return out;
}

// A model's outputs on some rows, in the form its metrics need.
struct Predictions {
  std::vector<double> values;  // probabilities (rows x classes), predictions, or raw scores
  std::vector<double> scores;  // anomaly: 0-100
  std::vector<bool> flags;     // anomaly
  int num_classes = 0;         // classification
};

Result<Predictions> Predict(const Model& model, const FeatureMatrix& x) {
  Predictions out;
  if (const Classifier* classifier = AsClassifier(&model)) {
    VIGIL_ASSIGN_OR_RETURN(ProbabilityMatrix probs, classifier->PredictProba(x));
    out.num_classes = probs.num_classes;
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

void ClassificationMetrics(const std::vector<int>& labels, const Predictions& predicted,
                           std::map<std::string, double>& metrics) {
  const int k = predicted.num_classes;
  int64_t correct = 0;
  for (size_t row = 0; row < labels.size(); ++row) {
    int best = 0;
    for (int c = 1; c < k; ++c) {
      if (predicted.values[row * k + c] > predicted.values[row * k + best]) best = c;
    }
    correct += best == labels[row] ? 1 : 0;
  }
  metrics["accuracy"] = static_cast<double>(correct) / static_cast<double>(labels.size());
  if (k != 2) {
    AddIfDefined(metrics, "log_loss", MulticlassLogLoss(labels, predicted.values, k));
    return;
  }
  std::vector<double> positive(labels.size());
  for (size_t row = 0; row < labels.size(); ++row) positive[row] = predicted.values[row * 2 + 1];
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

void AnomalyMetrics(const TrainingConfig& config, const std::vector<int>& labels,
                    const Predictions& predicted, std::map<std::string, double>& metrics) {
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

std::map<std::string, double> MetricsOf(const TrainingConfig& config,
                                        const std::vector<double>& labels,
                                        const Predictions& predicted) {
  std::map<std::string, double> metrics;
  if (labels.empty()) return metrics;
  std::vector<int> classes(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) classes[i] = static_cast<int>(labels[i]);
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

void Append(Predictions& pooled, const Predictions& part) {
  pooled.num_classes = part.num_classes;
  pooled.values.insert(pooled.values.end(), part.values.begin(), part.values.end());
  pooled.scores.insert(pooled.scores.end(), part.scores.begin(), part.scores.end());
  pooled.flags.insert(pooled.flags.end(), part.flags.begin(), part.flags.end());
}

Result<std::vector<Fold>> Split(const TrainingConfig& config, const TrainingSet& set) {
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

}  // namespace

Result<std::unique_ptr<Model>> FitModel(const TrainingConfig& config, const TrainingSet& set,
                                        std::span<const int64_t> rows) {
  nlohmann::json params = config.model_params;
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, CreateModel(config.model_kind, params));
  // Kinds with a seed take the job's unless the params set one.
  if (model->config().contains("seed") && !params.contains("seed")) {
    params["seed"] = config.seed;
    VIGIL_ASSIGN_OR_RETURN(model, CreateModel(config.model_kind, params));
  }
  // All rows (the final fit) are used in place rather than copied.
  const FeatureMatrix selected = rows.empty() ? FeatureMatrix{} : SelectRows(set.x, rows);
  const std::vector<double> selected_labels =
      rows.empty() ? std::vector<double>{} : SelectValues(set.labels, rows);
  const FeatureMatrix& x = rows.empty() ? set.x : selected;
  const std::vector<double>& labels = rows.empty() ? set.labels : selected_labels;
  if (Classifier* classifier = AsClassifier(model.get())) {
    std::vector<int> classes(labels.size());
    for (size_t i = 0; i < labels.size(); ++i) classes[i] = static_cast<int>(labels[i]);
    VIGIL_RETURN_IF_ERROR(classifier->Fit(x, classes));
  } else if (Regressor* regressor = AsRegressor(model.get())) {
    VIGIL_RETURN_IF_ERROR(regressor->Fit(x, labels));
  } else if (AnomalyDetector* detector = AsAnomalyDetector(model.get())) {
    VIGIL_RETURN_IF_ERROR(detector->Fit(x));
  } else {
    return InvalidArgument("model kind '" + config.model_kind +
                           "' cannot be trained by a training job (forecasters are fitted by "
                           "vigil forecast)");
  }
  return model;
}

Result<std::map<std::string, double>> ScoreModel(const Model& model, const TrainingConfig& config,
                                                 const TrainingSet& set,
                                                 std::span<const int64_t> rows) {
  VIGIL_ASSIGN_OR_RETURN(Predictions predicted, Predict(model, SelectRows(set.x, rows)));
  return MetricsOf(config, SelectValues(set.labels, rows), predicted);
}

Result<Evaluation> Evaluate(const TrainingConfig& config, const TrainingSet& set) {
  Evaluation evaluation;
  VIGIL_ASSIGN_OR_RETURN(evaluation.folds, Split(config, set));
  Predictions pooled;
  std::vector<double> pooled_labels;
  Predictions last_predicted;
  std::vector<double> last_labels;
  for (size_t f = 0; f < evaluation.folds.size(); ++f) {
    const Fold& fold = evaluation.folds[f];
    if (fold.train.empty() || fold.test.empty()) continue;
    Result<std::unique_ptr<Model>> model = FitModel(config, set, fold.train);
    if (!model.ok()) return model.status().WithContext("fold " + std::to_string(f + 1));
    VIGIL_ASSIGN_OR_RETURN(last_predicted, Predict(**model, SelectRows(set.x, fold.test)));
    last_labels = SelectValues(set.labels, fold.test);
    Append(pooled, last_predicted);
    pooled_labels.insert(pooled_labels.end(), last_labels.begin(), last_labels.end());
    evaluation.gate_rows = fold.test;
  }
  // Only the last fold's window gates promotion, so only its metrics are computed.
  evaluation.gate_metrics = MetricsOf(config, last_labels, last_predicted);
  if (pooled_labels.empty()) return FailedPrecondition("validation produced no test rows");
  evaluation.metrics = MetricsOf(config, pooled_labels, pooled);
  evaluation.metrics["folds"] = static_cast<double>(evaluation.folds.size());
  evaluation.metrics["test_rows"] = static_cast<double>(pooled_labels.size());
  return evaluation;
}

}  // namespace vigil
