// The market a backtest replays, one series per instrument, columnar and in time order:
//   - candles: open times strictly increasing, a timeframe apart at least. A bar opened at t
//     is known only at its close, t + timeframe; that is the earliest time any decision may
//     use it.
//   - ticks (timeframe 0): trades, or top-of-book snapshots; each row is one event known at
//     its own time (times non-decreasing). A trade is a row with open = high = low = close =
//     its price and volume = its quantity; a snapshot's prices are the mid, and `bid` / `ask`
//     hold the touch, with volume = the smaller of the two touch sizes, and `depth` every
//     level the snapshot shows: a market order walks it (BookFillPrice).
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::ParsedFile parsed, reader.Read("ETH_BTC-5m.csv"));
//   VIGIL_ASSIGN_OR_RETURN(vigil::BarSeries bars, vigil::BarSeriesFromBatch(parsed.batches[0]));
//
// Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"
#include "vigil/data/records.h"

namespace vigil {

// The visible depth of book snapshots, best level first: `levels` price and size pairs per
// side and row, row-major (row x levels + level); a side with fewer levels is padded with
// NaN prices and zero sizes.
struct BookDepth {
  int levels = 0;
  std::vector<double> bid_price, bid_size, ask_price, ask_size;
};

struct BarSeries {
  std::string instrument;    // "venue:symbol"
  int64_t timeframe_ns = 0;  // > 0 for candles, 0 for ticks
  std::vector<Timestamp> open_time;
  std::vector<double> open, high, low, close;
  std::vector<double> volume;    // NaN where the source has none
  std::vector<double> bid, ask;  // book snapshots only (else empty)
  BookDepth depth;               // book snapshots only (else levels = 0)

  bool ticks() const { return timeframe_ns == 0; }
  bool has_book() const { return !bid.empty(); }
  size_t size() const { return open_time.size(); }
  Timestamp close_time(size_t bar) const {
    return Timestamp(open_time[bar].nanos() + timeframe_ns);
  }
  // Columns of one length (bid and ask: that or empty), open times strictly increasing and
  // at least one timeframe apart (ticks: non-decreasing), prices finite and > 0 with low <=
  // open, close <= high and bid <= ask. InvalidArgument naming the instrument, the bar and
  // the field otherwise.
  Status Validate() const;
};

// A candle batch of a reader (data/reader.h) as a BarSeries; the timeframe comes from the
// batch's series key ("5m"), or `timeframe_override` ("" = the key's).
Result<BarSeries> BarSeriesFromBatch(const RecordBatch& batch,
                                     const std::string& timeframe_override = "");

// The average price of taking `quantity` (> 0) from snapshot `row`'s book: a buy walks the
// ask levels from the best, a sell the bid levels. What is beyond the visible depth fills at
// the deepest visible price (the snapshot shows nothing further; say so when sizing large).
double BookFillPrice(const BarSeries& series, size_t row, bool buy, double quantity);

// A trades batch as ticks (one row per trade), or an order-book batch as top-of-book
// snapshots (one row per snapshot time with both a best bid and a best ask; a crossed or
// one-sided snapshot is an InvalidArgument naming its time).
Result<BarSeries> TickSeriesFromBatch(const RecordBatch& batch);

}  // namespace vigil
