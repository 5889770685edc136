// Private O(1) building blocks for the TTR-exact kernels (ta_averages.cc, price_kernels.cc):
// a fixed-size window with running sum, weighted sum and squared deviations, a lighter
// rolling sum, rolling extremes, a seeded EMA and Wilder's running sum.
#pragma once

#include <cassert>
#include <cmath>
#include <cstdint>
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
  // What a window tracks besides the plain sum: each costs a compensated sum (or the
  // squared-deviation update) per push, so kernels ask only for what they read.
  enum Stats : unsigned {
    kSumOnly = 0,
    kWeightedSum = 1u << 0,        // weighted_sum() (WMA; pair it with kSquaredDeviations,
                                   // whose cancellation check also resyncs the weighted
                                   // sum after a level shift)
    kSquaredDeviations = 1u << 1,  // population_variance(), sample_variance()
  };

  explicit RollingWindow(int n, unsigned stats = kWeightedSum | kSquaredDeviations)
      : n_(n),
        weighted_((stats & kWeightedSum) != 0),
        squares_((stats & kSquaredDeviations) != 0),
        values_(static_cast<size_t>(n)) {
    assert(n >= 1);
  }

  void Push(double x) {
    if (count_ < n_) {
      Append(x);
    } else {
      Replace(x);
    }
    head_ = head_ + 1 == n_ ? 0 : head_ + 1;  // no division on the hot path
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
  // Sum of squared deviations over n - 1 (TTR runSD(sample = TRUE)); only valid when full()
  // and n >= 2.
  double sample_variance() const { return m2_ / (n_ - 1); }

 private:
  // Welford's update for a growing window (Welford 1962, Technometrics 4(3)).
  void Append(double x) {
    const double old_mean = count_ > 0 ? sum() / count_ : x;
    values_[head_] = x;
    ++count_;
    if (weighted_) weighted_sum_.Add(count_ * x);  // the newest value weighs `count_`
    sum_.Add(x);
    if (squares_) m2_ += (x - old_mean) * (x - sum() / count_);
  }

  // Sliding a full window by one: every kept value loses one unit of weight, the newest
  // gets n, and the squared deviations move by the add-one-drop-one form of Welford's update.
  void Replace(double x) {
    const double dropped = values_[head_];
    values_[head_] = x;
    const double old_sum = sum();
    if (weighted_) {
      weighted_sum_.Add(n_ * x);
      weighted_sum_.Add(-old_sum);
    }
    sum_.Add(x);
    sum_.Add(-dropped);
    if (!squares_) return;
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
      if (weighted_) weighted_sum_.Add((i + 1) * x);
    }
    pushes_since_exact_ = 0;
    if (!squares_) return;
    const double mean = this->mean();
    m2_ = 0;
    for (double x : values_) m2_ += (x - mean) * (x - mean);
  }

  int n_;
  bool weighted_;
  bool squares_;
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

// The sum of the last `n` values (TTR runSum), for kernels that need only the sum: a lighter
// RollingWindow. Compensated, and recomputed exactly from the buffer every `n` pushes, so it
// neither drifts over an endless stream nor keeps the rounding residue of a large value that
// has left the window. Callers push finite values only.
class RollingSum {
 public:
  explicit RollingSum(int n) : n_(n), values_(static_cast<size_t>(n)) { assert(n >= 1); }

  void Push(double x) {
    if (count_ == n_) {
      sum_.Add(-values_[head_]);
    } else {
      ++count_;
    }
    values_[head_] = x;
    sum_.Add(x);
    head_ = head_ + 1 == n_ ? 0 : head_ + 1;
    if (++pushes_since_exact_ >= n_ && full()) Resync();
  }

  void Reset() {
    count_ = head_ = pushes_since_exact_ = 0;
    sum_ = {};
  }

  bool full() const { return count_ == n_; }
  double sum() const { return sum_.value(); }

  // Recomputes the sum exactly from the buffer now: O(n). For callers that must tell a
  // rounding residue from a true value (a sum of non-negative terms that came out negative).
  void Resync() {
    sum_ = {};
    for (int i = 0; i < count_; ++i) sum_.Add(values_[i]);
    pushes_since_exact_ = 0;
  }

 private:
  int n_;
  std::vector<double> values_;  // ring buffer; values_[head_] is the next slot to write
  int count_ = 0;
  int head_ = 0;
  int pushes_since_exact_ = 0;
  CompensatedSum sum_;
};

// The extreme (maximum with std::greater, minimum with std::less) of the last `n` values, as
// TTR's runMax / runMin: the monotonic-deque ("ascending minima") algorithm, O(1) amortised.
// The deque holds the values that can still become the extreme, best first, in a ring of n
// slots (it never holds more than the window), so an update allocates nothing.
template <typename Beats>
class RollingExtreme {
 public:
  explicit RollingExtreme(int n) : n_(n), slots_(static_cast<size_t>(n)) { assert(n >= 1); }

  // Pushes `x` (not NaN) and returns the extreme of the last n values, NaN until n are seen.
  double Push(double x) {
    if (size_ > 0 && slots_[front_].index <= index_ - n_) PopFront();
    // A value that the new one ties or beats can never be the extreme again.
    while (size_ > 0 && !Beats()(Back().value, x)) --size_;
    slots_[Wrap(front_ + size_)] = {index_, x};
    ++size_;
    ++index_;
    return index_ < n_ ? kNaN : slots_[front_].value;
  }

  void Reset() { index_ = front_ = size_ = 0; }

 private:
  struct Slot {
    int64_t index;
    double value;
  };

  int Wrap(int i) const { return i >= n_ ? i - n_ : i; }
  const Slot& Back() const { return slots_[Wrap(front_ + size_ - 1)]; }
  void PopFront() {
    front_ = Wrap(front_ + 1);
    --size_;
  }

  int n_;
  std::vector<Slot> slots_;
  int64_t index_ = 0;  // pushes so far = index of the next value
  int front_ = 0;
  int size_ = 0;
};

// Wilder's running sum, as TTR's wilderSum(x, n) (ADX's smoothing of the true range and the
// directional movements): S_t = x_t + S_{t-1} * (n - 1) / n. TTR's first value is x_n plus
// the raw sum of the n - 1 earlier values times (n - 1) / n, an unusual seed reproduced here.
class WilderSum {
 public:
  explicit WilderSum(int n) : n_(n) { assert(n >= 1); }

  // Returns NaN until n values have been seen.
  double Add(double x) {
    if (count_ < n_ - 1) {
      seed_ += x;
      ++count_;
      return kNaN;
    }
    const double previous = count_ == n_ - 1 ? seed_ : value_;
    count_ = n_;
    value_ = x + previous * (n_ - 1) / n_;
    return value_;
  }

  void Reset() {
    count_ = 0;
    seed_ = 0;
    value_ = kNaN;
  }

 private:
  int n_;
  int count_ = 0;
  double seed_ = 0;
  double value_ = kNaN;
};

// The last `n` values in a ring, for lagged values (x - x[n], x / x[n]): O(1), allocation
// free, no division per push.
class LagRing {
 public:
  explicit LagRing(int n) : values_(static_cast<size_t>(n)) { assert(n >= 1); }

  // Stores x, overwriting the value pushed n pushes ago.
  void Push(double x) {
    values_[head_] = x;
    head_ = head_ + 1 == values_.size() ? 0 : head_ + 1;
    if (count_ < values_.size()) ++count_;
  }
  void Reset() { head_ = count_ = 0; }
  // n values have been pushed.
  bool full() const { return count_ == values_.size(); }
  // The value the next Push overwrites: the oldest of the last n (precondition: full()).
  double oldest() const { return values_[head_]; }
  // The newest value (precondition: at least one push).
  double latest() const { return values_[head_ == 0 ? values_.size() - 1 : head_ - 1]; }

 private:
  std::vector<double> values_;  // values_[head_] is the oldest once full
  size_t head_ = 0;
  size_t count_ = 0;
};

// Smoothing ratios of TTR::EMA: the usual 2 / (n + 1), and Wilder's 1 / n (wilder = TRUE).
inline double EmaRatio(int n) { return 2.0 / (n + 1); }
inline double WilderRatio(int n) { return 1.0 / n; }

}  // namespace vigil::features_internal
