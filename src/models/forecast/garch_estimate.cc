// Maximum-likelihood estimation of the GARCH family and its standard errors: the classical
// inverse Hessian and the Bollerslev & Wooldridge (1992) sandwich H^-1 (G'G) H^-1.
#include "garch_estimate.h"

#include <LBFGSB.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>

namespace vigil::garch_internal {
namespace {

using Eigen::MatrixXd;
using Eigen::VectorXd;

constexpr double kTiny = 1e-8;      // fGarch's TINY: keeps alpha, beta off 0 and 1
constexpr double kMinShape = 2.01;  // the standardized t needs nu > 2
constexpr double kMaxShape = 200;
constexpr double kPenalty = 1e10;  // objective where the likelihood is not finite
// L-BFGS-B stops at a projected gradient of -loglik / n below this (or on a relative
// improvement below kRelativeImprovement); the Newton polish then converges quadratically.
constexpr double kGradientTolerance = 1e-7;
constexpr double kRelativeImprovement = 1e-13;
constexpr int kNewtonSteps = 4;

// The optimisation problem on the standardized series. Optimiser coordinates are the
// estimated parameters, except that gjr uses alpha + gamma (the news coefficient of a
// negative shock) in gamma's place so that alpha + gamma >= 0 is a box constraint.
struct Problem {
  GarchOptions options;
  std::vector<double> returns;  // divided by their standard deviation
  std::vector<int> free;        // EstimatedParams(options)
  ParamVector start{};

  bool gjr() const { return options.spec == GarchSpec::kGjr; }

  VectorXd ToOptimizer(const ParamVector& p) const {
    VectorXd x(free.size());
    for (size_t i = 0; i < free.size(); ++i) x[i] = p[free[i]];
    if (gjr()) x[Position(kGamma)] += p[kAlpha];
    return x;
  }
  ParamVector FromOptimizer(const VectorXd& x) const {
    ParamVector p = start;
    for (size_t i = 0; i < free.size(); ++i) p[free[i]] = x[i];
    if (gjr()) p[kGamma] -= p[kAlpha];
    return p;
  }
  VectorXd GradientToOptimizer(const ParamVector& g) const {
    VectorXd out(free.size());
    for (size_t i = 0; i < free.size(); ++i) out[i] = g[free[i]];
    if (gjr()) out[Position(kAlpha)] -= g[kGamma];
    return out;
  }
  int Position(int param) const {
    return static_cast<int>(std::find(free.begin(), free.end(), param) - free.begin());
  }
  void Bounds(VectorXd& lower, VectorXd& upper) const;
  bool Feasible(const ParamVector& p) const {
    VectorXd lower, upper;
    Bounds(lower, upper);
    const VectorXd x = ToOptimizer(p);
    return (x.array() >= lower.array()).all() && (x.array() <= upper.array()).all();
  }
};

void Problem::Bounds(VectorXd& lower, VectorXd& upper) const {
  const bool egarch = options.spec == GarchSpec::kEgarch;
  lower.resize(free.size());
  upper.resize(free.size());
  for (size_t i = 0; i < free.size(); ++i) {
    double lo = kTiny, hi = 1 - kTiny;  // alpha, alpha + gamma, beta (garch, gjr)
    switch (free[i]) {
      case kMu:
        lo = -5, hi = 5;
        break;  // in standard deviations of the series
      case kAr1:
        lo = -1 + kTiny;
        break;
      case kOmega:
        lo = egarch ? -20 : 1e-6, hi = egarch ? 20 : 100;
        break;  // fGarch's
      case kAlpha:
        if (egarch) lo = -5, hi = 5;
        break;
      case kGamma:
        if (egarch) lo = -5, hi = 5;
        break;
      case kBeta:
        if (egarch) lo = -1 + kTiny;
        break;
      case kShape:
        lo = kMinShape, hi = kMaxShape;
        break;
    }
    lower[i] = lo;
    upper[i] = hi;
  }
}

// fGarch's starting values: the sample mean (an AR(1) regression for ar1), alpha 0.1,
// beta 0.8, omega = var (1 - alpha - beta), APARCH gamma 0.1 (gjr: alpha 0.1 (1 - 0.1)^2,
// gamma 4 0.1 0.1), shape 4.
ParamVector StartValues(const GarchOptions& options, std::span<const double> r) {
  ParamVector p{};
  const double n = static_cast<double>(r.size());
  const double mean = std::accumulate(r.begin(), r.end(), 0.0) / n;
  if (options.mean == GarchMean::kConstant) p[kMu] = mean;
  if (options.mean == GarchMean::kAr1) {
    double sxy = 0, sxx = 0;
    for (size_t t = 1; t < r.size(); ++t) {
      sxy += (r[t] - mean) * (r[t - 1] - mean);
      sxx += (r[t - 1] - mean) * (r[t - 1] - mean);
    }
    p[kAr1] = std::clamp(sxy / sxx, -0.9, 0.9);
    p[kMu] = mean * (1 - p[kAr1]);
  }
  p[kAlpha] = 0.1;
  p[kBeta] = 0.8;
  p[kOmega] = 0.1;  // the standardized series has variance 1
  if (options.spec == GarchSpec::kGjr) {
    p[kAlpha] = 0.1 * 0.81;
    p[kGamma] = 0.1 * 0.4;
  } else if (options.spec == GarchSpec::kEgarch) {
    p[kOmega] = 0;
    p[kBeta] = 0.9;
  }
  p[kShape] = options.distribution == GarchDistribution::kStudentT ? 4.0 : 0.0;
  return p;
}

// -loglik / n in optimiser coordinates for LBFGSpp, remembering the best point seen (the
// line search may throw after improving on it).
class Objective {
 public:
  explicit Objective(const Problem& problem) : problem_(problem) {}

  double operator()(const VectorXd& x, VectorXd& gradient) {
    ParamVector g{};
    const ParamVector p = problem_.FromOptimizer(x);
    const double loglik = LogLikelihood(problem_.options, problem_.returns, p, {.gradient = &g});
    const double n = static_cast<double>(problem_.returns.size());
    if (!std::isfinite(loglik)) {
      gradient.setZero(x.size());
      return kPenalty;
    }
    ++evaluations_;
    gradient = -problem_.GradientToOptimizer(g) / n;
    const double value = -loglik / n;
    if (value < best_value_) best_value_ = value, best_x_ = x;
    return value;
  }
  double best_value() const { return best_value_; }
  const VectorXd& best_x() const { return best_x_; }
  int evaluations() const { return evaluations_; }

 private:
  int evaluations_ = 0;
  const Problem& problem_;
  double best_value_ = std::numeric_limits<double>::infinity();
  VectorXd best_x_;
};

// d^2 loglik / d theta^2 over `free` by central differences of the analytic gradient
// (forward near a bound), symmetrised. Steps are ~1e-5 relative: truncation error is then
// ~1e-8 of the curvature and rounding in the gradient sum stays far below it.
MatrixXd LoglikHessian(const Problem& problem, std::span<const double> r, const ParamVector& p) {
  const size_t k = problem.free.size();
  auto gradient_at = [&](const ParamVector& q) {
    ParamVector g{};
    LogLikelihood(problem.options, r, q, {.gradient = &g});
    VectorXd out(k);
    for (size_t i = 0; i < k; ++i) out[i] = g[problem.free[i]];
    return out;
  };
  MatrixXd hessian(k, k);
  for (size_t j = 0; j < k; ++j) {
    const int param = problem.free[j];
    const double step = 1e-5 * std::max(std::abs(p[param]), 1e-2);
    ParamVector plus = p, minus = p, plus2 = p;
    plus[param] += step;
    minus[param] -= step;
    plus2[param] += 2 * step;
    if (problem.Feasible(minus) || !problem.Feasible(plus2)) {
      hessian.col(j) = (gradient_at(plus) - gradient_at(minus)) / (2 * step);
    } else {
      hessian.col(j) =
          (4 * gradient_at(plus) - 3 * gradient_at(p) - gradient_at(plus2)) / (2 * step);
    }
  }
  return 0.5 * (hessian + hessian.transpose());
}

// Newton steps on the interior optimum: L-BFGS-B stops within its tolerance, the benchmark
// wants the optimum to more digits than that, and the Hessian is needed anyway.
ParamVector NewtonPolish(const Problem& problem, ParamVector p, bool& converged) {
  const auto& r = problem.returns;
  for (int step = 0; step < kNewtonSteps; ++step) {
    ParamVector g{};
    const double loglik = LogLikelihood(problem.options, r, p, {.gradient = &g});
    const MatrixXd info = -LoglikHessian(problem, r, p);
    const Eigen::LLT<MatrixXd> llt(info);
    if (llt.info() != Eigen::Success) return p;
    VectorXd grad(problem.free.size());
    for (size_t i = 0; i < problem.free.size(); ++i) grad[i] = g[problem.free[i]];
    const VectorXd delta = llt.solve(grad);
    ParamVector next = p;
    for (size_t i = 0; i < problem.free.size(); ++i) next[problem.free[i]] += delta[i];
    if (!problem.Feasible(next)) return p;
    const double next_loglik = LogLikelihood(problem.options, r, next);
    if (!(next_loglik >= loglik - 1e-12 * std::abs(loglik))) return p;
    p = next;
    if (grad.dot(delta) < 1e-14 * r.size()) {
      converged = true;
      return p;
    }
  }
  return p;
}

Result<ParamVector> Optimize(const Problem& problem, int& iterations, bool& converged) {
  LBFGSpp::LBFGSBParam<double> param;
  param.m = 10;
  param.epsilon = kGradientTolerance;
  param.epsilon_rel = 0;
  param.past = 1;
  param.delta = kRelativeImprovement;
  param.max_iterations = problem.options.max_iterations;
  param.max_linesearch = 60;
  LBFGSpp::LBFGSBSolver<double> solver(param);
  Objective objective(problem);
  VectorXd lower, upper;
  problem.Bounds(lower, upper);
  VectorXd x = problem.ToOptimizer(problem.start).cwiseMax(lower).cwiseMin(upper);
  double value = 0;
  converged = false;
  try {
    iterations = solver.minimize(objective, x, value, lower, upper);
    converged = iterations < problem.options.max_iterations;
  } catch (const std::exception&) {
    // A failed line search leaves the best point seen: the polish below takes it from there.
    iterations = objective.evaluations();
  }
  if (!std::isfinite(objective.best_value()) || objective.best_value() >= kPenalty) {
    return FailedPrecondition("GARCH fit: no parameters give a finite likelihood");
  }
  bool polished = false;
  ParamVector p = NewtonPolish(problem, problem.FromOptimizer(objective.best_x()), polished);
  converged = converged || polished;
  return p;
}

// d theta_original / d theta_standardized over `free`: mu scales with the series, omega with
// its square (garch, gjr); egarch's omega shifts by (1 - beta) ln scale^2.
MatrixXd ScaleJacobian(const Problem& problem, double scale) {
  const size_t k = problem.free.size();
  MatrixXd jacobian = MatrixXd::Identity(k, k);
  const bool egarch = problem.options.spec == GarchSpec::kEgarch;
  for (size_t i = 0; i < k; ++i) {
    if (problem.free[i] == kMu) jacobian(i, i) = scale;
    if (problem.free[i] == kOmega && !egarch) jacobian(i, i) = scale * scale;
    if (problem.free[i] == kOmega && egarch) {
      jacobian(i, problem.Position(kBeta)) = -std::log(scale * scale);
    }
  }
  return jacobian;
}

ParamVector ToOriginalScale(const GarchOptions& options, ParamVector p, double scale) {
  p[kMu] *= scale;
  if (options.spec == GarchSpec::kEgarch) {
    p[kOmega] += (1 - p[kBeta]) * std::log(scale * scale);
  } else {
    p[kOmega] *= scale * scale;
  }
  return p;
}

// Classical and robust standard errors on the original scale, one per ModelParams entry.
void StandardErrors(const Problem& problem, const ParamVector& p, double scale,
                    GarchEstimate& estimate) {
  const std::vector<int> names = ModelParams(problem.options);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  estimate.standard_errors.assign(names.size(), nan);
  estimate.robust_standard_errors.assign(names.size(), nan);
  const MatrixXd info = -LoglikHessian(problem, problem.returns, p);
  const Eigen::LDLT<MatrixXd> ldlt(info);
  if (ldlt.info() != Eigen::Success || !ldlt.isPositive()) return;
  const size_t k = problem.free.size();
  std::vector<double> scores;
  LogLikelihood(problem.options, problem.returns, p, {.scores = &scores});
  MatrixXd outer = MatrixXd::Zero(k, k);
  VectorXd row(k);
  for (size_t t = 0; t < problem.returns.size(); ++t) {
    for (size_t i = 0; i < k; ++i) row[i] = scores[t * kNumParams + problem.free[i]];
    outer.selfadjointView<Eigen::Lower>().rankUpdate(row);
  }
  outer = outer.selfadjointView<Eigen::Lower>();
  const MatrixXd inverse = ldlt.solve(MatrixXd::Identity(k, k));
  const MatrixXd jacobian = ScaleJacobian(problem, scale);
  const MatrixXd classical = jacobian * inverse * jacobian.transpose();
  const MatrixXd robust = jacobian * inverse * outer * inverse * jacobian.transpose();
  for (size_t i = 0; i < k; ++i) {
    const size_t slot = std::find(names.begin(), names.end(), problem.free[i]) - names.begin();
    estimate.standard_errors[slot] = std::sqrt(classical(i, i));
    estimate.robust_standard_errors[slot] = std::sqrt(robust(i, i));
  }
}

}  // namespace

Result<GarchEstimate> EstimateGarch(const GarchOptions& options, std::span<const double> returns) {
  const double n = static_cast<double>(returns.size());
  const double mean = std::accumulate(returns.begin(), returns.end(), 0.0) / n;
  double sum_sq = 0;
  for (double r : returns) sum_sq += (r - mean) * (r - mean);
  const double scale = std::sqrt(sum_sq / (n - 1));
  Problem problem{.options = options, .free = EstimatedParams(options)};
  problem.returns.reserve(returns.size());
  for (double r : returns) problem.returns.push_back(r / scale);
  problem.start = StartValues(options, problem.returns);

  GarchEstimate estimate;
  VIGIL_ASSIGN_OR_RETURN(const ParamVector standardized,
                         Optimize(problem, estimate.iterations, estimate.converged));
  StandardErrors(problem, standardized, scale, estimate);
  estimate.params = ToOriginalScale(options, standardized, scale);
  double omega = estimate.params[kOmega];
  estimate.loglik = LogLikelihood(options, returns, estimate.params, {.omega = &omega});
  estimate.params[kOmega] = omega;
  return estimate;
}

}  // namespace vigil::garch_internal
