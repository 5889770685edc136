// Kind "ridge": L2-regularised least squares, the regression baseline. It minimises exactly
// scikit-learn's Ridge objective
//
//   sum_i s_i * (y_i - w.x_i - b)^2 + alpha * ||w||^2
//
// (s_i the sample weights; the intercept b is not penalised) in closed form (Hoerl &
// Kennard, "Ridge Regression: Biased Estimation for Nonorthogonal Problems",
// Technometrics 12(1), 1970): with an intercept, X and y are centred on their s-weighted
// means, w solves the normal equations (X'SX + alpha I) w = X'Sy of the centred data, and
// b = mean(y) - mean(x).w. So its coefficients match scikit-learn's to rounding.
// Features are NOT standardised implicitly (scikit-learn does not either).
//
//   VIGIL_ASSIGN_OR_RETURN(auto model, vigil::CreateModel("ridge", {{"alpha", 0.5}}));
//   vigil::Regressor* regressor = vigil::AsRegressor(model.get());
//   VIGIL_RETURN_IF_ERROR(regressor->Fit(x, forward_returns));
//   VIGIL_ASSIGN_OR_RETURN(std::vector<double> predicted, regressor->Predict(live));
//
// Configuration (all optional):
//   "alpha"         L2 penalty strength, >= 0 (default 1.0). alpha = 0 is ordinary least
//                   squares and needs linearly independent (centred) columns: a singular
//                   X'SX fails with InvalidArgument rather than returning NaN
//   "fit_intercept" learn an unpenalised intercept (default true)
//   "standardize"   fit on columns centred and scaled to unit population standard
//                   deviation (scikit-learn's StandardScaler, unweighted, before the fit),
//                   then fold the scaling back into the coefficients, which stay on the raw
//                   scale; the penalty then treats every feature alike (default false).
//                   Without an intercept, columns are scaled by their root mean square and
//                   not centred (as for "logistic")
// Inputs: finite features and targets; weights empty or one per row, finite and >= 0 with a
// positive sum; NaN or infinite values are InvalidArgument. Weights file: <dir>/ridge.json
// (coefficients, intercept, objective, and the training feature means and standard
// deviations that Shap needs).
//
// Explainable (vigil::ExplainableModel): RawMargin is the prediction w.x + b; Shap is exact
// interventional linear SHAP, w_j (x_j - mean_j) with mean_j the weighted training mean of
// feature j, bias b + sum_j w_j mean_j, so each row sums to its prediction. Importance:
// "coefficient_abs" |w_j| and "standardized" |w_j| * std_j (weighted population standard
// deviation). A weights file written before the means were stored still loads and
// predicts; Shap then fails with FailedPrecondition ("refit to explain") and Importance
// has only "coefficient_abs".
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

struct RidgeRegressionOptions {
  double alpha = 1.0;         // L2 penalty strength (scikit-learn's alpha), >= 0
  bool fit_intercept = true;  // unpenalised intercept
  bool standardize = false;   // fit on standardized columns (coefficients stay raw-scale)

  Status Validate() const;
  // From the kind's JSON configuration (InvalidArgument naming an unknown key or bad value).
  static Result<RidgeRegressionOptions> FromJson(const nlohmann::json& config);
  nlohmann::json ToJson() const;  // complete: every key, defaults included
};

class RidgeRegression final : public Regressor, public ExplainableModel {
 public:
  static constexpr std::string_view kKind = "ridge";
  static constexpr std::string_view kWeightsFile = "ridge.json";

  explicit RidgeRegression(RidgeRegressionOptions options = {});

  std::string_view kind() const override { return kKind; }
  nlohmann::json config() const override { return options_.ToJson(); }
  // FailedPrecondition when unfitted; I/O errors name the file.
  Status SaveWeights(const std::filesystem::path& dir) const override;
  // IoError / DataError naming <dir>/ridge.json when it is missing or corrupt; the model is
  // left unchanged on failure.
  Status LoadWeights(const std::filesystem::path& dir) override;
  // {"kind", "fitted", "coefficients": {feature: w}, "intercept", "objective"}.
  nlohmann::json Describe() const override;
  bool fitted() const override { return fitted_; }
  const std::vector<std::string>& feature_names() const override { return feature_names_; }

  // Fits on every row of `x` (>= 1 row; at least one feature or fit_intercept). Fails with
  // InvalidArgument on bad shapes or values, or a singular system (alpha = 0 with collinear
  // or constant columns); the model is left unchanged on failure.
  Status Fit(const FeatureMatrix& x, std::span<const double> targets,
             std::span<const double> weights = {}) override;
  // w.x + b per row. Fails if unfitted, on a column mismatch or on non-finite features.
  Result<std::vector<double>> Predict(const FeatureMatrix& x) const override;

  // The prediction per row (outputs = 1); identical to Predict.
  Result<std::vector<double>> RawMargin(const FeatureMatrix& x) const override;
  // Fails as Predict, and with FailedPrecondition when the feature means are unknown.
  Result<Attributions> Shap(const FeatureMatrix& x) const override;
  // FailedPrecondition when unfitted.
  Result<FeatureImportance> Importance() const override;
  // The training feature means / standard deviations (empty when loaded from an old file).
  const std::vector<double>& feature_means() const { return feature_means_; }
  const std::vector<double>& feature_stds() const { return feature_stds_; }

  const std::vector<double>& coefficients() const { return coefficients_; }  // raw scale
  double intercept() const { return intercept_; }  // 0 without fit_intercept
  // The objective above at the fitted solution, on the training data. With standardize,
  // the penalty is on the standardized-scale coefficients (see Objective).
  double objective() const { return objective_; }

  // The minimised objective at (coefficients, intercept) for this model's options, so tests
  // can compare solutions from other solvers. With standardize, the penalty is
  // alpha * sum_j (w_j * scale_j)^2, scale_j from `x` as in Fit: the same objective Fit
  // minimises, written in the raw-scale coefficients. Preconditions as for Fit.
  Result<double> Objective(const FeatureMatrix& x, std::span<const double> targets,
                           std::span<const double> weights, std::span<const double> coefficients,
                           double intercept) const;

 private:
  RidgeRegressionOptions options_;
  bool fitted_ = false;
  std::vector<std::string> feature_names_;
  std::vector<double> coefficients_;
  double intercept_ = 0.0;
  double objective_ = 0.0;
  std::vector<double> feature_means_;  // empty when unknown
  std::vector<double> feature_stds_;
};

}  // namespace vigil
