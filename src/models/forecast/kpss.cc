// The KPSS level-stationarity test (Kwiatkowski, Phillips, Schmidt & Shin 1992, J.
// Econometrics 54: eq. (11) for the statistic, eq. (10) for the Bartlett-window long-run
// variance) with urca::ur.kpss's conventions, and forecast::ndiffs's repeated use of it.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "models/forecast/auto_arima_series.h"
#include "vigil/models/forecast/auto_arima.h"

namespace vigil {
namespace auto_arima_internal {

bool IsConstantLikeR(std::span<const double> y) {
  // R's all.equal.numeric tolerance: sqrt(.Machine$double.eps).
  const double tolerance = std::sqrt(std::numeric_limits<double>::epsilon());
  if (y.empty()) return true;
  const double first = y[0];
  double abs_sum = 0, diff_sum = 0;
  int differing = 0;
  for (double v : y) {
    if (v == first) continue;
    ++differing;
    abs_sum += std::fabs(v);
    diff_sum += std::fabs(v - first);
  }
  if (differing == 0) return true;
  double scale = abs_sum / differing;
  if (!(std::isfinite(scale) && scale > tolerance)) scale = 1;
  const double mean_difference = diff_sum / (differing * scale);
  return !(std::isnan(mean_difference) || mean_difference > tolerance);
}

std::vector<double> Difference(std::span<const double> y, int order) {
  std::vector<double> out(y.begin(), y.end());
  for (int round = 0; round < order && !out.empty(); ++round) {
    for (size_t t = 0; t + 1 < out.size(); ++t) out[t] = out[t + 1] - out[t];
    out.pop_back();
  }
  return out;
}

}  // namespace auto_arima_internal

namespace {

Status CheckFinite(std::span<const double> y) {
  for (size_t t = 0; t < y.size(); ++t) {
    if (!std::isfinite(y[t])) {
      return InvalidArgument("KPSS: value at index " + std::to_string(t) + " is not finite");
    }
  }
  return Status::Ok();
}

// Bartlett lag window truncation used by ndiffs: trunc(3 sqrt(n) / 13).
int KpssLags(size_t n) { return static_cast<int>(3.0 * std::sqrt(static_cast<double>(n)) / 13.0); }

// urca's statistic without input checks: mean-removed partial sums over the long-run
// variance estimate.
double KpssStatisticUnchecked(std::span<const double> y) {
  const size_t n = y.size();
  const double nd = static_cast<double>(n);
  const double mean = std::accumulate(y.begin(), y.end(), 0.0) / nd;
  std::vector<double> res(n);
  for (size_t t = 0; t < n; ++t) res[t] = y[t] - mean;
  double partial = 0, partial_squares = 0, squares = 0;
  for (double r : res) {
    partial += r;
    partial_squares += partial * partial;
    squares += r * r;
  }
  const int lags = KpssLags(n);
  double long_run = squares / nd;
  for (int lag = 1; lag <= lags; ++lag) {
    double autocov = 0;
    for (size_t t = lag; t < n; ++t) autocov += res[t] * res[t - lag];
    const double bartlett = 1.0 - static_cast<double>(lag) / (lags + 1);
    long_run += 2.0 / nd * bartlett * autocov;
  }
  return (partial_squares / (nd * nd)) / long_run;
}

}  // namespace

Result<double> KpssStatistic(std::span<const double> y) {
  if (y.size() < 2) return InvalidArgument("KPSS: needs at least 2 observations");
  VIGIL_RETURN_IF_ERROR(CheckFinite(y));
  return KpssStatisticUnchecked(y);
}

double KpssPValue(double statistic) {
  // urca's level ("mu") critical values and their sizes, as ndiffs feeds them to
  // approx(..., rule = 2).
  constexpr std::array<double, 4> kCritical = {0.347, 0.463, 0.574, 0.739};
  constexpr std::array<double, 4> kSize = {0.10, 0.05, 0.025, 0.01};
  if (std::isnan(statistic)) return statistic;
  if (statistic <= kCritical.front()) return kSize.front();
  if (statistic >= kCritical.back()) return kSize.back();
  size_t upper = 1;
  while (kCritical[upper] < statistic) ++upper;
  const double weight =
      (statistic - kCritical[upper - 1]) / (kCritical[upper] - kCritical[upper - 1]);
  return kSize[upper - 1] + weight * (kSize[upper] - kSize[upper - 1]);
}

Result<int> KpssDifferences(std::span<const double> y, double alpha, int max_d) {
  if (!(alpha >= 0.01 && alpha <= 0.1)) {
    return InvalidArgument("KPSS: alpha must be in [0.01, 0.1]");
  }
  if (max_d < 0 || max_d > 2) return InvalidArgument("KPSS: max_d must be in 0..2");
  if (y.size() < 2) return InvalidArgument("KPSS: needs at least 2 observations");
  VIGIL_RETURN_IF_ERROR(CheckFinite(y));
  std::vector<double> x(y.begin(), y.end());
  if (auto_arima_internal::IsConstantLikeR(x)) return 0;
  // ndiffs: an undefined p-value (NaN statistic) stops at the differences already taken.
  double p_value = KpssPValue(KpssStatisticUnchecked(x));
  if (std::isnan(p_value)) return 0;
  int d = 0;
  while (p_value < alpha && d < max_d) {
    ++d;
    x = auto_arima_internal::Difference(x, 1);
    if (auto_arima_internal::IsConstantLikeR(x)) return d;
    p_value = KpssPValue(KpssStatisticUnchecked(x));
    if (std::isnan(p_value)) return d - 1;
  }
  return d;
}

}  // namespace vigil
