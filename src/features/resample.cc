#include "vigil/features/resample.h"

#include <algorithm>
#include <cassert>
#include <string>

#include "vigil/core/timestamp.h"

namespace vigil {
namespace {

// Floor division, so pre-1970 timestamps still fall into the bucket that contains them
// (C++ integer division truncates toward zero).
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

Result<BarResampler> BarResampler::Create(int64_t source_step_ns, int64_t target_step_ns) {
  if (source_step_ns <= 0 || target_step_ns <= 0) {
    return InvalidArgument("resample: steps must be positive, got source " +
                           std::to_string(source_step_ns) + " ns, target " +
                           std::to_string(target_step_ns) + " ns");
  }
  if (target_step_ns % source_step_ns != 0) {
    return InvalidArgument("resample: target timeframe " + FormatDuration(target_step_ns) +
                           " is not a whole multiple of source timeframe " +
                           FormatDuration(source_step_ns));
  }
  return BarResampler(source_step_ns, target_step_ns);
}

ClosedBar BarResampler::TakeOpen() {
  ClosedBar closed = *open_;
  open_.reset();
  return closed;
}

std::vector<ClosedBar> BarResampler::Update(const Bar& bar) {
  assert((!last_ts_ || bar.ts > *last_ts_) && "BarResampler: bars must be strictly increasing");
  assert(bar.ts - FloorDiv(bar.ts, source_step_ns_) * source_step_ns_ == 0 &&
         "BarResampler: bar not aligned to the source step");
  last_ts_ = bar.ts;
  const int64_t bucket_start = FloorDiv(bar.ts, target_step_ns_) * target_step_ns_;

  std::vector<ClosedBar> closed;
  // A bar of a later bucket proves the open bucket can receive nothing more: its last
  // source bar(s) are missing, so it closes with what it has.
  if (open_ && open_->bar.ts != bucket_start) closed.push_back(TakeOpen());

  if (!open_) {
    open_ = ClosedBar{Bar{bucket_start, bar.open, bar.high, bar.low, bar.close, bar.volume},
                      bucket_start + target_step_ns_, 1};
  } else {
    Bar& agg = open_->bar;
    agg.high = std::max(agg.high, bar.high);
    agg.low = std::min(agg.low, bar.low);
    agg.close = bar.close;
    agg.volume += bar.volume;
    ++open_->source_bars;
  }

  // The bar opening at close_ts - source_step is the last one the bucket can hold, so the
  // bucket is final now; waiting for the next bar would delay it by one source step.
  if (bar.ts == open_->close_ts - source_step_ns_) closed.push_back(TakeOpen());
  return closed;
}

std::optional<ClosedBar> BarResampler::Flush() {
  if (!open_) return std::nullopt;
  return TakeOpen();
}

void BarResampler::Reset() {
  open_.reset();
  last_ts_.reset();
}

Result<std::vector<ClosedBar>> ResampleBars(std::span<const Bar> bars, int64_t source_step_ns,
                                            int64_t target_step_ns, bool include_partial_last) {
  VIGIL_ASSIGN_OR_RETURN(BarResampler resampler,
                         BarResampler::Create(source_step_ns, target_step_ns));
  std::vector<ClosedBar> out;
  out.reserve(bars.size() / static_cast<size_t>(target_step_ns / source_step_ns) + 2);
  for (const Bar& bar : bars) {
    for (const ClosedBar& closed : resampler.Update(bar)) out.push_back(closed);
  }
  if (include_partial_last) {
    if (std::optional<ClosedBar> partial = resampler.Flush()) out.push_back(*partial);
  }
  return out;
}

std::vector<Bar> BarsOf(std::span<const ClosedBar> closed) {
  std::vector<Bar> bars;
  bars.reserve(closed.size());
  for (const ClosedBar& c : closed) bars.push_back(c.bar);
  return bars;
}

std::vector<int64_t> CloseTimesOf(std::span<const ClosedBar> closed) {
  std::vector<int64_t> times;
  times.reserve(closed.size());
  for (const ClosedBar& c : closed) times.push_back(c.close_ts);
  return times;
}

}  // namespace vigil
