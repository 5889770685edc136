#include "vigil/models/probability_calibration.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <exception>
#include <string>
#include <utility>

namespace vigil {
namespace {

// The clip applied before the logit, so that predictions of exactly 0 or 1 stay finite.
constexpr double kLogitClip = 1e-15;
// x values closer than this are one point for the isotonic fit: float64's "resolution" as
// numpy reports it, which scikit-learn's _make_unique uses to pool near-equal inputs.
constexpr double kTieResolution = 1e-15;
// Newton on Platt's 2-parameter problem: iteration cap and the Armijo constant of its
// backtracking line search (Nocedal & Wright, 2nd ed., section 3.1).
constexpr int kPlattMaxIter = 100;
constexpr double kArmijo = 1e-4;
constexpr double kMinStep = 1e-12;
// Stop once half the squared Newton decrement (the predicted decrease) is below this
// fraction of the loss.
constexpr double kPlattTolerance = 1e-12;

double Sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

double Softplus(double z) { return std::max(z, 0.0) + std::log1p(std::exp(-std::abs(z))); }

double ClippedLogit(double p) {
  const double clipped = std::clamp(p, kLogitClip, 1.0 - kLogitClip);
  return std::log(clipped / (1.0 - clipped));
}

Status CheckFitInputs(std::span<const double> probs, std::span<const int> labels,
                      std::span<const double> weights) {
  if (probs.size() != labels.size()) {
    return InvalidArgument("calibration: " + std::to_string(probs.size()) + " probabilities for " +
                           std::to_string(labels.size()) + " labels");
  }
  if (!weights.empty() && weights.size() != labels.size()) {
    return InvalidArgument("calibration: " + std::to_string(weights.size()) + " weights for " +
                           std::to_string(labels.size()) + " labels");
  }
  double class_weight[2] = {0, 0};
  for (size_t row = 0; row < probs.size(); ++row) {
    const std::string where = "calibration: row " + std::to_string(row) + ": ";
    if (!(probs[row] >= 0 && probs[row] <= 1)) {
      return InvalidArgument(where + "probability " + std::to_string(probs[row]) +
                             " is not in [0, 1]");
    }
    if (labels[row] != 0 && labels[row] != 1) {
      return InvalidArgument(where + "label " + std::to_string(labels[row]) + " is not 0 or 1");
    }
    const double weight = weights.empty() ? 1.0 : weights[row];
    if (!(std::isfinite(weight) && weight >= 0)) {
      return InvalidArgument(where + "weight must be finite and >= 0");
    }
    class_weight[labels[row]] += weight;
  }
  if (!(class_weight[0] > 0 && class_weight[1] > 0)) {
    return InvalidArgument("calibration needs both classes in the held-out rows");
  }
  return Status::Ok();
}

// --- Platt scaling -------------------------------------------------------------------

// J. Platt, "Probabilistic Outputs for Support Vector Machines and Comparisons to
// Regularized Likelihood Methods" (1999), section 2.2: minimise the cross-entropy of
// P = 1 / (1 + exp(A f + B)) against smoothed targets t+ = (N+ + 1) / (N+ + 2),
// t- = 1 / (N- + 2). With z = A f + B the per-row loss is t softplus(z) + (1 - t)
// softplus(-z), convex in (A, B); its gradient is (t - P)(f, 1) and its Hessian
// P(1 - P)(f, 1)(f, 1)'. scikit-learn minimises the same objective with BFGS; Newton
// reaches the same optimum to solver precision.
struct PlattProblem {
  std::vector<double> f;
  std::vector<double> target;
  std::vector<double> weight;

  double Loss(double a, double b) const {
    double loss = 0.0;
    for (size_t row = 0; row < f.size(); ++row) {
      const double z = a * f[row] + b;
      loss += weight[row] * (target[row] * Softplus(z) + (1.0 - target[row]) * Softplus(-z));
    }
    return loss;
  }
};

PlattProblem BuildPlattProblem(std::span<const double> probs, std::span<const int> labels,
                               std::span<const double> weights, double* prior0, double* prior1) {
  *prior0 = 0;
  *prior1 = 0;
  for (size_t row = 0; row < labels.size(); ++row) {
    (labels[row] == 1 ? *prior1 : *prior0) += weights.empty() ? 1.0 : weights[row];
  }
  const double positive_target = (*prior1 + 1.0) / (*prior1 + 2.0);
  const double negative_target = 1.0 / (*prior0 + 2.0);
  PlattProblem problem;
  for (size_t row = 0; row < labels.size(); ++row) {
    problem.f.push_back(ClippedLogit(probs[row]));
    problem.target.push_back(labels[row] == 1 ? positive_target : negative_target);
    problem.weight.push_back(weights.empty() ? 1.0 : weights[row]);
  }
  return problem;
}

// Newton with backtracking from scikit-learn's start (A = 0, B = log((N- + 1) / (N+ + 1))).
// When every f is equal the Hessian is singular and only A f + B is identified; the step
// then moves B alone (A stays 0).
void SolvePlatt(const PlattProblem& problem, double* a, double* b) {
  Eigen::Vector2d theta(*a, *b);
  double loss = problem.Loss(theta(0), theta(1));
  for (int iter = 0; iter < kPlattMaxIter; ++iter) {
    Eigen::Vector2d gradient = Eigen::Vector2d::Zero();
    Eigen::Matrix2d hessian = Eigen::Matrix2d::Zero();
    for (size_t row = 0; row < problem.f.size(); ++row) {
      const double z = theta(0) * problem.f[row] + theta(1);
      const double p = Sigmoid(-z);
      const Eigen::Vector2d direction(problem.f[row], 1.0);
      gradient += problem.weight[row] * (problem.target[row] - p) * direction;
      hessian += problem.weight[row] * p * (1.0 - p) * direction * direction.transpose();
    }
    Eigen::Vector2d step;
    if (hessian.determinant() > 1e-12 * hessian.trace() * hessian.trace()) {
      step = -hessian.ldlt().solve(gradient);
    } else {
      step = Eigen::Vector2d(0.0, hessian(1, 1) > 0 ? -gradient(1) / hessian(1, 1) : 0.0);
    }
    const double slope = gradient.dot(step);
    if (!step.allFinite() || !(slope < 0)) break;  // stationary to rounding
    // Near the optimum the loss changes by less than its rounding error, so a line search
    // could not tell a good step from a bad one: take the full Newton step (quadratic
    // convergence squares the remaining error) and stop.
    if (-slope / 2 <= kPlattTolerance * std::max(1.0, loss)) {
      theta += step;
      break;
    }
    double scale = 1.0;
    double candidate = problem.Loss(theta(0) + step(0), theta(1) + step(1));
    while (candidate > loss + kArmijo * scale * slope && scale > kMinStep) {
      scale /= 2;
      candidate = problem.Loss(theta(0) + scale * step(0), theta(1) + scale * step(1));
    }
    if (candidate > loss) break;  // no decrease left to resolve
    theta += scale * step;
    loss = candidate;
  }
  *a = theta(0);
  *b = theta(1);
}

// --- isotonic regression ---------------------------------------------------------------

struct IsotonicPoints {
  std::vector<double> x;
  std::vector<double> y;
  std::vector<double> weight;
};

// Sorts by (x, y), drops zero-weight rows and pools x values within kTieResolution of a
// group's first x into one point with the weighted mean label (scikit-learn's _build_y and
// _make_unique).
IsotonicPoints UniquePoints(std::span<const double> probs, std::span<const int> labels,
                            std::span<const double> weights) {
  std::vector<size_t> order;
  for (size_t row = 0; row < probs.size(); ++row) {
    if (weights.empty() || weights[row] > 0) order.push_back(row);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t lhs, size_t rhs) {
    return probs[lhs] != probs[rhs] ? probs[lhs] < probs[rhs] : labels[lhs] < labels[rhs];
  });
  IsotonicPoints points;
  double current_x = 0, sum_wy = 0, sum_w = 0;
  auto flush = [&] {
    points.x.push_back(current_x);
    points.y.push_back(sum_wy / sum_w);
    points.weight.push_back(sum_w);
  };
  for (size_t i = 0; i < order.size(); ++i) {
    const size_t row = order[i];
    const double w = weights.empty() ? 1.0 : weights[row];
    if (i > 0 && probs[row] - current_x >= kTieResolution) {
      flush();
      sum_wy = 0;
      sum_w = 0;
    }
    if (i == 0 || sum_w == 0) current_x = probs[row];
    sum_wy += labels[row] * w;
    sum_w += w;
  }
  if (!order.empty()) flush();
  return points;
}

// Pool adjacent violators, single pass with backtracking, in place: the algorithm of
// scikit-learn's _inplace_contiguous_isotonic_regression (M. J. Best and N. Chakravarti,
// "Active set algorithms for isotonic regression; a unifying framework", Math. Programming
// 47 (1990), section 3), so the fitted values agree to the last rounding. target[i] holds
// the other end of the active block starting or ending at i.
void PoolAdjacentViolators(std::vector<double>& y, std::vector<double> w) {
  const size_t n = y.size();
  std::vector<size_t> target(n);
  for (size_t i = 0; i < n; ++i) target[i] = i;
  size_t i = 0;
  while (i < n) {
    size_t k = target[i] + 1;
    if (k == n) break;
    if (y[i] < y[k]) {
      i = k;
      continue;
    }
    double sum_wy = w[i] * y[i];
    double sum_w = w[i];
    while (true) {
      const double prev_y = y[k];
      sum_wy += w[k] * y[k];
      sum_w += w[k];
      k = target[k] + 1;
      if (k == n || prev_y < y[k]) {
        y[i] = sum_wy / sum_w;
        w[i] = sum_w;
        target[i] = k - 1;
        target[k - 1] = i;
        if (i > 0) i = target[i - 1];
        break;
      }
    }
  }
  for (i = 0; i < n;) {
    const size_t k = target[i] + 1;
    std::fill(y.begin() + static_cast<std::ptrdiff_t>(i) + 1,
              y.begin() + static_cast<std::ptrdiff_t>(k), y[i]);
    i = k;
  }
}

}  // namespace

std::string_view CalibrationMethodName(CalibrationMethod method) {
  switch (method) {
    case CalibrationMethod::kNone:
      return "none";
    case CalibrationMethod::kPlatt:
      return "platt";
    case CalibrationMethod::kIsotonic:
      return "isotonic";
  }
  return "none";
}

Result<CalibrationMethod> ParseCalibrationMethod(std::string_view text) {
  for (CalibrationMethod method :
       {CalibrationMethod::kNone, CalibrationMethod::kPlatt, CalibrationMethod::kIsotonic}) {
    if (text == CalibrationMethodName(method)) return method;
  }
  return InvalidArgument("unknown calibration method '" + std::string(text) +
                         "' (expected none, platt or isotonic)");
}

Result<ProbabilityCalibrator> ProbabilityCalibrator::Fit(CalibrationMethod method,
                                                         std::span<const double> probs,
                                                         std::span<const int> labels,
                                                         std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(CheckFitInputs(probs, labels, weights));
  ProbabilityCalibrator calibrator;
  calibrator.method_ = method;
  for (size_t row = 0; row < labels.size(); ++row) {
    calibrator.total_weight_ += weights.empty() ? 1.0 : weights[row];
  }
  if (method == CalibrationMethod::kPlatt) {
    double prior0 = 0, prior1 = 0;
    const PlattProblem problem = BuildPlattProblem(probs, labels, weights, &prior0, &prior1);
    calibrator.a_ = 0.0;
    calibrator.b_ = std::log((prior0 + 1.0) / (prior1 + 1.0));
    SolvePlatt(problem, &calibrator.a_, &calibrator.b_);
  } else if (method == CalibrationMethod::kIsotonic) {
    IsotonicPoints points = UniquePoints(probs, labels, weights);
    PoolAdjacentViolators(points.y, points.weight);
    // y_min = 0, y_max = 1: labels are 0/1, so the pooled means already lie in [0, 1].
    // Keep the first and last point of every run of equal fitted values (scikit-learn's
    // trim_duplicates, which leaves the interpolant unchanged), each carrying its run's
    // total weight as evidence.
    const size_t n = points.y.size();
    std::vector<double> run_weight(n);
    for (size_t begin = 0, end = 0; begin < n; begin = end) {
      double total = 0;
      for (end = begin; end < n && points.y[end] == points.y[begin]; ++end) {
        total += points.weight[end];
      }
      std::fill(run_weight.begin() + begin, run_weight.begin() + end, total);
    }
    for (size_t i = 0; i < n; ++i) {
      const bool interior_of_run =
          i > 0 && i + 1 < n && points.y[i] == points.y[i - 1] && points.y[i] == points.y[i + 1];
      if (interior_of_run) continue;
      calibrator.x_.push_back(points.x[i]);
      calibrator.y_.push_back(points.y[i]);
      calibrator.weight_.push_back(run_weight[i]);
    }
  } else {
    calibrator.total_weight_ = 0.0;
  }
  return calibrator;
}

double ProbabilityCalibrator::Apply(double probability) const {
  if (std::isnan(probability)) return probability;
  const double p = std::clamp(probability, 0.0, 1.0);
  switch (method_) {
    case CalibrationMethod::kNone:
      return p;
    case CalibrationMethod::kPlatt:
      return Sigmoid(-(a_ * ClippedLogit(p) + b_));
    case CalibrationMethod::kIsotonic: {
      // Linear interpolation as numpy.interp (which scipy's interp1d uses for this case),
      // clipped to the fitted range.
      if (p <= x_.front()) return y_.front();
      if (p >= x_.back()) return y_.back();
      const size_t hi = static_cast<size_t>(std::upper_bound(x_.begin(), x_.end(), p) - x_.begin());
      const size_t lo = hi - 1;
      const double slope = (y_[hi] - y_[lo]) / (x_[hi] - x_[lo]);
      return slope * (p - x_[lo]) + y_[lo];
    }
  }
  return p;
}

std::vector<double> ProbabilityCalibrator::Apply(std::span<const double> probabilities) const {
  std::vector<double> out;
  out.reserve(probabilities.size());
  for (double p : probabilities) out.push_back(Apply(p));
  return out;
}

double ProbabilityCalibrator::Evidence(double probability) const {
  if (std::isnan(probability)) return 0.0;
  switch (method_) {
    case CalibrationMethod::kNone:
      return 0.0;
    case CalibrationMethod::kPlatt:
      return total_weight_;
    case CalibrationMethod::kIsotonic: {
      const double p = std::clamp(probability, 0.0, 1.0);
      if (p <= x_.front()) return weight_.front();
      if (p >= x_.back()) return weight_.back();
      const auto it = std::lower_bound(x_.begin(), x_.end(), p);
      const size_t hi = static_cast<size_t>(it - x_.begin());
      if (*it == p) return weight_[hi];
      return y_[hi] == y_[hi - 1] ? weight_[hi] : std::min(weight_[hi], weight_[hi - 1]);
    }
  }
  return 0.0;
}

nlohmann::json ProbabilityCalibrator::ToJson() const {
  nlohmann::json json = {{"method", CalibrationMethodName(method_)}};
  if (method_ == CalibrationMethod::kPlatt) {
    json["a"] = a_;
    json["b"] = b_;
    json["total_weight"] = total_weight_;
  } else if (method_ == CalibrationMethod::kIsotonic) {
    json["x"] = x_;
    json["y"] = y_;
    json["weight"] = weight_;
    json["total_weight"] = total_weight_;
  }
  return json;
}

namespace {

Status CheckIsotonicTable(const std::vector<double>& x, const std::vector<double>& y,
                          const std::vector<double>& weight) {
  if (x.empty()) return DataError("isotonic calibrator without thresholds");
  if (y.size() != x.size() || weight.size() != x.size()) {
    return DataError("isotonic calibrator: 'x', 'y' and 'weight' differ in length");
  }
  for (size_t i = 0; i < x.size(); ++i) {
    const std::string where = "isotonic calibrator: point " + std::to_string(i) + ": ";
    if (!(x[i] >= 0 && x[i] <= 1) || !(y[i] >= 0 && y[i] <= 1)) {
      return DataError(where + "x and y must lie in [0, 1]");
    }
    if (!(std::isfinite(weight[i]) && weight[i] > 0)) {
      return DataError(where + "weight must be finite and > 0");
    }
    if (i > 0 && !(x[i] > x[i - 1])) return DataError(where + "x must increase strictly");
    if (i > 0 && !(y[i] >= y[i - 1])) return DataError(where + "y must not decrease");
  }
  return Status::Ok();
}

}  // namespace

Result<ProbabilityCalibrator> ProbabilityCalibrator::FromJson(const nlohmann::json& json,
                                                              const std::string& source) {
  ProbabilityCalibrator calibrator;
  try {
    if (!json.is_object()) return DataError(source + ": calibrator is not a JSON object");
    Result<CalibrationMethod> method = ParseCalibrationMethod(json.at("method").get<std::string>());
    if (!method.ok()) return DataError(source + ": " + method.status().message());
    calibrator.method_ = *method;
    if (calibrator.method_ == CalibrationMethod::kPlatt) {
      calibrator.a_ = json.at("a").get<double>();
      calibrator.b_ = json.at("b").get<double>();
      calibrator.total_weight_ = json.at("total_weight").get<double>();
      if (!std::isfinite(calibrator.a_) || !std::isfinite(calibrator.b_)) {
        return DataError(source + ": Platt calibrator: 'a' and 'b' must be finite");
      }
    } else if (calibrator.method_ == CalibrationMethod::kIsotonic) {
      calibrator.x_ = json.at("x").get<std::vector<double>>();
      calibrator.y_ = json.at("y").get<std::vector<double>>();
      calibrator.weight_ = json.at("weight").get<std::vector<double>>();
      calibrator.total_weight_ = json.at("total_weight").get<double>();
      VIGIL_RETURN_IF_ERROR(
          CheckIsotonicTable(calibrator.x_, calibrator.y_, calibrator.weight_).WithContext(source));
    }
  } catch (const std::exception& e) {
    return DataError(source + ": calibrator: " + e.what());
  }
  if (calibrator.method_ != CalibrationMethod::kNone &&
      !(std::isfinite(calibrator.total_weight_) && calibrator.total_weight_ > 0)) {
    return DataError(source + ": calibrator: 'total_weight' must be finite and > 0");
  }
  return calibrator;
}

}  // namespace vigil
