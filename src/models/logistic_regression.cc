#include "vigil/models/logistic_regression.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <exception>
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

constexpr models_internal::LinearWeightsFormat kWeightsFormat{"vigil.logistic", 1};
// Armijo sufficient-decrease constant and the smallest step tried by the line search
// (Nocedal & Wright, Numerical Optimization, 2nd ed., section 3.1).
constexpr double kArmijo = 1e-4;
constexpr double kMinStep = 1e-12;

// log(1 + exp(z)) without overflow.
double Softplus(double z) { return std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))); }

double Sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

// The fit problem in Eigen form: design matrix (with a column of ones last when fitting
// an intercept), 0/1 targets, per-row loss weights s_i, and which parameters are penalised.
struct Problem {
  Eigen::MatrixXd design;
  Eigen::VectorXd target;
  Eigen::VectorXd weight;
  Eigen::VectorXd penalty;  // 1 for coefficients, 0 for the intercept
  double c = 1.0;
};

Status CheckInputs(const FeatureMatrix& x, std::span<const int> labels,
                   std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/false).WithContext("model 'logistic'"));
  if (x.rows == 0) return InvalidArgument("model 'logistic': no rows to fit");
  if (static_cast<int64_t>(labels.size()) != x.rows) {
    return InvalidArgument("model 'logistic': " + std::to_string(labels.size()) + " labels for " +
                           std::to_string(x.rows) + " rows");
  }
  if (!weights.empty() && static_cast<int64_t>(weights.size()) != x.rows) {
    return InvalidArgument("model 'logistic': " + std::to_string(weights.size()) + " weights for " +
                           std::to_string(x.rows) + " rows");
  }
  for (size_t row = 0; row < labels.size(); ++row) {
    if (labels[row] != 0 && labels[row] != 1) {
      return InvalidArgument("model 'logistic': row " + std::to_string(row) + ": label " +
                             std::to_string(labels[row]) + " (binary: expected 0 or 1)");
    }
    if (!weights.empty() && !(std::isfinite(weights[row]) && weights[row] >= 0)) {
      return InvalidArgument("model 'logistic': row " + std::to_string(row) +
                             ": weight must be finite and >= 0");
    }
  }
  return Status::Ok();
}

Result<Problem> BuildProblem(const LogisticRegressionOptions& options, const FeatureMatrix& x,
                             std::span<const int> labels, std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(CheckInputs(x, labels, weights));
  const Eigen::Index n = x.rows;
  const Eigen::Index d = static_cast<Eigen::Index>(x.cols());
  const Eigen::Index p = d + (options.fit_intercept ? 1 : 0);
  if (p == 0) return InvalidArgument("model 'logistic': no features and no intercept");

  // scikit-learn's "balanced" weights use unweighted class counts: n / (2 * count).
  double count[2] = {0, 0};
  for (int label : labels) count[label] += 1;
  double class_weight[2] = {1, 1};
  if (options.class_weight == LogisticRegressionOptions::ClassWeight::kBalanced) {
    for (int k = 0; k < 2; ++k) class_weight[k] = count[k] > 0 ? n / (2.0 * count[k]) : 0.0;
  }

  Problem problem;
  problem.c = options.c;
  problem.design.resize(n, p);
  problem.target.resize(n);
  problem.weight.resize(n);
  double class_total[2] = {0, 0};
  for (Eigen::Index row = 0; row < n; ++row) {
    for (Eigen::Index col = 0; col < d; ++col) problem.design(row, col) = x.at(row, col);
    if (options.fit_intercept) problem.design(row, d) = 1.0;
    const int label = labels[row];
    problem.target(row) = label;
    problem.weight(row) = (weights.empty() ? 1.0 : weights[row]) * class_weight[label];
    class_total[label] += problem.weight(row);
  }
  // Without positive weight on both classes the unpenalised intercept runs to infinity.
  if (!(class_total[0] > 0 && class_total[1] > 0)) {
    return InvalidArgument("model 'logistic': both labels 0 and 1 need rows with weight > 0");
  }
  problem.penalty = Eigen::VectorXd::Ones(p);
  if (options.fit_intercept) problem.penalty(d) = 0.0;
  return problem;
}

double ObjectiveAt(const Problem& problem, const Eigen::VectorXd& theta) {
  const Eigen::VectorXd z = problem.design * theta;
  double loss = 0.0;
  for (Eigen::Index row = 0; row < z.size(); ++row) {
    loss += problem.weight(row) * (Softplus(z(row)) - problem.target(row) * z(row));
  }
  return 0.5 * theta.cwiseProduct(problem.penalty).dot(theta) + problem.c * loss;
}

struct Solution {
  Eigen::VectorXd theta;
  int iterations = 0;
  bool converged = false;
  double objective = 0.0;
};

// Newton-Raphson on the convex objective: gradient P.theta + C X'(s.(p - y)), Hessian
// P + C X' diag(s p (1 - p)) X, solved by LDLT. The Hessian is positive definite whenever
// the intercept is identified (both classes weighted), so each Newton direction descends;
// the backtracking line search guards the early, far-from-quadratic iterations.
Solution Newton(const Problem& problem, const LogisticRegressionOptions& options) {
  const Eigen::Index p = problem.design.cols();
  Solution solution;
  solution.theta = Eigen::VectorXd::Zero(p);
  double objective = ObjectiveAt(problem, solution.theta);
  for (int iter = 0; iter < options.max_iter; ++iter) {
    const Eigen::VectorXd z = problem.design * solution.theta;
    Eigen::VectorXd residual(z.size());
    Eigen::VectorXd curvature(z.size());
    for (Eigen::Index row = 0; row < z.size(); ++row) {
      const double prob = Sigmoid(z(row));
      residual(row) = problem.weight(row) * (prob - problem.target(row));
      curvature(row) = problem.weight(row) * prob * (1.0 - prob);
    }
    const Eigen::VectorXd gradient = problem.penalty.cwiseProduct(solution.theta) +
                                     problem.c * (problem.design.transpose() * residual);
    Eigen::MatrixXd hessian =
        problem.c * (problem.design.transpose() *
                     (problem.design.array().colwise() * curvature.array()).matrix());
    hessian.diagonal() += problem.penalty;
    Eigen::VectorXd direction = hessian.ldlt().solve(-gradient);
    double slope = gradient.dot(direction);
    if (!direction.allFinite() || !(slope < 0)) {  // numerically singular: steepest descent
      direction = -gradient;
      slope = -gradient.squaredNorm();
    }
    if (slope == 0) {  // exact stationary point
      solution.converged = true;
      break;
    }
    // Half the squared Newton decrement estimates objective - minimum.
    const bool small_decrement = -slope / 2 <= options.tol * std::max(1.0, std::abs(objective));
    double step = 1.0;
    double candidate = ObjectiveAt(problem, solution.theta + direction);
    // Near the minimum the full Newton step is right; rounding may hide its tiny decrease.
    while (!small_decrement && !(candidate <= objective + kArmijo * step * slope) &&
           step > kMinStep) {
      step /= 2;
      candidate = ObjectiveAt(problem, solution.theta + step * direction);
    }
    const bool accepted = candidate <= objective + kArmijo * step * slope ||
                          (small_decrement && candidate <= objective);
    if (accepted) {
      solution.theta += step * direction;
      objective = candidate;
      solution.iterations = iter + 1;
    }
    // A small decrement means the iterate before this step was already within tol of the
    // minimum; the step (taken when the line search could still resolve a decrease) only
    // polishes it. Without a decrease otherwise, rounding has stalled the search.
    if (small_decrement || !accepted) {
      solution.converged = small_decrement;
      break;
    }
  }
  solution.objective = objective;
  return solution;
}

}  // namespace

Status LogisticRegressionOptions::Validate() const {
  if (!(c > 0) || !std::isfinite(c))
    return ConfigError(LogisticRegression::kKind, "C", "must be > 0");
  if (max_iter < 1) return ConfigError(LogisticRegression::kKind, "max_iter", "must be >= 1");
  if (!(tol >= 0) || !std::isfinite(tol)) {
    return ConfigError(LogisticRegression::kKind, "tol", "must be >= 0");
  }
  return Status::Ok();
}

Result<LogisticRegressionOptions> LogisticRegressionOptions::FromJson(
    const nlohmann::json& config) {
  constexpr std::string_view kind = LogisticRegression::kKind;
  VIGIL_RETURN_IF_ERROR(models_internal::CheckConfigKeys(
      kind, config, {"C", "fit_intercept", "max_iter", "tol", "class_weight", "standardize"}));
  LogisticRegressionOptions options;
  VIGIL_ASSIGN_OR_RETURN(options.c, models_internal::ConfigNumber(kind, config, "C", options.c));
  VIGIL_ASSIGN_OR_RETURN(options.fit_intercept,
                         models_internal::ConfigBool(kind, config, "fit_intercept", true));
  VIGIL_ASSIGN_OR_RETURN(options.max_iter,
                         models_internal::ConfigInt(kind, config, "max_iter", options.max_iter));
  VIGIL_ASSIGN_OR_RETURN(options.tol,
                         models_internal::ConfigNumber(kind, config, "tol", options.tol));
  VIGIL_ASSIGN_OR_RETURN(options.standardize,
                         models_internal::ConfigBool(kind, config, "standardize", false));
  VIGIL_ASSIGN_OR_RETURN(std::string class_weight,
                         models_internal::ConfigString(kind, config, "class_weight", "none"));
  if (class_weight == "balanced") {
    options.class_weight = ClassWeight::kBalanced;
  } else if (class_weight != "none") {
    return ConfigError(kind, "class_weight", "'" + class_weight + "' (expected none or balanced)");
  }
  VIGIL_RETURN_IF_ERROR(options.Validate());
  return options;
}

nlohmann::json LogisticRegressionOptions::ToJson() const {
  return {{"C", c},
          {"fit_intercept", fit_intercept},
          {"max_iter", max_iter},
          {"tol", tol},
          {"class_weight", class_weight == ClassWeight::kBalanced ? "balanced" : "none"},
          {"standardize", standardize}};
}

LogisticRegression::LogisticRegression(LogisticRegressionOptions options)
    : options_(std::move(options)) {}

Status LogisticRegression::Fit(const FeatureMatrix& x, std::span<const int> labels,
                               std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  // Checked before the scaling reads the values (BuildProblem checks them again, cheaply).
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/false).WithContext("model 'logistic'"));
  const ColumnScaling scaling =
      options_.standardize ? ColumnScaling::Fit(x, options_.fit_intercept) : ColumnScaling{};
  const FeatureMatrix scaled = options_.standardize ? scaling.Apply(x) : FeatureMatrix{};
  VIGIL_ASSIGN_OR_RETURN(
      Problem problem, BuildProblem(options_, options_.standardize ? scaled : x, labels, weights));
  const Solution solution = Newton(problem, options_);
  const size_t d = x.cols();
  feature_names_ = x.columns;
  coefficients_.assign(solution.theta.data(), solution.theta.data() + d);
  intercept_ = options_.fit_intercept ? solution.theta(static_cast<Eigen::Index>(d)) : 0.0;
  if (options_.standardize) scaling.FoldInto(&coefficients_, &intercept_);
  iterations_ = solution.iterations;
  converged_ = solution.converged;
  objective_ = solution.objective;
  // The explanation's baseline is the training distribution as given (sample weights),
  // not the class-reweighted one the loss sees.
  FeatureMoments moments = FeatureMoments::Of(x, weights);
  feature_means_ = std::move(moments.mean);
  feature_stds_ = std::move(moments.stddev);
  fitted_ = true;
  return Status::Ok();
}

Result<std::vector<double>> LogisticRegression::RawMargin(const FeatureMatrix& x) const {
  if (!fitted_) return FailedPrecondition("model 'logistic': not fitted");
  VIGIL_RETURN_IF_ERROR(models_internal::CheckColumns(kKind, feature_names_, x));
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/false).WithContext("model 'logistic'"));
  // Row by row: a whole-matrix product rounds differently with the number of rows (Eigen
  // picks another kernel for one row), and a row's score must not depend on which other
  // rows it was scored with (micro-batching in serving, docs/serving.md).
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Map<const RowMajor> features(x.values.data(), x.rows,
                                            static_cast<Eigen::Index>(x.cols()));
  const Eigen::Map<const Eigen::VectorXd> weights(coefficients_.data(),
                                                  static_cast<Eigen::Index>(coefficients_.size()));
  std::vector<double> margins(static_cast<size_t>(x.rows));
  for (Eigen::Index row = 0; row < features.rows(); ++row) {
    margins[static_cast<size_t>(row)] = features.row(row).dot(weights) + intercept_;
  }
  return margins;
}

Result<ProbabilityMatrix> LogisticRegression::PredictProba(const FeatureMatrix& x) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> margins, RawMargin(x));
  ProbabilityMatrix out;
  out.num_classes = 2;
  out.values.resize(static_cast<size_t>(x.rows) * 2);
  for (int64_t row = 0; row < x.rows; ++row) {
    const double p1 = Sigmoid(margins[row]);
    out.values[row * 2] = 1.0 - p1;  // as scikit-learn: the row sums to 1 exactly
    out.values[row * 2 + 1] = p1;
  }
  return out;
}

Result<Attributions> LogisticRegression::Shap(const FeatureMatrix& x) const {
  if (!fitted_) return FailedPrecondition("model 'logistic': not fitted");
  VIGIL_RETURN_IF_ERROR(models_internal::CheckColumns(kKind, feature_names_, x));
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/false).WithContext("model 'logistic'"));
  return models_internal::LinearShap(kKind, feature_names_, coefficients_, intercept_,
                                     {feature_means_, feature_stds_}, x);
}

Result<FeatureImportance> LogisticRegression::Importance() const {
  if (!fitted_) return FailedPrecondition("model 'logistic': not fitted");
  return models_internal::LinearImportance(feature_names_, coefficients_,
                                           {feature_means_, feature_stds_});
}

Result<double> LogisticRegression::Objective(const FeatureMatrix& x, std::span<const int> labels,
                                             std::span<const double> weights,
                                             std::span<const double> coefficients,
                                             double intercept) const {
  VIGIL_ASSIGN_OR_RETURN(Problem problem, BuildProblem(options_, x, labels, weights));
  if (coefficients.size() != x.cols()) {
    return InvalidArgument("model 'logistic': objective needs one coefficient per feature");
  }
  Eigen::VectorXd theta(problem.design.cols());
  for (size_t col = 0; col < coefficients.size(); ++col) theta(col) = coefficients[col];
  if (options_.fit_intercept) theta(theta.size() - 1) = intercept;
  return ObjectiveAt(problem, theta);
}

nlohmann::json LogisticRegression::Describe() const {
  nlohmann::json coefficients = nlohmann::json::object();
  for (size_t col = 0; col < feature_names_.size(); ++col) {
    coefficients[feature_names_[col]] = coefficients_[col];
  }
  return {{"kind", kKind},           {"fitted", fitted_},         {"coefficients", coefficients},
          {"intercept", intercept_}, {"iterations", iterations_}, {"converged", converged_},
          {"objective", objective_}};
}

Status LogisticRegression::SaveWeights(const std::filesystem::path& dir) const {
  if (!fitted_) return FailedPrecondition("model 'logistic': not fitted, nothing to save");
  nlohmann::json extra = {
      {"iterations", iterations_}, {"converged", converged_}, {"objective", objective_}};
  FeatureMoments{feature_means_, feature_stds_}.WriteTo(coefficients_.size(), extra);
  return models_internal::SaveLinearWeights(dir / kWeightsFile, kWeightsFormat,
                                            {feature_names_, coefficients_, intercept_}, extra);
}

Status LogisticRegression::LoadWeights(const std::filesystem::path& dir) {
  int iterations = 0;
  bool converged = false;
  double objective = 0;
  FeatureMoments moments;
  VIGIL_ASSIGN_OR_RETURN(
      models_internal::LinearWeights weights,
      models_internal::LoadLinearWeights(dir / kWeightsFile, kWeightsFormat, options_.fit_intercept,
                                         [&](const nlohmann::json& doc) {
                                           iterations = doc.at("iterations").get<int>();
                                           converged = doc.at("converged").get<bool>();
                                           objective = doc.at("objective").get<double>();
                                           moments = FeatureMoments::ReadFrom(
                                               doc, doc.at("feature_names").size());
                                         }));
  feature_names_ = std::move(weights.feature_names);
  coefficients_ = std::move(weights.coefficients);
  intercept_ = weights.intercept;
  iterations_ = iterations;
  converged_ = converged;
  objective_ = objective;
  feature_means_ = std::move(moments.mean);
  feature_stds_ = std::move(moments.stddev);
  fitted_ = true;
  return Status::Ok();
}

namespace models_internal {
KindRegistration LogisticRegressionKind() {
  return {std::string(LogisticRegression::kKind), Task::kClassification,
          [](const nlohmann::json& config) -> Result<std::unique_ptr<Model>> {
            VIGIL_ASSIGN_OR_RETURN(LogisticRegressionOptions options,
                                   LogisticRegressionOptions::FromJson(config));
            return std::unique_ptr<Model>(std::make_unique<LogisticRegression>(options));
          }};
}
}  // namespace models_internal

}  // namespace vigil
