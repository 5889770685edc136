// Kraken REST responses (https://docs.kraken.com/api/):
//   /0/public/OHLC    {"error":[],"result":{"XBTUSDT":[[time_s,"o","h","l","c","vwap",
//                     "volume",count],...],"last":...}}
//   /0/public/Trades  {"error":[],"result":{"XBTUSDT":[["price","volume",time_s_float,
//                     "b"|"s","m"|"l","misc",trade_id],...],"last":"ns cursor"}}
// Every array under "result" except "last" is one pair; the pair name is the symbol
// unless --symbol says otherwise. A non-empty "error" array means the capture failed.
#include <string>

#include "data/readers/format_readers.h"
#include "data/readers/record_values.h"

namespace vigil::data_internal {
namespace {

using nlohmann::json;

constexpr size_t kOhlcArity = 8;
// Older Trades responses end at "misc" and have no trade id.
constexpr size_t kTradeMinArity = 6;
constexpr size_t kTradeIdSlot = 6;

Status CheckErrorArray(const json& doc) {
  auto errors = doc.find("error");
  if (errors == doc.end() || !errors->is_array() || errors->empty()) return Status::Ok();
  std::string joined;
  for (const json& error : *errors) {
    if (!joined.empty()) joined += "; ";
    joined += error.is_string() ? error.get<std::string>() : JsonSnippet(error);
  }
  return ParseError("Kraken API error: " + joined);
}

// A wrong --kind shows in the first row: OHLC rows start with an integer time,
// Trades rows with a price string.
Status CheckKindMatches(const json& rows, DataKind kind) {
  if (rows.empty() || !rows[0].is_array() || rows[0].empty()) return Status::Ok();
  const bool trades = rows[0][0].is_string();
  if (kind == DataKind::kCandles && trades) {
    return InvalidArgument("Kraken response holds trades, not candles; pass --kind trades");
  }
  if (kind == DataKind::kTrades && !trades) {
    return InvalidArgument("Kraken response holds OHLC candles, not trades; pass --kind candles");
  }
  return Status::Ok();
}

class KrakenRows {
 public:
  KrakenRows(BatchSink* sink, RecordBatch& batch)
      : sink_(sink), batch_(batch), instrument_(batch.series.instrument.ToString()) {}

  void AddCandle(const json& record, int64_t number);
  void AddTrade(const json& record, int64_t number);

 private:
  void Reject(const json& record, int64_t number, std::string field, std::string reason) {
    sink_->Reject(number, instrument_, std::move(field), std::move(reason), JsonSnippet(record));
  }
  TimeUnit Unit() const { return UnitOrDefault(sink_->options().time_unit, TimeUnit::kSeconds); }
  int64_t OrdinalAt(int64_t ts) {
    same_ts_count_ = ts == last_ts_ ? same_ts_count_ + 1 : 0;
    last_ts_ = ts;
    return same_ts_count_;
  }

  BatchSink* sink_;
  RecordBatch& batch_;
  std::string instrument_;
  int64_t last_ts_ = kMissingInt;
  int64_t same_ts_count_ = 0;
};

void KrakenRows::AddCandle(const json& record, int64_t number) {
  if (!record.is_array() || record.size() < kOhlcArity) {
    return Reject(record, number, "",
                  "expected [time, open, high, low, close, vwap, volume, count]");
  }
  int64_t ts = 0;
  if (!JsonEpochToNanos(record[0], Unit(), &ts))
    return Reject(record, number, "ts", "not an epoch time");
  static constexpr const char* kNames[] = {"open", "high",   "low",   "close",
                                           "vwap", "volume", "trades"};
  double parsed[7];  // o h l c vwap volume count, in the response's order
  for (size_t field = 0; field < 7; ++field) {
    if (!JsonToDouble(record[field + 1], &parsed[field])) {
      return Reject(record, number, kNames[field], "not a number");
    }
  }
  // Kraken gives the bar's VWAP, so quote volume = VWAP * base volume by definition.
  const double values[] = {
      parsed[0], parsed[1], parsed[2], parsed[3], parsed[5], parsed[6], parsed[4] * parsed[5]};
  sink_->AddRow(batch_, number, ts, values);
}

void KrakenRows::AddTrade(const json& record, int64_t number) {
  if (!record.is_array() || record.size() < kTradeMinArity) {
    return Reject(record, number, "", "expected [price, volume, time, side, type, misc, id]");
  }
  double price = 0;
  double volume = 0;
  int64_t ts = 0;
  if (!JsonToDouble(record[0], &price)) return Reject(record, number, "price", "not a number");
  if (!JsonToDouble(record[1], &volume)) return Reject(record, number, "qty", "not a number");
  if (!JsonEpochToNanos(record[2], Unit(), &ts))
    return Reject(record, number, "ts", "not an epoch time");
  const std::string side_text = record[3].is_string() ? record[3].get<std::string>() : "";
  if (side_text != "b" && side_text != "s") {
    return Reject(record, number, "side", "expected \"b\" (buy) or \"s\" (sell)");
  }
  int64_t trade_id = 0;
  if (record.size() <= kTradeIdSlot || !JsonToInt64(record[kTradeIdSlot], &trade_id)) {
    trade_id = OrdinalAt(ts);
  }
  const double doubles[] = {price, volume};
  const int64_t ints[] = {side_text == "b" ? kSideBuy : kSideSell, trade_id};
  sink_->AddRow(batch_, number, ts, doubles, ints);
}

// Reads the rows of one pair; `next_number` numbers records across all pairs.
Status ReadPair(const std::string& pair, const json& rows, BatchSink* sink, size_t text_size,
                int64_t* next_number) {
  VIGIL_RETURN_IF_ERROR(CheckKindMatches(rows, sink->options().kind));
  VIGIL_ASSIGN_OR_RETURN(Instrument instrument,
                         ResolveInstrument(sink->options(), sink->file_name(), "kraken", pair));
  KrakenRows adder(sink, sink->BatchFor(instrument));
  for (size_t index = 0; index < rows.size(); ++index) {
    ReportRecordProgress(*sink, index, rows.size(), text_size);
    sink->CountRead();
    const int64_t number = (*next_number)++;
    if (sink->options().kind == DataKind::kCandles) {
      adder.AddCandle(rows[index], number);
    } else {
      adder.AddTrade(rows[index], number);
    }
  }
  return Status::Ok();
}

}  // namespace

Status ReadKrakenJson(std::string_view text, BatchSink* sink) {
  const ReadOptions& options = sink->options();
  if (options.kind != DataKind::kCandles && options.kind != DataKind::kTrades) {
    return InvalidArgument("Kraken OHLC/Trades responses hold candles or trades, not " +
                           std::string(KindName(options.kind)));
  }
  VIGIL_ASSIGN_OR_RETURN(json doc, ParseJsonDocument(text));
  if (!doc.is_object()) return ParseError("Kraken response must be a JSON object");
  VIGIL_RETURN_IF_ERROR(CheckErrorArray(doc));
  auto result = doc.find("result");
  if (result == doc.end() || !result->is_object()) {
    return ParseError("Kraken response has no \"result\" object");
  }
  int64_t next_number = 1;
  int pairs = 0;
  for (auto pair = result->begin(); pair != result->end(); ++pair) {
    if (pair.key() == "last" || !pair.value().is_array()) continue;
    ++pairs;
    VIGIL_RETURN_IF_ERROR(ReadPair(pair.key(), pair.value(), sink, text.size(), &next_number));
  }
  if (pairs == 0) return ParseError("Kraken \"result\" holds no pair data");
  return Status::Ok();
}

}  // namespace vigil::data_internal
