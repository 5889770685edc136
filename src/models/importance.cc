#include "vigil/models/importance.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <string>
#include <utility>

#include "models/anomaly/parallel.h"
#include "vigil/core/rng.h"
#include "vigil/models/metrics.h"

namespace vigil {
namespace {

enum class Metric { kRocAuc, kPrAuc, kLogLoss, kBrier, kAccuracy, kMae, kRmse };

struct MetricInfo {
  std::string_view name;
  Metric metric;
  Task task;
  bool higher_is_better;
};

constexpr MetricInfo kMetrics[] = {
    {"roc_auc", Metric::kRocAuc, Task::kClassification, true},
    {"pr_auc", Metric::kPrAuc, Task::kClassification, true},
    {"log_loss", Metric::kLogLoss, Task::kClassification, false},
    {"brier", Metric::kBrier, Task::kClassification, false},
    {"accuracy", Metric::kAccuracy, Task::kClassification, true},
    {"mae", Metric::kMae, Task::kRegression, false},
    {"rmse", Metric::kRmse, Task::kRegression, false},
};

const MetricInfo* FindMetric(std::string_view name) {
  for (const MetricInfo& info : kMetrics) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

std::string MetricNames() {
  std::string names;
  for (const MetricInfo& info : kMetrics) {
    names += (names.empty() ? "" : ", ") + std::string(info.name);
  }
  return names;
}

// Scores a model on rows with one fixed target vector: the baseline and every permuted copy
// go through the same function, so they differ only by the permutation.
using Scorer = std::function<Result<double>(const FeatureMatrix&)>;

// Fraction of rows whose most probable class (the first on ties, as numpy's argmax) is the
// label.
double Accuracy(const ProbabilityMatrix& proba, std::span<const int> labels) {
  int64_t correct = 0;
  for (int64_t row = 0; row < proba.rows(); ++row) {
    int best = 0;
    for (int k = 1; k < proba.num_classes; ++k) {
      if (proba.at(row, k) > proba.at(row, best)) best = k;
    }
    correct += best == labels[row] ? 1 : 0;
  }
  return static_cast<double>(correct) / static_cast<double>(proba.rows());
}

Result<double> ClassificationScore(const ProbabilityMatrix& proba, std::span<const int> labels,
                                   Metric metric) {
  if (metric == Metric::kAccuracy) return Accuracy(proba, labels);
  if (proba.num_classes != 2) {
    if (metric == Metric::kLogLoss) {
      return MulticlassLogLoss(labels, proba.values, proba.num_classes);
    }
    return InvalidArgument(
        "permutation importance: metric needs a binary classifier (this one has " +
        std::to_string(proba.num_classes) + " classes); use log_loss or accuracy");
  }
  std::vector<double> positive(static_cast<size_t>(proba.rows()));
  for (int64_t row = 0; row < proba.rows(); ++row) positive[row] = proba.at(row, 1);
  switch (metric) {
    case Metric::kRocAuc:
      return RocAuc(labels, positive);
    case Metric::kPrAuc:
      return AveragePrecision(labels, positive);
    case Metric::kLogLoss:
      return LogLoss(labels, positive);
    case Metric::kBrier:
      return BrierScore(labels, positive);
    default:
      return InvalidArgument("permutation importance: not a classification metric");
  }
}

Result<std::vector<int>> ClassLabels(std::span<const double> targets, int num_classes) {
  std::vector<int> labels(targets.size());
  for (size_t row = 0; row < targets.size(); ++row) {
    const double target = targets[row];
    if (!(target >= 0 && target < num_classes && target == std::floor(target))) {
      return InvalidArgument("permutation importance: row " + std::to_string(row) + ": target " +
                             std::to_string(target) + " is not a class in [0, " +
                             std::to_string(num_classes) + ")");
    }
    labels[row] = static_cast<int>(target);
  }
  return labels;
}

Result<Scorer> MakeScorer(const Model& model, std::span<const double> targets,
                          const MetricInfo& info) {
  if (model.task() != info.task) {
    return InvalidArgument("permutation importance: metric '" + std::string(info.name) +
                           "' is for " + std::string(TaskName(info.task)) + " models, and model '" +
                           std::string(model.kind()) + "' is a " +
                           std::string(TaskName(model.task())) + " model");
  }
  if (const Classifier* classifier = AsClassifier(&model)) {
    VIGIL_ASSIGN_OR_RETURN(std::vector<int> labels,
                           ClassLabels(targets, classifier->num_classes()));
    return Scorer([classifier, labels = std::move(labels),
                   metric = info.metric](const FeatureMatrix& x) -> Result<double> {
      VIGIL_ASSIGN_OR_RETURN(ProbabilityMatrix proba, classifier->PredictProba(x));
      return ClassificationScore(proba, labels, metric);
    });
  }
  const Regressor* regressor = AsRegressor(&model);
  std::vector<double> actual(targets.begin(), targets.end());
  return Scorer([regressor, actual = std::move(actual),
                 metric = info.metric](const FeatureMatrix& x) -> Result<double> {
    VIGIL_ASSIGN_OR_RETURN(std::vector<double> predicted, regressor->Predict(x));
    return metric == Metric::kMae ? Mae(actual, predicted) : Rmse(actual, predicted);
  });
}

// The importance of one feature per repeat: feature `col` of `work` (a copy of x) is
// replaced by a permutation of the original column, scored, and restored. Each feature
// draws from its own stream derived from (seed, feature index), so results do not depend
// on which thread handles it.
Result<std::vector<double>> PermuteFeature(const FeatureMatrix& x, size_t col, double baseline,
                                           const Scorer& scorer, const MetricInfo& info,
                                           const PermutationOptions& options, FeatureMatrix& work) {
  Rng rng = Rng(options.seed).Derive("permutation_importance/feature/" + std::to_string(col));
  // As scikit-learn: one index vector shuffled again for each repeat.
  std::vector<int64_t> order(static_cast<size_t>(x.rows));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::vector<double> importances;
  importances.reserve(options.repeats);
  for (int repeat = 0; repeat < options.repeats; ++repeat) {
    for (int64_t i = x.rows - 1; i > 0; --i) {  // Fisher-Yates
      std::swap(order[i], order[rng.UniformInt(0, i)]);
    }
    for (int64_t row = 0; row < x.rows; ++row) {
      work.values[row * x.cols() + col] = x.at(order[row], col);
    }
    VIGIL_ASSIGN_OR_RETURN(double permuted, scorer(work));
    importances.push_back(info.higher_is_better ? baseline - permuted : permuted - baseline);
  }
  for (int64_t row = 0; row < x.rows; ++row) work.values[row * x.cols() + col] = x.at(row, col);
  return importances;
}

// Mean and population standard deviation (numpy's default ddof = 0).
std::pair<double, double> MeanAndStddev(const std::vector<double>& values) {
  const double n = static_cast<double>(values.size());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  double squares = 0;
  for (double value : values) squares += (value - mean) * (value - mean);
  return {mean, std::sqrt(squares / n)};
}

Status CheckShapes(const Model& model, const FeatureMatrix& x, std::span<const double> targets) {
  if (!model.fitted()) {
    return FailedPrecondition("permutation importance: model '" + std::string(model.kind()) +
                              "' is not fitted");
  }
  if (x.rows == 0) return InvalidArgument("permutation importance: no rows");
  if (static_cast<int64_t>(targets.size()) != x.rows) {
    return InvalidArgument("permutation importance: " + std::to_string(targets.size()) +
                           " targets for " + std::to_string(x.rows) + " rows");
  }
  if (x.values.size() != static_cast<size_t>(x.rows) * x.cols()) {
    return InvalidArgument("permutation importance: feature matrix has " +
                           std::to_string(x.values.size()) + " values for " +
                           std::to_string(x.rows) + " rows x " + std::to_string(x.cols()) +
                           " columns");
  }
  return Status::Ok();
}

}  // namespace

Status PermutationOptions::Validate() const {
  if (FindMetric(metric) == nullptr) {
    return InvalidArgument("permutation importance: unknown metric '" + metric +
                           "' (expected one of " + MetricNames() + ")");
  }
  if (repeats < 1) {
    return InvalidArgument("permutation importance: repeats must be >= 1, got " +
                           std::to_string(repeats));
  }
  if (jobs < 0) {
    return InvalidArgument("permutation importance: jobs must be >= 0 (0 = all cores), got " +
                           std::to_string(jobs));
  }
  return Status::Ok();
}

Result<PermutationImportance> ComputePermutationImportance(const Model& model,
                                                           const FeatureMatrix& x,
                                                           std::span<const double> targets,
                                                           const PermutationOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(CheckShapes(model, x, targets));
  const MetricInfo& info = *FindMetric(options.metric);
  VIGIL_ASSIGN_OR_RETURN(Scorer scorer, MakeScorer(model, targets, info));
  PermutationImportance out;
  out.features = x.columns;
  VIGIL_ASSIGN_OR_RETURN(out.baseline, scorer(x));

  const size_t cols = x.cols();
  std::vector<Result<std::vector<double>>> per_feature(cols, std::vector<double>{});
  models_internal::ParallelFor(
      static_cast<int64_t>(cols), models_internal::ResolveJobs(options.jobs),
      [&](int64_t begin, int64_t end) {
        FeatureMatrix work = x;  // one copy per thread, each column restored after use
        for (int64_t col = begin; col < end; ++col) {
          per_feature[col] = PermuteFeature(x, static_cast<size_t>(col), out.baseline, scorer, info,
                                            options, work);
        }
      });
  for (size_t col = 0; col < cols; ++col) {
    if (!per_feature[col].ok()) {
      return per_feature[col].status().WithContext("permutation importance: feature '" +
                                                   x.columns[col] + "'");
    }
    const auto [mean, stddev] = MeanAndStddev(*per_feature[col]);
    out.mean.push_back(mean);
    out.stddev.push_back(stddev);
  }
  return out;
}

std::vector<double> MeanAbsShap(const Attributions& attributions) {
  const size_t features = attributions.features.size();
  std::vector<double> out(features, 0.0);
  if (attributions.rows == 0) return out;
  for (int64_t row = 0; row < attributions.rows; ++row) {
    for (int output = 0; output < attributions.outputs; ++output) {
      for (size_t j = 0; j < features; ++j) out[j] += std::abs(attributions.at(row, output, j));
    }
  }
  for (double& value : out) value /= static_cast<double>(attributions.rows);
  return out;
}

Result<FeatureImportance> GlobalImportance(const Model& model, const FeatureMatrix& x,
                                           std::span<const double> targets,
                                           const PermutationOptions& options) {
  VIGIL_ASSIGN_OR_RETURN(PermutationImportance permutation,
                         ComputePermutationImportance(model, x, targets, options));
  FeatureImportance out;
  if (const ExplainableModel* explainable = AsExplainable(&model)) {
    VIGIL_ASSIGN_OR_RETURN(out, explainable->Importance());
    Result<Attributions> shap = explainable->Shap(x);
    // A model that cannot explain itself yet (weights from before it stored what SHAP
    // needs) still has its own and the permutation importance.
    if (shap.ok()) {
      out.by_method["mean_abs_shap"] = MeanAbsShap(*shap);
    } else if (shap.status().code() != StatusCode::kFailedPrecondition) {
      return shap.status().WithContext("global importance");
    }
  }
  out.features = model.feature_names();
  out.by_method["permutation"] = std::move(permutation.mean);
  return out;
}

}  // namespace vigil
