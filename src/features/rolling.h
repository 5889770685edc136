// Private O(1) building blocks for the TTR-exact averages in ta_averages.cc: a fixed-size
// window with running sum, weighted sum and squared deviations, and a seeded EMA.
#pragma once

#include <cassert>
#include <cmath>
#include <limits>
#include <vector>

namespace vigil::features_internal {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Neumaier's compensated sum (Neumaier 1974, "Rundungsfehleranalyse einiger Verfahren zur
// Summation endlicher Summen"): a running total that adds and subtracts values of very
// different magnitude (a price level shift leaving the window) without losing the small ones.
class CompensatedSum {
 public:
  void Add(double x) {
    const double total = total_ + x;
    compensation_ +=
        std::fabs(total_) >= std::fabs(x) ? (total_ - total) + x : (x - total) + total_;
    total_ = total;
  }
  double value() const { return total_ + compensation_; }

 private:
  double total_ = 0;
  double compensation_ = 0;
};

// The last `n` values with their running sum (SMA), linearly weighted sum (WMA, weights 1..n
// from oldest to newest) and sum of squared deviations from the mean (population variance).
//
// Running updates accumulate rounding error without bound over a long stream (5,550 TTR bars,
// years of 5-minute candles), and lose the small values outright when a large one leaves the
// window. So the sums are compensated (CompensatedSum), and every `n` pushes the window
// recomputes its statistics exactly from the buffer: O(n) once per n pushes, i.e. O(1)
// amortised, keeping the error at a few ulps of a fresh computation, which the 1e-9 TTR check
// needs for the Bollinger %B when the band is narrow. The squared deviations cannot be
// compensated that way (their update is a product of rounded differences), so an update that
// cancels most of them (a big value leaving) triggers an exact recomputation as well; only an
// adversarial geometric series triggers that every bar, never a price series.
class RollingWindow {
 public:
  explicit RollingWindow(int n) : n_(n), values_(static_cast<size_t>(n)) { assert(n >= 1); }

  void Push(double x) {
    if (count_ < n_) {
      Append(x);
    } else {
      Replace(x);
    }
    head_ = (head_ + 1) % n_;
    if (++pushes_since_exact_ >= n_ && full()) Recompute();
  }

  void Reset() {
    count_ = head_ = pushes_since_exact_ = 0;
    sum_ = weighted_sum_ = {};
    m2_ = 0;
  }

  bool full() const { return count_ == n_; }
  double sum() const { return sum_.value(); }
  double weighted_sum() const { return weighted_sum_.value(); }
  double mean() const { return sum() / n_; }
  // Sum of squared deviations over n (TTR runSD(sample = FALSE)); only valid when full().
  double population_variance() const { return m2_ / n_; }

 private:
  // Welford's update for a growing window (Welford 1962, Technometrics 4(3)).
  void Append(double x) {
    const double old_mean = count_ > 0 ? sum() / count_ : x;
    values_[head_] = x;
    ++count_;
    weighted_sum_.Add(count_ * x);  // the newest value of a growing window weighs `count_`
    sum_.Add(x);
    m2_ += (x - old_mean) * (x - sum() / count_);
  }

  // Sliding a full window by one: every kept value loses one unit of weight, the newest
  // gets n, and the squared deviations move by the add-one-drop-one form of Welford's update.
  void Replace(double x) {
    const double dropped = values_[head_];
    values_[head_] = x;
    const double old_sum = sum();
    weighted_sum_.Add(n_ * x);
    weighted_sum_.Add(-old_sum);
    sum_.Add(x);
    sum_.Add(-dropped);
    const double step = (x - dropped) * (x - mean() + dropped - old_sum / n_);
    m2_ += step;
    // The step carries an error of a few ulps of |step|. Below this ratio that is under ~1e-13
    // of the variance per bar; above it (the variance collapsed, e.g. an outlier left the
    // window) the running value is untrustworthy, so recompute from the buffer on this push.
    constexpr double kMaxCancellation = 1e3;
    if (m2_ < 0 || std::fabs(step) > kMaxCancellation * m2_) pushes_since_exact_ = n_;
  }

  // Exact statistics from the buffer, oldest value first (head_ points at the oldest).
  void Recompute() {
    sum_ = weighted_sum_ = {};
    for (int i = 0; i < n_; ++i) {
      const double x = values_[(head_ + i) % n_];
      sum_.Add(x);
      weighted_sum_.Add((i + 1) * x);
    }
    const double mean = this->mean();
    m2_ = 0;
    for (double x : values_) m2_ += (x - mean) * (x - mean);
    pushes_since_exact_ = 0;
  }

  int n_;
  std::vector<double> values_;  // ring buffer; values_[head_] is the next slot to write
  int count_ = 0;
  int head_ = 0;
  int pushes_since_exact_ = 0;
  CompensatedSum sum_;
  CompensatedSum weighted_sum_;
  double m2_ = 0;
};

// TTR's EMA (TTR::EMA): NaN for the first n - 1 inputs, the simple mean of the first n inputs
// at the n-th, then value = x * ratio + value * (1 - ratio). Callers feed only defined
// inputs, which reproduces TTR skipping an input series' leading NAs (MACD signal, RSI).
class SeededEma {
 public:
  SeededEma(int n, double ratio) : n_(n), ratio_(ratio) { assert(n >= 1); }

  double Update(double x) {
    if (count_ < n_) {
      seed_sum_ += x;
      if (++count_ < n_) return kNaN;
      value_ = seed_sum_ / n_;
      return value_;
    }
    value_ = x * ratio_ + value_ * (1 - ratio_);
    return value_;
  }

  void Reset() {
    count_ = 0;
    seed_sum_ = 0;
    value_ = kNaN;
  }

 private:
  int n_;
  double ratio_;
  int count_ = 0;
  double seed_sum_ = 0;
  double value_ = kNaN;
};

// Smoothing ratios of TTR::EMA: the usual 2 / (n + 1), and Wilder's 1 / n (wilder = TRUE).
inline double EmaRatio(int n) { return 2.0 / (n + 1); }
inline double WilderRatio(int n) { return 1.0 / n; }

}  // namespace vigil::features_internal
