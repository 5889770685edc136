// Oracle, vault, funding and DeFi protocol kernels (onchain.h).
//
// Most of these are per-update kernels: one input, outputs recomputed when its event
// arrives. They come from three generic shapes (the latest value or ratio of fields, a
// lagged ratio or difference, a rolling statistic of a level or of its changes), so each
// catalogue feature is a configuration rather than a class.
#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "rolling_stats.h"
#include "vigil/core/timestamp.h"
#include "vigil/features/onchain.h"

namespace vigil {
namespace {

using features_internal::IsFlat;
using features_internal::kNaN;
using features_internal::LagRing;
using features_internal::RollingCovariance;
using RollingMax = features_internal::RollingExtreme<std::greater<double>>;
using features_internal::RollingWindow;
using features_internal::SampleVariance;

std::string Suffix(int n) { return "_" + std::to_string(n); }

// values[index], or NaN for an event too short to have it (a foreign or malformed row).
double FieldOf(const Event& e, int index) {
  return index >= 0 && static_cast<size_t>(index) < e.values.size()
             ? e.values[static_cast<size_t>(index)]
             : kNaN;
}

// a / b, NaN unless b > 0: every denominator here is a price, an equity or a TVL.
double PositiveRatio(double a, double b) { return b > 0 ? a / b : kNaN; }

double LogRatio(double a, double b) { return a > 0 && b > 0 ? std::log(a / b) : kNaN; }

// --- per-update kernels ---

// One input; Observe recomputes the outputs, Emit writes those of the latest update.
class PerUpdateKernel : public EventKernel {
 public:
  PerUpdateKernel(DataKind kind, std::vector<std::string> names)
      : inputs_{KernelInput{kind, ""}}, names_(std::move(names)), latest_(names_.size(), kNaN) {}

  std::span<const KernelInput> inputs() const final { return inputs_; }
  const std::vector<std::string>& output_names() const final { return names_; }
  void Observe(int input, const Event& event) final {
    if (input == 0) Update(event, latest_);
  }
  void Emit(int64_t /*now*/, std::span<double> out) final {
    std::copy_n(latest_.begin(), std::min(out.size(), latest_.size()), out.begin());
  }
  void Reset() final {
    std::fill(latest_.begin(), latest_.end(), kNaN);
    ResetState();
  }

 protected:
  // Recomputes `out` (the latest outputs, which keep their values unless overwritten).
  virtual void Update(const Event& event, std::span<double> out) = 0;
  virtual void ResetState() = 0;

 private:
  std::vector<KernelInput> inputs_;
  std::vector<std::string> names_;
  std::vector<double> latest_;
};

// The latest value of a field, or the ratio of two fields (minus one for a basis).
struct LatestConfig {
  DataKind kind;
  std::string name;
  int numerator;
  int denominator = -1;  // -1: no ratio
  bool minus_one = false;
};

class LatestValue final : public PerUpdateKernel {
 public:
  explicit LatestValue(LatestConfig config)
      : PerUpdateKernel(config.kind, {config.name}), config_(std::move(config)) {}
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<LatestValue>(config_);
  }

 protected:
  void Update(const Event& event, std::span<double> out) override {
    const double x = FieldOf(event, config_.numerator);
    if (config_.denominator < 0) {
      out[0] = x;
      return;
    }
    out[0] = PositiveRatio(x, FieldOf(event, config_.denominator)) - (config_.minus_one ? 1 : 0);
  }
  void ResetState() override {}

 private:
  LatestConfig config_;
};

// x / x[k] - 1 or x - x[k], where x[k] is the field k updates earlier.
struct LagConfig {
  DataKind kind;
  std::string name;
  int field;
  int k;
  bool ratio;  // else difference
};

class LaggedChange final : public PerUpdateKernel {
 public:
  explicit LaggedChange(LagConfig config)
      : PerUpdateKernel(config.kind, {config.name}),
        config_(std::move(config)),
        lags_(config_.k + 1) {}
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<LaggedChange>(config_);
  }

 protected:
  void Update(const Event& event, std::span<double> out) override {
    lags_.Push(FieldOf(event, config_.field));
    if (!lags_.full()) return;
    const double x = lags_.latest();
    const double old = lags_.oldest();  // k updates before the latest
    out[0] = config_.ratio ? PositiveRatio(x, old) - 1 : x - old;
  }
  void ResetState() override { lags_.Reset(); }

 private:
  LagConfig config_;
  LagRing lags_;  // the latest k + 1 values
};

// A statistic of the last n defined values of a field, or of its changes between
// consecutive updates.
enum class Transform { kLevel, kLogChange, kDifference };
enum class Statistic {
  kSd,      // sample standard deviation
  kSharpe,  // mean / sample sd
  kZ,       // (latest - mean) / sample sd, the latest included
};

struct WindowConfig {
  DataKind kind;
  std::string name;
  int field;
  int n;
  Transform transform;
  Statistic statistic;
};

class WindowStatistic final : public PerUpdateKernel {
 public:
  explicit WindowStatistic(WindowConfig config)
      : PerUpdateKernel(config.kind, {config.name}),
        config_(std::move(config)),
        window_(config_.n, RollingWindow::kSquaredDeviations) {
    assert(config_.n >= 2);
  }
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<WindowStatistic>(config_);
  }

 protected:
  void Update(const Event& event, std::span<double> out) override {
    const double value = Transformed(FieldOf(event, config_.field));
    if (!std::isfinite(value)) {
      // Skipped by the window: a statistic of the window stands, one of the latest does not.
      if (config_.statistic == Statistic::kZ) out[0] = kNaN;
      return;
    }
    window_.Push(value);
    out[0] = window_.full() ? Compute(value) : kNaN;
  }
  void ResetState() override {
    window_.Reset();
    previous_ = kNaN;
  }

 private:
  double Transformed(double x) {
    const double previous = std::exchange(previous_, x);
    switch (config_.transform) {
      case Transform::kLevel:
        return x;
      case Transform::kLogChange:
        return LogRatio(x, previous);
      case Transform::kDifference:
        return x - previous;
    }
    return kNaN;
  }

  double Compute(double latest) const {
    const double mean = window_.mean();
    const double sd = std::sqrt(SampleVariance(window_, config_.n));
    const bool flat = IsFlat(sd, mean);
    switch (config_.statistic) {
      case Statistic::kSd:
        return flat ? 0 : sd;
      case Statistic::kSharpe:
        return flat ? kNaN : mean / sd;
      case Statistic::kZ:
        return flat ? kNaN : (latest - mean) / sd;
    }
    return kNaN;
  }

  WindowConfig config_;
  RollingWindow window_;
  double previous_ = kNaN;
};

// Equity against its running maximum since the first update.
class VaultDrawdown final : public PerUpdateKernel {
 public:
  VaultDrawdown() : PerUpdateKernel(DataKind::kVault, {"vault_drawdown"}) {}
  std::unique_ptr<EventKernel> Clone() const override { return std::make_unique<VaultDrawdown>(); }

 protected:
  void Update(const Event& event, std::span<double> out) override {
    const double equity = FieldOf(event, fields::kVaultEquity);
    if (std::isfinite(equity)) peak_ = std::isnan(peak_) ? equity : std::max(peak_, equity);
    out[0] = PositiveRatio(equity, peak_) - 1;
  }
  void ResetState() override { peak_ = kNaN; }

 private:
  double peak_ = kNaN;
};

// TVL against the maximum TVL of the last n updates.
class TvlDrawdown final : public PerUpdateKernel {
 public:
  explicit TvlDrawdown(int n)
      : PerUpdateKernel(DataKind::kProtocol, {"tvl_drawdown" + Suffix(n)}), n_(n), peak_(n) {}
  std::unique_ptr<EventKernel> Clone() const override { return std::make_unique<TvlDrawdown>(n_); }

 protected:
  void Update(const Event& event, std::span<double> out) override {
    const double tvl = FieldOf(event, fields::kProtocolTvl);
    if (!std::isfinite(tvl)) {
      out[0] = kNaN;
      return;
    }
    const double peak = peak_.Push(tvl);  // NaN until n values
    out[0] = std::isnan(peak) ? kNaN : PositiveRatio(tvl, peak) - 1;
  }
  void ResetState() override { peak_.Reset(); }

 private:
  int n_;
  RollingMax peak_;
};

// OLS slope of ln(tvl) on time in days: sxy / sxx of the window. Times are taken from the
// first update after a reset, and the co-moments work with deviations from the window's
// means, so epoch-sized times never cancel against each other.
class TvlSlope final : public PerUpdateKernel {
 public:
  explicit TvlSlope(int n)
      : PerUpdateKernel(DataKind::kProtocol, {"tvl_slope" + Suffix(n)}), n_(n), window_(n) {
    assert(n >= 2);
  }
  std::unique_ptr<EventKernel> Clone() const override { return std::make_unique<TvlSlope>(n_); }

 protected:
  void Update(const Event& event, std::span<double> out) override {
    const double tvl = FieldOf(event, fields::kProtocolTvl);
    if (!(tvl > 0) || !std::isfinite(tvl)) return;
    if (!has_origin_) {
      origin_ = event.ts;
      has_origin_ = true;
    }
    const double days = static_cast<double>(event.ts - origin_) / kNanosPerDay;
    window_.Push(days, std::log(tvl));
    if (!window_.full()) return;
    const double time_sd = std::sqrt(window_.sxx() / n_);
    out[0] = IsFlat(time_sd, window_.mean_x()) ? kNaN : window_.sxy() / window_.sxx();
  }
  void ResetState() override {
    window_.Reset();
    has_origin_ = false;
  }

 private:
  int n_;
  RollingCovariance window_;
  bool has_origin_ = false;
  int64_t origin_ = 0;
};

// --- oracle kernels ---

// Input 0 is the oracle; with a reference instrument, input 1 is its candles. Subclasses
// see the deviation at each oracle update (OnUpdate) and write their outputs at Emit.
class OracleKernel : public EventKernel {
 public:
  OracleKernel(std::string reference, std::vector<std::string> names)
      : reference_(std::move(reference)), names_(std::move(names)) {
    inputs_.push_back({DataKind::kOracle, ""});
    if (!reference_.empty()) inputs_.push_back({DataKind::kCandles, reference_});
  }

  std::span<const KernelInput> inputs() const final { return inputs_; }
  const std::vector<std::string>& output_names() const final { return names_; }
  void Observe(int input, const Event& event) final {
    if (input == 1) {
      const double close = FieldOf(event, fields::kClose);
      if (close > 0 && std::isfinite(close)) reference_close_ = close;
      return;
    }
    if (input != 0) return;
    price_ = FieldOf(event, fields::kOraclePrice);
    row_reference_ = FieldOf(event, fields::kOracleReference);
    OnUpdate(event.ts, Deviation());
  }
  void Reset() final {
    price_ = row_reference_ = reference_close_ = kNaN;
    ResetState();
  }

 protected:
  const std::string& reference() const { return reference_; }
  // d = price / reference - 1 with the latest oracle price and the latest reference.
  double Deviation() const {
    const double reference = reference_.empty() ? row_reference_ : reference_close_;
    return price_ > 0 && std::isfinite(price_) ? PositiveRatio(price_, reference) - 1 : kNaN;
  }
  virtual void OnUpdate(int64_t ts, double deviation) = 0;
  virtual void ResetState() = 0;

 private:
  std::string reference_;
  std::vector<KernelInput> inputs_;
  std::vector<std::string> names_;
  double price_ = kNaN;
  double row_reference_ = kNaN;
  double reference_close_ = kNaN;
};

class OracleDeviation final : public OracleKernel {
 public:
  explicit OracleDeviation(std::string reference)
      : OracleKernel(std::move(reference), {"oracle_dev"}) {}
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<OracleDeviation>(reference());
  }
  void Emit(int64_t /*now*/, std::span<double> out) override { out[0] = Deviation(); }

 protected:
  void OnUpdate(int64_t /*ts*/, double /*deviation*/) override {}
  void ResetState() override {}
};

class OracleDeviationStats final : public OracleKernel {
 public:
  OracleDeviationStats(int n, std::string reference)
      : OracleKernel(std::move(reference),
                     {"oracle_dev_mean" + Suffix(n), "oracle_dev_std" + Suffix(n),
                      "oracle_dev_absmax" + Suffix(n)}),
        n_(n),
        window_(n, RollingWindow::kSquaredDeviations),
        abs_max_(n) {
    assert(n >= 2);
  }
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<OracleDeviationStats>(n_, reference());
  }
  void Emit(int64_t /*now*/, std::span<double> out) override {
    std::copy(latest_.begin(), latest_.end(), out.begin());
  }

 protected:
  void OnUpdate(int64_t /*ts*/, double deviation) override {
    if (!std::isfinite(deviation)) return;
    window_.Push(deviation);
    const double abs_max = abs_max_.Push(std::fabs(deviation));  // NaN until n values
    if (!window_.full()) return;
    const double mean = window_.mean();
    const double sd = std::sqrt(SampleVariance(window_, n_));
    latest_ = {mean, IsFlat(sd, mean) ? 0 : sd, abs_max};
  }
  void ResetState() override {
    window_.Reset();
    abs_max_.Reset();
    latest_ = {kNaN, kNaN, kNaN};
  }

 private:
  int n_;
  RollingWindow window_;
  RollingMax abs_max_;
  std::array<double, 3> latest_ = {kNaN, kNaN, kNaN};
};

class OracleDeviationPersistence final : public OracleKernel {
 public:
  OracleDeviationPersistence(int threshold_bps, std::string reference)
      : OracleKernel(std::move(reference),
                     {"oracle_dev_persist_" + std::to_string(threshold_bps) + "bps"}),
        threshold_bps_(threshold_bps),
        threshold_(threshold_bps / kBasisPointsPerUnit) {
    assert(threshold_bps >= 0);
  }
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<OracleDeviationPersistence>(threshold_bps_, reference());
  }
  void Emit(int64_t now, std::span<double> out) override {
    if (!latest_defined_) {
      out[0] = kNaN;
    } else if (in_run_) {
      out[0] = static_cast<double>(now - run_start_) / kNanosPerSecond;
    } else {
      out[0] = 0;
    }
  }

 protected:
  void OnUpdate(int64_t ts, double deviation) override {
    latest_defined_ = std::isfinite(deviation);
    const bool above = latest_defined_ && std::fabs(deviation) > threshold_;
    if (above && !in_run_) run_start_ = ts;
    in_run_ = above;
  }
  void ResetState() override { latest_defined_ = in_run_ = false; }

 private:
  static constexpr double kBasisPointsPerUnit = 1e4;
  int threshold_bps_;
  double threshold_;
  bool latest_defined_ = false;
  bool in_run_ = false;
  int64_t run_start_ = 0;
};

class OracleDeviationVelocity final : public OracleKernel {
 public:
  explicit OracleDeviationVelocity(std::string reference)
      : OracleKernel(std::move(reference), {"oracle_dev_velocity"}) {}
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<OracleDeviationVelocity>(reference());
  }
  void Emit(int64_t /*now*/, std::span<double> out) override { out[0] = velocity_; }

 protected:
  void OnUpdate(int64_t ts, double deviation) override {
    velocity_ = ts > previous_ts_ ? (deviation - previous_) * kNanosPerHour /
                                        static_cast<double>(ts - previous_ts_)
                                  : kNaN;
    previous_ = deviation;
    previous_ts_ = ts;
  }
  void ResetState() override {
    velocity_ = previous_ = kNaN;
    previous_ts_ = std::numeric_limits<int64_t>::max();
  }

 private:
  double velocity_ = kNaN;
  double previous_ = kNaN;  // NaN before the first update, so the first velocity is NaN
  int64_t previous_ts_ = std::numeric_limits<int64_t>::max();
};

std::unique_ptr<EventKernel> MakeWindowStatistic(DataKind kind, std::string name, int field, int n,
                                                 Transform transform, Statistic statistic) {
  assert(n >= 2);
  return std::make_unique<WindowStatistic>(
      WindowConfig{kind, std::move(name) + Suffix(n), field, n, transform, statistic});
}

std::unique_ptr<EventKernel> MakeLaggedChange(DataKind kind, std::string name, int field, int k,
                                              bool ratio) {
  assert(k >= 1);
  return std::make_unique<LaggedChange>(
      LagConfig{kind, std::move(name) + Suffix(k), field, k, ratio});
}

}  // namespace

// --- oracle ---
std::unique_ptr<EventKernel> MakeOracleDeviation(std::string reference) {
  return std::make_unique<OracleDeviation>(std::move(reference));
}
std::unique_ptr<EventKernel> MakeOracleDeviationStats(int n, std::string reference) {
  assert(n >= 2);
  return std::make_unique<OracleDeviationStats>(n, std::move(reference));
}
std::unique_ptr<EventKernel> MakeOracleDeviationPersistence(int threshold_bps,
                                                            std::string reference) {
  return std::make_unique<OracleDeviationPersistence>(threshold_bps, std::move(reference));
}
std::unique_ptr<EventKernel> MakeOracleDeviationVelocity(std::string reference) {
  return std::make_unique<OracleDeviationVelocity>(std::move(reference));
}

// --- vault ---
std::unique_ptr<EventKernel> MakeVaultReturn(int k) {
  return MakeLaggedChange(DataKind::kVault, "vault_ret", fields::kVaultEquity, k, true);
}
std::unique_ptr<EventKernel> MakeVaultPnlMomentum(int n) {
  return MakeLaggedChange(DataKind::kVault, "vault_pnl_mom", fields::kVaultPnl, n, false);
}
std::unique_ptr<EventKernel> MakeVaultDrawdown() { return std::make_unique<VaultDrawdown>(); }
std::unique_ptr<EventKernel> MakeVaultVol(int n) {
  return MakeWindowStatistic(DataKind::kVault, "vault_vol", fields::kVaultEquity, n,
                             Transform::kLogChange, Statistic::kSd);
}
std::unique_ptr<EventKernel> MakeVaultSharpe(int n) {
  return MakeWindowStatistic(DataKind::kVault, "vault_sharpe", fields::kVaultEquity, n,
                             Transform::kLogChange, Statistic::kSharpe);
}
std::unique_ptr<EventKernel> MakeVaultPnlZ(int n) {
  return MakeWindowStatistic(DataKind::kVault, "vault_pnl_z", fields::kVaultPnl, n,
                             Transform::kDifference, Statistic::kZ);
}

// --- funding ---
std::unique_ptr<EventKernel> MakeFundingRate() {
  return std::make_unique<LatestValue>(
      LatestConfig{DataKind::kFunding, "funding_rate", fields::kFundingRate});
}
std::unique_ptr<EventKernel> MakeFundingZ(int n) {
  return MakeWindowStatistic(DataKind::kFunding, "funding_z", fields::kFundingRate, n,
                             Transform::kLevel, Statistic::kZ);
}
std::unique_ptr<EventKernel> MakeFundingChange(int k) {
  return MakeLaggedChange(DataKind::kFunding, "funding_change", fields::kFundingRate, k, false);
}
std::unique_ptr<EventKernel> MakeFundingBasis() {
  return std::make_unique<LatestValue>(LatestConfig{
      DataKind::kFunding, "funding_basis", fields::kFundingMark, fields::kFundingIndex, true});
}

// --- DeFi protocol ---
std::unique_ptr<EventKernel> MakeTvlChange(int k) {
  return MakeLaggedChange(DataKind::kProtocol, "tvl_change", fields::kProtocolTvl, k, true);
}
std::unique_ptr<EventKernel> MakeTvlVol(int n) {
  return MakeWindowStatistic(DataKind::kProtocol, "tvl_vol", fields::kProtocolTvl, n,
                             Transform::kLogChange, Statistic::kSd);
}
std::unique_ptr<EventKernel> MakeTvlSlope(int n) {
  assert(n >= 2);
  return std::make_unique<TvlSlope>(n);
}
std::unique_ptr<EventKernel> MakeTvlDrawdown(int n) {
  assert(n >= 1);
  return std::make_unique<TvlDrawdown>(n);
}
std::unique_ptr<EventKernel> MakeLiquidityRatio() {
  return std::make_unique<LatestValue>(LatestConfig{DataKind::kProtocol, "liquidity_ratio",
                                                    fields::kProtocolVolume, fields::kProtocolTvl});
}
std::unique_ptr<EventKernel> MakeMcapTvl() {
  return std::make_unique<LatestValue>(LatestConfig{
      DataKind::kProtocol, "mcap_tvl", fields::kProtocolMarketCap, fields::kProtocolTvl});
}

}  // namespace vigil
