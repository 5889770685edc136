// A model's outputs over a backtest's bars, as strategies read them (ml_threshold,
// arbitrage): one value per feature row of an instrument, stamped with the row's time (the
// open time of the bar it was computed from, so it is usable from that bar's close on).
// Made by walk_forward.h (a model retrained inside the backtest, or a registered one).
//
//   const vigil::ModelSignals& signals = ...;
//   const size_t row = signals.Find(bars.open_time[i]);
//   if (row != vigil::ModelSignals::npos && signals.value[row] > 0.6) { ... }
//
// Plain values; thread-compatible.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "vigil/core/timestamp.h"

namespace vigil {

struct ModelSignals {
  static constexpr size_t npos = static_cast<size_t>(-1);

  std::string instrument;            // "venue:symbol", as the bars it was computed from
  std::vector<Timestamp> time;       // strictly increasing feature-row times (bar open times)
  std::vector<double> value;         // P(class 1) of a binary classifier, or a regressor's output
  std::vector<double> disagreement;  // sample sd over the ensemble's members (0 for one)
  std::vector<int> window;           // the walk-forward window whose models made it (-1: none)

  size_t size() const { return time.size(); }
  // The row stamped `row_time`, or npos.
  size_t Find(Timestamp row_time) const {
    const auto it = std::lower_bound(time.begin(), time.end(), row_time);
    return it != time.end() && *it == row_time ? static_cast<size_t>(it - time.begin()) : npos;
  }
};

}  // namespace vigil
