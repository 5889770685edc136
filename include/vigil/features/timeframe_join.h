// Point-in-time join of higher-timeframe features onto a lower-timeframe series.
//
// Each base row is a lower-timeframe bar stamped at its open time; its information is
// complete at base_ts + base_step. It receives the higher-timeframe feature row with the
// latest close_ts <= base_ts + base_step, i.e. the newest higher bar that has closed by
// the time the base bar closes. Joining on the higher bar's open time instead would leak
// up to one higher bar of future data into every base row.
//
// Timeline, 5m base rows and 1h higher rows (close_ts = hour start + 1h):
//
//   higher row H10 = bar [10:00, 11:00), close_ts 11:00
//   base 10:50 [10:50, 10:55)  closes 10:55  -> H09 (H10 not closed yet)
//   base 10:55 [10:55, 11:00)  closes 11:00  -> H10 (closed exactly when the base closes)
//   base 11:00 [11:00, 11:05)  closes 11:05  -> H10
//   base 11:55 [11:55, 12:00)  closes 12:00  -> H11
//
// Base rows before the first closed higher row get NaN.
//
//   auto hourly = vigil::ResampleBars(minute_bars, kNanosPerMinute, kNanosPerHour, false);
//   vigil::Frame features = vigil::ComputeOverBars(kernels, vigil::BarsOf(*hourly));
//   auto joined = vigil::AsOfJoinClosed(five_minute_ts, 5 * kNanosPerMinute, features,
//                                       vigil::CloseTimesOf(*hourly), "_1h");
//
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "vigil/core/frame.h"
#include "vigil/core/status.h"

namespace vigil {

// Returns a Frame with timestamps `base_ts` (in the given order) and every column of
// `higher`, named <column><suffix>, holding for each base row the as-of value described
// above (NaN where no higher row has closed yet).
// Preconditions, checked (InvalidArgument): base_step_ns > 0; higher_close_ts.size() ==
// higher.rows(); higher_close_ts non-decreasing; all columns of `higher` are doubles
// (an int64 column has no NaN to mark "not closed yet").
// `base_ts` need not be sorted. Cost O((n + m) log m) for n base and m higher rows.
Result<Frame> AsOfJoinClosed(std::span<const int64_t> base_ts, int64_t base_step_ns,
                             const Frame& higher, std::span<const int64_t> higher_close_ts,
                             std::string_view suffix = "");

}  // namespace vigil
