// Global feature importance for any model: the model's own (tree gain and cover, linear
// coefficients), mean |SHAP| when it explains itself, and permutation importance for all
// (the only one for models that do not explain themselves).
//
//   vigil::PermutationOptions options;  // metric roc_auc, 5 repeats
//   VIGIL_ASSIGN_OR_RETURN(vigil::FeatureImportance importance,
//                          vigil::GlobalImportance(*model, x_holdout, y_holdout, options));
//
// Permutation importance follows sklearn.inspection.permutation_importance: the model is
// scored on the held-out rows (baseline), then for each feature and repeat that feature's
// column is shuffled (a seeded Fisher-Yates permutation) and the model scored again;
// importance = baseline - permuted for metrics where higher is better (permuted - baseline
// where lower is better), its mean and standard deviation over repeats. Scores use
// metrics.h: classification roc_auc, pr_auc, log_loss, brier (binary: on the
// positive-class probability), accuracy (the most probable class, the first on ties);
// multiclass classifiers take log_loss (MulticlassLogLoss) and accuracy only; regression
// mae, rmse. `baseline` is the metric itself (a log loss stays positive, where sklearn
// reports the negated scorer). Each feature's permutations come from a stream derived from
// (seed, feature index), the index vector reshuffled for every repeat as sklearn does;
// features are spread over `jobs` threads, and the result does not depend on the count.
//
// Thread-safety: the model's const methods are called from several threads.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil {

struct PermutationOptions {
  std::string metric = "roc_auc";
  int repeats = 5;  // >= 1
  uint64_t seed = 0;
  int jobs = 0;  // 0 = all cores
  Status Validate() const;
};

struct PermutationImportance {
  std::vector<std::string> features;
  std::vector<double> mean;
  std::vector<double> stddev;  // population standard deviation over repeats, as sklearn
  double baseline = 0.0;
};

// `targets`: class indices (as doubles) for classifiers, values for regressors.
// InvalidArgument on bad options, an unknown metric or one that does not fit the model's
// task (or class count), a target that is not a class index (naming the row), mismatched
// sizes, no rows, or a metric undefined on these rows (roc_auc with one class);
// FailedPrecondition when the model is unfitted; prediction errors pass through.
Result<PermutationImportance> ComputePermutationImportance(const Model& model,
                                                           const FeatureMatrix& x,
                                                           std::span<const double> targets,
                                                           const PermutationOptions& options);

// Mean over rows of |contribution| per feature (bias excluded), summed over outputs.
std::vector<double> MeanAbsShap(const Attributions& attributions);

// Everything known for the model on these held-out rows: the ExplainableModel's own
// Importance() plus "mean_abs_shap" when it explains itself, and "permutation" (the mean)
// always. A model whose Shap fails with FailedPrecondition (a linear model loaded from
// weights that predate stored feature means) gets no "mean_abs_shap"; other errors fail.
Result<FeatureImportance> GlobalImportance(const Model& model, const FeatureMatrix& x,
                                           std::span<const double> targets,
                                           const PermutationOptions& options);

}  // namespace vigil
