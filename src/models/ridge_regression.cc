#include "vigil/models/ridge_regression.h"

#include <Eigen/Dense>
#include <cmath>
#include <exception>
#include <memory>
#include <string>
#include <utility>

#include "models/builtin_kinds.h"
#include "models/column_scaling.h"
#include "models/linear_shap.h"
#include "models/linear_weights.h"
#include "vigil/core/text_file.h"

namespace vigil {
namespace {

using models_internal::ColumnScaling;
using models_internal::ConfigError;
using models_internal::FeatureMoments;

constexpr models_internal::LinearWeightsFormat kWeightsFormat{"vigil.ridge", 1};
// With alpha = 0, a pivot of the Gram matrix below this fraction of its diagonal entry
// (1 - R^2 of the column on the columns eliminated before it) means the column's independent
// part is under ~1.2e-4 (the square root) of its norm: the normal equations, which square
// the condition number, would leave its coefficient to rounding error. Pivots of a truly
// collinear column are rounding noise of order eps (~2e-16) times the diagonal, far below;
// well-posed data stays far above. The value is sqrt(double epsilon).
constexpr double kCollinearPivot = 1.4901161193847656e-08;

// The fit problem in Eigen form: the design (standardized when asked, no column of ones:
// the intercept is handled by centring), the targets and the per-row weights s_i.
struct Problem {
  Eigen::MatrixXd design;
  Eigen::VectorXd target;
  Eigen::VectorXd weight;
  ColumnScaling scaling;  // empty unless standardize
};

// A solution on the design's scale.
struct Solution {
  Eigen::VectorXd coefficients;
  double intercept = 0.0;
};

Status CheckInputs(const FeatureMatrix& x, std::span<const double> targets,
                   std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/false).WithContext("model 'ridge'"));
  if (x.rows == 0) return InvalidArgument("model 'ridge': no rows to fit");
  if (static_cast<int64_t>(targets.size()) != x.rows) {
    return InvalidArgument("model 'ridge': " + std::to_string(targets.size()) + " targets for " +
                           std::to_string(x.rows) + " rows");
  }
  if (!weights.empty() && static_cast<int64_t>(weights.size()) != x.rows) {
    return InvalidArgument("model 'ridge': " + std::to_string(weights.size()) + " weights for " +
                           std::to_string(x.rows) + " rows");
  }
  double total_weight = weights.empty() ? static_cast<double>(x.rows) : 0.0;
  for (size_t row = 0; row < targets.size(); ++row) {
    if (!std::isfinite(targets[row])) {
      return InvalidArgument("model 'ridge': row " + std::to_string(row) +
                             ": target must be finite");
    }
    if (weights.empty()) continue;
    if (!(std::isfinite(weights[row]) && weights[row] >= 0)) {
      return InvalidArgument("model 'ridge': row " + std::to_string(row) +
                             ": weight must be finite and >= 0");
    }
    total_weight += weights[row];
  }
  if (!(total_weight > 0)) return InvalidArgument("model 'ridge': the weights sum to 0");
  return Status::Ok();
}

Result<Problem> BuildProblem(const RidgeRegressionOptions& options, const FeatureMatrix& x,
                             std::span<const double> targets, std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(CheckInputs(x, targets, weights));
  if (x.cols() == 0 && !options.fit_intercept) {
    return InvalidArgument("model 'ridge': no features and no intercept");
  }
  Problem problem;
  FeatureMatrix standardized;
  if (options.standardize) {
    problem.scaling = ColumnScaling::Fit(x, options.fit_intercept);
    standardized = problem.scaling.Apply(x);
  }
  const FeatureMatrix& source = options.standardize ? standardized : x;
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  problem.design = Eigen::Map<const RowMajor>(source.values.data(), source.rows,
                                              static_cast<Eigen::Index>(source.cols()));
  problem.target = Eigen::Map<const Eigen::VectorXd>(targets.data(), x.rows);
  problem.weight = weights.empty()
                       ? Eigen::VectorXd::Ones(x.rows)
                       : Eigen::VectorXd(Eigen::Map<const Eigen::VectorXd>(weights.data(), x.rows));
  return problem;
}

// Fails unless every pivot of the Gram matrix's LDL' factorisation is positive and, with
// alpha = 0, resolvable (kCollinearPivot), naming the column whose pivot is not.
Status CheckPivots(const Eigen::LDLT<Eigen::MatrixXd>& ldlt, const Eigen::MatrixXd& gram,
                   double alpha, const std::vector<std::string>& columns) {
  const Eigen::Index d = gram.rows();
  // The factorisation is of P A P'; carry the column indices and diagonal through P.
  const Eigen::VectorXi column = ldlt.transpositionsP() * Eigen::VectorXi::LinSpaced(d, 0, d - 1);
  const Eigen::VectorXd diagonal = ldlt.transpositionsP() * gram.diagonal();
  const double floor = alpha == 0 ? kCollinearPivot : 0.0;
  for (Eigen::Index pivot = 0; pivot < d; ++pivot) {
    if (ldlt.vectorD()(pivot) > floor * diagonal(pivot)) continue;
    const std::string name = columns[static_cast<size_t>(column(pivot))];
    if (alpha == 0) {
      return InvalidArgument("model 'ridge': alpha = 0 and X'WX is singular: column '" + name +
                             "' is constant or (nearly) a linear combination of the other "
                             "columns over the rows with weight > 0; set alpha > 0");
    }
    return InvalidArgument("model 'ridge': X'WX + alpha I is numerically singular at column '" +
                           name + "' (alpha " + std::to_string(alpha) +
                           " is below rounding at the scale of the data); increase alpha");
  }
  if (ldlt.info() != Eigen::Success) {
    return InvalidArgument("model 'ridge': the LDL' factorisation of X'WX + alpha I failed");
  }
  return Status::Ok();
}

// Hoerl & Kennard's closed form, as scikit-learn computes it: centre on the weighted means
// (with an intercept), solve (Xc' S Xc + alpha I) w = Xc' S yc, then b = mean(y) - mean(x).w.
Result<Solution> Solve(const Problem& problem, double alpha, bool fit_intercept,
                       const std::vector<std::string>& columns) {
  const Eigen::Index d = problem.design.cols();
  Eigen::RowVectorXd x_mean = Eigen::RowVectorXd::Zero(d);
  double y_mean = 0.0;
  if (fit_intercept) {
    const double total = problem.weight.sum();
    x_mean = problem.weight.transpose() * problem.design / total;
    y_mean = problem.weight.dot(problem.target) / total;
  }
  Solution solution;
  solution.coefficients = Eigen::VectorXd::Zero(d);
  if (d > 0) {
    const Eigen::MatrixXd centred = problem.design.rowwise() - x_mean;
    const Eigen::MatrixXd weighted = centred.array().colwise() * problem.weight.array();
    Eigen::MatrixXd gram = centred.transpose() * weighted;
    gram.diagonal().array() += alpha;
    const Eigen::VectorXd rhs = weighted.transpose() * (problem.target.array() - y_mean).matrix();
    const Eigen::LDLT<Eigen::MatrixXd> ldlt(gram);
    VIGIL_RETURN_IF_ERROR(CheckPivots(ldlt, gram, alpha, columns));
    solution.coefficients = ldlt.solve(rhs);
    if (!solution.coefficients.allFinite()) {
      return InvalidArgument(
          "model 'ridge': the solution is not finite (X'WX + alpha I is "
          "numerically singular); increase alpha");
    }
  }
  solution.intercept = fit_intercept ? y_mean - x_mean.dot(solution.coefficients) : 0.0;
  return solution;
}

double ObjectiveAt(const Problem& problem, double alpha, const Eigen::VectorXd& coefficients,
                   double intercept) {
  const Eigen::ArrayXd residual =
      problem.target.array() - (problem.design * coefficients).array() - intercept;
  return (problem.weight.array() * residual.square()).sum() + alpha * coefficients.squaredNorm();
}

}  // namespace

Status RidgeRegressionOptions::Validate() const {
  if (!(alpha >= 0) || !std::isfinite(alpha)) {
    return ConfigError(RidgeRegression::kKind, "alpha", "must be finite and >= 0");
  }
  return Status::Ok();
}

Result<RidgeRegressionOptions> RidgeRegressionOptions::FromJson(const nlohmann::json& config) {
  constexpr std::string_view kind = RidgeRegression::kKind;
  VIGIL_RETURN_IF_ERROR(
      models_internal::CheckConfigKeys(kind, config, {"alpha", "fit_intercept", "standardize"}));
  RidgeRegressionOptions options;
  VIGIL_ASSIGN_OR_RETURN(options.alpha,
                         models_internal::ConfigNumber(kind, config, "alpha", options.alpha));
  VIGIL_ASSIGN_OR_RETURN(options.fit_intercept,
                         models_internal::ConfigBool(kind, config, "fit_intercept", true));
  VIGIL_ASSIGN_OR_RETURN(options.standardize,
                         models_internal::ConfigBool(kind, config, "standardize", false));
  VIGIL_RETURN_IF_ERROR(options.Validate());
  return options;
}

nlohmann::json RidgeRegressionOptions::ToJson() const {
  return {{"alpha", alpha}, {"fit_intercept", fit_intercept}, {"standardize", standardize}};
}

RidgeRegression::RidgeRegression(RidgeRegressionOptions options) : options_(std::move(options)) {}

Status RidgeRegression::Fit(const FeatureMatrix& x, std::span<const double> targets,
                            std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  VIGIL_ASSIGN_OR_RETURN(Problem problem, BuildProblem(options_, x, targets, weights));
  VIGIL_ASSIGN_OR_RETURN(Solution solution,
                         Solve(problem, options_.alpha, options_.fit_intercept, x.columns));
  objective_ = ObjectiveAt(problem, options_.alpha, solution.coefficients, solution.intercept);
  feature_names_ = x.columns;
  coefficients_.assign(solution.coefficients.data(),
                       solution.coefficients.data() + solution.coefficients.size());
  intercept_ = solution.intercept;
  if (options_.standardize) problem.scaling.FoldInto(&coefficients_, &intercept_);
  FeatureMoments moments = FeatureMoments::Of(x, weights);
  feature_means_ = std::move(moments.mean);
  feature_stds_ = std::move(moments.stddev);
  fitted_ = true;
  return Status::Ok();
}

Result<std::vector<double>> RidgeRegression::Predict(const FeatureMatrix& x) const {
  if (!fitted_) return FailedPrecondition("model 'ridge': not fitted");
  VIGIL_RETURN_IF_ERROR(models_internal::CheckColumns(kKind, feature_names_, x));
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/false).WithContext("model 'ridge'"));
  // Row by row, so a row's prediction does not depend on the rows scored with it (see
  // LogisticRegression::RawMargin).
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const RowMajor> features(x.values.data(), x.rows,
                                            static_cast<Eigen::Index>(x.cols()));
  const Eigen::Map<const Eigen::VectorXd> weights(coefficients_.data(),
                                                  static_cast<Eigen::Index>(coefficients_.size()));
  std::vector<double> out(static_cast<size_t>(x.rows));
  for (Eigen::Index row = 0; row < features.rows(); ++row) {
    out[static_cast<size_t>(row)] = features.row(row).dot(weights) + intercept_;
  }
  return out;
}

Result<std::vector<double>> RidgeRegression::RawMargin(const FeatureMatrix& x) const {
  return Predict(x);
}

Result<Attributions> RidgeRegression::Shap(const FeatureMatrix& x) const {
  if (!fitted_) return FailedPrecondition("model 'ridge': not fitted");
  VIGIL_RETURN_IF_ERROR(models_internal::CheckColumns(kKind, feature_names_, x));
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/false).WithContext("model 'ridge'"));
  return models_internal::LinearShap(kKind, feature_names_, coefficients_, intercept_,
                                     {feature_means_, feature_stds_}, x);
}

Result<FeatureImportance> RidgeRegression::Importance() const {
  if (!fitted_) return FailedPrecondition("model 'ridge': not fitted");
  return models_internal::LinearImportance(feature_names_, coefficients_,
                                           {feature_means_, feature_stds_});
}

Result<double> RidgeRegression::Objective(const FeatureMatrix& x, std::span<const double> targets,
                                          std::span<const double> weights,
                                          std::span<const double> coefficients,
                                          double intercept) const {
  VIGIL_ASSIGN_OR_RETURN(Problem problem, BuildProblem(options_, x, targets, weights));
  if (coefficients.size() != x.cols()) {
    return InvalidArgument("model 'ridge': objective needs one coefficient per feature");
  }
  // To the design's scale: the inverse of ColumnScaling::FoldInto.
  Eigen::VectorXd scaled(static_cast<Eigen::Index>(x.cols()));
  double scaled_intercept = intercept;
  for (size_t col = 0; col < coefficients.size(); ++col) {
    scaled(col) = coefficients[col];
    if (!options_.standardize) continue;
    scaled(col) *= problem.scaling.scale[col];
    scaled_intercept += coefficients[col] * problem.scaling.mean[col];
  }
  return ObjectiveAt(problem, options_.alpha, scaled, scaled_intercept);
}

nlohmann::json RidgeRegression::Describe() const {
  nlohmann::json coefficients = nlohmann::json::object();
  for (size_t col = 0; col < feature_names_.size(); ++col) {
    coefficients[feature_names_[col]] = coefficients_[col];
  }
  return {{"kind", kKind},
          {"fitted", fitted_},
          {"coefficients", coefficients},
          {"intercept", intercept_},
          {"objective", objective_}};
}

Status RidgeRegression::SaveWeights(const std::filesystem::path& dir) const {
  if (!fitted_) return FailedPrecondition("model 'ridge': not fitted, nothing to save");
  nlohmann::json extra = {{"objective", objective_}};
  FeatureMoments{feature_means_, feature_stds_}.WriteTo(coefficients_.size(), extra);
  return models_internal::SaveLinearWeights(dir / kWeightsFile, kWeightsFormat,
                                            {feature_names_, coefficients_, intercept_}, extra);
}

Status RidgeRegression::LoadWeights(const std::filesystem::path& dir) {
  double objective = 0;
  FeatureMoments moments;
  VIGIL_ASSIGN_OR_RETURN(
      models_internal::LinearWeights weights,
      models_internal::LoadLinearWeights(dir / kWeightsFile, kWeightsFormat, options_.fit_intercept,
                                         [&](const nlohmann::json& doc) {
                                           objective = doc.at("objective").get<double>();
                                           moments = FeatureMoments::ReadFrom(
                                               doc, doc.at("feature_names").size());
                                         }));
  feature_names_ = std::move(weights.feature_names);
  coefficients_ = std::move(weights.coefficients);
  intercept_ = weights.intercept;
  objective_ = objective;
  feature_means_ = std::move(moments.mean);
  feature_stds_ = std::move(moments.stddev);
  fitted_ = true;
  return Status::Ok();
}

namespace models_internal {
KindRegistration RidgeRegressionKind() {
  return {std::string(RidgeRegression::kKind), Task::kRegression,
          [](const nlohmann::json& config) -> Result<std::unique_ptr<Model>> {
            VIGIL_ASSIGN_OR_RETURN(RidgeRegressionOptions options,
                                   RidgeRegressionOptions::FromJson(config));
            return std::unique_ptr<Model>(std::make_unique<RidgeRegression>(options));
          }};
}
}  // namespace models_internal

}  // namespace vigil
