// Numerical optimisation for the ARIMA fits: L-BFGS (Liu & Nocedal 1989, via LBFGSpp) with
// central-difference gradients, and a central-difference Hessian for the standard errors.
// Parameters are optimised in units of R's parscale (1 for ARMA terms, 10 standard errors
// for the regression term) so that all directions have comparable curvature.
#include <LBFGS.h>
#include <LBFGSpp/LineSearchBacktracking.h>
#include <LBFGSpp/LineSearchNocedalWright.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

#include "arima_internal.h"

namespace vigil::arima_internal {
namespace {

// Balances truncation (h^2) against rounding (eps * |f| / h) for objectives of order 1.
constexpr double kGradientStep = 1e-5;
constexpr double kHessianStep = 1e-4;
// Stands in for a non-finite objective (R returns .Machine$double.xmax): the line search
// then backs off toward the interior.
constexpr double kInfeasibleValue = 1e300;

// Below this gradient norm (scaled units) a line search that fails is at the noise floor.
constexpr double kNoiseFloorGradient = 1e-6;

// Thrown out of the line search when the objective has reached its rounding noise.
struct NoiseFloorReached {};

// LBFGSpp functor in scaled coordinates u = theta / scale; remembers the best point seen
// so that a line-search failure at the noise floor still returns the optimum found. With a
// `noise_tolerance` > 0 it ends the search (NoiseFloorReached) when an evaluation moves the
// best value by less than that (relative) while the gradient at the best point is below
// kNoiseFloorGradient: an exact gradient still points somewhere, but the values no longer
// tell the line search whether it got there, and it would spend its whole budget failing.
class ScaledObjective {
 public:
  ScaledObjective(const GradientObjective& objective, std::span<const double> scale,
                  double noise_tolerance)
      : objective_(objective),
        scale_(scale.begin(), scale.end()),
        theta_(scale.size()),
        gradient_(scale.size()),
        noise_tolerance_(noise_tolerance) {}

  double Value(const Eigen::VectorXd& u) { return Evaluate(u, false); }

  double operator()(const Eigen::VectorXd& u, Eigen::VectorXd& gradient) {
    const double previous_best = best_value_;
    const double previous_best_gradient = best_gradient_norm_;
    const double value = Evaluate(u, true);
    for (size_t i = 0; i < scale_.size(); ++i) gradient[i] = gradient_[i] * scale_[i];
    ++gradient_evaluations_;
    last_gradient_norm_ = gradient.norm();
    if (value == best_value_) best_gradient_norm_ = last_gradient_norm_;
    const bool flat = std::abs(value - previous_best) <=
                      noise_tolerance_ * std::max(1.0, std::abs(previous_best));
    if (noise_tolerance_ > 0.0 && flat &&
        std::min(previous_best_gradient, best_gradient_norm_) < kNoiseFloorGradient)
      throw NoiseFloorReached{};
    return value;
  }

  double best_value() const { return best_value_; }
  const Eigen::VectorXd& best_u() const { return best_u_; }
  int gradient_evaluations() const { return gradient_evaluations_; }
  double last_gradient_norm() const { return last_gradient_norm_; }

 private:
  double Evaluate(const Eigen::VectorXd& u, bool with_gradient) {
    for (size_t i = 0; i < scale_.size(); ++i) theta_[i] = u[i] * scale_[i];
    const double value =
        objective_(theta_, with_gradient ? std::span<double>(gradient_) : std::span<double>());
    const double finite = std::isfinite(value) ? value : kInfeasibleValue;
    if (finite < best_value_) {
      best_value_ = finite;
      best_u_ = u;
      best_gradient_norm_ = std::numeric_limits<double>::infinity();  // set by the caller
    }
    if (with_gradient && finite == kInfeasibleValue)
      std::fill(gradient_.begin(), gradient_.end(), 0.0);
    return finite;
  }

  const GradientObjective& objective_;
  std::vector<double> scale_;
  std::vector<double> theta_;
  std::vector<double> gradient_;
  double noise_tolerance_;
  double best_value_ = std::numeric_limits<double>::infinity();
  double best_gradient_norm_ = std::numeric_limits<double>::infinity();
  Eigen::VectorXd best_u_;
  int gradient_evaluations_ = 0;
  double last_gradient_norm_ = std::numeric_limits<double>::infinity();
};

// Central differences with step kGradientStep in units of `scale`; an empty gradient span
// asks for the value only.
GradientObjective WithCentralDifferences(const Objective& objective,
                                         std::span<const double> scale) {
  std::vector<double> steps(scale.size());
  for (size_t i = 0; i < scale.size(); ++i) steps[i] = kGradientStep * scale[i];
  return [&objective, steps](std::span<const double> theta, std::span<double> gradient) {
    const double value = objective(theta);
    if (gradient.empty()) return value;
    std::vector<double> shifted(theta.begin(), theta.end());
    for (size_t i = 0; i < shifted.size(); ++i) {
      shifted[i] = theta[i] + steps[i];
      const double up = objective(shifted);
      shifted[i] = theta[i] - steps[i];
      const double down = objective(shifted);
      shifted[i] = theta[i];
      const double up_finite = std::isfinite(up) ? up : kInfeasibleValue;
      const double down_finite = std::isfinite(down) ? down : kInfeasibleValue;
      gradient[i] = (up_finite - down_finite) / (2 * steps[i]);
    }
    return value;
  };
}

}  // namespace

Minimum MinimizeLbfgs(const Objective& objective, std::span<const double> start,
                      std::span<const double> scale, int max_iterations, double gradient_tolerance,
                      double value_tolerance) {
  return MinimizeLbfgs(WithCentralDifferences(objective, scale), start, scale, max_iterations,
                       gradient_tolerance, value_tolerance);
}

Minimum MinimizeLbfgs(const GradientObjective& objective, std::span<const double> start,
                      std::span<const double> scale, int max_iterations, double gradient_tolerance,
                      double value_tolerance, bool stop_at_noise_floor) {
  const Eigen::Index k = static_cast<Eigen::Index>(start.size());
  Eigen::VectorXd u(k);
  for (Eigen::Index i = 0; i < k; ++i) u[i] = start[i] / scale[i];
  ScaledObjective scaled(objective, scale, stop_at_noise_floor ? value_tolerance : 0.0);
  scaled.Value(u);
  Minimum out;
  LBFGSpp::LBFGSParam<double> param;
  param.epsilon = gradient_tolerance;
  param.epsilon_rel = gradient_tolerance;
  param.max_linesearch = 20;
  param.m = 10;
  // Stop when an iteration no longer moves the objective (by default: at machine precision).
  param.past = 1;
  param.delta = value_tolerance;
  // First a strong-Wolfe line search (few evaluations on smooth problems); if it fails or
  // stalls away from a stationary point (rough CSS surfaces, gradient noise), restart from
  // the best point with a fresh memory and plain Wolfe backtracking, which is more robust.
  constexpr int kAttempts = 4;
  constexpr double kStalledGradient = 1e-4;
  bool done = k == 0;
  for (int attempt = 0; attempt < kAttempts && !done && out.iterations < max_iterations;
       ++attempt) {
    param.max_iterations = max_iterations - out.iterations;
    u = scaled.best_u();
    const int evaluations_before = scaled.gradient_evaluations();
    const double best_before = scaled.best_value();
    try {
      double value = 0.0;
      if (attempt == 0) {
        param.linesearch = LBFGSpp::LBFGS_LINESEARCH_BACKTRACKING_STRONG_WOLFE;
        LBFGSpp::LBFGSSolver<double, LBFGSpp::LineSearchNocedalWright> solver(param);
        out.iterations += solver.minimize(scaled, u, value);
      } else {
        param.linesearch = LBFGSpp::LBFGS_LINESEARCH_BACKTRACKING_WOLFE;
        LBFGSpp::LBFGSSolver<double, LBFGSpp::LineSearchBacktracking> solver(param);
        out.iterations += solver.minimize(scaled, u, value);
      }
      done = scaled.last_gradient_norm() < kStalledGradient;
    } catch (const NoiseFloorReached&) {
      out.iterations += scaled.gradient_evaluations() - evaluations_before;
      break;
    } catch (const std::exception&) {
      out.iterations += scaled.gradient_evaluations() - evaluations_before;
      // At the noise floor: the line search failed where the gradient is already tiny, or a
      // restart found nothing better.
      if (scaled.last_gradient_norm() < kNoiseFloorGradient) break;
      if (attempt > 0 && !(scaled.best_value() < best_before)) break;
    }
  }
  out.theta.resize(k);
  for (Eigen::Index i = 0; i < k; ++i) out.theta[i] = scaled.best_u()[i] * scale[i];
  out.value = scaled.best_value();
  out.converged =
      std::isfinite(out.value) && out.value < kInfeasibleValue && out.iterations < max_iterations;
  return out;
}

std::vector<double> NumericalHessian(const Objective& objective, std::span<const double> theta,
                                     std::span<const double> scale) {
  const size_t k = theta.size();
  std::vector<double> point(theta.begin(), theta.end());
  // f at theta + a h_i e_i + b h_j e_j, with h_i = kHessianStep * scale_i.
  auto at = [&](size_t i, double a, size_t j, double b) {
    point[i] += a * kHessianStep * scale[i];
    point[j] += b * kHessianStep * scale[j];
    const double value = objective(point);
    point.assign(theta.begin(), theta.end());
    return value;
  };
  const double center = objective(point);
  std::vector<double> hessian(k * k);
  for (size_t i = 0; i < k; ++i) {
    const double hi = kHessianStep * scale[i];
    hessian[i * k + i] = (at(i, 1, i, 0) - 2 * center + at(i, -1, i, 0)) / (hi * hi);
    for (size_t j = 0; j < i; ++j) {
      const double hj = kHessianStep * scale[j];
      const double cross =
          (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * hi * hj);
      hessian[i * k + j] = hessian[j * k + i] = cross;
    }
  }
  return hessian;
}

std::vector<double> NumericalHessian(const GradientObjective& objective,
                                     std::span<const double> theta, std::span<const double> scale) {
  const size_t k = theta.size();
  std::vector<double> point(theta.begin(), theta.end()), up(k), down(k), hessian(k * k);
  for (size_t i = 0; i < k; ++i) {
    const double h = kHessianStep * scale[i];
    point[i] = theta[i] + h;
    objective(point, up);
    point[i] = theta[i] - h;
    objective(point, down);
    point[i] = theta[i];
    for (size_t j = 0; j < k; ++j) hessian[i * k + j] = (up[j] - down[j]) / (2 * h);
  }
  for (size_t i = 0; i < k; ++i)
    for (size_t j = 0; j < i; ++j)
      hessian[i * k + j] = hessian[j * k + i] = 0.5 * (hessian[i * k + j] + hessian[j * k + i]);
  return hessian;
}

}  // namespace vigil::arima_internal
