// GARCH-family volatility models fitted by maximum likelihood: GARCH(1,1) (Bollerslev
// 1986), GJR-GARCH(1,1) (Glosten, Jagannathan & Runkle 1993) and EGARCH(1,1) (Nelson 1991),
// with normal or Student-t innovations, and variance forecasts, Value-at-Risk and Expected
// Shortfall. Conventions follow R's fGarch (garchFit), so GARCH(1,1) on the DEM/GBP series
// reproduces the Bollerslev-Ghysels benchmark (McCullough & Renfro 1999; Fiorentini,
// Calzolari & Panattoni 1996).
//
//   vigil::GarchOptions options;                 // GARCH(1,1), normal, constant mean
//   VIGIL_ASSIGN_OR_RETURN(vigil::GarchModel model, vigil::GarchModel::Fit(returns, options));
//   const double levels[] = {0.95, 0.99};
//   VIGIL_ASSIGN_OR_RETURN(vigil::GarchRisk risk, model.Risk(10, levels));  // 10-period VaR, ES
//
// Model, with r_t the series (returns; any scale, e.g. percent log returns), t = 1..n:
//   mean:    zero      r_t = e_t
//            constant  r_t = mu + e_t
//            ar1       r_t = mu + ar1 r_{t-1} + e_t   (t >= 2; fGarch sets e_1 = 0)
//   e_t = sqrt(h_t) z_t, z_t iid with mean 0 and variance 1: normal, or Student-t
//   standardized to variance 1 with `shape` = nu > 2 degrees of freedom (fGarch's "std").
//   variance: garch   h_t = omega + alpha1 e_{t-1}^2 + beta1 h_{t-1}
//             gjr     h_t = omega + (alpha1 + gamma1 [e_{t-1} < 0]) e_{t-1}^2 + beta1 h_{t-1}
//             egarch  ln h_t = omega + alpha1 (|z_{t-1}| - E|z|) + gamma1 z_{t-1}
//                              + beta1 ln h_{t-1}
//   Start (fGarch's "mci", the FCP benchmark's): s2 = mean(e_t^2) over all n residuals at
//   the current mean parameters (ar1: including e_1 = 0), and
//     garch   h_1 = omega + (alpha1 + beta1) s2          (e_0^2 = h_0 = s2)
//     gjr     h_1 = omega + (alpha_ap + beta1) s2, alpha_ap = ((sqrt(alpha1) +
//             sqrt(alpha1 + gamma1)) / 2)^2: fGarch fits GJR as APARCH(1,1) with delta = 2,
//             alpha_ap (|e| - g e)^2, i.e. alpha1 = alpha_ap (1 - g)^2, gamma1 = 4 alpha_ap g,
//             and starts with alpha_ap; keeping its start keeps the likelihoods equal.
//     egarch  ln h_1 = omega + beta1 ln s2               (the news term at its mean, 0)
//   The log-likelihood sums all n observations (fGarch's llh.start = 1).
// Bounds (fGarch's, on the series divided by its standard deviation, as fGarch fits):
// omega in [1e-6, 100] var(r); alpha1, alpha1 + gamma1 (gjr) and beta1 in [1e-8, 1 - 1e-8];
// |mu| <= 5 sd(r); |ar1| < 1; egarch |omega| <= 20, |alpha1|, |gamma1| <= 5, |beta1| < 1;
// shape in [2.01, 200] (fGarch caps it at 10). Like fGarch, stationarity (alpha1 + beta1
// (+ gamma1 / 2) < 1) is not imposed; unconditional_variance is then NaN.
// Variance targeting (option): omega is not estimated but set so that the unconditional
// variance equals s2 (garch/gjr: omega = s2 (1 - alpha1 - beta1 - gamma1 / 2); egarch:
// omega = (1 - beta1) ln s2); its standard errors are NaN.
// Fitting: bounded quasi-Newton (LBFGSpp's L-BFGS-B) with the analytic gradient (the
// derivative recursions of h_t), then Newton steps on the Hessian to full precision.
// Standard errors: the inverse of the Hessian of -loglik (central differences of the
// analytic gradient) -- these reproduce the benchmark's published standard errors, while
// fGarch's optimHess (differences of numerical gradients) differs by up to ~1%; robust: the
// Bollerslev-Wooldridge (1992) sandwich H^-1 (G'G) H^-1 with analytic per-observation
// scores G.
// Coefficient names (fGarch's): mu, ar1, omega, alpha1, gamma1, beta1, shape, in that order,
// each present only when the specification has it.
// Thread-safety: a fitted model is a value; const methods may be called concurrently.
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

enum class GarchSpec { kGarch, kGjr, kEgarch };
enum class GarchDistribution { kNormal, kStudentT };
enum class GarchMean { kZero, kConstant, kAr1 };
std::string_view GarchSpecName(GarchSpec spec);               // "garch", "gjr", "egarch"
std::string_view GarchDistributionName(GarchDistribution d);  // "normal", "t"
std::string_view GarchMeanName(GarchMean mean);               // "zero", "constant", "ar1"
Result<GarchSpec> ParseGarchSpec(std::string_view name);
Result<GarchDistribution> ParseGarchDistribution(std::string_view name);
Result<GarchMean> ParseGarchMean(std::string_view name);

struct GarchOptions {
  GarchSpec spec = GarchSpec::kGarch;
  GarchDistribution distribution = GarchDistribution::kNormal;
  GarchMean mean = GarchMean::kConstant;
  bool variance_targeting = false;
  int max_iterations = 500;  // >= 1
  // Risk simulation for horizons > 1 (see Risk): paths and seed.
  int simulations = 100000;  // >= 1000
  uint64_t seed = 0;
  Status Validate() const;  // InvalidArgument naming the field
};

struct GarchFit {
  GarchOptions options;
  std::vector<std::string> names;
  std::vector<double> coefficients;
  std::vector<double> standard_errors;         // Hessian; NaN when not positive definite
  std::vector<double> robust_standard_errors;  // sandwich; NaN likewise
  double loglik = std::numeric_limits<double>::quiet_NaN();
  double aic = std::numeric_limits<double>::quiet_NaN();  // -2 loglik + 2 k
  double bic = std::numeric_limits<double>::quiet_NaN();
  int64_t nobs = 0;    // observations fitted (Append does not change the fit statistics)
  int iterations = 0;  // L-BFGS-B iterations
  // converged: L-BFGS-B met its tolerance or the Newton polish converged.
  bool converged = false;
  // h_t and z_t = e_t / sqrt(h_t), t = 1..n, extended by Append; not serialised (empty
  // after FromJson until Append).
  std::vector<double> conditional_variance;
  std::vector<double> standardized_residuals;
  double unconditional_variance = std::numeric_limits<double>::quiet_NaN();  // NaN if none
  double Coefficient(std::string_view name) const;                           // NaN when absent
};

// Risk of the cumulative return over `horizon` periods, as positive losses in the series'
// units: VaR_a = -q_{1-a}(R), ES_a = -E[R | R <= q_{1-a}(R)], R = r_{T+1} + ... + r_{T+h}.
// horizon 1: exact from the innovation distribution; horizon > 1: simulated from the fitted
// model (options.simulations paths, options.seed), since the sum of GARCH returns has no
// closed form. Simulated VaR is the m-th smallest of the simulated R, m = ceil((1 - a) paths),
// and ES the mean of the m smallest. The generator is the library's own (xoshiro256++,
// ziggurat normals), so a seed gives the same numbers on every platform and call.
struct GarchRisk {
  int horizon = 1;
  std::vector<double> level;  // e.g. {0.95, 0.99}
  std::vector<double> var;    // one per level
  std::vector<double> es;
};

class GarchModel {
 public:
  GarchModel();
  ~GarchModel();
  GarchModel(const GarchModel&);
  GarchModel& operator=(const GarchModel&);
  GarchModel(GarchModel&&) noexcept;
  GarchModel& operator=(GarchModel&&) noexcept;

  // Needs >= 20 finite observations with non-zero variance (InvalidArgument otherwise);
  // FailedPrecondition when the optimiser finds no finite likelihood.
  static Result<GarchModel> Fit(std::span<const double> returns, const GarchOptions& options);
  bool fitted() const;
  const GarchFit& fit() const;

  // E[h_{T+k} | data to T], k = 1..horizon (horizon >= 1). garch / gjr: h_{T+k} = omega +
  // (alpha1 + beta1 (+ gamma1 / 2)) h_{T+k-1}. egarch with normal z: exact, multiplying in
  // E exp(beta1^i g(z)); with Student-t z that expectation is infinite, so the log-linear
  // forecast ln h_{T+k} = omega + beta1 ln h_{T+k-1} is used (as rugarch does).
  // FailedPrecondition when not fitted; InvalidArgument for horizon < 1.
  Result<std::vector<double>> VarianceForecast(int horizon) const;
  // Mean forecasts r_{T+k}, k = 1..horizon.
  Result<std::vector<double>> MeanForecast(int horizon) const;
  // VaR and ES (levels in (0, 1)); see GarchRisk.
  Result<GarchRisk> Risk(int horizon, std::span<const double> levels) const;
  // sqrt(periods_per_year x the mean of the variance forecasts over `horizon` periods).
  Result<double> AnnualizedVolatility(double periods_per_year, int horizon = 1) const;
  // Online update: extends the variance recursion over new returns with the fitted
  // coefficients (no refit); forecasts and risk then start from the last appended return.
  // InvalidArgument naming the index of a non-finite return; FailedPrecondition if unfitted.
  Status Append(std::span<const double> returns);

  // {"model": "garch", "spec", "distribution", "mean", "variance_targeting",
  //  "max_iterations", "simulations", "seed", "coefficients": {name: value},
  //  "standard_errors": {..}, "robust_standard_errors": {..} (null for NaN), "loglik", "aic",
  //  "bic", "nobs", "iterations", "converged", "unconditional_variance", "last_return",
  //  "last_residual", "last_variance"} (the end of the recursion, enough to forecast and
  //  Append). An unfitted model gives {}. FromJson checks every field's type and range
  //  (DataError naming the field).
  nlohmann::json ToJson() const;
  static Result<GarchModel> FromJson(const nlohmann::json& json);

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace vigil
