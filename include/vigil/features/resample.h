// Resampling candles to a higher timeframe (1m -> 5m, 15m, 1h, 4h, 1d) with bar-close
// semantics: a higher-timeframe bar is handed out only once it is final, so features
// computed on it never see the future.
//
// Buckets are epoch-aligned: bucket_start = floor(ts / target) * target, so 1d buckets
// are UTC days and 4h buckets start at 00:00, 04:00, ... UTC. Source bars are stamped at
// their OPEN time; a source bar belongs to the bucket containing its open time. A bucket
// is complete when the source bar opening at bucket_start + target - source_step arrives,
// or, when that bar is missing (no trades, feed gap), when a bar of a later bucket
// arrives; the bucket then closes with the bars it has.
//
//   auto resampler = vigil::BarResampler::Create(vigil::kNanosPerMinute,
//                                                5 * vigil::kNanosPerMinute);
//   if (!resampler.ok()) return resampler.status();
//   for (const vigil::Bar& bar : one_minute_bars) {
//     for (const vigil::ClosedBar& closed : resampler->Update(bar)) Use(closed);
//   }
//   if (auto partial = resampler->Flush()) UsePartial(*partial);  // end of data only
//
// Thread-safety: a BarResampler holds mutable state; use one per stream and thread.
// ResampleBars is pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/features/kernel.h"

namespace vigil {

// A higher-timeframe bar together with the moment it became final.
struct ClosedBar {
  // ts = bucket start (the bar's open time); open = first open, high = max,
  // low = min, close = last close, volume = sum over the bucket's source bars.
  Bar bar;
  // bucket start + target step: the earliest time at which `bar` is final. Use this,
  // not bar.ts, to decide when the bar may be used (see timeframe_join.h).
  int64_t close_ts = 0;
  // How many source bars went into `bar`; target / source for a gap-free bucket.
  int source_bars = 0;
};

class BarResampler {
 public:
  // Fails (InvalidArgument) unless both steps are positive and target_step_ns is a
  // whole multiple of source_step_ns.
  static Result<BarResampler> Create(int64_t source_step_ns, int64_t target_step_ns);

  // Consumes the next source bar and returns the higher-timeframe bars that became
  // final with it, oldest first: none, one, or two when `bar` both closes an earlier
  // bucket by skipping past its end (a gap) and is itself the last bar of its own
  // bucket. Preconditions (asserted): bar.ts is greater than the previous bar's ts and
  // is a multiple of source_step_ns (bars stamped at their open time).
  std::vector<ClosedBar> Update(const Bar& bar);

  // End of data: returns the open bucket, if any, and forgets it. The bar is PARTIAL:
  // its bucket has not ended, so later source bars could still have changed it; its
  // close_ts is the time it would have become final. Never call this to peek at a bar
  // during live streaming.
  std::optional<ClosedBar> Flush();

  // Forgets all state.
  void Reset();

  int64_t source_step_ns() const { return source_step_ns_; }
  int64_t target_step_ns() const { return target_step_ns_; }

 private:
  BarResampler(int64_t source_step_ns, int64_t target_step_ns)
      : source_step_ns_(source_step_ns), target_step_ns_(target_step_ns) {}

  ClosedBar TakeOpen();

  int64_t source_step_ns_;
  int64_t target_step_ns_;
  std::optional<ClosedBar> open_;  // the bucket being filled
  std::optional<int64_t> last_ts_;
};

// The batch path, driving a BarResampler over `bars` so batch and streaming agree by
// construction. With include_partial_last the final, possibly incomplete bucket is
// appended (see Flush); without it only buckets known to be final are returned.
// Fails like BarResampler::Create; `bars` must meet Update's preconditions.
Result<std::vector<ClosedBar>> ResampleBars(std::span<const Bar> bars, int64_t source_step_ns,
                                            int64_t target_step_ns, bool include_partial_last);

// The bars of `closed` (ts = bucket start), e.g. to feed ComputeOverBars.
std::vector<Bar> BarsOf(std::span<const ClosedBar> closed);
// Their close times, e.g. for AsOfJoinClosed.
std::vector<int64_t> CloseTimesOf(std::span<const ClosedBar> closed);

}  // namespace vigil
