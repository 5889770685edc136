// The estimation procedure of R's stats::arima (R 4.2) for non-seasonal ARIMA with an
// optional intercept (d == 0) or drift (d == 1): starting values by least squares on the
// differenced data, the conditional-sum-of-squares fit (css, and the start of css-ml), the
// exact Gaussian likelihood (Gardner et al. 1980) maximised over Jones' (1980) transformed
// AR parameters, MA invertibility by root reflection, and the delta-method covariance.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "arima_internal.h"

namespace vigil::arima_internal {
namespace {

// One fitting problem: the data, the layout of the parameter vector (ar, ma, regression)
// and the work buffers the objectives reuse, so an evaluation allocates nothing per
// observation.
struct Problem {
  std::span<const double> y;
  ArimaOptions options;
  int p = 0, q = 0, d = 0, k = 0;
  RegressionKind regression = RegressionKind::kNone;
  int64_t n_used = 0;
  std::vector<double> start;      // R's init0: zeros and the least-squares regression term
  std::vector<double> scale;      // R's parscale
  std::vector<double> x;          // y minus the regression part
  std::vector<double> regressor;  // intercept or drift column; empty without regression
  ArimaKalmanFilter filter;
  ArimaLikelihoodGradient likelihood;
  std::vector<std::vector<double>> batch_series;  // differenced series of a CSS batch
};

double RegressorAt(RegressionKind kind, size_t t) {
  return kind == RegressionKind::kIntercept ? 1.0 : static_cast<double>(t + 1);
}

// x = y - beta * regressor.
void RemoveRegression(Problem& problem, std::span<const double> params) {
  if (problem.regression == RegressionKind::kNone) {
    std::copy(problem.y.begin(), problem.y.end(), problem.x.begin());
    return;
  }
  const double beta = params[problem.k - 1];
  for (size_t t = 0; t < problem.y.size(); ++t)
    problem.x[t] = problem.y[t] - beta * RegressorAt(problem.regression, t);
}

// phi and theta from a parameter vector; `transformed` AR parts are partial
// autocorrelations in atanh space.
void SplitArma(const Problem& problem, std::span<const double> params, bool transformed,
               std::span<double> phi, std::span<double> theta) {
  if (transformed)
    PacfToAr(params.first(problem.p), phi);
  else
    std::copy_n(params.begin(), problem.p, phi.begin());
  std::copy_n(params.begin() + problem.p, problem.q, theta.begin());
}

// R's armafn: 0.5 * (log(ssq / nu) + sumlog / nu), the concentrated -loglik / nu.
double MlObjective(Problem& problem, std::span<const double> params, bool transformed) {
  std::array<double, kMaxArmaOrder> phi{}, theta{};
  std::span<double> phi_span(phi.data(), problem.p), theta_span(theta.data(), problem.q);
  SplitArma(problem, params, transformed, phi_span, theta_span);
  if (!problem.filter.Reset(phi_span, theta_span, problem.d).ok())
    return std::numeric_limits<double>::infinity();
  RemoveRegression(problem, params);
  const FilterSums sums = problem.filter.Run(problem.x);
  const double nu = static_cast<double>(sums.nu);
  return 0.5 * (std::log(sums.ssq / nu) + sums.sumlog / nu);
}

// MlObjective over transformed parameters with its exact gradient (an empty `gradient` asks
// for the value only); the AR part through the chain rule of PacfToAr.
double MlObjectiveWithGradient(Problem& problem, std::span<const double> params,
                               std::span<double> gradient) {
  if (gradient.empty()) return MlObjective(problem, params, true);
  std::array<double, kMaxArmaOrder> phi{}, theta{};
  std::span<double> phi_span(phi.data(), problem.p), theta_span(theta.data(), problem.q);
  SplitArma(problem, params, true, phi_span, theta_span);
  RemoveRegression(problem, params);
  const double value = problem.likelihood.Evaluate(problem.filter, phi_span, theta_span, problem.d,
                                                   problem.x, problem.regressor, gradient);
  if (problem.p > 0) {
    const std::vector<double> jacobian = PacfToArJacobian(params.first(problem.p));
    std::array<double, kMaxArmaOrder> by_phi{};
    std::copy_n(gradient.begin(), problem.p, by_phi.begin());
    for (int i = 0; i < problem.p; ++i) {
      double sum = 0.0;
      for (int j = 0; j < problem.p; ++j) sum += jacobian[i * problem.p + j] * by_phi[j];
      gradient[i] = sum;
    }
  }
  return value;
}

// R's armaCSS: 0.5 * log(mean squared conditional residual), untransformed parameters.
double CssObjective(Problem& problem, std::span<const double> params) {
  RemoveRegression(problem, params);
  DifferenceInPlace(problem.x, problem.d);
  return 0.5 * std::log(ConditionalSumOfSquares(problem.x, params.first(problem.p),
                                                params.subspan(problem.p, problem.q),
                                                problem.d + problem.p));
}

// CssObjective at `count` points (stored one after another) as one batch; the differenced
// series is rebuilt only where the regression coefficient changes from the point before.
void CssObjectives(Problem& problem, std::span<const double> points, int count,
                   std::span<double> values) {
  const size_t k = static_cast<size_t>(problem.k);
  if (problem.batch_series.size() < static_cast<size_t>(count)) problem.batch_series.resize(count);
  std::vector<CssPoint> batch(count);
  int built = -1;
  for (int i = 0; i < count; ++i) {
    std::span<const double> params = points.subspan(i * k, k);
    const bool same_series = built >= 0 && (problem.regression == RegressionKind::kNone ||
                                            params[k - 1] == points[built * k + k - 1]);
    if (!same_series) {
      RemoveRegression(problem, params);
      DifferenceInPlace(problem.x, problem.d);
      problem.batch_series[i] = problem.x;
      built = i;
    }
    batch[i] = {problem.batch_series[built].data(), params.data(), params.data() + problem.p};
  }
  ConditionalSumOfSquaresBatch(batch, static_cast<int>(problem.y.size()), problem.p, problem.q,
                               problem.d + problem.p, values.first(count));
  for (int i = 0; i < count; ++i) values[i] = 0.5 * std::log(values[i]);
}

// The same with its exact gradient (an empty `gradient` asks for the value only).
double CssObjectiveWithGradient(Problem& problem, std::span<const double> params,
                                std::span<double> gradient) {
  if (gradient.empty()) return CssObjective(problem, params);
  RemoveRegression(problem, params);
  DifferenceInPlace(problem.x, problem.d);
  return ConditionalSumOfSquaresObjective(
      problem.x, params.first(problem.p), params.subspan(problem.p, problem.q),
      problem.d + problem.p, problem.regression != RegressionKind::kNone, gradient);
}

GradientObjective CssGradientObjective(Problem& problem) {
  return [&problem](std::span<const double> params, std::span<double> gradient) {
    return CssObjectiveWithGradient(problem, params, gradient);
  };
}

Status CheckSeries(std::span<const double> y, const ArimaOptions& options, int k) {
  for (size_t t = 0; t < y.size(); ++t)
    if (!std::isfinite(y[t]))
      return InvalidArgument("ARIMA: observation " + std::to_string(t) + " is not finite");
  const int64_t needed = static_cast<int64_t>(k) + options.order.d + 1;
  if (static_cast<int64_t>(y.size()) < needed)
    return InvalidArgument("ARIMA(" + std::to_string(options.order.p) + "," +
                           std::to_string(options.order.d) + "," + std::to_string(options.order.q) +
                           ") needs at least " + std::to_string(needed) + " observations, got " +
                           std::to_string(y.size()));
  return Status::Ok();
}

// R fits the regression by lm() on the differenced data; with a single constant regressor
// (both intercept and drift difference to a column of ones) that is the mean of the
// differenced series and its standard error. The optimiser works in units of 10 SE.
void RegressionStart(Problem& problem) {
  std::vector<double> dx(problem.y.begin(), problem.y.end());
  DifferenceInPlace(dx, problem.d);
  std::span<const double> w = std::span<const double>(dx).subspan(problem.d);
  double beta = 0.0, se = 0.0;
  if (w.size() > 1) {
    for (double v : w) beta += v;
    beta /= static_cast<double>(w.size());
    double ss = 0.0;
    for (double v : w) ss += (v - beta) * (v - beta);
    se = std::sqrt(ss / static_cast<double>(w.size() - 1) / static_cast<double>(w.size()));
  } else {  // R falls back to lm(x ~ xreg - 1) on the undifferenced data
    double sxy = 0.0, sxx = 0.0;
    for (size_t t = 0; t < problem.y.size(); ++t) {
      const double reg = RegressorAt(problem.regression, t);
      sxy += reg * problem.y[t];
      sxx += reg * reg;
    }
    beta = sxy / sxx;
  }
  problem.start.back() = beta;
  problem.scale.back() = se > 0.0 && std::isfinite(se) ? 10.0 * se : 1.0;
}

Result<Problem> MakeProblem(std::span<const double> y, const ArimaOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  Problem problem;
  problem.y = y;
  problem.options = options;
  problem.p = options.order.p;
  problem.d = options.order.d;
  problem.q = options.order.q;
  problem.regression = RegressionFor(options);
  problem.k = problem.p + problem.q + (problem.regression != RegressionKind::kNone);
  VIGIL_RETURN_IF_ERROR(CheckSeries(y, options, problem.k));
  problem.n_used = static_cast<int64_t>(y.size()) - problem.d;
  problem.start.assign(problem.k, 0.0);
  problem.scale.assign(problem.k, 1.0);
  problem.x.resize(y.size());
  if (problem.regression != RegressionKind::kNone) {
    problem.regressor.resize(y.size());
    for (size_t t = 0; t < y.size(); ++t) problem.regressor[t] = RegressorAt(problem.regression, t);
    RegressionStart(problem);
  }
  return problem;
}

std::string OrderName(const ArimaOptions& options) {
  return "ARIMA(" + std::to_string(options.order.p) + "," + std::to_string(options.order.d) + "," +
         std::to_string(options.order.q) + ")";
}

// -2 loglik and the information criteria from R's optimiser value (armafn or armaCSS), with
// forecast::Arima's aicc and bic (npar counts sigma2).
void SetCriteria(const Problem& problem, double value, int estimated, ArimaFit& fit) {
  const double n = static_cast<double>(problem.n_used);
  const double minus_two_loglik = 2.0 * n * value + n + n * std::log(2.0 * std::numbers::pi);
  fit.loglik = -0.5 * minus_two_loglik;
  fit.nobs = problem.n_used;
  if (problem.options.method == ArimaMethod::kCss) return;  // R reports NA
  const double npar = estimated + 1.0;
  fit.aic = minus_two_loglik + 2.0 * npar;
  fit.aicc = fit.aic + 2.0 * npar * (n / (n - npar - 1.0) - 1.0);
  fit.bic = fit.aic + npar * (std::log(n) - 2.0);
}

// Covariance = A' (n H)^-1 A (R: crossprod(A, solve(hessian * n.used, A))); empty when the
// Hessian is singular or the result is not finite.
void SetCovariance(const Problem& problem, const std::vector<double>& hessian,
                   const Eigen::MatrixXd& jacobian, ArimaFit& fit) {
  const int k = problem.k;
  fit.standard_errors.assign(k, std::numeric_limits<double>::quiet_NaN());
  fit.covariance.clear();
  if (k == 0) return;
  Eigen::MatrixXd h(k, k);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) h(i, j) = hessian[i * k + j] * problem.n_used;
  Eigen::FullPivLU<Eigen::MatrixXd> lu(h);
  if (!lu.isInvertible()) return;
  const Eigen::MatrixXd cov = jacobian.transpose() * lu.solve(jacobian);
  if (!cov.allFinite()) return;
  fit.covariance.resize(k * k);
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) fit.covariance[i * k + j] = cov(i, j);
    fit.standard_errors[i] = std::sqrt(cov(i, i));
  }
}

ArimaFit NewFit(const Problem& problem, std::span<const double> coefficients) {
  ArimaFit fit;
  fit.order = problem.options.order;
  fit.method = problem.options.method;
  fit.names = CoefficientNames(problem.options);
  fit.coefficients.assign(coefficients.begin(), coefficients.end());
  fit.standard_errors.assign(problem.k, std::numeric_limits<double>::quiet_NaN());
  return fit;
}

// R's arimaSS: the filter run with the final (untransformed) coefficients gives the state
// to forecast from, and for ml the residuals and sigma2 = ssq / n.used.
Status FinalFilter(Problem& problem, FitOutcome& out) {
  const std::vector<double>& coef = out.fit.coefficients;
  std::span<const double> phi(coef.data(), problem.p), theta(coef.data() + problem.p, problem.q);
  VIGIL_RETURN_IF_ERROR(
      out.filter.Reset(phi, theta, problem.d, problem.options.method == ArimaMethod::kCss)
          .WithContext(OrderName(problem.options) + ": "));
  RemoveRegression(problem, coef);
  out.fit.residuals.assign(problem.y.size(), 0.0);
  const FilterSums sums = out.filter.Run(problem.x, out.fit.residuals);
  out.fit.sigma2 = sums.ssq / static_cast<double>(problem.n_used);
  return Status::Ok();
}

// For css the residuals and sigma2 are the conditional ones (R's ARIMA_CSS output).
void CssResiduals(Problem& problem, ArimaFit& fit) {
  RemoveRegression(problem, fit.coefficients);
  DifferenceInPlace(problem.x, problem.d);
  fit.residuals.assign(problem.y.size(), 0.0);
  std::span<const double> coef(fit.coefficients);
  fit.sigma2 =
      ConditionalSumOfSquares(problem.x, coef.first(problem.p), coef.subspan(problem.p, problem.q),
                              problem.d + problem.p, fit.residuals);
}

// Besides the gradient test, stops when an iteration lowers the objective by less than 1e-10
// relative: where the MA part leaves the invertible region the conditional recursion
// explodes, the surface is rough and L-BFGS would otherwise crawl for its whole budget.
Minimum MinimizeCss(Problem& problem, double gradient_tolerance) {
  constexpr double kCssValueTolerance = 1e-10;
  return MinimizeLbfgs(CssGradientObjective(problem), problem.start, problem.scale,
                       problem.options.max_iterations, gradient_tolerance, kCssValueTolerance);
}

Result<FitOutcome> FitCss(Problem& problem) {
  const Minimum minimum = MinimizeCss(problem, problem.options.gradient_tolerance);
  if (!std::isfinite(minimum.value))
    return FailedPrecondition(OrderName(problem.options) + ": CSS objective is not finite");
  FitOutcome out{NewFit(problem, minimum.theta), {}};
  out.fit.iterations = minimum.iterations;
  out.fit.converged = minimum.converged;
  const std::vector<double> hessian =
      NumericalHessian(CssGradientObjective(problem), minimum.theta, problem.scale);
  SetCovariance(problem, hessian, Eigen::MatrixXd::Identity(problem.k, problem.k), out.fit);
  SetCriteria(problem, minimum.value, problem.k, out.fit);
  VIGIL_RETURN_IF_ERROR(FinalFilter(problem, out));
  CssResiduals(problem, out.fit);
  return out;
}

// The ML start in the optimiser's space: AR as partial autocorrelations, MA invertible.
std::vector<double> TransformedStart(const Problem& problem, std::vector<double> start) {
  std::span<double> params(start);
  std::vector<double> ar(params.begin(), params.begin() + problem.p);
  ArToPacf(ar, params.first(problem.p));
  const std::vector<double> ma = InvertMa(params.subspan(problem.p, problem.q));
  std::copy(ma.begin(), ma.end(), params.begin() + problem.p);
  return start;
}

Eigen::MatrixXd TransformJacobian(const Problem& problem, std::span<const double> theta) {
  Eigen::MatrixXd jacobian = Eigen::MatrixXd::Identity(problem.k, problem.k);
  const std::vector<double> ar_block = PacfToArJacobian(theta.first(problem.p));
  for (int i = 0; i < problem.p; ++i)
    for (int j = 0; j < problem.p; ++j) jacobian(i, j) = ar_block[i * problem.p + j];
  return jacobian;
}

Result<FitOutcome> FitMl(Problem& problem, const std::vector<double>& start) {
  const Objective ml = [&problem](std::span<const double> params) {
    return MlObjective(problem, params, true);
  };
  const GradientObjective ml_gradient = [&problem](std::span<const double> params,
                                                   std::span<double> gradient) {
    return MlObjectiveWithGradient(problem, params, gradient);
  };
  std::vector<double> theta = TransformedStart(problem, start);
  if (!std::isfinite(ml(theta)))
    return FailedPrecondition(OrderName(problem.options) +
                              ": likelihood is not finite at the starting values");
  // Also stop when a step changes -loglik / n by less than 1e-12 relative where the gradient is
  // small: beyond that the objective is at its rounding floor and line searches only fail.
  constexpr double kMlValueTolerance = 1e-12;
  const Minimum minimum =
      MinimizeLbfgs(ml_gradient, theta, problem.scale, problem.options.max_iterations,
                    problem.options.gradient_tolerance, kMlValueTolerance, true);
  theta = minimum.theta;
  double value = minimum.value;
  std::span<double> ma = std::span<double>(theta).subspan(problem.p, problem.q);
  const std::vector<double> inverted = InvertMa(ma);
  if (!std::equal(inverted.begin(), inverted.end(), ma.begin())) {
    std::copy(inverted.begin(), inverted.end(), ma.begin());
    value = ml(theta);  // R re-evaluates (optim with maxit = 0) at the reflected point
  }
  if (!std::isfinite(value) || value >= 1e300)
    return FailedPrecondition(OrderName(problem.options) + ": likelihood optimisation failed");
  const std::vector<double> hessian = NumericalHessian(ml_gradient, theta, problem.scale);
  std::vector<double> coef = theta;
  PacfToAr(std::span<const double>(theta).first(problem.p),
           std::span<double>(coef).first(problem.p));
  FitOutcome out{NewFit(problem, coef), {}};
  out.fit.iterations += minimum.iterations;
  out.fit.converged = minimum.converged;
  SetCovariance(problem, hessian, TransformJacobian(problem, theta), out.fit);
  SetCriteria(problem, value, problem.k, out.fit);
  VIGIL_RETURN_IF_ERROR(FinalFilter(problem, out));
  return out;
}

Status CheckCoefficients(const Problem& problem, std::span<const double> coefficients) {
  if (coefficients.size() != static_cast<size_t>(problem.k))
    return InvalidArgument(OrderName(problem.options) + ": expected " + std::to_string(problem.k) +
                           " coefficients, got " + std::to_string(coefficients.size()));
  for (size_t i = 0; i < coefficients.size(); ++i)
    if (!std::isfinite(coefficients[i]))
      return InvalidArgument("ARIMA coefficient " + std::to_string(i) + " is not finite");
  if (problem.options.method != ArimaMethod::kCss && !IsStationaryAr(coefficients.first(problem.p)))
    return InvalidArgument(OrderName(problem.options) + ": AR part is not stationary");
  return Status::Ok();
}

}  // namespace

RegressionKind RegressionFor(const ArimaOptions& options) {
  if (!options.include_constant) return RegressionKind::kNone;
  if (options.order.d == 0) return RegressionKind::kIntercept;
  if (options.order.d == 1) return RegressionKind::kDrift;
  return RegressionKind::kNone;
}

std::vector<std::string> CoefficientNames(const ArimaOptions& options) {
  std::vector<std::string> names;
  for (int i = 1; i <= options.order.p; ++i) names.push_back("ar" + std::to_string(i));
  for (int i = 1; i <= options.order.q; ++i) names.push_back("ma" + std::to_string(i));
  const RegressionKind kind = RegressionFor(options);
  if (kind == RegressionKind::kIntercept) names.emplace_back("intercept");
  if (kind == RegressionKind::kDrift) names.emplace_back("drift");
  return names;
}

Result<FitOutcome> EstimateArima(std::span<const double> y, const ArimaOptions& options) {
  VIGIL_ASSIGN_OR_RETURN(Problem problem, MakeProblem(y, options));
  if (options.method == ArimaMethod::kCss) return FitCss(problem);
  std::vector<double> start = problem.start;
  int css_iterations = 0;
  if (options.method == ArimaMethod::kCssMl) {
    // The CSS estimate only starts the exact ML, but where the likelihood has several local
    // optima it decides which one ML reaches, and on rough CSS surfaces where it ends is a
    // property of the path: this stage takes R's path (optim's BFGS, its numerical gradient,
    // maxit 100 and reltol sqrt(eps)), and like R starts ML from the initial values when it
    // does not converge.
    constexpr int kOptimMaxIterations = 100;
    const double optim_reltol = std::sqrt(std::numeric_limits<double>::epsilon());
    const BatchObjective css = [&problem](std::span<const double> points, int count,
                                          std::span<double> values) {
      CssObjectives(problem, points, count, values);
    };
    const Minimum minimum =
        MinimizeLikeOptimBfgs(css, problem.start, problem.scale, kOptimMaxIterations, optim_reltol);
    if (std::isnan(minimum.value))
      return FailedPrecondition(OrderName(options) +
                                ": non-finite finite-difference value in the CSS fit");
    css_iterations = minimum.iterations;
    if (minimum.converged) start = minimum.theta;
    if (!IsStationaryAr(std::span<const double>(start).first(problem.p)))
      return FailedPrecondition(OrderName(options) + ": non-stationary AR part from CSS");
  }
  VIGIL_ASSIGN_OR_RETURN(FitOutcome out, FitMl(problem, start));
  out.fit.iterations += css_iterations;
  return out;
}

Result<FitOutcome> FilterWithCoefficients(std::span<const double> y, const ArimaOptions& options,
                                          std::span<const double> coefficients) {
  VIGIL_ASSIGN_OR_RETURN(Problem problem, MakeProblem(y, options));
  VIGIL_RETURN_IF_ERROR(CheckCoefficients(problem, coefficients));
  FitOutcome out{NewFit(problem, coefficients), {}};
  out.fit.converged = true;
  const bool css = options.method == ArimaMethod::kCss;
  // R's arima(fixed = ...) estimates nothing: aic counts only sigma2.
  const double value =
      css ? CssObjective(problem, coefficients) : MlObjective(problem, coefficients, false);
  if (!std::isfinite(value))
    return FailedPrecondition(OrderName(options) + ": likelihood is not finite");
  SetCriteria(problem, value, 0, out.fit);
  VIGIL_RETURN_IF_ERROR(FinalFilter(problem, out));
  if (css) CssResiduals(problem, out.fit);
  return out;
}

}  // namespace vigil::arima_internal
