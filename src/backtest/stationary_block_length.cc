// The automatic mean block length of the stationary bootstrap (compare.h,
// StationaryBootstrapBlockLength): Politis & White (2004) with the correction of Patton,
// Politis & White (2009).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "vigil/backtest/compare.h"

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kMinPeriods = 3;  // as CompareSharpe: fewer give L = 1

double Mean(std::span<const double> values) {
  double sum = 0.0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

// Politis & White's constants: autocorrelations within +-2 sqrt(log10(n) / n) count as zero
// (about the 97.5 % normal quantile, with a log factor for the many lags tested), and at
// least 5 of them in a row mark the end of the correlated lags.
constexpr double kSignificanceWidth = 2.0;
constexpr int64_t kMinInsignificantRun = 5;

// Sample autocovariances R(k) = sum_t c_t c_{t+k} / n of a centred series, each computed on
// first use: the rule usually needs only a few lags of the up to sqrt(n) it may read.
class Autocovariances {
 public:
  explicit Autocovariances(std::vector<double> centred)
      : centred_(std::move(centred)), lags_(centred_.size(), kNaN) {}

  double At(int64_t lag) {
    double& value = lags_[static_cast<size_t>(lag)];
    if (std::isnan(value)) {
      const size_t n = centred_.size(), k = static_cast<size_t>(lag);
      double sum = 0.0;
      for (size_t t = 0; t + k < n; ++t) sum += centred_[t] * centred_[t + k];
      value = sum / static_cast<double>(n);
    }
    return value;
  }

 private:
  std::vector<double> centred_;
  std::vector<double> lags_;
};

// Politis (2003): the smallest m >= 0 such that the autocorrelations at lags m + 1 .. m + run
// (those up to max_lag) are all insignificant.
int64_t CorrelatedLags(Autocovariances& autocov, int64_t run, int64_t max_lag, double band) {
  const double variance = autocov.At(0);
  int64_t insignificant = 0;  // in a row, ending at `lag`
  for (int64_t lag = 1; lag <= max_lag; ++lag) {
    if (std::abs(autocov.At(lag) / variance) < band) {
      if (++insignificant == run) return lag - run;
    } else {
      insignificant = 0;
    }
  }
  return max_lag - insignificant;
}

// The trapezoidal flat-top lag window (Politis & Romano 1995): no downweighting of the first
// half of the lags, which is what makes the spectral estimates' bias small.
double FlatTop(double t) {
  t = std::abs(t);
  if (t <= 0.5) return 1.0;
  return t <= 1.0 ? 2.0 * (1.0 - t) : 0.0;
}

}  // namespace

double StationaryBootstrapBlockLength(std::span<const double> series) {
  const auto count = static_cast<int64_t>(series.size());
  if (count < kMinPeriods) return 1.0;
  const double n = static_cast<double>(count);
  const double mean = Mean(series);
  std::vector<double> centred(series.size());
  for (size_t t = 0; t < series.size(); ++t) centred[t] = series[t] - mean;
  Autocovariances autocov(std::move(centred));
  if (!(autocov.At(0) > 0.0)) return 1.0;

  const auto run = std::max<int64_t>(kMinInsignificantRun,
                                     static_cast<int64_t>(std::ceil(std::sqrt(std::log10(n)))));
  const int64_t max_lag =
      std::min<int64_t>(static_cast<int64_t>(std::ceil(std::sqrt(n))) + run, count - 1);
  const double longest = std::ceil(std::min(3.0 * std::sqrt(n), n / 3.0));
  const double band = kSignificanceWidth * std::sqrt(std::log10(n) / n);
  const int64_t bandwidth = std::min(2 * CorrelatedLags(autocov, run, max_lag, band), max_lag);

  // G and g: the weighted sums of the header, the lag-0 term of G being 0.
  double weighted_lags = 0.0, long_run_variance = autocov.At(0);
  for (int64_t lag = 1; lag <= bandwidth; ++lag) {
    const double weight =
        FlatTop(static_cast<double>(lag) / static_cast<double>(bandwidth)) * autocov.At(lag);
    weighted_lags += 2.0 * static_cast<double>(lag) * weight;
    long_run_variance += 2.0 * weight;
  }
  if (!(long_run_variance > 0.0)) return longest;
  // Patton, Politis & White (2009): D = 2 g^2 for the stationary bootstrap, so the optimal
  // (2 G^2 / D)^(1/3) n^(1/3) is (G / g)^(2/3) n^(1/3).
  const double ratio = weighted_lags / long_run_variance;
  return std::clamp(std::cbrt(ratio * ratio * n), 1.0, longest);  // longest >= 1 for n >= 3
}

}  // namespace vigil
