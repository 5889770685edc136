// Averages and oscillators on the close, matching R's TTR package (0.24.3) definitions.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "rolling.h"
#include "vigil/features/ta.h"

namespace vigil {
namespace {

using features_internal::EmaRatio;
using features_internal::kNaN;
using features_internal::RollingWindow;
using features_internal::SeededEma;
using features_internal::WilderRatio;

std::string Suffix(int n) { return "_" + std::to_string(n); }

// TTR::SMA: runSum(x, n) / n, NaN until n closes are seen.
class Sma final : public FeatureKernel {
 public:
  explicit Sma(int n) : n_(n), window_(n, RollingWindow::kSumOnly), names_{"sma" + Suffix(n)} {}
  const std::vector<std::string>& output_names() const override { return names_; }
  void Update(const Bar& bar, std::span<double> out) override {
    window_.Push(bar.close);
    out[0] = window_.full() ? window_.mean() : kNaN;
  }
  void Reset() override { window_.Reset(); }
  std::unique_ptr<FeatureKernel> Clone() const override { return std::make_unique<Sma>(n_); }

 private:
  int n_;
  RollingWindow window_;
  std::vector<std::string> names_;
};

// TTR::EMA(x, n): ratio 2 / (n + 1), seeded with the SMA of the first n closes.
class Ema final : public FeatureKernel {
 public:
  explicit Ema(int n) : n_(n), ema_(n, EmaRatio(n)), names_{"ema" + Suffix(n)} {}
  const std::vector<std::string>& output_names() const override { return names_; }
  void Update(const Bar& bar, std::span<double> out) override { out[0] = ema_.Update(bar.close); }
  void Reset() override { ema_.Reset(); }
  std::unique_ptr<FeatureKernel> Clone() const override { return std::make_unique<Ema>(n_); }

 private:
  int n_;
  SeededEma ema_;
  std::vector<std::string> names_;
};

// TTR::WMA(x, n) with its default weights 1..n (newest close weighs n):
// sum(w * x) / sum(w), where sum(w) = n (n + 1) / 2.
class Wma final : public FeatureKernel {
 public:
  explicit Wma(int n)
      : n_(n),
        weight_total_(n * (n + 1.0) / 2),
        window_(n, RollingWindow::kWeightedSum | RollingWindow::kSquaredDeviations),
        names_{"wma" + Suffix(n)} {}
  const std::vector<std::string>& output_names() const override { return names_; }
  void Update(const Bar& bar, std::span<double> out) override {
    window_.Push(bar.close);
    out[0] = window_.full() ? window_.weighted_sum() / weight_total_ : kNaN;
  }
  void Reset() override { window_.Reset(); }
  std::unique_ptr<FeatureKernel> Clone() const override { return std::make_unique<Wma>(n_); }

 private:
  int n_;
  double weight_total_;
  RollingWindow window_;
  std::vector<std::string> names_;
};

// TTR::RSI(x, n) with its defaults: the close's up and down moves from the previous close,
// each smoothed by EMA(wilder = TRUE), i.e. ratio 1 / n seeded with the mean of the first n
// moves; RSI = 100 * up / (up + down). The first bar has no move, so the first value is at
// bar n (0-based); a window without any move gives 0 / 0 = NaN, as in R.
class Rsi final : public FeatureKernel {
 public:
  explicit Rsi(int n)
      : n_(n), up_(n, WilderRatio(n)), down_(n, WilderRatio(n)), names_{"rsi" + Suffix(n)} {}
  const std::vector<std::string>& output_names() const override { return names_; }
  void Update(const Bar& bar, std::span<double> out) override {
    out[0] = kNaN;
    if (has_previous_) {
      const double move = bar.close - previous_close_;
      const double up = up_.Update(move > 0 ? move : 0);
      const double down = down_.Update(move < 0 ? -move : 0);
      out[0] = 100 * up / (up + down);
    }
    previous_close_ = bar.close;
    has_previous_ = true;
  }
  void Reset() override {
    up_.Reset();
    down_.Reset();
    has_previous_ = false;
  }
  std::unique_ptr<FeatureKernel> Clone() const override { return std::make_unique<Rsi>(n_); }

 private:
  int n_;
  SeededEma up_;
  SeededEma down_;
  bool has_previous_ = false;
  double previous_close_ = 0;
  std::vector<std::string> names_;
};

// TTR::MACD(x, fast, slow, signal, maType = "EMA", percent = FALSE):
// macd = EMA(x, fast) - EMA(x, slow); signal = EMA(macd, signal), which TTR seeds from the
// first defined macd values (EMA skips leading NAs); hist = macd - signal.
class Macd final : public FeatureKernel {
 public:
  Macd(int fast, int slow, int signal)
      : fast_n_(fast),
        slow_n_(slow),
        signal_n_(signal),
        fast_(fast, EmaRatio(fast)),
        slow_(slow, EmaRatio(slow)),
        signal_(signal, EmaRatio(signal)) {
    const std::string suffix = Suffix(fast) + Suffix(slow) + Suffix(signal);
    names_ = {"macd" + suffix, "macd_signal" + suffix, "macd_hist" + suffix};
  }
  const std::vector<std::string>& output_names() const override { return names_; }
  void Update(const Bar& bar, std::span<double> out) override {
    const double macd = fast_.Update(bar.close) - slow_.Update(bar.close);
    const double signal = std::isnan(macd) ? kNaN : signal_.Update(macd);
    out[0] = macd;
    out[1] = signal;
    out[2] = macd - signal;
  }
  void Reset() override {
    fast_.Reset();
    slow_.Reset();
    signal_.Reset();
  }
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<Macd>(fast_n_, slow_n_, signal_n_);
  }

 private:
  int fast_n_;
  int slow_n_;
  int signal_n_;
  SeededEma fast_;
  SeededEma slow_;
  SeededEma signal_;
  std::vector<std::string> names_;
};

// TTR::BBands(close, n, sd = k) with maType SMA: mid = SMA(close, n), the band half-width is
// k times runSD(close, n, sample = FALSE) (population sd), and
// pctB = (close - lower) / (upper - lower), NaN for a flat window (0 / 0, as in R).
class Bollinger final : public FeatureKernel {
 public:
  Bollinger(int n, int k) : n_(n), k_(k), window_(n, RollingWindow::kSquaredDeviations) {
    const std::string suffix = Suffix(n) + Suffix(k);
    names_ = {"bb_lower" + suffix, "bb_mid" + suffix, "bb_upper" + suffix, "bb_pctb" + suffix};
  }
  const std::vector<std::string>& output_names() const override { return names_; }
  void Update(const Bar& bar, std::span<double> out) override {
    window_.Push(bar.close);
    if (!window_.full()) {
      std::fill(out.begin(), out.end(), kNaN);
      return;
    }
    const double mid = window_.mean();
    const double half_width = k_ * std::sqrt(window_.population_variance());
    const double lower = mid - half_width;
    const double upper = mid + half_width;
    out[0] = lower;
    out[1] = mid;
    out[2] = upper;
    out[3] = (bar.close - lower) / (upper - lower);
  }
  void Reset() override { window_.Reset(); }
  std::unique_ptr<FeatureKernel> Clone() const override {
    return std::make_unique<Bollinger>(n_, k_);
  }

 private:
  int n_;
  int k_;
  RollingWindow window_;
  std::vector<std::string> names_;
};

}  // namespace

std::unique_ptr<FeatureKernel> MakeSma(int n) {
  assert(n >= 1);
  return std::make_unique<Sma>(n);
}

std::unique_ptr<FeatureKernel> MakeEma(int n) {
  assert(n >= 1);
  return std::make_unique<Ema>(n);
}

std::unique_ptr<FeatureKernel> MakeWma(int n) {
  assert(n >= 1);
  return std::make_unique<Wma>(n);
}

std::unique_ptr<FeatureKernel> MakeRsi(int n) {
  assert(n >= 1);
  return std::make_unique<Rsi>(n);
}

std::unique_ptr<FeatureKernel> MakeMacd(int fast, int slow, int signal) {
  assert(fast >= 1 && slow >= 1 && signal >= 1);
  return std::make_unique<Macd>(fast, slow, signal);
}

std::unique_ptr<FeatureKernel> MakeBollinger(int n, int k) {
  assert(n >= 1 && k >= 0);  // k is a band multiplier, not a period
  return std::make_unique<Bollinger>(n, k);
}

}  // namespace vigil
