// Range, trend and volume kernels: true range, ATR, ADX, stochastic, OBV, log returns and
// realized volatility. Each follows R's TTR package (0.24.3) to the bit where practical:
// the order of floating-point operations mirrors TTR's C code so the fixture matches to
// ~1e-15, well inside the 1e-9 contract.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "rolling.h"
#include "vigil/features/ta.h"

namespace vigil {
namespace {

using features_internal::LagRing;
using features_internal::RollingExtreme;
using features_internal::RollingWindow;
using features_internal::WilderSum;
using RollingMax = RollingExtreme<std::greater<double>>;
using RollingMin = RollingExtreme<std::less<double>>;

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

// Pushes x; the mean of the last n values once n have been pushed (TTR SMA / runMean).
double PushMean(RollingWindow& window, double x) {
  window.Push(x);
  return window.full() ? window.mean() : kNaN;
}

// Pushes x; the sample standard deviation of the last n values once n >= 2 have been pushed
// (TTR runSD).
double PushSampleSd(RollingWindow& window, int n, double x) {
  window.Push(x);
  return window.full() && n >= 2 ? std::sqrt(std::max(window.sample_variance(), 0.0)) : kNaN;
}

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
        fast_d_mean_(fast_d, RollingWindow::kSumOnly),
        slow_d_mean_(slow_d, RollingWindow::kSumOnly) {}
  void Update(const Bar& bar, std::span<double> out) override {
    const double highest = highest_.Push(bar.high);
    const double lowest = lowest_.Push(bar.low);
    out[0] = out[1] = out[2] = kNaN;
    if (std::isnan(highest)) return;
    out[0] = FastK(bar.close, highest, lowest);
    out[1] = PushMean(fast_d_mean_, out[0]);
    if (!std::isnan(out[1])) out[2] = PushMean(slow_d_mean_, out[1]);
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
  RollingWindow fast_d_mean_;
  RollingWindow slow_d_mean_;
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
  LagRing log_closes_;  // the last k log closes
};

// Realized volatility: TTR's runSD(logret_1, n), the sample standard deviation (n - 1) of the
// last n one-bar log returns. Starts at bar n+1 because the first return is NaN.
class RealizedVolKernel final : public KernelBase {
 public:
  explicit RealizedVolKernel(int n)
      : KernelBase({"rv_" + std::to_string(n)}), n_(n), sd_(n, RollingWindow::kSquaredDeviations) {}
  void Update(const Bar& bar, std::span<double> out) override {
    const double log_close = std::log(bar.close);
    out[0] = has_previous_ ? PushSampleSd(sd_, n_, log_close - previous_log_close_) : kNaN;
    previous_log_close_ = log_close;
    has_previous_ = true;
  }
  void Reset() override { sd_.Reset(), has_previous_ = false; }
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<RealizedVolKernel>(n_);
  }

 private:
  int n_;
  RollingWindow sd_;
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
