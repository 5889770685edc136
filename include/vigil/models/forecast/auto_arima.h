// Automatic ARIMA order selection: the stepwise algorithm of Hyndman & Khandakar
// ("Automatic time series forecasting: the forecast package for R", JSS 27(3), 2008), with
// the semantics and defaults of R's forecast::auto.arima (forecast 8.20), non-seasonal:
// - d: the number of differences by repeated KPSS tests (Kwiatkowski, Phillips, Schmidt &
//   Shin 1992; level stationarity, Bartlett window with trunc(3 sqrt(n) / 13) lags, as
//   forecast::ndiffs with urca::ur.kpss): difference while the test's interpolated p-value
//   is below `kpss_alpha`, up to max_d; a series that is constant (R's is.constant, i.e.
//   all.equal within 1.5e-8) needs no further difference.
// - the search: start from (start_p,d,start_q), (0,d,0), (1,d,0), (0,d,1) (each with a
//   constant when allowed: a mean when d == 0, a drift when d == 1) and (0,d,0) without;
//   then, from the best so far, try p and q moved by +-1 (alone, then both together) and
//   finally the constant toggled, in auto.arima's order, moving to the first improvement
//   (strictly lower criterion; ties keep the earlier model) until no neighbour improves or
//   max_models candidates were tried. A candidate whose AR or MA polynomial has a root of
//   modulus < 1.01 (forecast 8.20's myarima), whose coefficient variances are not all
//   positive, or that fails to fit scores +infinity.
// - approximation (default: n > 150, as auto.arima): the search fits by CSS and scores
//   offset + (n - d) log(sigma2_css) + 2 npar (myarima), with offset = -2 loglik - n
//   log(sigma2) of the exact ML ARIMA(0,d,0) (a mean when d == 0); then the candidates are
//   refitted by exact ML (css-ml) in order of their approximate criterion and the first that
//   scores finitely is chosen. If none does, the best CSS fit is returned (as R does).
// - non-stepwise: every (p, q) with p + q <= max_order, with and without the constant.
// - max_p and max_q are capped at floor(n / 3); n <= 3 uses AIC; n < 10 starts at most at
//   (1,d,1). A constant series is ARIMA(0,0,0) with its mean fixed; a series constant after
//   d differences is ARIMA(0,d,0) (with the mean of the differences fixed when d <= 1).
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::AutoArimaResult chosen, vigil::AutoArima(y, {}));
//   chosen.model.Forecast(24);
//
// Thread-safety: pure functions; AutoArimaMany fits series on `threads` threads and its
// results do not depend on the thread count.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/forecast/arima.h"

namespace vigil {

enum class InformationCriterion { kAicc, kAic, kBic };

struct AutoArimaOptions {
  int max_p = 5;           // >= 0
  int max_q = 5;           // >= 0
  int max_order = 5;       // max p + q (used by the non-stepwise search), >= 0
  int max_d = 2;           // 0..2
  int start_p = 2;         // >= 0 (capped at max_p)
  int start_q = 2;         // >= 0 (capped at max_q)
  int d = -1;              // -1: chosen by KPSS; otherwise fixed, 0..2
  bool stepwise = true;    // false: every (p, q) with p + q <= max_order
  int approximation = -1;  // -1: auto (n > 150); 0: never; 1: always
  bool allow_drift = true;
  bool allow_mean = true;
  double kpss_alpha = 0.05;  // in [0.01, 0.1] (p-values interpolate urca's table)
  InformationCriterion ic = InformationCriterion::kAicc;
  int max_models = 94;  // stepwise budget (auto.arima's nmodels), >= 1
  // InvalidArgument naming the field.
  Status Validate() const;
};

// One candidate the search scored, in the order tried (auto.arima's `results` matrix).
struct AutoArimaCandidate {
  ArimaOrder order;
  bool constant = false;
  // The criterion used during the search (approximate when `approximated`); +infinity when
  // the fit failed or was rejected (roots, variances).
  double ic = 0;
};

struct AutoArimaResult {
  // The chosen model: fitted by exact ML (css-ml), except in the rare case where every
  // refit of an approximate search failed (then its CSS fit, as R returns), or a constant
  // series (fixed coefficients, see above).
  ArimaModel model;
  ArimaOrder order;
  bool constant = false;                  // intercept or drift included
  double ic = 0;                          // the chosen model's criterion value (of its final fit)
  int models_tried = 0;                   // candidates scored in the search (trace.size())
  bool approximated = false;              // the search used CSS approximations
  std::vector<AutoArimaCandidate> trace;  // every candidate scored, in search order
};

// The KPSS level-stationarity statistic (type "mu") with lags trunc(3 sqrt(n) / 13)
// (Bartlett window), as urca::ur.kpss(y, use.lag = trunc(3 * sqrt(n) / 13)).
// InvalidArgument for n < 2 or non-finite values.
Result<double> KpssStatistic(std::span<const double> y);
// The p-value ndiffs assigns to a level KPSS statistic: linear interpolation of urca's
// critical values (0.347, 0.463, 0.574, 0.739 at 10%, 5%, 2.5%, 1%), clamped to
// [0.01, 0.1]; NaN for a NaN statistic.
double KpssPValue(double statistic);
// Differences needed by repeated KPSS tests (forecast::ndiffs(test = "kpss")); 0 for a
// constant series. InvalidArgument for alpha outside [0.01, 0.1], max_d outside 0..2,
// non-finite values or n < 2.
Result<int> KpssDifferences(std::span<const double> y, double alpha = 0.05, int max_d = 2);

// Fails with InvalidArgument for bad options or input (non-finite values, n < 3), and
// FailedPrecondition when no candidate model could be fitted.
Result<AutoArimaResult> AutoArima(std::span<const double> y, const AutoArimaOptions& options);

// Many series at once on `threads` threads (0 = all cores, std::thread::hardware_concurrency;
// negative is treated as 0); result i is series i's, equal to AutoArima(series[i], options).
std::vector<Result<AutoArimaResult>> AutoArimaMany(const std::vector<std::vector<double>>& series,
                                                   const AutoArimaOptions& options,
                                                   int threads = 0);

}  // namespace vigil
