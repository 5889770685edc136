// Private O(1) building block for the on-chain and cross-instrument kernels: rolling
// co-moments of a pair of series (covariance, correlation, OLS slope). Single-series means
// and variances (RollingWindow), lags (LagRing) and extremes (RollingExtreme) are in
// rolling.h.
#pragma once

#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "rolling.h"

namespace vigil::features_internal {

// Means and co-moments (sums of products of deviations from the means) of the last `n`
// (x, y) pairs: cov = sxy / (n - 1), corr = sxy / sqrt(sxx syy), OLS slope = sxy / sxx.
//
// Each push updates the means and co-moments with the pairwise form of Welford's update
// (Welford 1962, Technometrics 4(3); the co-moment update of Pébay 2008, SAND2008-6212):
// working with deviations from the running means keeps large offsets (prices, epoch times)
// from cancelling. Rounding still accumulates, so every `n` pushes the window recomputes
// its statistics exactly (two passes over the buffer): O(1) amortised, and within a few
// ulps of a fresh computation. A push whose update cancels most of sxx or syy (an outlier
// leaving, a series going flat) triggers the exact recomputation at once, so a flat
// window reports an exact zero variance rather than rounding noise.
class RollingCovariance {
 public:
  explicit RollingCovariance(int n)
      : n_(n), xs_(static_cast<size_t>(n)), ys_(static_cast<size_t>(n)) {
    assert(n >= 1);
  }

  void Push(double x, double y) {
    bool suspect = false;
    if (count_ == n_) suspect = Remove(xs_[head_], ys_[head_]);
    xs_[head_] = x;
    ys_[head_] = y;
    head_ = (head_ + 1) % n_;
    suspect = Add(x, y) || suspect;
    if (full() && (suspect || ++pushes_since_exact_ >= n_)) Recompute();
  }

  void Reset() {
    count_ = head_ = pushes_since_exact_ = 0;
    mean_x_ = mean_y_ = sxx_ = syy_ = sxy_ = 0;
  }

  bool full() const { return count_ == n_; }
  int count() const { return count_; }
  double mean_x() const { return mean_x_; }
  double mean_y() const { return mean_y_; }
  double sxx() const { return sxx_; }
  double syy() const { return syy_; }
  double sxy() const { return sxy_; }

 private:
  // An update step larger than this multiple of the result means the result lost most of
  // its significant digits to cancellation (few ulps of |step| > ~1e-13 of the result).
  static constexpr double kMaxCancellation = 1e3;

  static bool Cancelled(double step, double result) {
    return result < 0 || std::fabs(step) > kMaxCancellation * result;
  }

  // Returns true when the co-moments are no longer trustworthy.
  bool Add(double x, double y) {
    ++count_;
    const double dx = x - mean_x_;
    const double dy = y - mean_y_;
    mean_x_ += dx / count_;
    mean_y_ += dy / count_;
    const double step_xx = dx * (x - mean_x_);
    const double step_yy = dy * (y - mean_y_);
    sxx_ += step_xx;
    syy_ += step_yy;
    sxy_ += dx * (y - mean_y_);
    return sxx_ < 0 || syy_ < 0;
  }

  // The inverse of Add: with m' the means without (x, y), the co-moments lose
  // (x - m'_x) (y - m_y).
  bool Remove(double x, double y) {
    --count_;
    if (count_ == 0) {
      mean_x_ = mean_y_ = sxx_ = syy_ = sxy_ = 0;
      return false;
    }
    const double dx = x - mean_x_;
    const double dy = y - mean_y_;
    mean_x_ -= dx / count_;
    mean_y_ -= dy / count_;
    const double step_xx = dx * (x - mean_x_);
    const double step_yy = dy * (y - mean_y_);
    sxx_ -= step_xx;
    syy_ -= step_yy;
    sxy_ -= dx * (y - mean_y_);
    return Cancelled(step_xx, sxx_) || Cancelled(step_yy, syy_);
  }

  void Recompute() {
    CompensatedSum sum_x;
    CompensatedSum sum_y;
    for (int i = 0; i < n_; ++i) {
      sum_x.Add(xs_[i]);
      sum_y.Add(ys_[i]);
    }
    mean_x_ = sum_x.value() / n_;
    mean_y_ = sum_y.value() / n_;
    sxx_ = syy_ = sxy_ = 0;
    for (int i = 0; i < n_; ++i) {
      const double dx = xs_[i] - mean_x_;
      const double dy = ys_[i] - mean_y_;
      sxx_ += dx * dx;
      syy_ += dy * dy;
      sxy_ += dx * dy;
    }
    pushes_since_exact_ = 0;
  }

  int n_;
  std::vector<double> xs_;  // ring buffers; [head_] is the next slot to write
  std::vector<double> ys_;
  int count_ = 0;
  int head_ = 0;
  int pushes_since_exact_ = 0;
  double mean_x_ = 0;
  double mean_y_ = 0;
  double sxx_ = 0;
  double syy_ = 0;
  double sxy_ = 0;
};

// A standard deviation at the rounding noise of the mean (a window of equal values whose
// mean came out an ulp off) is a flat window, not a tiny spread to divide by. Also true
// for a NaN sd.
inline bool IsFlat(double sd, double mean) {
  constexpr double kNoiseUlps = 64;
  return !(sd > kNoiseUlps * std::numeric_limits<double>::epsilon() * std::fabs(mean));
}

// Sample variance from a full RollingWindow of n >= 2 values.
inline double SampleVariance(const RollingWindow& window, int n) {
  return window.population_variance() * n / (n - 1);
}

}  // namespace vigil::features_internal
