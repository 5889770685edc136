// Pieces shared by labels.cc (options, horizons, the price kinds) and labels_risk.cc (the
// risk kinds). Not API.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/pipeline/labels.h"

namespace vigil::labels_internal {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A price (or TVL) a label can read: finite and > 0.
inline bool Usable(double value) { return std::isfinite(value) && value > 0; }

// Where each row's horizon ends.
struct Horizon {
  LabelWindows windows;
  // The last row the horizon covers (ts[end] <= ts[i] + horizon; the last row of a
  // timestamp's ties), or -1 where the horizon runs past the data (window incomplete).
  std::vector<int64_t> end_row;
};

// The horizon of every row of `ts` (options.horizon_bars or options.horizon_ns).
Result<Horizon> ResolveHorizon(const LabelOptions& options, std::span<const int64_t> ts);

// The risk kinds (labels_risk.cc). Each fills labels->values (already sized n, all NaN),
// and its kind's extra outputs; inputs have been checked to hold the series it reads.
void ComputeLiquidationLabels(const LabelOptions& options, const LabelInputs& inputs,
                              const Horizon& horizon, Labels* labels);
void ComputeCrashLabels(const LabelOptions& options, const LabelInputs& inputs,
                        const Horizon& horizon, Labels* labels);
void ComputeProtocolRiskLabels(const LabelOptions& options, const LabelInputs& inputs,
                               const Horizon& horizon, Labels* labels);
void ComputeOpportunityLabels(const LabelOptions& options, const LabelInputs& inputs,
                              const Horizon& horizon, Labels* labels);

}  // namespace vigil::labels_internal
