// ARIMA(p,d,q) fitted by exact Gaussian maximum likelihood, with R's `stats::arima`
// semantics (R 4.2), so that coefficients, log-likelihood, forecasts and their standard
// errors agree with R to the digits the verification tests check.
//
//   vigil::ArimaOptions options;
//   options.order = {1, 1, 1};
//   VIGIL_ASSIGN_OR_RETURN(vigil::ArimaModel model, vigil::ArimaModel::Fit(y, options));
//   VIGIL_ASSIGN_OR_RETURN(vigil::ArimaForecast path, model.Forecast(24));
//   VIGIL_RETURN_IF_ERROR(model.Append(new_values));  // online update, no refit
//
// Model (R's parameterisation): with x_t the series minus its regression part (intercept mu
// when d == 0, drift * t when d == 1, t = 1..n), w_t = (1-B)^d x_t follows
//   w_t = ar1 w_{t-1} + ... + arp w_{t-p} + e_t + ma1 e_{t-1} + ... + maq e_{t-q},
//   e_t ~ N(0, sigma2).
// Likelihood: the state-space form of Gardner, Harvey & Phillips (1980, Applied Statistics
// AS 154) with the differencing kept in the state (Harvey 1989, sec. 3.4) and a diffuse prior
// (kappa = 1e6) on the differenced states, as R's makeARIMA/ARIMA_Like; the stationary part's
// initial covariance solves the Lyapunov equation (Gardner's Q0). sigma2 is concentrated
// out; observations whose one-step variance is >= 1e4 (the diffuse start) do not enter.
// Information criteria: aic = -2 loglik + 2 (k + 1); aicc and bic as forecast::Arima:
// aicc = aic + 2 (k + 1) (n.used / (n.used - k - 2) - 1), bic = aic + (k + 1)(log n.used - 2).
// Methods: "ml" (exact likelihood from CSS-free starting values), "css-ml" (R's default:
// conditional-sum-of-squares fit first, its estimate starts the exact ML), "css" (CSS only;
// sigma2 = mean squared conditional residual; aic/aicc/bic are NaN, as R reports NA).
// Optimisation: L-BFGS (LBFGSpp) with the exact gradients of the likelihood (the Kalman filter
// differentiated) and of the CSS, on R's transformed space (Jones 1980: AR parts through the
// partial autocorrelations tanh-mapped into (-1, 1), so every iterate is stationary); the MA
// part is made invertible after the fit by reflecting roots inside the unit circle (R's
// maInvert). The CSS start of css-ml follows R's own path (optim's BFGS with its numerical
// gradient, maxit 100), since it decides which local optimum the exact ML reaches. Standard errors:
// the inverse Hessian of -loglik at the estimate, mapped back through the transformation's Jacobian
// (delta method), as R does. Names follow R: ar1..arp, ma1..maq, then intercept (d == 0) or drift
// (d == 1). Thread-safety: a fitted model is a value; const methods may be called concurrently.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"

namespace vigil {

struct ArimaOrder {
  int p = 0;  // AR order, 0..20
  int d = 0;  // differences, 0..2
  int q = 0;  // MA order, 0..20
  bool operator==(const ArimaOrder&) const = default;
};

enum class ArimaMethod { kMl, kCssMl, kCss };
std::string_view ArimaMethodName(ArimaMethod method);  // "ml", "css-ml", "css"
Result<ArimaMethod> ParseArimaMethod(std::string_view name);

struct ArimaOptions {
  ArimaOrder order;
  ArimaMethod method = ArimaMethod::kCssMl;
  // Adds `intercept` when d == 0 and `drift` when d == 1 (R: include.mean / forecast's
  // include.drift); ignored when d >= 2.
  bool include_constant = true;
  // L-BFGS iterations per optimisation, >= 1 (the CSS start of css-ml keeps R's maxit 100).
  int max_iterations = 1000;
  // L-BFGS stops when the gradient norm of -loglik / n.used (in parscale units) is below
  // this, > 0 (it also stops when an iteration lowers -loglik / n by less than 1e-12
  // relative). 1e-8 reaches R's optimum pushed to reltol 1e-14 (the fixture's "tight"
  // control) to 1e-4 in the coefficients on flat likelihoods (LakeHuron ARIMA(2,0,1)),
  // where 1e-7 stopped 1.5e-4 short.
  double gradient_tolerance = 1e-8;
  // Validates ranges; InvalidArgument naming the field.
  Status Validate() const;
};

struct ArimaFit {
  ArimaOrder order;
  ArimaMethod method = ArimaMethod::kCssMl;
  std::vector<std::string> names;  // "ar1".., "ma1".., "intercept" | "drift"
  std::vector<double> coefficients;
  // Row-major names.size() x names.size(): A' (n.used H)^-1 A with H the Hessian in the
  // optimiser's space (central differences of the exact gradient) and A the transformation's
  // Jacobian (R's var.coef).
  // Empty when H is singular or for FromCoefficients (standard_errors are then NaN).
  std::vector<double> covariance;
  std::vector<double> standard_errors;
  double sigma2 = std::numeric_limits<double>::quiet_NaN();
  double loglik = std::numeric_limits<double>::quiet_NaN();
  double aic = std::numeric_limits<double>::quiet_NaN();  // NaN for css
  double aicc = std::numeric_limits<double>::quiet_NaN();
  double bic = std::numeric_limits<double>::quiet_NaN();
  int64_t nobs = 0;  // observations used: n - d (R's n.used)
  int iterations = 0;
  bool converged = false;
  // R's residuals(), length n: for ml/css-ml the one-step innovations divided by the square
  // root of their variance relative to sigma2 (the first d, from the diffuse start, are
  // tiny, as in R); for css the conditional residuals with zeros for t < d + p.
  std::vector<double> residuals;
  // The value of a named coefficient, or NaN.
  double Coefficient(std::string_view name) const;
};

struct ArimaForecast {
  std::vector<double> mean;   // horizons 1..H
  std::vector<double> se;     // standard errors (sqrt of sigma2 x the filter's variance)
  std::vector<double> level;  // interval levels, e.g. {0.8, 0.95}
  std::vector<std::vector<double>> lower;  // lower[i][h] for level[i], horizon h + 1
  std::vector<std::vector<double>> upper;
};

class ArimaModel {
 public:
  ArimaModel();  // unfitted
  ~ArimaModel();
  ArimaModel(const ArimaModel&);
  ArimaModel& operator=(const ArimaModel&);
  ArimaModel(ArimaModel&&) noexcept;
  ArimaModel& operator=(ArimaModel&&) noexcept;

  // Fits to `y` (finite values; NaN and infinities are InvalidArgument naming the index).
  // Needs more observations than parameters + d (InvalidArgument otherwise). A CSS start
  // whose AR part is non-stationary, or an optimisation that fails to produce a finite
  // likelihood, is FailedPrecondition naming the order.
  static Result<ArimaModel> Fit(std::span<const double> y, const ArimaOptions& options);
  // Fixed coefficients (in fit().names order), no optimisation: filters y and computes
  // sigma2/loglik as R's arima(..., fixed=) does (so aic counts only sigma2: -2 loglik + 2,
  // and covariance is empty). The AR part must be stationary for ml/css-ml
  // (InvalidArgument otherwise). Used by online refits and tests.
  static Result<ArimaModel> FromCoefficients(std::span<const double> y, const ArimaOptions& options,
                                             std::span<const double> coefficients);

  bool fitted() const;
  const ArimaFit& fit() const;
  const ArimaOptions& options() const;
  // Observations seen (fit + appended).
  int64_t size() const;

  // Forecasts horizons 1..horizon (>= 1) from the end of the data seen, with standard
  // errors and normal intervals at `levels` (each in (0, 1)), as R's predict.Arima.
  Result<ArimaForecast> Forecast(int horizon, std::span<const double> levels = {}) const;
  // Online update: runs the Kalman filter over new observations with the fitted
  // coefficients unchanged, so Forecast continues from the new end (the drift's time index
  // advances). Equals refiltering the whole series with the same coefficients.
  Status Append(std::span<const double> values);

  // Persistence: options, fit and the filter state; FromJson validates everything
  // (DataError naming the field).
  nlohmann::json ToJson() const;
  static Result<ArimaModel> FromJson(const nlohmann::json& json);

  struct State;  // the filter state and data needed to continue (arima_state_space.h)

 private:
  std::unique_ptr<State> state_;
};

}  // namespace vigil
