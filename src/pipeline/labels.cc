#include "vigil/pipeline/labels.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vigil {

std::string_view LabelKindName(LabelKind kind) {
  switch (kind) {
    case LabelKind::kNone:
      return "none";
    case LabelKind::kDirection:
      return "direction";
    case LabelKind::kForwardReturn:
      return "forward_return";
  }
  return "?";
}

Result<LabelKind> ParseLabelKind(std::string_view text) {
  for (LabelKind kind : {LabelKind::kNone, LabelKind::kDirection, LabelKind::kForwardReturn}) {
    if (text == LabelKindName(kind)) return kind;
  }
  return InvalidArgument("unknown label kind \"" + std::string(text) +
                         "\" (expected none, direction or forward_return)");
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
  return Status::Ok();
}

namespace {

double LabelValue(const LabelOptions& options, double from_price, double to_price) {
  if (!(from_price > 0) || !(to_price > 0)) return std::numeric_limits<double>::quiet_NaN();
  const double log_return = std::log(to_price / from_price);
  if (options.kind == LabelKind::kForwardReturn) return log_return;
  return log_return > options.threshold ? 1.0 : 0.0;
}

}  // namespace

Result<Labels> ComputeLabels(const LabelOptions& options, std::span<const int64_t> ts,
                             std::span<const double> price) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  if (ts.size() != price.size()) {
    return InvalidArgument("labels: " + std::to_string(ts.size()) + " timestamps but " +
                           std::to_string(price.size()) + " prices");
  }
  Labels labels;
  const int64_t n = static_cast<int64_t>(ts.size());
  if (options.kind == LabelKind::kNone) {
    VIGIL_ASSIGN_OR_RETURN(labels.windows, LabelWindows::FromHorizonBars(ts, 0));
    labels.values.assign(n, 0.0);
    return labels;
  }
  const bool by_bars = options.horizon_bars > 0;
  if (by_bars) {
    VIGIL_ASSIGN_OR_RETURN(labels.windows, LabelWindows::FromHorizonBars(ts, options.horizon_bars));
  } else {
    VIGIL_ASSIGN_OR_RETURN(labels.windows, LabelWindows::FromHorizonTime(ts, options.horizon_ns));
  }
  labels.values.assign(n, std::numeric_limits<double>::quiet_NaN());
  // The end row only moves forward as the row does, so one sweep finds every end.
  int64_t end = 0;
  for (int64_t row = 0; row < n; ++row) {
    if (!labels.windows.label_complete(row)) continue;
    if (by_bars) {
      end = row + options.horizon_bars;
    } else {
      // end_ts is an actual row's stamp; with ties the horizon ends on the last row
      // carrying it.
      end = std::max(end, row);
      while (end + 1 < n && ts[end + 1] <= labels.windows.end_ts[row]) ++end;
    }
    labels.values[row] = LabelValue(options, price[row], price[end]);
  }
  return labels;
}

}  // namespace vigil
