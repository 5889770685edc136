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
};
std::string_view LabelKindName(LabelKind kind);  // "none", "direction", "forward_return"
Result<LabelKind> ParseLabelKind(std::string_view text);

struct LabelOptions {
  LabelKind kind = LabelKind::kDirection;
  // The horizon: exactly one is > 0 (except for kNone, which needs neither).
  int64_t horizon_bars = 0;     // end = row i + horizon_bars
  int64_t horizon_ns = 0;       // end = the last row with ts <= ts_i + horizon_ns
  double threshold = 0.0;       // kDirection: the log-return a move must exceed
  std::string field = "close";  // the price field of the driver events

  // InvalidArgument naming the field.
  Status Validate() const;
};

struct Labels {
  std::vector<double> values;  // one per row; NaN where incomplete or a price is not > 0
  LabelWindows windows;        // complete[i] == false where the horizon ran past the data
};

// Labels of rows with timestamps `ts` (non-decreasing) and prices `price` (same size).
// Fails on invalid options, mismatched sizes or decreasing timestamps.
Result<Labels> ComputeLabels(const LabelOptions& options, std::span<const int64_t> ts,
                             std::span<const double> price);

}  // namespace vigil
