// Training labels: targets that look forward from each row, with the span of time each one
// reads (LabelWindows, splitters.h) so walk-forward and purged k-fold can purge training
// rows whose label overlaps a test fold.
//
//   vigil::LabelOptions options;
//   options.kind = vigil::LabelKind::kDirection;
//   options.horizon_ns = 15 * vigil::kNanosPerMinute;
//   VIGIL_ASSIGN_OR_RETURN(vigil::Labels labels, vigil::ComputeLabels(options, ts, close));
//
// Point in time: the label of row i reads the price at i and at the end of its horizon,
// nothing else; it is NaN (and its window incomplete) when the data ends before the
// horizon does, never computed from a shorter horizon.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/splitters.h"

namespace vigil {

enum class LabelKind {
  kNone,           // no target (anomaly detectors): every label is 0, windows read no future
  kDirection,      // 1 when log(p[end] / p[i]) > threshold, else 0 (binary classification)
  kForwardReturn,  // log(p[end] / p[i]) (regression)
  // 1 when a position opened at row i's close at `leverage`, `side`, `maintenance_margin`
  // reaches its liquidation price within the horizon: some row j in (i, end] has
  // low[j] <= liquidation price (long) or high[j] >= it (short). Liquidation price:
  // long close[i] * (1 - 1/L + m), short close[i] * (1 + 1/L - m).
  kLiquidation,
  // 1 when log(close[end] / close[i]) < -crash_k * sigma_i * sqrt(end - i), sigma_i the
  // sample standard deviation of the vol_window one-row log returns ending at row i
  // (rows i - vol_window .. i, all at or before i); NaN while fewer are available.
  kCrash,
  // 0 low / 1 medium / 2 high (multiclass) from the row's forward TVL path over (i, end]:
  // drawdown = 1 - min(tvl[i+1..end]) / tvl[i] and volatility = the sample standard
  // deviation of the one-row log changes of tvl over [i, end]. High when drawdown >=
  // drawdown_high or volatility >= volatility_high; else medium when drawdown >=
  // drawdown_medium or volatility >= volatility_medium; else low.
  kProtocolRisk,
  // 1 when the cross-venue spread |a - b| / min(a, b) (in bps) exceeds the round-trip cost
  // 2 x (fee_bps + slippage_bps) + 2 x gas_usd / notional_usd x 1e4 on persist_rows
  // consecutive rows starting at i, all within the horizon (i + persist_rows - 1 <= end);
  // price a = close (the `field`), price b = pair_price.
  kOpportunity,
};
// "none", "direction", "forward_return", "liquidation", "crash", "protocol_risk",
// "opportunity".
std::string_view LabelKindName(LabelKind kind);
Result<LabelKind> ParseLabelKind(std::string_view text);

enum class PositionSide { kLong, kShort };
std::string_view PositionSideName(PositionSide side);  // "long", "short"
Result<PositionSide> ParsePositionSide(std::string_view text);

struct LabelOptions {
  LabelKind kind = LabelKind::kDirection;
  // The horizon: exactly one is > 0 (except for kNone, which needs neither).
  int64_t horizon_bars = 0;     // end = row i + horizon_bars
  int64_t horizon_ns = 0;       // end = the last row with ts <= ts_i + horizon_ns
  double threshold = 0.0;       // kDirection: the log-return a move must exceed
  std::string field = "close";  // the price field of the driver events

  // kLiquidation
  double leverage = 20.0;  // > 1
  PositionSide side = PositionSide::kLong;
  double maintenance_margin = 0.005;  // in [0, 1 / leverage)
  // kCrash
  double crash_k = 3.0;     // > 0
  int64_t vol_window = 60;  // >= 2 one-row returns
  // kProtocolRisk
  double drawdown_medium = 0.10;  // 0 < medium <= high < 1
  double drawdown_high = 0.25;
  double volatility_medium = 0.05;  // one-row log-change standard deviation; 0 < medium <= high
  double volatility_high = 0.10;
  // kOpportunity
  double fee_bps = 5.0;           // per leg, >= 0
  double slippage_bps = 2.0;      // per leg, >= 0
  double gas_usd = 5.0;           // per leg, >= 0
  double notional_usd = 10000.0;  // > 0
  int64_t persist_rows = 1;       // >= 1

  // InvalidArgument naming the field.
  Status Validate() const;
};

// The series a label reads, all aligned with `ts` (non-decreasing). Only the series a kind
// needs must be given (others may be empty): close for every kind but kProtocolRisk; high
// and low for kLiquidation; tvl for kProtocolRisk; pair_price for kOpportunity. A
// non-finite or non-positive value where one is read makes that row's label NaN (never an
// error).
struct LabelInputs {
  std::span<const int64_t> ts;
  std::span<const double> close;
  std::span<const double> high;
  std::span<const double> low;
  std::span<const double> tvl;
  std::span<const double> pair_price;
};

// A named per-row quantity behind a label (Labels::details).
struct LabelDetail {
  std::string name;
  std::vector<double> values;
};

struct Labels {
  std::vector<double> values;  // one per row; NaN where incomplete or an input is unusable
  LabelWindows windows;        // complete[i] == false where the horizon ran past the data
  // kLiquidation only (else empty): nanoseconds from ts[i] to the first row j in (i, end]
  // that crosses the liquidation price (ts[j] - ts[i]); NaN when none does (censored at
  // the horizon) or the label is NaN. And each row's liquidation price.
  std::vector<double> time_to_event_ns;
  std::vector<double> liquidation_price;
  // The quantities a label was decided on, one value per row (NaN where undefined):
  //   kCrash        forward_return (log(close[end] / close[i])), threshold
  //                 (-crash_k * sigma_i * sqrt(end - i)); NaN where the label is NaN
  //   kProtocolRisk drawdown, volatility; NaN where the label is NaN
  //   kOpportunity  spread_bps at row i (wherever both prices are usable), cost_bps
  // Empty for the other kinds.
  std::vector<LabelDetail> details;
};

// Labels of rows with timestamps `ts` (non-decreasing) and prices `price` (same size), for
// the kinds that read one price series (none, direction, forward_return, crash).
// Fails on invalid options, mismatched sizes or decreasing timestamps.
Result<Labels> ComputeLabels(const LabelOptions& options, std::span<const int64_t> ts,
                             std::span<const double> price);
// Every kind. Fails as above, and with InvalidArgument naming a series the kind needs
// that is missing or of the wrong size.
Result<Labels> ComputeLabels(const LabelOptions& options, const LabelInputs& inputs);

// The horizon in rows of data spaced `bar_ns` (> 0) apart: horizon_ns / bar_ns, which must
// divide exactly (InvalidArgument "horizon 7m is not a whole number of 5m bars").
Result<int64_t> HorizonBars(int64_t horizon_ns, int64_t bar_ns);
// The most common spacing between consecutive distinct timestamps (the data's timeframe);
// InvalidArgument with fewer than two distinct timestamps.
Result<int64_t> InferBarSpacing(std::span<const int64_t> ts);

// Labels for several horizons in one call (the multi-horizon liquidation model's targets):
// element k equals ComputeLabels with options.horizon_ns = horizons_ns[k] and
// options.horizon_bars = 0.
Result<std::vector<Labels>> ComputeMultiHorizonLabels(const LabelOptions& options,
                                                      const LabelInputs& inputs,
                                                      std::span<const int64_t> horizons_ns);

}  // namespace vigil
