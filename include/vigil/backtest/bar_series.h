// The candles a backtest replays, one series per instrument: columnar and strictly increasing
// in open time. A bar opened at t is known only at its close, t + timeframe; that is the
// earliest time any decision may use it.
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

struct BarSeries {
  std::string instrument;    // "venue:symbol"
  int64_t timeframe_ns = 0;  // > 0
  std::vector<Timestamp> open_time;
  std::vector<double> open, high, low, close;
  std::vector<double> volume;  // NaN where the source has none

  size_t size() const { return open_time.size(); }
  Timestamp close_time(size_t bar) const {
    return Timestamp(open_time[bar].nanos() + timeframe_ns);
  }
  // Columns of one length, open times strictly increasing and at least one timeframe apart,
  // prices finite and > 0 with low <= open, close <= high. InvalidArgument naming the
  // instrument, the bar and the field otherwise.
  Status Validate() const;
};

// A candle batch of a reader (data/reader.h) as a BarSeries; the timeframe comes from the
// batch's series key ("5m"), or `timeframe_override` ("" = the key's).
Result<BarSeries> BarSeriesFromBatch(const RecordBatch& batch,
                                     const std::string& timeframe_override = "");

}  // namespace vigil
