// Range, trend and volume kernels: true range, ATR, ADX, stochastic, OBV, log returns and
// realized volatility. Each follows R's TTR package (0.24.3) to the bit where practical:
// the order of floating-point operations mirrors TTR's C code so the fixture matches to
// ~1e-15, well inside the 1e-9 contract.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "vigil/features/ta.h"

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// --- private rolling helpers ---

// Wilder's (1978) smoothing, as TTR's EMA(x, n, wilder = TRUE): ratio 1/n, seeded with the
// mean of the first n values. The seed accumulates x / n (not sum / n) because TTR does.
class WilderAverage {
 public:
  explicit WilderAverage(int n) : n_(n) {}
  // Returns NaN until n values have been seen.
  double Add(double x) {
    if (count_ < n_) {
      seed_ += x / n_;
      if (++count_ < n_) return kNaN;
      value_ = seed_;
      return value_;
    }
    const double ratio = 1.0 / n_;
    value_ = x * ratio + value_ * (1 - ratio);
    return value_;
  }
  void Reset() { count_ = 0, seed_ = 0, value_ = kNaN; }

 private:
  int n_;
  int count_ = 0;
  double seed_ = 0;
  double value_ = kNaN;
};

// Wilder's running sum, as TTR's wilderSum(x, n) (used by ADX for TR and the directional
// movements): S_t = x_t + S_{t-1} * (n - 1) / n. TTR's first value is x_n plus the raw sum of
// the n - 1 earlier values times (n - 1) / n, an unusual seed we reproduce exactly.
class WilderSum {
 public:
  explicit WilderSum(int n) : n_(n) {}
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
  void Reset() { count_ = 0, seed_ = 0, value_ = kNaN; }

 private:
  int n_;
  int count_ = 0;
  double seed_ = 0;
  double value_ = kNaN;
};

// Maximum (or minimum, with std::greater) of the last n values via a monotonic deque:
// O(1) amortised, as TTR's runMax / runMin give over a window of n.
template <typename Dominates>
class RollingExtreme {
 public:
  explicit RollingExtreme(int n) : n_(n) {}
  // Returns NaN until n values have been seen.
  double Add(double x) {
    while (!window_.empty() && !Dominates()(window_.back().second, x)) window_.pop_back();
    window_.emplace_back(index_, x);
    if (window_.front().first <= index_ - n_) window_.pop_front();
    ++index_;
    return index_ < n_ ? kNaN : window_.front().second;
  }
  void Reset() { window_.clear(), index_ = 0; }

 private:
  int n_;
  int64_t index_ = 0;
  std::deque<std::pair<int64_t, double>> window_;  // (bar index, value), extremes first
};
using RollingMax = RollingExtreme<std::greater<double>>;
using RollingMin = RollingExtreme<std::less<double>>;

// The last n values in a ring.
class Window {
 public:
  explicit Window(int n) : values_(n) {}
  bool full() const { return count_ >= static_cast<int64_t>(values_.size()); }
  int64_t count() const { return count_; }
  // The value that the next Push overwrites (meaningful once full()).
  double oldest() const { return values_[count_ % values_.size()]; }
  void Push(double x) { values_[count_++ % values_.size()] = x; }
  const std::vector<double>& values() const { return values_; }
  void Reset() { count_ = 0; }

 private:
  std::vector<double> values_;
  int64_t count_ = 0;
};

// Mean of the last n values, as TTR's SMA / runMean. The running sum is recomputed from the
// window every n pushes: amortised O(1), and add/subtract rounding cannot accumulate over a
// long stream (live scoring runs indefinitely, unlike TTR's one batch).
class RollingMean {
 public:
  explicit RollingMean(int n) : n_(n), window_(n) {}
  double Add(double x) {
    if (window_.full()) sum_ -= window_.oldest();
    window_.Push(x);
    sum_ += x;
    if (window_.count() % n_ == 0) {
      sum_ = 0;
      for (double v : window_.values()) sum_ += v;
    }
    return window_.full() ? sum_ / n_ : kNaN;
  }
  void Reset() { window_.Reset(), sum_ = 0; }

 private:
  int n_;
  Window window_;
  double sum_ = 0;
};

// Sample standard deviation (divisor n - 1) of the last n values, as TTR's runSD(x, n).
// Welford's replace-one update keeps it O(1); an exact two-pass recomputation every n pushes
// (amortised O(1)) stops rounding drift from accumulating over long streams.
class RollingSampleSd {
 public:
  explicit RollingSampleSd(int n) : n_(n), window_(n) {}
  double Add(double x) {
    if (window_.full()) {
      const double old = window_.oldest();
      const double old_mean = mean_;
      mean_ += (x - old) / n_;
      m2_ += (x - old) * (x - mean_ + old - old_mean);
    } else {
      const double delta = x - mean_;
      mean_ += delta / static_cast<double>(window_.count() + 1);
      m2_ += delta * (x - mean_);
    }
    window_.Push(x);
    if (window_.count() % n_ == 0) Recompute();
    if (!window_.full() || n_ < 2) return kNaN;
    return std::sqrt(std::max(m2_, 0.0) / (n_ - 1));
  }
  void Reset() { window_.Reset(), mean_ = 0, m2_ = 0; }

 private:
  void Recompute() {
    mean_ = 0;
    for (double v : window_.values()) mean_ += v;
    mean_ /= n_;
    m2_ = 0;
    for (double v : window_.values()) m2_ += (v - mean_) * (v - mean_);
  }

  int n_;
  Window window_;
  double mean_ = 0;
  double m2_ = 0;
};

// Remembers the previous bar's close.
class PreviousClose {
 public:
  bool has_value() const { return has_value_; }
  double value() const { return value_; }
  void Set(double close) { value_ = close, has_value_ = true; }
  void Reset() { has_value_ = false; }

 private:
  double value_ = 0;
  bool has_value_ = false;
};

// Wilder (1978) true range, as TTR's ATR: max(high, prev close) - min(low, prev close);
// NaN on the first bar, where there is no previous close.
double TrueRange(const Bar& bar, const PreviousClose& previous) {
  if (!previous.has_value()) return kNaN;
  return std::max(bar.high, previous.value()) - std::min(bar.low, previous.value());
}

// --- kernels ---

// Shared plumbing: the output names.
class KernelBase : public FeatureKernel {
 public:
  explicit KernelBase(std::vector<std::string> names) : names_(std::move(names)) {}
  const std::vector<std::string>& output_names() const override { return names_; }

 private:
  std::vector<std::string> names_;
};

class TrueRangeKernel final : public KernelBase {
 public:
  TrueRangeKernel() : KernelBase({"tr"}) {}
  void Update(const Bar& bar, std::span<double> out) override {
    out[0] = TrueRange(bar, previous_);
    previous_.Set(bar.close);
  }
  void Reset() override { previous_.Reset(); }
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<TrueRangeKernel>();
  }

 private:
  PreviousClose previous_;
};

// ATR(HLC, n) (Wilder 1978; TTR's ATR): Wilder average of the true range. The first true
// range is NaN, so the seed is the mean of tr over bars 2..n+1 and atr starts at bar n+1.
class AtrKernel final : public KernelBase {
 public:
  explicit AtrKernel(int n) : KernelBase({"atr_" + std::to_string(n)}), n_(n), average_(n) {}
  void Update(const Bar& bar, std::span<double> out) override {
    const double tr = TrueRange(bar, previous_);
    previous_.Set(bar.close);
    out[0] = std::isnan(tr) ? kNaN : average_.Add(tr);
  }
  void Reset() override { previous_.Reset(), average_.Reset(); }
  std::unique_ptr<FeatureKernel> Clone() const override { return std::make_unique<AtrKernel>(n_); }

 private:
  int n_;
  PreviousClose previous_;
  WilderAverage average_;
};

// ADX(HLC, n) (Wilder 1978; TTR's ADX). Directional movement per TTR: with up = high - prev
// high and down = prev low - low, +DM = up when up > down (and not both negative), -DM =
// down when down > up, both 0 on a tie. DI+/- = 100 * wilderSum(DM) / wilderSum(TR),
// DX = 100 * |DI+ - DI-| / (DI+ + DI-), ADX = Wilder average of DX. The first bar has no
// movement, so DX starts at bar n+1 and ADX at bar 2n.
class AdxKernel final : public KernelBase {
 public:
  explicit AdxKernel(int n)
      : KernelBase({"adx_" + std::to_string(n)}),
        n_(n),
        tr_sum_(n),
        plus_sum_(n),
        minus_sum_(n),
        adx_(n) {}
  void Update(const Bar& bar, std::span<double> out) override {
    out[0] = kNaN;
    const bool first = !previous_close_.has_value();
    const double tr = TrueRange(bar, previous_close_);
    const double up = bar.high - previous_high_;
    const double down = previous_low_ - bar.low;
    previous_close_.Set(bar.close);
    previous_high_ = bar.high;
    previous_low_ = bar.low;
    if (first) return;
    const bool no_move = up == down || (up < 0 && down < 0);
    const double tr_sum = tr_sum_.Add(tr);
    const double plus = plus_sum_.Add(no_move || up < down ? 0.0 : up);
    const double minus = minus_sum_.Add(no_move || down < up ? 0.0 : down);
    if (std::isnan(tr_sum)) return;
    out[0] = adx_.Add(DirectionalIndex(tr_sum, plus, minus));
  }
  void Reset() override {
    previous_close_.Reset();
    tr_sum_.Reset(), plus_sum_.Reset(), minus_sum_.Reset(), adx_.Reset();
  }
  std::unique_ptr<FeatureKernel> Clone() const override { return std::make_unique<AdxKernel>(n_); }

 private:
  // DX from the smoothed sums. TTR divides 0 by 0 here when a window has no range or no
  // directional movement (flat candles, common in thin crypto markets) and then fails on
  // the NA; we call that DX = 0 (no trend) so the stream keeps going.
  static double DirectionalIndex(double tr_sum, double plus_sum, double minus_sum) {
    if (tr_sum == 0) return 0;
    const double di_plus = 100 * plus_sum / tr_sum;
    const double di_minus = 100 * minus_sum / tr_sum;
    if (di_plus + di_minus == 0) return 0;
    return 100 * (std::abs(di_plus - di_minus) / (di_plus + di_minus));
  }

  int n_;
  PreviousClose previous_close_;
  double previous_high_ = 0;
  double previous_low_ = 0;
  WilderSum tr_sum_;
  WilderSum plus_sum_;
  WilderSum minus_sum_;
  WilderAverage adx_;
};

// Lane's stochastic oscillator, as TTR's stoch(HLC, nFastK, nFastD, nSlowD) with SMA and
// bounded = TRUE: fastK = (close - lowest low) / (highest high - lowest low) over nFastK bars
// including this one, fastD = SMA(fastK, nFastD), slowD = SMA(fastD, nSlowD).
class StochasticKernel final : public KernelBase {
 public:
  StochasticKernel(int fast_k, int fast_d, int slow_d)
      : KernelBase(Names(fast_k, fast_d, slow_d)),
        fast_k_(fast_k),
        fast_d_(fast_d),
        slow_d_(slow_d),
        highest_(fast_k),
        lowest_(fast_k),
        fast_d_mean_(fast_d),
        slow_d_mean_(slow_d) {}
  void Update(const Bar& bar, std::span<double> out) override {
    const double highest = highest_.Add(bar.high);
    const double lowest = lowest_.Add(bar.low);
    out[0] = out[1] = out[2] = kNaN;
    if (std::isnan(highest)) return;
    out[0] = FastK(bar.close, highest, lowest);
    out[1] = fast_d_mean_.Add(out[0]);
    if (!std::isnan(out[1])) out[2] = slow_d_mean_.Add(out[1]);
  }
  void Reset() override {
    highest_.Reset(), lowest_.Reset(), fast_d_mean_.Reset(), slow_d_mean_.Reset();
  }
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<StochasticKernel>(fast_k_, fast_d_, slow_d_);
  }

 private:
  static std::vector<std::string> Names(int fast_k, int fast_d, int slow_d) {
    const std::string suffix =
        "_" + std::to_string(fast_k) + "_" + std::to_string(fast_d) + "_" + std::to_string(slow_d);
    return {"stoch_fastk" + suffix, "stoch_fastd" + suffix, "stoch_slowd" + suffix};
  }
  // TTR maps a non-finite ratio to 0.5 (mid-range); it misses 0/0 (R's is.na(NaN) is TRUE)
  // and then fails, so a window with no range at all is also 0.5 here.
  static double FastK(double close, double highest, double lowest) {
    const double fast_k = (close - lowest) / (highest - lowest);
    return std::isfinite(fast_k) ? fast_k : 0.5;
  }

  int fast_k_;
  int fast_d_;
  int slow_d_;
  RollingMax highest_;
  RollingMin lowest_;
  RollingMean fast_d_mean_;
  RollingMean slow_d_mean_;
};

// Granville's on-balance volume, as TTR's OBV: starts at the first bar's volume, then adds
// the volume when the close rises and subtracts it when it falls. TTR compares the log
// change with sqrt(machine epsilon), so a change smaller than that counts as unchanged.
class ObvKernel final : public KernelBase {
 public:
  ObvKernel() : KernelBase({"obv"}) {}
  void Update(const Bar& bar, std::span<double> out) override {
    if (!previous_.has_value()) {
      obv_ = bar.volume;
    } else {
      const double change = std::log(bar.close) - std::log(previous_.value());
      if (std::abs(change) >= kUnchanged) obv_ += change > 0 ? bar.volume : -bar.volume;
    }
    previous_.Set(bar.close);
    out[0] = obv_;
  }
  void Reset() override { previous_.Reset(), obv_ = 0; }
  std::unique_ptr<FeatureKernel> Clone() const override { return std::make_unique<ObvKernel>(); }

 private:
  // sqrt(.Machine$double.eps), TTR's tolerance for "the close did not change".
  static inline const double kUnchanged = std::sqrt(std::numeric_limits<double>::epsilon());

  PreviousClose previous_;
  double obv_ = 0;
};

// log(close_t / close_{t-k}): TTR's ROC(close, k) (type "continuous") computed as
// diff(log(close), k), which we mirror; NaN for the first k bars.
class LogReturnKernel final : public KernelBase {
 public:
  explicit LogReturnKernel(int k)
      : KernelBase({"logret_" + std::to_string(k)}), k_(k), log_closes_(k) {}
  void Update(const Bar& bar, std::span<double> out) override {
    const double log_close = std::log(bar.close);
    out[0] = log_closes_.full() ? log_close - log_closes_.oldest() : kNaN;
    log_closes_.Push(log_close);
  }
  void Reset() override { log_closes_.Reset(); }
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<LogReturnKernel>(k_);
  }

 private:
  int k_;
  Window log_closes_;  // the last k log closes
};

// Realized volatility: TTR's runSD(logret_1, n), the sample standard deviation (n - 1) of the
// last n one-bar log returns. Starts at bar n+1 because the first return is NaN.
class RealizedVolKernel final : public KernelBase {
 public:
  explicit RealizedVolKernel(int n) : KernelBase({"rv_" + std::to_string(n)}), n_(n), sd_(n) {}
  void Update(const Bar& bar, std::span<double> out) override {
    const double log_close = std::log(bar.close);
    out[0] = has_previous_ ? sd_.Add(log_close - previous_log_close_) : kNaN;
    previous_log_close_ = log_close;
    has_previous_ = true;
  }
  void Reset() override { sd_.Reset(), has_previous_ = false; }
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<RealizedVolKernel>(n_);
  }

 private:
  int n_;
  RollingSampleSd sd_;
  double previous_log_close_ = 0;
  bool has_previous_ = false;
};

}  // namespace

std::unique_ptr<FeatureKernel> MakeTrueRange() { return std::make_unique<TrueRangeKernel>(); }

std::unique_ptr<FeatureKernel> MakeAtr(int n) {
  assert(n >= 1);
  return std::make_unique<AtrKernel>(n);
}

std::unique_ptr<FeatureKernel> MakeAdx(int n) {
  assert(n >= 1);
  return std::make_unique<AdxKernel>(n);
}

std::unique_ptr<FeatureKernel> MakeStochastic(int fast_k, int fast_d, int slow_d) {
  assert(fast_k >= 1 && fast_d >= 1 && slow_d >= 1);
  return std::make_unique<StochasticKernel>(fast_k, fast_d, slow_d);
}

std::unique_ptr<FeatureKernel> MakeObv() { return std::make_unique<ObvKernel>(); }

std::unique_ptr<FeatureKernel> MakeLogReturn(int k) {
  assert(k >= 1);
  return std::make_unique<LogReturnKernel>(k);
}

std::unique_ptr<FeatureKernel> MakeRealizedVol(int n) {
  assert(n >= 1);
  return std::make_unique<RealizedVolKernel>(n);
}

}  // namespace vigil
