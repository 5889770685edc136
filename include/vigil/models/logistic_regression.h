// Kind "logistic": binary L2-regularised logistic regression, the classification baseline.
// It minimises exactly scikit-learn's LogisticRegression objective
//
//   0.5 * ||w||^2 + C * sum_i s_i * [log(1 + exp(z_i)) - y_i * z_i],   z_i = w.x_i + b
//
// (the intercept b is not penalised; s_i = sample weight * class weight) by Newton-Raphson
// with a backtracking line search, so its coefficients match scikit-learn's to solver
// precision. Features are NOT standardised implicitly (scikit-learn does not either).
//
//   VIGIL_ASSIGN_OR_RETURN(auto model, vigil::CreateModel("logistic", {{"C", 0.5}}));
//   VIGIL_RETURN_IF_ERROR(vigil::AsClassifier(model.get())->Fit(x, labels));
//
// Configuration (all optional):
//   "C"             inverse regularisation strength, > 0 (default 1.0)
//   "fit_intercept" learn an unpenalised intercept (default true)
//   "max_iter"      Newton iterations, >= 1 (default 100)
//   "tol"           stop when half the squared Newton decrement g'H^-1g/2 falls below
//                   tol * max(1, |objective|), >= 0 (default 1e-10)
//   "class_weight"  "none" or "balanced" (n / (2 * count of the class), scikit-learn's)
//   "standardize"   fit on columns centred and scaled to unit population standard
//                   deviation (scikit-learn's StandardScaler before the fit), then fold
//                   the scaling back into the coefficients, which stay on the raw scale;
//                   the penalty then treats every feature alike (default false)
// Inputs: labels in {0, 1}, both present; weights >= 0; NaN or infinite features are
// InvalidArgument. Weights file: <dir>/logistic.json (coefficients, intercept, solver
// diagnostics, and the training feature means and standard deviations that Shap needs).
//
// Explainable (vigil::ExplainableModel): RawMargin is the log-odds w.x + b; Shap is exact
// interventional linear SHAP, w_j (x_j - mean_j) with mean_j the training mean of feature
// j weighted by the sample weights (not the class weights), bias b + sum_j w_j mean_j, so
// each row sums to its log-odds. Importance: "coefficient_abs" |w_j| and "standardized"
// |w_j| * std_j (the weighted population standard deviation). A weights file written
// before the means were stored still loads and predicts; Shap then fails with
// FailedPrecondition ("refit to explain") and Importance has only "coefficient_abs".
// Thread-safety: as for every Model (const methods concurrent, Fit/LoadWeights exclusive).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil {

struct LogisticRegressionOptions {
  enum class ClassWeight { kNone, kBalanced };

  double c = 1.0;             // inverse L2 strength (scikit-learn's C), > 0
  bool fit_intercept = true;  // unpenalised intercept
  int max_iter = 100;         // Newton iterations, >= 1
  double tol = 1e-10;         // convergence on the Newton decrement, >= 0
  ClassWeight class_weight = ClassWeight::kNone;
  bool standardize = false;  // fit on standardized columns (coefficients stay raw-scale)

  Status Validate() const;
  // From the kind's JSON configuration (InvalidArgument naming an unknown key or bad value).
  static Result<LogisticRegressionOptions> FromJson(const nlohmann::json& config);
  nlohmann::json ToJson() const;  // complete: every key, defaults included
};

class LogisticRegression final : public Classifier, public ExplainableModel {
 public:
  static constexpr std::string_view kKind = "logistic";
  static constexpr std::string_view kWeightsFile = "logistic.json";

  explicit LogisticRegression(LogisticRegressionOptions options = {});

  std::string_view kind() const override { return kKind; }
  nlohmann::json config() const override { return options_.ToJson(); }
  Status SaveWeights(const std::filesystem::path& dir) const override;
  Status LoadWeights(const std::filesystem::path& dir) override;
  // {"coefficients": {feature: w}, "intercept", "iterations", "converged", "objective"}.
  nlohmann::json Describe() const override;
  bool fitted() const override { return fitted_; }
  const std::vector<std::string>& feature_names() const override { return feature_names_; }

  Status Fit(const FeatureMatrix& x, std::span<const int> labels,
             std::span<const double> weights = {}) override;
  // Column 1 is P(label 1). Fails if unfitted, on a column mismatch or on NaN features.
  Result<ProbabilityMatrix> PredictProba(const FeatureMatrix& x) const override;
  int num_classes() const override { return 2; }

  // Log-odds per row (outputs = 1). Fails as PredictProba.
  Result<std::vector<double>> RawMargin(const FeatureMatrix& x) const override;
  // Fails as PredictProba, and with FailedPrecondition when the feature means are unknown.
  Result<Attributions> Shap(const FeatureMatrix& x) const override;
  // FailedPrecondition when unfitted.
  Result<FeatureImportance> Importance() const override;
  // The training feature means / standard deviations (empty when loaded from an old file).
  const std::vector<double>& feature_means() const { return feature_means_; }
  const std::vector<double>& feature_stds() const { return feature_stds_; }

  const std::vector<double>& coefficients() const { return coefficients_; }
  double intercept() const { return intercept_; }
  int iterations() const { return iterations_; }
  bool converged() const { return converged_; }
  double objective() const { return objective_; }

  // The objective above at (coefficients, intercept) for this model's options: lets tests
  // compare solutions from other solvers. Preconditions as for Fit.
  Result<double> Objective(const FeatureMatrix& x, std::span<const int> labels,
                           std::span<const double> weights, std::span<const double> coefficients,
                           double intercept) const;

 private:
  LogisticRegressionOptions options_;
  bool fitted_ = false;
  std::vector<std::string> feature_names_;
  std::vector<double> coefficients_;
  double intercept_ = 0.0;
  int iterations_ = 0;
  bool converged_ = false;
  double objective_ = 0.0;
  std::vector<double> feature_means_;  // empty when unknown
  std::vector<double> feature_stds_;
};

}  // namespace vigil
