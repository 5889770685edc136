// Freqtrade's JSON data files, as its JSON data handler writes them: one array of
// value arrays, candles [[ts_ms, open, high, low, close, volume], ...] or trades
// [[ts_ms, id, type, side, price, amount, cost], ...]. The files do not name the
// venue; the pair comes from the file name ("XRP_ETH-trades.json" -> XRP/ETH).
#include <cmath>
#include <limits>
#include <string>

#include "data/readers/format_readers.h"
#include "data/readers/record_values.h"

namespace vigil::data_internal {
namespace {

using nlohmann::json;

constexpr size_t kCandleArity = 6;
constexpr size_t kTradeArity = 7;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Trades carry an id string in slot 1 and have seven slots; candles are all numbers.
bool LooksLikeTrade(const json& record) {
  return record.is_array() && record.size() == kTradeArity &&
         (record[1].is_string() || record[1].is_null());
}

// Rejects a file whose first record is of the other kind: that is a wrong --kind, not
// thousands of bad rows.
Status CheckKindMatches(const json& doc, DataKind kind) {
  if (doc.empty()) return Status::Ok();
  const bool trade = LooksLikeTrade(doc[0]);
  if (kind == DataKind::kCandles && trade) {
    return InvalidArgument("freqtrade file holds trades, not candles; pass --kind trades");
  }
  if (kind == DataKind::kTrades && !trade) {
    return InvalidArgument("freqtrade file holds candles, not trades; pass --kind candles");
  }
  return Status::Ok();
}

class FreqtradeRows {
 public:
  FreqtradeRows(BatchSink* sink, RecordBatch& batch)
      : sink_(sink),
        batch_(batch),
        instrument_(batch.series.instrument.ToString()),
        unit_(UnitOrDefault(sink->options().time_unit, TimeUnit::kMilliseconds)) {}

  void AddCandle(const json& record, int64_t number);
  void AddTrade(const json& record, int64_t number);

 private:
  void Reject(const json& record, int64_t number, std::string field, std::string reason) {
    sink_->Reject(number, instrument_, std::move(field), std::move(reason), JsonSnippet(record));
  }
  // A venue without trade ids gets the row's ordinal among rows with the same time.
  int64_t OrdinalAt(int64_t ts) {
    same_ts_count_ = ts == last_ts_ ? same_ts_count_ + 1 : 0;
    last_ts_ = ts;
    return same_ts_count_;
  }

  BatchSink* sink_;
  RecordBatch& batch_;
  std::string instrument_;
  TimeUnit unit_;
  int64_t last_ts_ = kMissingInt;
  int64_t same_ts_count_ = 0;
};

void FreqtradeRows::AddCandle(const json& record, int64_t number) {
  if (!record.is_array() || record.size() < kCandleArity) {
    return Reject(record, number, "", "expected [ts_ms, open, high, low, close, volume]");
  }
  int64_t ts = 0;
  if (!JsonEpochToNanos(record[0], unit_, &ts))
    return Reject(record, number, "ts", "not an epoch time");
  static constexpr const char* kNames[] = {"open", "high", "low", "close"};
  double values[] = {0, 0, 0, 0, 0, kNaN, kNaN};  // o h l c v trades quote_volume
  for (size_t field = 0; field < 4; ++field) {
    if (!JsonToDouble(record[field + 1], &values[field])) {
      return Reject(record, number, kNames[field], "not a number");
    }
  }
  if (!JsonToOptionalDouble(record[5], &values[4])) {
    return Reject(record, number, "volume", "not a number");
  }
  sink_->AddRow(batch_, number, ts, values);
}

void FreqtradeRows::AddTrade(const json& record, int64_t number) {
  if (!record.is_array() || record.size() < kTradeArity) {
    return Reject(record, number, "", "expected [ts_ms, id, type, side, price, amount, cost]");
  }
  int64_t ts = 0;
  if (!JsonEpochToNanos(record[0], unit_, &ts))
    return Reject(record, number, "ts", "not an epoch time");
  int64_t side = kSideUnknown;
  if (!record[3].is_null() &&
      !(record[3].is_string() && ParseSide(record[3].get_ref<const std::string&>(), &side))) {
    return Reject(record, number, "side", "not a side (buy/sell)");
  }
  double price = 0;
  double amount = 0;
  if (!JsonToDouble(record[4], &price)) return Reject(record, number, "price", "not a number");
  if (!JsonToDouble(record[5], &amount)) return Reject(record, number, "qty", "not a number");
  int64_t trade_id = 0;
  // Non-numeric ids (some venues use UUIDs) cannot be stored as int64; fall back to
  // the ordinal so the row keeps a unique key.
  if (!JsonToInt64(record[1], &trade_id)) trade_id = OrdinalAt(ts);
  const double doubles[] = {price, amount};
  const int64_t ints[] = {side, trade_id};
  sink_->AddRow(batch_, number, ts, doubles, ints);
}

}  // namespace

Status ReadFreqtradeJson(std::string_view text, BatchSink* sink) {
  const ReadOptions& options = sink->options();
  if (options.kind != DataKind::kCandles && options.kind != DataKind::kTrades) {
    return InvalidArgument("freqtrade JSON holds candles or trades, not " +
                           std::string(KindName(options.kind)));
  }
  VIGIL_ASSIGN_OR_RETURN(json doc, ParseJsonDocument(text));
  if (!doc.is_array()) {
    return ParseError("freqtrade JSON must be an array of rows");
  }
  VIGIL_RETURN_IF_ERROR(CheckKindMatches(doc, options.kind));
  VIGIL_ASSIGN_OR_RETURN(Instrument instrument, ResolveInstrument(options, sink->file_name(), ""));
  FreqtradeRows rows(sink, sink->BatchFor(instrument));
  for (size_t index = 0; index < doc.size(); ++index) {
    ReportRecordProgress(*sink, index, doc.size(), text.size());
    sink->CountRead();
    if (options.kind == DataKind::kCandles) {
      rows.AddCandle(doc[index], RecordNumber(index));
    } else {
      rows.AddTrade(doc[index], RecordNumber(index));
    }
  }
  return Status::Ok();
}

}  // namespace vigil::data_internal
