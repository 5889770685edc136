// Label options, horizons and the price kinds (none, direction, forward_return); the risk
// kinds live in labels_risk.cc.
#include "vigil/pipeline/labels.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "labels_internal.h"
#include "vigil/core/timestamp.h"

namespace vigil {

using labels_internal::Horizon;
using labels_internal::kNaN;

namespace {

constexpr LabelKind kAllKinds[] = {
    LabelKind::kNone,  LabelKind::kDirection,    LabelKind::kForwardReturn, LabelKind::kLiquidation,
    LabelKind::kCrash, LabelKind::kProtocolRisk, LabelKind::kOpportunity};

Status CheckFiniteAtLeast(const char* name, double value, double minimum) {
  if (!std::isfinite(value) || value < minimum) {
    return InvalidArgument(std::string(name) + ": must be a finite number >= " +
                           std::to_string(minimum) + " (got " + std::to_string(value) + ")");
  }
  return Status::Ok();
}

Status ValidateLiquidation(const LabelOptions& options) {
  if (!std::isfinite(options.leverage) || !(options.leverage > 1)) {
    return InvalidArgument("leverage: must be > 1 (got " + std::to_string(options.leverage) + ")");
  }
  const double m = options.maintenance_margin;
  if (!std::isfinite(m) || m < 0 || m >= 1 / options.leverage) {
    return InvalidArgument("maintenance_margin: must be in [0, 1/leverage) = [0, " +
                           std::to_string(1 / options.leverage) + ") (got " + std::to_string(m) +
                           ")");
  }
  return Status::Ok();
}

Status ValidateCrash(const LabelOptions& options) {
  if (!std::isfinite(options.crash_k) || !(options.crash_k > 0)) {
    return InvalidArgument("crash_k: must be > 0 (got " + std::to_string(options.crash_k) + ")");
  }
  if (options.vol_window < 2) {
    return InvalidArgument("vol_window: must be >= 2 (got " + std::to_string(options.vol_window) +
                           ")");
  }
  return Status::Ok();
}

// 0 < medium <= high (< 1 for drawdowns, which cannot reach 100%).
Status CheckThresholdPair(const char* medium_name, double medium, const char* high_name,
                          double high, bool below_one) {
  if (!std::isfinite(medium) || !(medium > 0) || (below_one && medium >= 1)) {
    return InvalidArgument(std::string(medium_name) + ": must be > 0" +
                           (below_one ? " and < 1" : "") + " (got " + std::to_string(medium) + ")");
  }
  if (!std::isfinite(high) || high < medium || (below_one && high >= 1)) {
    return InvalidArgument(std::string(high_name) + ": must be >= " + medium_name +
                           (below_one ? " and < 1" : "") + " (got " + std::to_string(high) + ")");
  }
  return Status::Ok();
}

Status ValidateProtocolRisk(const LabelOptions& options) {
  VIGIL_RETURN_IF_ERROR(CheckThresholdPair("drawdown_medium", options.drawdown_medium,
                                           "drawdown_high", options.drawdown_high, true));
  return CheckThresholdPair("volatility_medium", options.volatility_medium, "volatility_high",
                            options.volatility_high, false);
}

Status ValidateOpportunity(const LabelOptions& options) {
  VIGIL_RETURN_IF_ERROR(CheckFiniteAtLeast("fee_bps", options.fee_bps, 0));
  VIGIL_RETURN_IF_ERROR(CheckFiniteAtLeast("slippage_bps", options.slippage_bps, 0));
  VIGIL_RETURN_IF_ERROR(CheckFiniteAtLeast("gas_usd", options.gas_usd, 0));
  if (!std::isfinite(options.notional_usd) || !(options.notional_usd > 0)) {
    return InvalidArgument("notional_usd: must be > 0 (got " +
                           std::to_string(options.notional_usd) + ")");
  }
  if (options.persist_rows < 1) {
    return InvalidArgument("persist_rows: must be >= 1 (got " +
                           std::to_string(options.persist_rows) + ")");
  }
  return Status::Ok();
}

// The series `kind` reads besides the timestamps, by name.
std::vector<std::pair<const char*, std::span<const double>>> SeriesRead(LabelKind kind,
                                                                        const LabelInputs& in) {
  switch (kind) {
    case LabelKind::kNone:
      return {};
    case LabelKind::kLiquidation:
      return {{"close", in.close}, {"high", in.high}, {"low", in.low}};
    case LabelKind::kProtocolRisk:
      return {{"tvl", in.tvl}};
    case LabelKind::kOpportunity:
      return {{"close", in.close}, {"pair_price", in.pair_price}};
    case LabelKind::kDirection:
    case LabelKind::kForwardReturn:
    case LabelKind::kCrash:
      break;
  }
  return {{"close", in.close}};
}

Status CheckInputs(const LabelOptions& options, const LabelInputs& inputs) {
  for (const auto& [name, series] : SeriesRead(options.kind, inputs)) {
    if (series.size() != inputs.ts.size()) {
      return InvalidArgument("labels: kind " + std::string(LabelKindName(options.kind)) +
                             " reads series '" + name + "', which has " +
                             std::to_string(series.size()) + " values for " +
                             std::to_string(inputs.ts.size()) + " timestamps");
    }
  }
  return Status::Ok();
}

// log(p[end] / p[i]) (forward return) or whether it exceeds the threshold (direction).
void ComputePriceLabels(const LabelOptions& options, std::span<const double> price,
                        const Horizon& horizon, Labels* labels) {
  for (size_t row = 0; row < price.size(); ++row) {
    const int64_t end = horizon.end_row[row];
    if (end < 0) continue;
    if (!labels_internal::Usable(price[row]) || !labels_internal::Usable(price[end])) continue;
    const double log_return = std::log(price[end] / price[row]);
    labels->values[row] = options.kind == LabelKind::kForwardReturn
                              ? log_return
                              : (log_return > options.threshold ? 1.0 : 0.0);
  }
}

}  // namespace

std::string_view LabelKindName(LabelKind kind) {
  switch (kind) {
    case LabelKind::kNone:
      return "none";
    case LabelKind::kDirection:
      return "direction";
    case LabelKind::kForwardReturn:
      return "forward_return";
    case LabelKind::kLiquidation:
      return "liquidation";
    case LabelKind::kCrash:
      return "crash";
    case LabelKind::kProtocolRisk:
      return "protocol_risk";
    case LabelKind::kOpportunity:
      return "opportunity";
  }
  return "?";
}

Result<LabelKind> ParseLabelKind(std::string_view text) {
  for (LabelKind kind : kAllKinds) {
    if (text == LabelKindName(kind)) return kind;
  }
  return InvalidArgument("unknown label kind \"" + std::string(text) +
                         "\" (expected none, direction, forward_return, liquidation, crash, "
                         "protocol_risk or opportunity)");
}

std::string_view PositionSideName(PositionSide side) {
  return side == PositionSide::kLong ? "long" : "short";
}

Result<PositionSide> ParsePositionSide(std::string_view text) {
  if (text == "long") return PositionSide::kLong;
  if (text == "short") return PositionSide::kShort;
  return InvalidArgument("unknown position side \"" + std::string(text) +
                         "\" (expected long or short)");
}

Status LabelOptions::Validate() const {
  if (horizon_bars < 0) return InvalidArgument("horizon_bars: must be >= 0");
  if (horizon_ns < 0) return InvalidArgument("horizon: must be >= 0");
  if (kind == LabelKind::kNone) return Status::Ok();
  if ((horizon_bars > 0) == (horizon_ns > 0)) {
    return InvalidArgument("horizon: give exactly one of horizon (a duration) or horizon_bars");
  }
  if (!std::isfinite(threshold)) return InvalidArgument("threshold: must be finite");
  if (field.empty()) return InvalidArgument("field: must not be empty");
  switch (kind) {
    case LabelKind::kLiquidation:
      return ValidateLiquidation(*this);
    case LabelKind::kCrash:
      return ValidateCrash(*this);
    case LabelKind::kProtocolRisk:
      return ValidateProtocolRisk(*this);
    case LabelKind::kOpportunity:
      return ValidateOpportunity(*this);
    default:
      return Status::Ok();
  }
}

namespace labels_internal {

Result<Horizon> ResolveHorizon(const LabelOptions& options, std::span<const int64_t> ts) {
  Horizon horizon;
  const bool by_bars = options.horizon_bars > 0;
  if (by_bars) {
    VIGIL_ASSIGN_OR_RETURN(horizon.windows,
                           LabelWindows::FromHorizonBars(ts, options.horizon_bars));
  } else {
    VIGIL_ASSIGN_OR_RETURN(horizon.windows, LabelWindows::FromHorizonTime(ts, options.horizon_ns));
  }
  const int64_t n = static_cast<int64_t>(ts.size());
  horizon.end_row.assign(n, -1);
  // The end row only moves forward as the row does, so one sweep finds every end.
  int64_t end = 0;
  for (int64_t row = 0; row < n; ++row) {
    if (!horizon.windows.label_complete(row)) continue;
    if (by_bars) {
      end = row + options.horizon_bars;
    } else {
      // end_ts is an actual row's stamp; with ties the horizon ends on the last row
      // carrying it.
      end = std::max(end, row);
      while (end + 1 < n && ts[end + 1] <= horizon.windows.end_ts[row]) ++end;
    }
    horizon.end_row[row] = end;
  }
  return horizon;
}

}  // namespace labels_internal

Result<Labels> ComputeLabels(const LabelOptions& options, std::span<const int64_t> ts,
                             std::span<const double> price) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  if (ts.size() != price.size()) {
    return InvalidArgument("labels: " + std::to_string(ts.size()) + " timestamps but " +
                           std::to_string(price.size()) + " prices");
  }
  LabelInputs inputs;
  inputs.ts = ts;
  inputs.close = price;
  return ComputeLabels(options, inputs);
}

Result<Labels> ComputeLabels(const LabelOptions& options, const LabelInputs& inputs) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(CheckInputs(options, inputs));
  Labels labels;
  const int64_t n = static_cast<int64_t>(inputs.ts.size());
  if (options.kind == LabelKind::kNone) {
    VIGIL_ASSIGN_OR_RETURN(labels.windows, LabelWindows::FromHorizonBars(inputs.ts, 0));
    labels.values.assign(n, 0.0);
    return labels;
  }
  VIGIL_ASSIGN_OR_RETURN(Horizon horizon, labels_internal::ResolveHorizon(options, inputs.ts));
  labels.values.assign(n, kNaN);
  switch (options.kind) {
    case LabelKind::kLiquidation:
      labels_internal::ComputeLiquidationLabels(options, inputs, horizon, &labels);
      break;
    case LabelKind::kCrash:
      labels_internal::ComputeCrashLabels(options, inputs, horizon, &labels);
      break;
    case LabelKind::kProtocolRisk:
      labels_internal::ComputeProtocolRiskLabels(options, inputs, horizon, &labels);
      break;
    case LabelKind::kOpportunity:
      labels_internal::ComputeOpportunityLabels(options, inputs, horizon, &labels);
      break;
    default:
      ComputePriceLabels(options, inputs.close, horizon, &labels);
      break;
  }
  labels.windows = std::move(horizon.windows);
  return labels;
}

Result<int64_t> HorizonBars(int64_t horizon_ns, int64_t bar_ns) {
  if (bar_ns <= 0) {
    return InvalidArgument("bar spacing: must be > 0 (got " + std::to_string(bar_ns) + " ns)");
  }
  if (horizon_ns <= 0) {
    return InvalidArgument("horizon: must be > 0 (got " + std::to_string(horizon_ns) + " ns)");
  }
  if (horizon_ns % bar_ns != 0) {
    return InvalidArgument("horizon " + FormatDuration(horizon_ns) + " is not a whole number of " +
                           FormatDuration(bar_ns) + " bars");
  }
  return horizon_ns / bar_ns;
}

Result<int64_t> InferBarSpacing(std::span<const int64_t> ts) {
  std::map<int64_t, int64_t> spacing_counts;
  for (size_t row = 1; row < ts.size(); ++row) {
    const int64_t step = ts[row] - ts[row - 1];
    if (step < 0) {
      return InvalidArgument("timestamps decrease at row " + std::to_string(row));
    }
    if (step > 0) ++spacing_counts[step];
  }
  if (spacing_counts.empty()) {
    return InvalidArgument("bar spacing: needs at least two distinct timestamps (got " +
                           std::to_string(ts.size()) + " rows)");
  }
  // Ties between equally common spacings go to the smallest (the map is ordered).
  auto best = spacing_counts.begin();
  for (auto it = spacing_counts.begin(); it != spacing_counts.end(); ++it) {
    if (it->second > best->second) best = it;
  }
  return best->first;
}

Result<std::vector<Labels>> ComputeMultiHorizonLabels(const LabelOptions& options,
                                                      const LabelInputs& inputs,
                                                      std::span<const int64_t> horizons_ns) {
  if (horizons_ns.empty()) return InvalidArgument("horizons: give at least one");
  std::vector<Labels> all;
  all.reserve(horizons_ns.size());
  for (int64_t horizon_ns : horizons_ns) {
    LabelOptions one = options;
    one.horizon_ns = horizon_ns;
    one.horizon_bars = 0;
    Result<Labels> labels = ComputeLabels(one, inputs);
    if (!labels.ok()) {
      return labels.status().WithContext("horizon " + FormatDuration(horizon_ns));
    }
    all.push_back(std::move(*labels));
  }
  return all;
}

}  // namespace vigil
