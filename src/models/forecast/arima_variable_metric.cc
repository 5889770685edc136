// The variable metric method of Nash (1990), "Compact numerical methods for computers", 2nd
// ed., Algorithm 21, which is what R's optim(method = "BFGS") runs, with optim's default
// numerical gradient (central differences, step 1e-3 in parscale units).
//
// Written by hand, although LBFGSpp minimises as well: where the CSS estimate of a css-ml fit
// ends decides which local optimum the exact likelihood reaches, and auto.arima's choices
// depend on it. On rough CSS surfaces (MA parts at or beyond the unit circle) the end point is
// a property of the path, so the start has to take R's steps: the same update, the same
// acceptable-point backtracking and the same stopping and restart rules.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

#include "arima_internal.h"

namespace vigil::arima_internal {
namespace {

constexpr double kStepReduction = 0.2;  // backtracking factor
constexpr double kAcceptance = 1e-4;    // sufficient-decrease fraction of the slope
constexpr double kChangeTest = 10.0;    // a parameter moved when 10 + new != 10 + old
constexpr double kOptimGradientStep = 1e-3;

// The objective in scaled coordinates u = theta / scale, and optim's numerical gradient.
class ScaledProblem {
 public:
  ScaledProblem(const BatchObjective& objective, std::span<const double> scale)
      : objective_(objective),
        scale_(scale.begin(), scale.end()),
        points_(2 * scale.size() * scale.size()),
        values_(std::max<size_t>(1, 2 * scale.size())) {}

  double Value(const Eigen::VectorXd& u) {
    for (size_t i = 0; i < scale_.size(); ++i) points_[i] = u[i] * scale_[i];
    objective_(std::span<const double>(points_).first(scale_.size()), 1, values_);
    return values_[0];
  }

  // f(u + h e_i) and f(u - h e_i) for every i as one batch. False when a difference is not
  // finite (optim stops with an error there).
  bool Gradient(const Eigen::VectorXd& u, Eigen::VectorXd& gradient) {
    const size_t k = scale_.size();
    for (size_t i = 0; i < k; ++i) {
      double* up = &points_[2 * i * k];
      double* down = up + k;
      for (size_t j = 0; j < k; ++j) up[j] = down[j] = u[j] * scale_[j];
      up[i] = (u[i] + kOptimGradientStep) * scale_[i];
      down[i] = (u[i] - kOptimGradientStep) * scale_[i];
    }
    objective_(points_, static_cast<int>(2 * k), values_);
    for (size_t i = 0; i < k; ++i) {
      gradient[i] = (values_[2 * i] - values_[2 * i + 1]) / (2 * kOptimGradientStep);
      if (!std::isfinite(gradient[i])) return false;
    }
    return true;
  }

 private:
  const BatchObjective& objective_;
  std::vector<double> scale_;
  std::vector<double> points_;
  std::vector<double> values_;
};

// The search state of Algorithm 21: the inverse-Hessian approximation `metric` is reset to
// the identity whenever `last_reset` equals the gradient count.
struct VariableMetric {
  Eigen::Index n = 0;
  Eigen::VectorXd u, gradient;
  Eigen::MatrixXd metric;
  double best = 0.0;
  int iterations = 0, gradients = 0, last_reset = 0;
};

// t = -metric g, summed in index order.
double Direction(const VariableMetric& s, Eigen::VectorXd& direction) {
  double slope = 0.0;
  for (Eigen::Index i = 0; i < s.n; ++i) {
    double value = 0.0;
    for (Eigen::Index j = 0; j < s.n; ++j) value -= s.metric(i, j) * s.gradient[j];
    direction[i] = value;
    slope += value * s.gradient[i];
  }
  return slope;
}

// Backtracks from a unit step until the decrease is acceptable or the step no longer moves
// any parameter; returns how many parameters did not move (n: the search failed) and leaves
// the last value tried in `value`.
Eigen::Index Backtrack(ScaledProblem& problem, VariableMetric& s, const Eigen::VectorXd& origin,
                       const Eigen::VectorXd& direction, double slope, double& step,
                       double& value) {
  step = 1.0;
  for (;;) {
    Eigen::Index unchanged = 0;
    for (Eigen::Index i = 0; i < s.n; ++i) {
      s.u[i] = origin[i] + step * direction[i];
      if (kChangeTest + origin[i] == kChangeTest + s.u[i]) ++unchanged;
    }
    if (unchanged == s.n) return unchanged;
    value = problem.Value(s.u);
    if (std::isfinite(value) && value <= s.best + slope * step * kAcceptance) return unchanged;
    step *= kStepReduction;
  }
}

// The BFGS update of the inverse-Hessian approximation from the step `t` and the gradient
// change `y`; a step without positive curvature asks for a reset instead.
void UpdateMetric(VariableMetric& s, const Eigen::VectorXd& t, const Eigen::VectorXd& y) {
  double curvature = 0.0;
  for (Eigen::Index i = 0; i < s.n; ++i) curvature += t[i] * y[i];
  if (!(curvature > 0.0)) {
    s.last_reset = s.gradients;
    return;
  }
  Eigen::VectorXd my(s.n);
  double ymy = 0.0;
  for (Eigen::Index i = 0; i < s.n; ++i) {
    double value = 0.0;
    for (Eigen::Index j = 0; j < s.n; ++j) value += s.metric(i, j) * y[j];
    my[i] = value;
    ymy += value * y[i];
  }
  const double factor = 1.0 + ymy / curvature;
  for (Eigen::Index i = 0; i < s.n; ++i) {
    for (Eigen::Index j = 0; j <= i; ++j) {
      s.metric(i, j) += (factor * t[i] * t[j] - my[i] * t[j] - t[i] * my[j]) / curvature;
      s.metric(j, i) = s.metric(i, j);
    }
  }
}

}  // namespace

Minimum MinimizeLikeOptimBfgs(const BatchObjective& objective, std::span<const double> start,
                              std::span<const double> scale, int max_iterations,
                              double relative_tolerance) {
  ScaledProblem problem(objective, scale);
  VariableMetric s;
  s.n = static_cast<Eigen::Index>(start.size());
  s.u.resize(s.n);
  for (Eigen::Index i = 0; i < s.n; ++i) s.u[i] = start[i] / scale[i];
  s.gradient.resize(s.n);
  Minimum out;
  out.value = problem.Value(s.u);
  out.theta.assign(start.begin(), start.end());
  if (!std::isfinite(out.value) || s.n == 0 || max_iterations <= 0) {
    out.converged = std::isfinite(out.value);
    return out;
  }
  s.best = out.value;
  if (!problem.Gradient(s.u, s.gradient)) {
    out.value = std::numeric_limits<double>::quiet_NaN();
    return out;
  }
  s.iterations = s.gradients = s.last_reset = 1;
  Eigen::VectorXd origin(s.n), previous_gradient(s.n), direction(s.n);
  Eigen::Index unchanged = 0;
  bool failed = false;
  do {
    if (s.last_reset == s.gradients) s.metric = Eigen::MatrixXd::Identity(s.n, s.n);
    origin = s.u;
    previous_gradient = s.gradient;
    const double slope = Direction(s, direction);
    if (slope < 0.0) {
      double step = 1.0, value = s.best;
      unchanged = Backtrack(problem, s, origin, direction, slope, step, value);
      const bool enough =
          std::abs(value - s.best) > relative_tolerance * (std::abs(s.best) + relative_tolerance);
      if (!enough) {
        unchanged = s.n;
        s.best = value;
      }
      if (unchanged < s.n) {  // progress: a new gradient and a metric update
        s.best = value;
        if (!problem.Gradient(s.u, s.gradient)) {
          failed = true;  // optim stops with an error here, and so does arima
          break;
        }
        ++s.gradients;
        ++s.iterations;
        UpdateMetric(s, step * direction, s.gradient - previous_gradient);
      } else if (s.last_reset < s.gradients) {  // no progress: retry once from the identity
        unchanged = 0;
        s.last_reset = s.gradients;
      }
    } else {  // uphill: reset, unless the metric was just reset
      unchanged = s.last_reset == s.gradients ? s.n : 0;
      s.last_reset = s.gradients;
    }
    if (s.iterations >= max_iterations) break;
    if (s.gradients - s.last_reset > 2 * s.n) s.last_reset = s.gradients;  // periodic restart
  } while (unchanged != s.n || s.last_reset != s.gradients);
  for (Eigen::Index i = 0; i < s.n; ++i) out.theta[i] = s.u[i] * scale[i];
  out.value = failed ? std::numeric_limits<double>::quiet_NaN() : s.best;
  out.iterations = s.iterations;
  out.converged = !failed && s.iterations < max_iterations;
  return out;
}

Minimum MinimizeLikeOptimBfgs(const Objective& objective, std::span<const double> start,
                              std::span<const double> scale, int max_iterations,
                              double relative_tolerance) {
  const size_t k = start.size();
  const BatchObjective batch = [&objective, k](std::span<const double> points, int count,
                                               std::span<double> values) {
    for (int i = 0; i < count; ++i) values[i] = objective(points.subspan(i * k, k));
  };
  return MinimizeLikeOptimBfgs(batch, start, scale, max_iterations, relative_tolerance);
}

}  // namespace vigil::arima_internal
