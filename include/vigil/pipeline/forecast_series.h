// Univariate series for forecasting: read from a CSV file, or from the store (a candle field
// of an instrument, or a model's score / value series from the predictions table), optionally
// resampled to a regular step and transformed (log, log returns, percent returns).
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::ForecastSeries y, vigil::ReadSeriesCsv("btc.csv", "close"));
//
//   vigil::StoreSeriesSpec spec;
//   spec.instrument = "binance:BTC/USDT";
//   spec.field = "score:liq_50x";      // or close, value:liq_50x@15m, ...
//   spec.every_ns = 3'600'000'000'000;  // hourly: the last value of each hour
//   VIGIL_ASSIGN_OR_RETURN(vigil::ForecastSeries risk, vigil::LoadStoreSeries(*store, spec));
//
// Resampling (--every) is "as of": the value stamped at a bucket's end E is the last
// observation with ts < E (the bucket [E - every, E) and, when the bucket is empty, the
// buckets before it), so no stamped value uses data from its own timestamp or later. The
// last bucket is kept only when complete: its end is at most one observation period (the
// median spacing of the input) after the last observation.
// Thread-safety: pure functions; the store is used by the calling thread only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"
#include "vigil/store/store.h"

namespace vigil {

struct ForecastSeries {
  std::string source;            // what was read: "prices.csv column 'close'", ...
  std::vector<Timestamp> times;  // one per value, increasing; empty when the CSV had none
  std::vector<double> values;    // finite
  int64_t skipped = 0;           // store rows left out (a prediction without the field)

  int64_t size() const { return static_cast<int64_t>(values.size()); }
  bool has_times() const { return !times.empty(); }
};

enum class SeriesTransform { kNone, kLog, kLogReturn, kPctReturn };
std::string_view SeriesTransformName(SeriesTransform transform);  // "none", "log", ...
// "none", "log", "log_return", "pct_return"; InvalidArgument listing them otherwise.
Result<SeriesTransform> ParseSeriesTransform(std::string_view name);

// Reads a CSV with a header line. The series is `column`, or when empty the file's only
// column besides an optional `timestamp` column (ISO-8601 or epoch, as Timestamp::Parse;
// strictly increasing). Errors: NotFound naming the available columns for an unknown
// column; InvalidArgument when the file has several value columns and none was chosen;
// ParseError "<path>:<line>: column '<name>': ..." for an empty or non-numeric cell, a
// missing cell or a bad timestamp; IoError for an unreadable file; DataError for fewer
// than 2 values.
Result<ForecastSeries> ReadSeriesCsv(const std::string& path, const std::string& column);

// A series read from the store.
struct StoreSeriesSpec {
  std::string instrument;  // "venue:symbol"
  // A candle field (open, high, low, close, volume, trades, quote_volume), or a prediction
  // series of the predictions table: "score:<model>" or "value:<model>", optionally with
  // "@<horizon>" ("value:liq_50x@15m"). Without a horizon, rows stored without one are read;
  // when there are none and the model stored exactly one horizon, that one.
  std::string field;
  std::string timeframe;              // candles: "" = the smallest stored for the instrument
  Timestamp from = Timestamp::Min();  // from <= ts < to
  Timestamp to = Timestamp::Max();
  int64_t every_ns = 0;  // > 0: resample as of each bucket end (see above); 0 = as stored
  SeriesTransform transform = SeriesTransform::kNone;

  Status Validate() const;  // InvalidArgument naming the field
  // "binance:BTC/USDT close" (plus " every 1h", " log_return" when set).
  std::string Describe() const;
};

// Reads, resamples and transforms. NotFound naming the instrument when it has no candles
// (or the model no predictions for it); DataError when fewer than 2 values remain.
Result<ForecastSeries> LoadStoreSeries(Store& store, const StoreSeriesSpec& spec);

// The as-of resampling described above (every_ns > 0). Needs timestamps
// (InvalidArgument otherwise).
Result<ForecastSeries> ResampleAsOf(const ForecastSeries& series, int64_t every_ns);

// Applies a transform: log (values > 0), log_return log(x_t / x_{t-1}), pct_return
// x_t / x_{t-1} - 1 (returns are one shorter and stamped at t). DataError naming the
// position (and time) of a value <= 0 where a log or a ratio needs a positive one.
Result<ForecastSeries> ApplyTransform(const ForecastSeries& series, SeriesTransform transform);

}  // namespace vigil
