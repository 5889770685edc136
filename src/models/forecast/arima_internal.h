// Internals of the ARIMA model (include/vigil/models/forecast/arima.h): the parameter
// transformations, the state-space Kalman filter, the conditional sum of squares and the
// fitting procedure. Not API; the tests use them to check each phase on its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/forecast/arima.h"

namespace vigil::arima_internal {

inline constexpr int kMaxArmaOrder = 20;
inline constexpr int kMaxDifferences = 2;
// r = max(p, q + 1) stationary states plus d differenced states.
inline constexpr int kMaxStates = kMaxArmaOrder + 1 + kMaxDifferences;
// p + q + a regression coefficient.
inline constexpr int kMaxParams = 2 * kMaxArmaOrder + 1;
// R's kappa: prior variance of the differenced (diffuse) states.
inline constexpr double kDiffusePriorVariance = 1e6;
// R's ARIMA_Like: one-step variances at or above this belong to the diffuse start and do
// not enter the likelihood.
inline constexpr double kDiffuseGainThreshold = 1e4;

// ---- arima_transform.cc: Jones (1980) reparameterisation and root checks ----

// Partial autocorrelations in atanh space -> AR coefficients (tanh, then the Durbin-
// Levinson recursion), R's partrans. `raw` and `ar` have the same length (<= 20).
void PacfToAr(std::span<const double> raw, std::span<double> ar);
// The inverse (R's invpartrans); the AR part must be stationary.
void ArToPacf(std::span<const double> ar, std::span<double> raw);
// d ar_j / d raw_i as a row-major p x p matrix (row i, column j), exact.
std::vector<double> PacfToArJacobian(std::span<const double> raw);
// True when 1 - ar1 z - ... - arp z^p has all roots outside the unit circle (R's arCheck).
bool IsStationaryAr(std::span<const double> ar);
// Reflects the roots of 1 + ma1 z + ... + maq z^q that lie inside the unit circle, which
// leaves the autocovariances unchanged up to scale (R's maInvert).
std::vector<double> InvertMa(std::span<const double> ma);

// ---- arima_state_space.cc: Harvey (1989, sec. 3.4) state space, Gardner et al. (1980) ----

// The stationary block's initial covariance Q0: solves P = T P T' + R R' (Gardner, Harvey &
// Phillips 1980, AS 154). Row-major r x r with r = max(p, q + 1); InvalidArgument when the
// system is singular (an AR root on the unit circle) or, unless `allow_explosive`, when the
// solution is not a covariance (an explosive AR part). With `derivatives`, also writes
// d Q0 / d phi_1..phi_p, d Q0 / d theta_1..theta_q there: p + q row-major r x r matrices, from
// the same factorised system.
Result<std::vector<double>> StationaryCovariance(std::span<const double> phi,
                                                 std::span<const double> theta,
                                                 bool allow_explosive = false,
                                                 std::vector<double>* derivatives = nullptr);

// Sums the filter accumulates: the concentrated likelihood needs ssq, sumlog and nu.
struct FilterSums {
  double ssq = 0.0;     // sum of innovation^2 / gain over non-diffuse steps
  double sumlog = 0.0;  // sum of log(gain) over non-diffuse steps
  int64_t nu = 0;       // number of non-diffuse steps
};

// Kalman filter for ARIMA(p,d,q) in R's state space (makeARIMA): states
// (r ARMA states, d lagged levels); allocation-free per observation. Once the predicted
// covariance stops changing (relative change < kSteadyTolerance) the covariance recursion
// is skipped: the gain is then constant (the Riccati equation has converged).
class ArimaKalmanFilter {
 public:
  static constexpr double kSteadyTolerance = 1e-14;

  // Sets the model and R's prior: a = 0, P = Q0 (+ kappa on the differenced states).
  // `allow_explosive` accepts an explosive AR part, whose Q0 is then the (indefinite)
  // solution of the same equations, as R's makeARIMA uses it for a css fit (R's css does not
  // require stationarity, and its forecasts filter with that Q0).
  // `q0_derivatives` receives StationaryCovariance's derivatives when given.
  Status Reset(std::span<const double> phi, std::span<const double> theta, int d,
               bool allow_explosive = false, std::vector<double>* q0_derivatives = nullptr);
  // Filters `x` (the series minus its regression part) from the current state. Writes
  // innovation / sqrt(gain) to `standardized` when it is non-empty (same length as x).
  FilterSums Run(std::span<const double> x, std::span<double> standardized = {});
  // Predictive means and variances (relative to sigma2) for horizons 1..mean.size() from
  // the current state, as R's KalmanFore. Does not change the state.
  void Forecast(std::span<double> mean, std::span<double> variance) const;

  void set_steady_state_enabled(bool enabled) { steady_enabled_ = enabled; }
  bool steady() const { return steady_; }
  int states() const { return rd_; }

  // Persistence of the filter state (model + a, P).
  struct Snapshot {
    std::vector<double> phi, theta, a, filtered_cov, predicted_cov;
    int d = 0;
    bool at_prior = true, steady = false;
  };
  Snapshot Save() const;
  Status Restore(const Snapshot& snapshot);

 private:
  friend class ArimaLikelihoodGradient;  // differentiates Step() alongside it
  using Vec = std::array<double, kMaxStates>;
  using Mat = std::array<double, kMaxStates * kMaxStates>;  // column-major, leading dim rd_

  // out = T in, for vectors stored with the given strides. kR > 0 and kD >= 0 fix r_ and d_
  // at compile time (the same arithmetic; the loops unroll).
  template <int kR = 0, int kD = -1>
  [[gnu::always_inline]] inline void Transition(const double* in, std::ptrdiff_t in_stride,
                                                double* out, std::ptrdiff_t out_stride) const;
  // predicted = T filtered T' + R R', and whether it changed by less than kSteadyTolerance;
  // small state spaces run an instance with r_ and d_ fixed.
  bool PredictCovariance();
  template <int kR, int kD>
  bool PredictCovarianceFixed();
  void UpdateGain();  // M = predicted Z and gain = Z' M
  template <int kR, int kD>
  void UpdateGainFixed();
  double Step(double x, FilterSums& sums);
  template <int kR, int kD>
  double StepFixed(double x, FilterSums& sums);
  // The rest of Run once steady_: the same arithmetic without the covariance recursion.
  void RunSteady(std::span<const double> x, std::span<double> standardized, FilterSums& sums);

  int p_ = 0, q_ = 0, r_ = 1, d_ = 0, rd_ = 1;
  std::array<double, kMaxArmaOrder> phi_{}, theta_{};
  std::array<double, kMaxDifferences> delta_{};
  Vec a_{}, a_pred_{}, gain_vec_{};
  Mat filtered_cov_{}, predicted_cov_{}, previous_predicted_{}, work_{};
  double gain_ = 0.0;
  bool at_prior_ = true;  // predicted_cov_ holds the prior for the first observation
  bool steady_ = false;
  bool steady_enabled_ = true;
};

// The filter's innermost operation, forced inline (also used by ArimaLikelihoodGradient).
template <int kR, int kD>
inline void ArimaKalmanFilter::Transition(const double* in, std::ptrdiff_t in_stride, double* out,
                                          std::ptrdiff_t out_stride) const {
  const int r = kR > 0 ? kR : r_;
  const int d = kD >= 0 ? kD : d_;
  const double first = in[0];
  for (int i = 0; i < r; ++i) {
    double value = i < p_ ? phi_[i] * first : 0.0;
    if (i + 1 < r) value += in[(i + 1) * in_stride];
    out[i * out_stride] = value;
  }
  if (d == 0) return;
  double level = first;
  for (int k = 0; k < d; ++k) level += delta_[k] * in[(r + k) * in_stride];
  // Shift the lagged levels before writing the new one (out may not alias in).
  for (int k = d - 1; k >= 1; --k) out[(r + k) * out_stride] = in[(r + k - 1) * in_stride];
  out[r * out_stride] = level;
}

// ---- arima_likelihood_gradient.cc: the exact likelihood's gradient ----

// R's armafn objective 0.5 (log(ssq / nu) + sumlog / nu) and its exact gradient with respect to
// the untransformed parameters (phi, theta, beta), by forward-mode differentiation of the
// Kalman filter: the derivatives of the state and its covariance are carried through every
// step, starting from d Q0 (the differentiated Gardner system). Once the covariance and its
// derivatives have converged only the state derivatives move, as the filter's steady loop.
// The value has the same bits as ArimaKalmanFilter::Run on the same model and data.
// The parameters ArimaKalmanFilter's transition T reads.
struct StateTransition {
  int p = 0, q = 0, r = 1, d = 0;
  std::array<double, kMaxArmaOrder> phi{}, theta{};
  std::array<double, kMaxDifferences> delta{};
};

class ArimaLikelihoodGradient {
 public:
  // `x` = y - beta * regressor; `regressor` is empty when beta is not a parameter, else as
  // long as x. `gradient` has p + q (+ 1) entries. Returns +infinity (gradient zero) when the
  // AR part has no stationary covariance. Leaves `filter` after the data.
  double Evaluate(ArimaKalmanFilter& filter, std::span<const double> phi,
                  std::span<const double> theta, int d, std::span<const double> x,
                  std::span<const double> regressor, std::span<double> gradient);

 private:
  void Prepare(const ArimaKalmanFilter& filter, bool has_beta);
  // Runs the filter and the derivative recursions over the data: Filter<kKc, kK> with the
  // covariance and total parameter counts fixed at compile time (0: the runtime k_cov_, k_).
  void FilterWithFixedWidth(ArimaKalmanFilter& filter, std::span<const double> x,
                            std::span<const double> regressor, FilterSums& sums);
  template <int kKc, int kK>
  void Filter(ArimaKalmanFilter& filter, std::span<const double> x,
              std::span<const double> regressor, FilterSums& sums);
  template <int kKc>
  void FilterWithCovarianceParameters(ArimaKalmanFilter& filter, std::span<const double> x,
                                      std::span<const double> regressor, FilterSums& sums);
  template <int kKc, int kK>
  void PredictCovarianceDerivatives(const ArimaKalmanFilter& filter);
  template <int kKc, int kK>
  void PredictStateDerivatives(double previous_level);
  template <int kKc, int kK>
  void UpdateCovarianceDerivatives(const ArimaKalmanFilter& filter);
  template <int kKc, int kK>
  void UpdateStateDerivatives(const ArimaKalmanFilter& filter, double innovation, double regressor,
                              bool counted);
  template <int kKc, int kK>
  void RunSteady(ArimaKalmanFilter& filter, std::span<const double> x,
                 std::span<const double> regressor, FilterSums& sums);

  StateTransition model_;
  int k_cov_ = 0;  // parameters the covariance depends on (p + q)
  int k_ = 0;      // all parameters (p + q + beta)
  int rd_ = 0;
  bool steady_ = false;  // the covariance derivatives have converged too
  std::vector<double> q0_derivatives_;
  // Column-major rd x rd (covariances) or rd (states, M = P Z) with the parameter innermost:
  // entry c of parameter m at c * k_cov_ + m (covariances) or c * k_ + m (the others).
  std::vector<double> cov_, predicted_cov_, state_, predicted_state_, gain_vec_, work_;
  std::vector<double> gain_;  // d F, F = Z' P Z
  std::vector<double> ssq_, sumlog_;
};

// ---- arima_css.cc: conditional sum of squares (R's ARIMA_CSS) ----

// Differences `x` d times in place (the first d values keep partial differences, unused).
void DifferenceInPlace(std::span<double> x, int d);
// Mean squared conditional residual of the differenced series `w` for t >= ncond, with
// residuals before ncond taken as 0. Writes the residuals (0 before ncond) when given.
double ConditionalSumOfSquares(std::span<const double> w, std::span<const double> phi,
                               std::span<const double> theta, int ncond,
                               std::span<double> residuals = {});
// One point of a batch: its differenced series and coefficients (p and q of the batch).
struct CssPoint {
  const double* w;
  const double* phi;
  const double* theta;
};
// ConditionalSumOfSquares for several points at once (series of length n), each with the
// same bits as alone; the independent recursions run interleaved, which is several times
// faster than one after the other (each is bound by the latency of its own recursion).
void ConditionalSumOfSquaresBatch(std::span<const CssPoint> points, int n, int p, int q, int ncond,
                                  std::span<double> mean_squares);
// The CSS objective 0.5 log(mean squared conditional residual) and its exact gradient with
// respect to (phi, theta, beta), where w = diff^d(y - beta * regressor) and the regressor
// (intercept or drift) differences to a column of ones, so dw_t / dbeta = -1 for t >= d
// (`has_beta` says whether beta is a parameter). `gradient` has p + q (+1) entries.
double ConditionalSumOfSquaresObjective(std::span<const double> w, std::span<const double> phi,
                                        std::span<const double> theta, int ncond, bool has_beta,
                                        std::span<double> gradient);

// ---- arima_optimize.cc: L-BFGS and the Hessian ----

// An objective of the (unscaled) parameter vector; may return non-finite values.
using Objective = std::function<double(std::span<const double>)>;
// An objective that also writes its gradient (same length as the parameters).
using GradientObjective = std::function<double(std::span<const double>, std::span<double>)>;
struct Minimum {
  std::vector<double> theta;  // the best point found
  double value = 0.0;         // the objective there
  int iterations = 0;
  bool converged = false;
};
// Minimises from `start`, working in units of `scale` (R's parscale; all > 0).
Minimum MinimizeLbfgs(const Objective& objective, std::span<const double> start,
                      std::span<const double> scale, int max_iterations, double gradient_tolerance,
                      double value_tolerance = 1e-15);
// The same with an exact gradient instead of central differences. It also stops when an
// iteration lowers the objective by less than `value_tolerance` relative (R's reltol), and
// with `stop_at_noise_floor` as soon as any evaluation moves the best value by less than that
// where the gradient is already below 1e-6: the objective's rounding noise (about 1e-13 on a
// differenced model, whose diffuse prior costs six digits) then hides further progress.
Minimum MinimizeLbfgs(const GradientObjective& objective, std::span<const double> start,
                      std::span<const double> scale, int max_iterations, double gradient_tolerance,
                      double value_tolerance = 1e-15, bool stop_at_noise_floor = false);
// ---- arima_variable_metric.cc: R's optim(method = "BFGS") ----

// Values of the objective at `count` points stored one after another in `points` (each as
// long as the parameter vector), written to `values`.
using BatchObjective =
    std::function<void(std::span<const double> points, int count, std::span<double> values)>;
// Nash's variable metric method as R's optim runs it (maxit, reltol), with optim's numerical
// gradient (central differences, step 1e-3 in units of `scale`; its 2k points are evaluated
// as one batch). `value` is NaN when a difference was not finite (optim's error);
// `converged` is optim's convergence == 0.
Minimum MinimizeLikeOptimBfgs(const BatchObjective& objective, std::span<const double> start,
                              std::span<const double> scale, int max_iterations,
                              double relative_tolerance);
// The same for an objective of one point at a time.
Minimum MinimizeLikeOptimBfgs(const Objective& objective, std::span<const double> start,
                              std::span<const double> scale, int max_iterations,
                              double relative_tolerance);

// Central-difference Hessian at `theta` (row-major k x k), steps proportional to `scale`.
std::vector<double> NumericalHessian(const Objective& objective, std::span<const double> theta,
                                     std::span<const double> scale);
// The same from an exact gradient: central differences of the gradient (2k gradients
// instead of 2k^2 + 1 values), symmetrised.
std::vector<double> NumericalHessian(const GradientObjective& objective,
                                     std::span<const double> theta, std::span<const double> scale);

// ---- arima_fit.cc: the estimation procedure of R's stats::arima ----

// Regression part: none, intercept (d == 0) or drift (d == 1, t = 1..n).
enum class RegressionKind { kNone, kIntercept, kDrift };
RegressionKind RegressionFor(const ArimaOptions& options);
// The coefficient names in R's order.
std::vector<std::string> CoefficientNames(const ArimaOptions& options);

// Everything Fit/FromCoefficients produce: the fit summary and the filter after the data.
struct FitOutcome {
  ArimaFit fit;
  ArimaKalmanFilter filter;
};
Result<FitOutcome> EstimateArima(std::span<const double> y, const ArimaOptions& options);
Result<FitOutcome> FilterWithCoefficients(std::span<const double> y, const ArimaOptions& options,
                                          std::span<const double> coefficients);

}  // namespace vigil::arima_internal

namespace vigil {
struct ArimaModel::State {
  ArimaOptions options;
  ArimaFit fit;
  arima_internal::ArimaKalmanFilter filter;
  int64_t size = 0;
};
}  // namespace vigil
