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

Status CheckTouch(const BarSeries& s, size_t bar) {
  if (!s.has_book()) return Status::Ok();
  if (!std::isfinite(s.bid[bar]) || s.bid[bar] <= 0.0)
    return BarError(s, bar, "bid", "must be a finite price > 0");
  if (!std::isfinite(s.ask[bar]) || s.ask[bar] < s.bid[bar])
    return BarError(s, bar, "ask", "must be a finite price >= the bid");
  return Status::Ok();
}

Status BarSeries::Validate() const {
  if (timeframe_ns < 0) return InvalidArgument(instrument + ": timeframe must be >= 0");
  const size_t n = open_time.size();
  if (open.size() != n || high.size() != n || low.size() != n || close.size() != n ||
      volume.size() != n || bid.size() != ask.size() || (has_book() && bid.size() != n))
    return InvalidArgument(instrument + ": columns of different lengths");
  for (size_t bar = 0; bar < n && has_book(); ++bar) VIGIL_RETURN_IF_ERROR(CheckTouch(*this, bar));
  for (size_t bar = 0; bar < n; ++bar) {
    if (bar > 0 && open_time[bar].nanos() - open_time[bar - 1].nanos() < timeframe_ns)
      return BarError(*this, bar, "timestamp",
                      "less than one timeframe after the previous bar (or out of order)");
    if (bar > 0 && open_time[bar] < open_time[bar - 1])
      return BarError(*this, bar, "timestamp", "before the previous tick");
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

namespace {

void AddTick(BarSeries& series, int64_t ts, double price, double volume) {
  series.open_time.emplace_back(ts);
  series.open.push_back(price);
  series.high.push_back(price);
  series.low.push_back(price);
  series.close.push_back(price);
  series.volume.push_back(volume);
}

// The number of levels the batch shows on its deeper side.
int DepthOf(std::span<const int64_t> level) {
  int64_t deepest = 0;
  for (int64_t l : level) deepest = std::max(deepest, l);
  return static_cast<int>(deepest) + 1;
}

// Every level of each snapshot time (rows of one time are contiguous), its touch and mid.
Status AddBookSnapshots(const RecordBatch& batch, BarSeries& series) {
  const Frame& frame = batch.frame;
  const std::span<const int64_t> ts = frame.timestamps();
  const std::span<const int64_t> side = frame.Int64s("side");
  const std::span<const int64_t> level = frame.Int64s("level");
  const std::span<const double> price = frame.Doubles("price");
  const std::span<const double> size = frame.Doubles("size");
  BookDepth& depth = series.depth;
  depth.levels = DepthOf(level);
  const size_t levels = static_cast<size_t>(depth.levels);
  for (size_t row = 0; row < ts.size();) {
    const size_t base = depth.bid_price.size();
    for (std::vector<double>* prices : {&depth.bid_price, &depth.ask_price})
      prices->resize(base + levels, std::numeric_limits<double>::quiet_NaN());
    for (std::vector<double>* sizes : {&depth.bid_size, &depth.ask_size})
      sizes->resize(base + levels, 0.0);
    size_t end = row;
    for (; end < ts.size() && ts[end] == ts[row]; ++end) {
      if (level[end] < 0) continue;
      const size_t at = base + static_cast<size_t>(level[end]);
      (side[end] > 0 ? depth.bid_price : depth.ask_price)[at] = price[end];
      (side[end] > 0 ? depth.bid_size : depth.ask_size)[at] = size[end];
    }
    const double bid = depth.bid_price[base], ask = depth.ask_price[base];
    if (!(bid > 0.0) || !(ask >= bid))
      return InvalidArgument(series.instrument + ": book snapshot " + Timestamp(ts[row]).ToIso() +
                             ": needs a best bid and a best ask at or above it");
    AddTick(series, ts[row], 0.5 * (bid + ask),
            std::min(depth.bid_size[base], depth.ask_size[base]));
    series.bid.push_back(bid);
    series.ask.push_back(ask);
    row = end;
  }
  return Status::Ok();
}

}  // namespace

Result<BarSeries> TickSeriesFromBatch(const RecordBatch& batch) {
  BarSeries series;
  series.instrument = batch.series.instrument.ToString();
  series.timeframe_ns = 0;
  if (batch.series.kind == DataKind::kTrades) {
    const std::span<const int64_t> ts = batch.frame.timestamps();
    const std::span<const double> price = batch.frame.Doubles("price");
    const std::span<const double> qty = batch.frame.Doubles("qty");
    for (size_t row = 0; row < ts.size(); ++row) AddTick(series, ts[row], price[row], qty[row]);
  } else if (batch.series.kind == DataKind::kOrderBook) {
    VIGIL_RETURN_IF_ERROR(AddBookSnapshots(batch, series));
  } else {
    return InvalidArgument(series.instrument + ": ticks come from trades or order-book data");
  }
  VIGIL_RETURN_IF_ERROR(series.Validate());
  return series;
}

double BookFillPrice(const BarSeries& series, size_t row, bool buy, double quantity) {
  const BookDepth& depth = series.depth;
  if (depth.levels == 0) return buy ? series.ask[row] : series.bid[row];
  const size_t base = row * static_cast<size_t>(depth.levels);
  const std::vector<double>& prices = buy ? depth.ask_price : depth.bid_price;
  const std::vector<double>& sizes = buy ? depth.ask_size : depth.bid_size;
  double left = quantity, cost = 0.0, last = prices[base];
  for (int l = 0; l < depth.levels && left > 0.0; ++l) {
    const double price = prices[base + static_cast<size_t>(l)];
    if (!std::isfinite(price)) break;
    const double taken = std::min(left, sizes[base + static_cast<size_t>(l)]);
    cost += taken * price;
    left -= taken;
    last = price;
  }
  return (cost + left * last) / quantity;
}

}  // namespace vigil
