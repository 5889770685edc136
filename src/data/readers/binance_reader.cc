// Binance public-data (data.binance.vision) kline CSV: headerless, 12 columns
//   open_time, open, high, low, close, volume, close_time, quote_volume, trade_count,
//   taker_buy_base_volume, taker_buy_quote_volume, ignore
// Open times are milliseconds, except spot files from 2025 on, which switched to
// microseconds; the unit is chosen per value from its magnitude. Newer downloads may
// carry a header line, which is skipped.
#include <string>
#include <utility>
#include <vector>

#include "data/readers/format_readers.h"
#include "data/readers/record_values.h"
#include "vigil/core/text_file.h"

namespace vigil::data_internal {
namespace {

constexpr size_t kKlineColumns = 12;
constexpr size_t kOpenTime = 0;
constexpr size_t kVolume = 5;
constexpr size_t kQuoteVolume = 7;
constexpr size_t kTradeCount = 8;

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

class KlineRows {
 public:
  KlineRows(BatchSink* sink, RecordBatch& batch)
      : sink_(sink), batch_(batch), instrument_(batch.series.instrument.ToString()) {}

  void Add(std::string_view line, int64_t number);

 private:
  void Reject(std::string_view line, int64_t number, std::string field, std::string reason) {
    sink_->Reject(number, instrument_, std::move(field), std::move(reason), line);
  }

  BatchSink* sink_;
  RecordBatch& batch_;
  std::string instrument_;
  std::vector<std::string_view> fields_;
};

void KlineRows::Add(std::string_view line, int64_t number) {
  SplitFields(line, ',', &fields_);
  if (fields_.size() != kKlineColumns) {
    return Reject(line, number, "",
                  "expected 12 kline columns, got " + std::to_string(fields_.size()));
  }
  int64_t open_time = 0;
  int64_t ts = 0;
  if (!ParseInt64(fields_[kOpenTime], &open_time) ||
      !EpochToNanos(open_time, sink_->options().time_unit, &ts)) {
    return Reject(line, number, "open_time", "not an epoch time");
  }
  static constexpr const char* kNames[] = {"open", "high", "low", "close", "volume"};
  double values[7];  // open high low close volume trades quote_volume
  for (size_t field = 0; field < kVolume; ++field) {
    if (!ParseDouble(fields_[field + 1], &values[field])) {
      return Reject(line, number, kNames[field], "not a number");
    }
  }
  if (!ParseDouble(fields_[kTradeCount], &values[5])) {
    return Reject(line, number, "trades", "not a number");
  }
  if (!ParseDouble(fields_[kQuoteVolume], &values[6])) {
    return Reject(line, number, "quote_volume", "not a number");
  }
  sink_->AddRow(batch_, number, ts, values);
}

// The first line is a header when its open-time column is not a number.
bool IsHeader(std::string_view line) {
  std::vector<std::string_view> fields;
  SplitFields(line, ',', &fields);
  int64_t ignored = 0;
  return !fields.empty() && !ParseInt64(fields[0], &ignored);
}

}  // namespace

Status ReadBinanceKlines(std::string_view text, BatchSink* sink) {
  const ReadOptions& options = sink->options();
  if (options.kind != DataKind::kCandles) {
    return InvalidArgument("Binance kline files hold candles, not " +
                           std::string(KindName(options.kind)));
  }
  VIGIL_ASSIGN_OR_RETURN(Instrument instrument,
                         ResolveInstrument(options, sink->file_name(), "binance"));
  KlineRows rows(sink, sink->BatchFor(instrument));
  LineCursor lines(text);
  std::string_view line;
  bool first = true;
  while (lines.Next(&line)) {
    if (IsBlank(line)) continue;
    if (std::exchange(first, false) && IsHeader(line)) continue;
    sink->CountRead();
    rows.Add(line, lines.line_number());
    sink->ReportProgress(lines.offset(), text.size());
  }
  return Status::Ok();
}

}  // namespace vigil::data_internal
