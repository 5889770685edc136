// Private: a trailing time window of events with running sums, for kernels that report
// counts, totals and ratios over "the last 5 minutes" (micro, liquidation, on-chain).
//
//   TimeWindowSums<2> window(60 * kNanosPerSecond);   // (now - 1m, now]
//   window.Push(event.ts, {qty, signed_qty});
//   window.Evict(now);
//   double volume = window.sum(0);
//
// The window covers (now - span, now]: Evict(now) drops every entry stamped <= now - span,
// so a quiet input decays to an empty window. Updates are O(1) amortised. Below it, the
// helpers that turn odd event values (NaN, negative sizes, unknown sides) into values a
// running sum can take.
#pragma once

#include <array>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>

#include "rolling.h"
#include "vigil/features/event.h"

namespace vigil::features_internal {

// Entries of N values each, with the compensated running sum of every value over the
// entries still in the window. Preconditions: Push in non-decreasing ts; values finite
// (a NaN would poison the running sum until the window empties, so callers sanitise).
template <size_t N>
class TimeWindowSums {
 public:
  struct Entry {
    int64_t ts;
    std::array<double, N> values;
  };

  explicit TimeWindowSums(int64_t span_ns) : span_ns_(span_ns) { assert(span_ns > 0); }

  void Push(int64_t ts, const std::array<double, N>& values) {
    entries_.push_back({ts, values});
    for (size_t i = 0; i < N; ++i) sums_[i].Add(values[i]);
  }

  // Drops the entries stamped <= now - span.
  void Evict(int64_t now) {
    const int64_t cutoff = now - span_ns_;
    while (!entries_.empty() && entries_.front().ts <= cutoff) {
      for (size_t i = 0; i < N; ++i) sums_[i].Add(-entries_.front().values[i]);
      entries_.pop_front();
    }
    // Adding and subtracting the same values leaves a few ulps behind; an empty window
    // restarts from an exact zero so the error never outlives a quiet spell.
    if (entries_.empty()) sums_ = {};
  }

  void Reset() {
    entries_.clear();
    sums_ = {};
  }

  int64_t span_ns() const { return span_ns_; }
  size_t count() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  double sum(size_t i) const { return sums_[i].value(); }
  // Oldest and newest entries (precondition: !empty()).
  const Entry& oldest() const { return entries_.front(); }
  const Entry& newest() const { return entries_.back(); }

 private:
  int64_t span_ns_;
  std::deque<Entry> entries_;
  std::array<CompensatedSum, N> sums_{};
};

// --- sanitising event values before they enter a window ---

// event.values[index], or NaN when the event has no such field.
inline double FieldOrNaN(const Event& event, int index) {
  return index >= 0 && static_cast<size_t>(index) < event.values.size() ? event.values[index]
                                                                        : kNaN;
}

// A size, quantity or notional as windows count it: NaN, infinite or negative -> 0.
inline double Quantity(double x) { return std::isfinite(x) && x > 0 ? x : 0; }

// A side field by its sign: +1, -1, or 0 for unknown (0 or NaN).
inline double SideOf(double side) { return side > 0 ? 1 : side < 0 ? -1 : 0; }

}  // namespace vigil::features_internal
