// Bybit order-book JSON lines, as in Bybit's public historical order-book downloads and
// its v5 websocket "orderbook.<depth>.<symbol>" topic:
//   {"topic":"orderbook.500.XRPUSDT","type":"snapshot"|"delta","ts":ms,
//    "data":{"s":"XRPUSDT","b":[["px","sz"],...],"a":[...],"u":update_id,"seq":n}}
// A snapshot replaces the book; a delta sets levels to absolute sizes ("0" deletes).
// The top N levels are emitted after every message. Per the v5 docs, update ids in a
// delta must be newer than the book's; an older or repeated one is stale and rejected.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "data/readers/format_readers.h"
#include "data/readers/order_book_builder.h"
#include "data/readers/record_values.h"
#include "vigil/core/text_file.h"

namespace vigil::data_internal {
namespace {

using nlohmann::json;

using Levels = std::vector<std::pair<double, double>>;  // (price, size)

struct BookMessage {
  bool snapshot = false;
  int64_t ts = 0;
  int64_t update_id = kMissingInt;
  std::string symbol;
  Levels bids;
  Levels asks;
};

// A field that failed, and why; empty reason = parsed.
struct Problem {
  std::string field;
  std::string reason;
};

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

bool ParseLevels(const json& data, const char* key, Levels* levels) {
  auto found = data.find(key);
  if (found == data.end()) return true;  // a delta may touch one side only
  if (!found->is_array()) return false;
  for (const json& level : *found) {
    double price = 0;
    double size = 0;
    if (!level.is_array() || level.size() < 2 || !JsonToDouble(level[0], &price) ||
        !JsonToDouble(level[1], &size) || !(price > 0) || !(size >= 0)) {
      return false;
    }
    levels->emplace_back(price, size);
  }
  return true;
}

// The symbol from data.s, else from the topic's last part ("orderbook.500.XRPUSDT").
std::string MessageSymbol(const json& message, const json& data) {
  auto s = data.find("s");
  if (s != data.end() && s->is_string()) return s->get<std::string>();
  auto topic = message.find("topic");
  if (topic == message.end() || !topic->is_string()) return "";
  const std::string& text = topic->get_ref<const std::string&>();
  return text.substr(text.rfind('.') + 1);
}

Problem ParseMessage(const json& message, TimeUnit unit, BookMessage* out) {
  if (!message.is_object()) return {"", "expected a JSON object"};
  auto type = message.find("type");
  if (type == message.end() || !type->is_string() || (*type != "snapshot" && *type != "delta")) {
    return {"type", "expected snapshot or delta"};
  }
  out->snapshot = *type == "snapshot";
  auto ts = message.find("ts");
  if (ts == message.end() || !JsonEpochToNanos(*ts, unit, &out->ts)) {
    return {"ts", "missing or not an epoch time"};
  }
  auto data = message.find("data");
  if (data == message.end() || !data->is_object()) return {"data", "missing data object"};
  auto u = data->find("u");
  if (u != data->end() && !JsonToInt64(*u, &out->update_id)) return {"u", "not an update id"};
  if (!ParseLevels(*data, "b", &out->bids)) return {"b", "bids must be [[price, size], ...]"};
  if (!ParseLevels(*data, "a", &out->asks)) return {"a", "asks must be [[price, size], ...]"};
  out->symbol = MessageSymbol(message, *data);
  return {};
}

class BybitReplay {
 public:
  BybitReplay(BatchSink* sink, ReaderState* state) : sink_(sink), state_(state) {}

  // Parses, applies and emits one line. Returns false if the line was not JSON.
  bool Add(std::string_view line, int64_t number);

 private:
  struct Target {
    std::string name;
    OrderBookBuilder* book;
    RecordBatch* batch;
  };
  Target* TargetFor(const std::string& symbol, std::string* reason);
  // Returns the reject reason, or "" once applied.
  std::string Apply(const BookMessage& message, OrderBookBuilder& book);

  BatchSink* sink_;
  ReaderState* state_;
  std::map<std::string, Target> targets_;  // by symbol
};

BybitReplay::Target* BybitReplay::TargetFor(const std::string& symbol, std::string* reason) {
  auto found = targets_.find(symbol);
  if (found != targets_.end()) return &found->second;
  Result<Instrument> instrument =
      ResolveInstrument(sink_->options(), sink_->file_name(), "bybit", symbol);
  if (!instrument.ok()) {
    *reason = instrument.status().message();
    return nullptr;
  }
  const std::string name = instrument->ToString();
  Target target{name, &BookFor(state_, name), &sink_->BatchFor(*instrument)};
  return &targets_.emplace(symbol, std::move(target)).first->second;
}

std::string BybitReplay::Apply(const BookMessage& message, OrderBookBuilder& book) {
  if (message.snapshot) {
    book.Clear();
    book.set_has_snapshot(true);
    for (const auto& [price, size] : message.bids) book.ApplySnapshotLevel(kSideBuy, price, size);
    for (const auto& [price, size] : message.asks) book.ApplySnapshotLevel(kSideSell, price, size);
  } else {
    if (!book.has_snapshot()) return "delta before any snapshot";
    if (message.update_id != kMissingInt && book.last_update_id() != kMissingInt &&
        message.update_id <= book.last_update_id()) {
      return "stale delta: u " + std::to_string(message.update_id) + " <= the book's " +
             std::to_string(book.last_update_id());
    }
    for (const auto& [price, size] : message.bids) book.ApplyDelta(kSideBuy, price, size);
    for (const auto& [price, size] : message.asks) book.ApplyDelta(kSideSell, price, size);
  }
  if (message.update_id != kMissingInt) book.set_last_update_id(message.update_id);
  return "";
}

bool BybitReplay::Add(std::string_view line, int64_t number) {
  json parsed = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    sink_->Reject(number, "", "", "not valid JSON", line);
    return false;
  }
  BookMessage message;
  const TimeUnit unit = UnitOrDefault(sink_->options().time_unit, TimeUnit::kMilliseconds);
  Problem problem = ParseMessage(parsed, unit, &message);
  Target* target = nullptr;
  if (problem.reason.empty()) {
    problem.field = "s";
    target = TargetFor(message.symbol, &problem.reason);
  }
  if (target == nullptr) {
    sink_->Reject(number, "", problem.field, problem.reason, line);
    return true;
  }
  const std::string reason = Apply(message, *target->book);
  if (!reason.empty()) {
    sink_->Reject(number, target->name, message.snapshot ? "type" : "u", reason, line);
    return true;
  }
  target->book->EmitTopN(sink_, *target->batch, number, message.ts, sink_->options().book_depth,
                         line);
  return true;
}

}  // namespace

Status ReadBybitOrderBook(std::string_view text, BatchSink* sink, ReaderState* state) {
  const ReadOptions& options = sink->options();
  if (options.kind != DataKind::kOrderBook) {
    return InvalidArgument(
        "Bybit order-book files rebuild order books; pass --kind orderbook (got " +
        std::string(KindName(options.kind)) + ")");
  }
  if (options.book_depth <= 0) return InvalidArgument("book depth must be positive");
  ReaderState local_state;  // a caller without a reader keeps no book between calls
  BybitReplay replay(sink, state != nullptr ? state : &local_state);
  LineCursor lines(text);
  std::string_view line;
  int64_t messages = 0;
  int64_t json_messages = 0;
  while (lines.Next(&line)) {
    if (IsBlank(line)) continue;
    sink->CountRead();
    ++messages;
    if (replay.Add(line, lines.line_number())) ++json_messages;
    sink->ReportProgress(lines.offset(), text.size());
  }
  if (messages > 0 && json_messages == 0) {
    return ParseError("no line is a JSON object; not Bybit order-book lines");
  }
  return Status::Ok();
}

}  // namespace vigil::data_internal
