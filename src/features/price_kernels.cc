// The rest of the price/volume catalogue (price.h): returns, range volatility, z-score,
// extremes, Sharpe, VWAP, MFI, volume averages, Bollinger width, DMI and calendar encodings.
// Definitions follow R's TTR package (0.24.3), with the floating-point order of TTR's R code
// where it matters for the 1e-9 check (see scripts/fixtures/ttr_price.R).
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "rolling.h"
#include "vigil/features/price.h"

namespace vigil {
namespace {

using features_internal::kNaN;
using features_internal::LagRing;
using features_internal::RollingExtreme;
using features_internal::RollingSum;
using features_internal::RollingWindow;
using features_internal::WilderSum;

using RollingMax = RollingExtreme<std::greater<double>>;
using RollingMin = RollingExtreme<std::less<double>>;

std::string Suffix(int n) { return "_" + std::to_string(n); }

bool Finite(double x) { return std::isfinite(x); }
bool Positive(double x) { return std::isfinite(x) && x > 0; }

// Shared plumbing: output names, and the skip rule of price.h (a bar with unusable inputs
// gets NaN outputs and leaves the state alone).
class KernelBase : public FeatureKernel {
 public:
  explicit KernelBase(std::vector<std::string> names) : names_(std::move(names)) {}
  const std::vector<std::string>& output_names() const override { return names_; }

 protected:
  static void Skip(std::span<double> out) {
    for (double& value : out) value = kNaN;
  }

 private:
  std::vector<std::string> names_;
};

// ROC(close, k, "discrete") = close / lag(close, k) - 1, and momentum(close, n) = diff(close, n).
class LaggedChangeKernel final : public KernelBase {
 public:
  enum class Change { kSimpleReturn, kDifference };

  LaggedChangeKernel(Change change, int lag)
      : KernelBase({(change == Change::kSimpleReturn ? "ret" : "mom") + Suffix(lag)}),
        change_(change),
        lag_(lag),
        closes_(lag) {}
  void Update(const Bar& bar, std::span<double> out) override {
    if (!Finite(bar.close)) return Skip(out);
    out[0] = kNaN;
    if (closes_.full()) {
      out[0] = change_ == Change::kSimpleReturn ? bar.close / closes_.oldest() - 1
                                                : bar.close - closes_.oldest();
    }
    closes_.Push(bar.close);
  }
  void Reset() override { closes_.Reset(); }
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<LaggedChangeKernel>(change_, lag_);
  }

 private:
  Change change_;
  int lag_;
  LagRing closes_;
};

// TTR's volatility(calc = "parkinson" | "garman.klass", N = 1): the square root of a scaled
// running sum of a per-bar variance term.
class RangeVolKernel final : public KernelBase {
 public:
  enum class Estimator { kParkinson, kGarmanKlass };

  RangeVolKernel(Estimator estimator, int n)
      : KernelBase({(estimator == Estimator::kParkinson ? "rv_parkinson" : "rv_gk") + Suffix(n)}),
        estimator_(estimator),
        n_(n),
        // TTR's scale factors N / (4 n log 2) and N / n with N = 1.
        scale_(estimator == Estimator::kParkinson ? 1 / (4 * n * std::numbers::ln2) : 1.0 / n),
        terms_(n) {}
  void Update(const Bar& bar, std::span<double> out) override {
    const bool usable =
        estimator_ == Estimator::kParkinson
            ? Positive(bar.high) && Positive(bar.low)
            : Positive(bar.open) && Positive(bar.high) && Positive(bar.low) && Positive(bar.close);
    if (!usable) return Skip(out);
    terms_.Push(Term(bar));
    out[0] = kNaN;
    if (!terms_.full()) return;
    // Garman-Klass terms can be negative, so a zero sum may come out as a tiny negative
    // residue; only an exact recomputation tells that from a truly negative sum (TTR: NaN).
    if (terms_.sum() < 0) terms_.Resync();
    out[0] = std::sqrt(scale_ * terms_.sum());
  }
  void Reset() override { terms_.Reset(); }
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<RangeVolKernel>(estimator_, n_);
  }

 private:
  double Term(const Bar& bar) const {
    const double log_range = std::log(bar.high / bar.low);
    if (estimator_ == Estimator::kParkinson) return log_range * log_range;
    const double log_body = std::log(bar.close / bar.open);
    return 0.5 * log_range * log_range - (2 * std::numbers::ln2 - 1) * log_body * log_body;
  }

  Estimator estimator_;
  int n_;
  double scale_;
  RollingSum terms_;
};

// (close - SMA(close, n)) / runSD(close, n).
class ZScoreKernel final : public KernelBase {
 public:
  explicit ZScoreKernel(int n)
      : KernelBase({"zscore" + Suffix(n)}), n_(n), window_(n, RollingWindow::kSquaredDeviations) {}
  void Update(const Bar& bar, std::span<double> out) override {
    if (!Finite(bar.close)) return Skip(out);
    window_.Push(bar.close);
    out[0] = kNaN;
    if (!window_.full()) return;
    const double mean = window_.mean();
    const double sd = std::sqrt(window_.sample_variance());
    // Real prices carry at most ~10 significant digits, so a spread below this fraction of
    // the level is rounding residue of a flat window, where TTR would divide 0 by 0.
    constexpr double kFlatSpread = 1e-10;
    out[0] = sd <= kFlatSpread * std::fabs(mean) ? 0.0 : (bar.close - mean) / sd;
  }
  void Reset() override { window_.Reset(); }
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<ZScoreKernel>(n_);
  }

 private:
  int n_;
  RollingWindow window_;
};

// runMin / runMax of the close, and close / runMax - 1.
class ExtremeKernel final : public KernelBase {
 public:
  enum class Output { kMin, kMax, kDrawdown };

  ExtremeKernel(Output output, int n)
      : KernelBase({Name(output) + Suffix(n)}), output_(output), n_(n), lowest_(n), highest_(n) {}
  void Update(const Bar& bar, std::span<double> out) override {
    if (!Finite(bar.close)) return Skip(out);
    if (output_ == Output::kMin) {
      out[0] = lowest_.Push(bar.close);
      return;
    }
    const double highest = highest_.Push(bar.close);
    out[0] = output_ == Output::kMax ? highest : bar.close / highest - 1;
  }
  void Reset() override { lowest_.Reset(), highest_.Reset(); }
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<ExtremeKernel>(output_, n_);
  }

 private:
  static std::string Name(Output output) {
    switch (output) {
      case Output::kMin:
        return "min";
      case Output::kMax:
        return "max";
      case Output::kDrawdown:
        return "drawdown";
    }
    return "";
  }

  Output output_;
  int n_;
  RollingMin lowest_;   // used by kMin only
  RollingMax highest_;  // used by kMax and kDrawdown
};

// runMean(r, n) / runSD(r, n) of the one-bar log returns r = diff(log(close)).
class SharpeKernel final : public KernelBase {
 public:
  explicit SharpeKernel(int n)
      : KernelBase({"sharpe" + Suffix(n)}), n_(n), returns_(n, RollingWindow::kSquaredDeviations) {}
  void Update(const Bar& bar, std::span<double> out) override {
    if (!Positive(bar.close)) return Skip(out);
    const double log_close = std::log(bar.close);
    out[0] = kNaN;
    if (has_previous_) {
      returns_.Push(log_close - previous_log_close_);
      if (returns_.full()) out[0] = Ratio(returns_.mean(), std::sqrt(returns_.sample_variance()));
    }
    previous_log_close_ = log_close;
    has_previous_ = true;
  }
  void Reset() override { returns_.Reset(), has_previous_ = false; }
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<SharpeKernel>(n_);
  }

 private:
  static double Ratio(double mean, double sd) {
    // Log returns are dimensionless and no market moves by less than this per bar, so a
    // smaller sd or mean is rounding residue: a flat price (0) or a constant return (NaN).
    constexpr double kNoVariation = 1e-12;
    if (sd > kNoVariation) return mean / sd;
    return std::fabs(mean) <= kNoVariation ? 0.0 : kNaN;
  }

  int n_;
  RollingWindow returns_;
  double previous_log_close_ = 0;
  bool has_previous_ = false;
};

// VWAP(close, volume, n) = runSum(close * volume, n) / runSum(volume, n).
class VwapKernel final : public KernelBase {
 public:
  explicit VwapKernel(int n)
      : KernelBase({"vwap" + Suffix(n)}), n_(n), value_(n), volume_(n), closes_(n) {}
  void Update(const Bar& bar, std::span<double> out) override {
    if (!Finite(bar.close) || !Finite(bar.volume)) return Skip(out);
    value_.Push(bar.close * bar.volume);
    volume_.Push(bar.volume);
    closes_.Push(bar.close);
    out[0] = kNaN;
    if (!value_.full()) return;
    const double volume = volume_.sum();
    out[0] = volume != 0 ? value_.sum() / volume : closes_.sum() / n_;
  }
  void Reset() override { value_.Reset(), volume_.Reset(), closes_.Reset(); }
  std::unique_ptr<FeatureKernel> Clone() const override { return std::make_unique<VwapKernel>(n_); }

 private:
  int n_;
  RollingSum value_;
  RollingSum volume_;
  RollingSum closes_;  // for a window without volume
};

// R's mean() of a short vector, as TTR's MFI takes the typical price with
// apply(HLC, 1, mean): a long-double sum divided by the count, refined by the mean residual
// (R's summary.c). Rounding the same way matters: MFI compares consecutive typical prices,
// and a one-ulp difference flips "unchanged" to "rose".
double RMean3(double a, double b, double c) {
  long double mean = (static_cast<long double>(a) + b + c) / 3;
  if (std::isfinite(static_cast<double>(mean))) {
    const long double residual = (a - mean) + (b - mean) + (c - mean);
    mean += residual / 3;
  }
  return static_cast<double>(mean);
}

// MFI(HLC, volume, n).
class MfiKernel final : public KernelBase {
 public:
  explicit MfiKernel(int n) : KernelBase({"mfi" + Suffix(n)}), n_(n), positive_(n), negative_(n) {}
  void Update(const Bar& bar, std::span<double> out) override {
    if (!Finite(bar.high) || !Finite(bar.low) || !Finite(bar.close) || !Finite(bar.volume)) {
      return Skip(out);
    }
    const double typical = RMean3(bar.high, bar.low, bar.close);
    out[0] = kNaN;
    if (has_previous_) {
      const double flow = typical * bar.volume;
      positive_.Push(typical > previous_typical_ ? flow : 0);
      negative_.Push(typical < previous_typical_ ? flow : 0);
      if (positive_.full()) out[0] = Index(positive_.sum(), negative_.sum());
    }
    previous_typical_ = typical;
    has_previous_ = true;
  }
  void Reset() override { positive_.Reset(), negative_.Reset(), has_previous_ = false; }
  std::unique_ptr<FeatureKernel> Clone() const override { return std::make_unique<MfiKernel>(n_); }

 private:
  // TTR's order of operations, then its overrides for a zero denominator.
  static double Index(double positive, double negative) {
    if (negative == 0) return positive == 0 ? 50.0 : 100.0;
    const double ratio = positive / negative;
    return 100 - (100 / (1 + ratio));
  }

  int n_;
  RollingSum positive_;
  RollingSum negative_;
  double previous_typical_ = 0;
  bool has_previous_ = false;
};

// SMA(volume, n), and volume / SMA(volume, n).
class VolumeKernel final : public KernelBase {
 public:
  enum class Output { kAverage, kRatio };

  VolumeKernel(Output output, int n)
      : KernelBase({(output == Output::kAverage ? "vol_ma" : "vol_ratio") + Suffix(n)}),
        output_(output),
        n_(n),
        volume_(n) {}
  void Update(const Bar& bar, std::span<double> out) override {
    if (!Finite(bar.volume)) return Skip(out);
    volume_.Push(bar.volume);
    out[0] = kNaN;
    if (!volume_.full()) return;
    const double average = volume_.sum() / n_;
    if (output_ == Output::kAverage) {
      out[0] = average;
    } else {
      out[0] = average != 0 ? bar.volume / average : 1.0;
    }
  }
  void Reset() override { volume_.Reset(); }
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<VolumeKernel>(output_, n_);
  }

 private:
  Output output_;
  int n_;
  RollingSum volume_;
};

// (up - dn) / mavg of BBands(close, n, sd = k), computed as MakeBollinger computes its bands.
class BollingerWidthKernel final : public KernelBase {
 public:
  BollingerWidthKernel(int n, int k)
      : KernelBase({"bb_width" + Suffix(n) + Suffix(k)}),
        n_(n),
        k_(k),
        window_(n, RollingWindow::kSquaredDeviations) {}
  void Update(const Bar& bar, std::span<double> out) override {
    if (!Finite(bar.close)) return Skip(out);
    window_.Push(bar.close);
    out[0] = kNaN;
    if (!window_.full()) return;
    const double mid = window_.mean();
    const double half_width = k_ * std::sqrt(window_.population_variance());
    out[0] = ((mid + half_width) - (mid - half_width)) / mid;
  }
  void Reset() override { window_.Reset(); }
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<BollingerWidthKernel>(n_, k_);
  }

 private:
  int n_;
  int k_;
  RollingWindow window_;
};

// ADX(HLC, n)'s DIp and DIn (Wilder 1978), with TTR's directional movement: up = high - prev
// high, down = prev low - low; +DM = up when up > down, -DM = down when down > up, both 0 on
// a tie or when both are negative. DI = 100 * wilderSum(DM, n) / wilderSum(TR, n).
class DmiKernel final : public KernelBase {
 public:
  explicit DmiKernel(int n)
      : KernelBase({"plus_di" + Suffix(n), "minus_di" + Suffix(n)}),
        n_(n),
        tr_sum_(n),
        plus_sum_(n),
        minus_sum_(n) {}
  void Update(const Bar& bar, std::span<double> out) override {
    if (!Finite(bar.high) || !Finite(bar.low) || !Finite(bar.close)) return Skip(out);
    out[0] = out[1] = kNaN;
    const Bar previous = previous_;
    previous_ = bar;
    if (!has_previous_) {
      has_previous_ = true;
      return;
    }
    const double tr = std::max(bar.high, previous.close) - std::min(bar.low, previous.close);
    const double up = bar.high - previous.high;
    const double down = previous.low - bar.low;
    const bool no_move = up == down || (up < 0 && down < 0);
    const double tr_sum = tr_sum_.Add(tr);
    const double plus = plus_sum_.Add(no_move || up < down ? 0.0 : up);
    const double minus = minus_sum_.Add(no_move || down < up ? 0.0 : down);
    if (std::isnan(tr_sum)) return;
    // No range over the whole window means no movement either: no direction (TTR: 0 / 0).
    out[0] = tr_sum == 0 ? 0.0 : 100 * plus / tr_sum;
    out[1] = tr_sum == 0 ? 0.0 : 100 * minus / tr_sum;
  }
  void Reset() override {
    tr_sum_.Reset(), plus_sum_.Reset(), minus_sum_.Reset();
    has_previous_ = false;
  }
  std::unique_ptr<FeatureKernel> Clone() const override { return std::make_unique<DmiKernel>(n_); }

 private:
  int n_;
  Bar previous_;
  bool has_previous_ = false;
  WilderSum tr_sum_;
  WilderSum plus_sum_;
  WilderSum minus_sum_;
};

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kNanosPerDay = 86'400 * kNanosPerSecond;

// Floor division, so instants before 1970 fall in the right day.
int64_t DaysSinceEpoch(int64_t ts) { return ts / kNanosPerDay - (ts % kNanosPerDay < 0 ? 1 : 0); }

// sin and cos of 2 pi * fraction, written to out[0] and out[1].
void WriteCycle(double fraction, std::span<double> out) {
  const double angle = 2 * std::numbers::pi * fraction;
  out[0] = std::sin(angle);
  out[1] = std::cos(angle);
}

class TimeOfDayKernel final : public KernelBase {
 public:
  TimeOfDayKernel() : KernelBase({"tod_sin", "tod_cos"}) {}
  void Update(const Bar& bar, std::span<double> out) override {
    const int64_t into_day = bar.ts - DaysSinceEpoch(bar.ts) * kNanosPerDay;
    WriteCycle(static_cast<double>(into_day) / kNanosPerDay, out);
  }
  void Reset() override {}
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<TimeOfDayKernel>();
  }
};

class DayOfWeekKernel final : public KernelBase {
 public:
  DayOfWeekKernel() : KernelBase({"dow_sin", "dow_cos"}) {}
  void Update(const Bar& bar, std::span<double> out) override {
    // 1970-01-01 was a Thursday, weekday 3 when Monday is 0.
    constexpr int64_t kEpochWeekday = 3;
    int64_t weekday = (DaysSinceEpoch(bar.ts) + kEpochWeekday) % 7;
    if (weekday < 0) weekday += 7;
    WriteCycle(static_cast<double>(weekday) / 7, out);
  }
  void Reset() override {}
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<DayOfWeekKernel>();
  }
};

}  // namespace

std::unique_ptr<FeatureKernel> MakeSimpleReturn(int k) {
  assert(k >= 1);
  return std::make_unique<LaggedChangeKernel>(LaggedChangeKernel::Change::kSimpleReturn, k);
}

std::unique_ptr<FeatureKernel> MakeMomentum(int n) {
  assert(n >= 1);
  return std::make_unique<LaggedChangeKernel>(LaggedChangeKernel::Change::kDifference, n);
}

std::unique_ptr<FeatureKernel> MakeParkinsonVol(int n) {
  assert(n >= 1);
  return std::make_unique<RangeVolKernel>(RangeVolKernel::Estimator::kParkinson, n);
}

std::unique_ptr<FeatureKernel> MakeGarmanKlassVol(int n) {
  assert(n >= 1);
  return std::make_unique<RangeVolKernel>(RangeVolKernel::Estimator::kGarmanKlass, n);
}

std::unique_ptr<FeatureKernel> MakeRollingSharpe(int n) {
  assert(n >= 2);
  return std::make_unique<SharpeKernel>(n);
}

std::unique_ptr<FeatureKernel> MakeZScore(int n) {
  assert(n >= 2);
  return std::make_unique<ZScoreKernel>(n);
}

std::unique_ptr<FeatureKernel> MakeRollingMin(int n) {
  assert(n >= 1);
  return std::make_unique<ExtremeKernel>(ExtremeKernel::Output::kMin, n);
}

std::unique_ptr<FeatureKernel> MakeRollingMax(int n) {
  assert(n >= 1);
  return std::make_unique<ExtremeKernel>(ExtremeKernel::Output::kMax, n);
}

std::unique_ptr<FeatureKernel> MakeDrawdown(int n) {
  assert(n >= 1);
  return std::make_unique<ExtremeKernel>(ExtremeKernel::Output::kDrawdown, n);
}

std::unique_ptr<FeatureKernel> MakeBollingerWidth(int n, int k) {
  assert(n >= 1 && k >= 0);  // k is a band multiplier, not a period
  return std::make_unique<BollingerWidthKernel>(n, k);
}

std::unique_ptr<FeatureKernel> MakeVwap(int n) {
  assert(n >= 1);
  return std::make_unique<VwapKernel>(n);
}

std::unique_ptr<FeatureKernel> MakeMfi(int n) {
  assert(n >= 1);
  return std::make_unique<MfiKernel>(n);
}

std::unique_ptr<FeatureKernel> MakeVolumeMa(int n) {
  assert(n >= 1);
  return std::make_unique<VolumeKernel>(VolumeKernel::Output::kAverage, n);
}

std::unique_ptr<FeatureKernel> MakeVolumeRatio(int n) {
  assert(n >= 1);
  return std::make_unique<VolumeKernel>(VolumeKernel::Output::kRatio, n);
}

std::unique_ptr<FeatureKernel> MakeDmi(int n) {
  assert(n >= 1);
  return std::make_unique<DmiKernel>(n);
}

std::unique_ptr<FeatureKernel> MakeTimeOfDay() { return std::make_unique<TimeOfDayKernel>(); }

std::unique_ptr<FeatureKernel> MakeDayOfWeek() { return std::make_unique<DayOfWeekKernel>(); }

}  // namespace vigil
