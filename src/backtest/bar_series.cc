#include "vigil/backtest/bar_series.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace vigil {
namespace {

Status BarError(const BarSeries& series, size_t bar, const std::string& field,
                const std::string& reason) {
  return InvalidArgument(series.instrument + ": bar " + std::to_string(bar) + " (" +
                         series.open_time[bar].ToIso() + "): field '" + field + "': " + reason);
}

Status CheckPrices(const BarSeries& s, size_t bar) {
  const double prices[] = {s.open[bar], s.high[bar], s.low[bar], s.close[bar]};
  const char* names[] = {"open", "high", "low", "close"};
  for (int i = 0; i < 4; ++i)
    if (!std::isfinite(prices[i]) || prices[i] <= 0.0)
      return BarError(s, bar, names[i], "must be a finite price > 0");
  if (s.low[bar] > std::min(s.open[bar], s.close[bar]))
    return BarError(s, bar, "low", "above the open or the close");
  if (s.high[bar] < std::max(s.open[bar], s.close[bar]))
    return BarError(s, bar, "high", "below the open or the close");
  return Status::Ok();
}

}  // namespace

Status BarSeries::Validate() const {
  if (timeframe_ns <= 0) return InvalidArgument(instrument + ": timeframe must be > 0");
  const size_t n = open_time.size();
  if (open.size() != n || high.size() != n || low.size() != n || close.size() != n ||
      volume.size() != n)
    return InvalidArgument(instrument + ": columns of different lengths");
  for (size_t bar = 0; bar < n; ++bar) {
    if (bar > 0 && open_time[bar].nanos() - open_time[bar - 1].nanos() < timeframe_ns)
      return BarError(*this, bar, "timestamp",
                      "less than one timeframe after the previous bar (or out of order)");
    VIGIL_RETURN_IF_ERROR(CheckPrices(*this, bar));
  }
  return Status::Ok();
}

Result<BarSeries> BarSeriesFromBatch(const RecordBatch& batch,
                                     const std::string& timeframe_override) {
  BarSeries series;
  series.instrument = batch.series.instrument.ToString();
  if (batch.series.kind != DataKind::kCandles)
    return InvalidArgument(series.instrument + ": a backtest replays candles");
  const std::string timeframe =
      timeframe_override.empty() ? batch.series.timeframe : timeframe_override;
  Result<int64_t> step = ParseDuration(timeframe);
  if (!step.ok())
    return InvalidArgument(series.instrument + ": unknown candle timeframe '" + timeframe +
                           "' (pass one, e.g. 5m)");
  series.timeframe_ns = *step;
  const Frame& frame = batch.frame;
  for (int64_t ts : frame.timestamps()) series.open_time.emplace_back(ts);
  auto column = [&frame](const char* name) {
    const std::span<const double> values = frame.Doubles(name);
    return std::vector<double>(values.begin(), values.end());
  };
  series.open = column("open");
  series.high = column("high");
  series.low = column("low");
  series.close = column("close");
  series.volume =
      frame.HasColumn("volume")
          ? column("volume")
          : std::vector<double>(series.size(), std::numeric_limits<double>::quiet_NaN());
  VIGIL_RETURN_IF_ERROR(series.Validate());
  return series;
}

}  // namespace vigil
