// hftbacktest collector captures: one record per line,
//   <local receive time, ns since epoch> <raw exchange JSON message>
// Binance (spot, USD-M and COIN-M futures): combined-stream messages
// {"stream":"btcusdt@depth@0ms","data":{...}} with depthUpdate diffs, bookTicker and trade
// events, plus one REST depth snapshot line {"lastUpdateId":...,"bids":[...],"asks":[...]}.
// Hyperliquid: websocket messages {"channel":"l2Book"|"trades",...}, handled by
// HyperliquidMessages.
//
// Order books follow Binance's "How to manage a local order book correctly" (spot and
// futures API docs): diffs received before the snapshot are buffered; those already in
// the snapshot are dropped (futures: u < lastUpdateId; spot: u <= lastUpdateId); the
// first one applied must reach back to it (spot: U <= lastUpdateId + 1 <= u; futures
// documents U <= lastUpdateId <= u, and a diff starting at lastUpdateId + 1 misses nothing
// either, so U <= lastUpdateId + 1 is accepted there too); then every diff must continue
// the previous one (futures: pu == previous u; spot: U == previous u + 1). A break
// rejects the diffs until the next snapshot line, from which the book restarts the same
// way.
//
// Rows are stamped with the exchange's event time (E for diffs, T for trades), not the
// local receive time: the collector's clock is not the exchange's (in the USD-M capture
// the first diff is "received" 1.27 s before its E), and exchange times line up with the
// other venues' files. Diffs that share an E store one snapshot, the book after the last.
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

// A field that failed, and why; empty reason = parsed.
struct Problem {
  std::string field;
  std::string reason;
};

// "<digits> <JSON>": the local timestamp is checked for shape only (rows use exchange
// times, see the header comment).
bool SplitEnvelope(std::string_view line, std::string_view* message) {
  const size_t space = line.find(' ');
  if (space == 0 || space == std::string_view::npos) return false;
  for (char c : line.substr(0, space)) {
    if (c < '0' || c > '9') return false;
  }
  *message = line.substr(space + 1);
  return true;
}

// The value of `key` when the message starts with it ({"stream":"btcusdt@trade",...}), so
// the streams a kind does not use can be skipped without parsing them; "" otherwise.
std::string_view LeadingString(std::string_view message, std::string_view key) {
  const std::string prefix = "{\"" + std::string(key) + "\":\"";
  if (!message.starts_with(prefix)) return {};
  message.remove_prefix(prefix.size());
  return message.substr(0, message.find('"'));
}

bool ParseLevels(const json& object, const char* key, Levels* levels) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_array()) return false;
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

std::string StringField(const json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : "";
}

bool IntField(const json& object, const char* key, int64_t* out) {
  auto found = object.find(key);
  return found != object.end() && JsonToInt64(*found, out);
}

struct DepthDiff {
  int64_t line = 0;
  std::string_view raw;
  int64_t ts = 0;
  int64_t first_id = 0;               // U
  int64_t last_id = 0;                // u
  int64_t previous_id = kMissingInt;  // pu, futures only
  std::string symbol;
  Levels bids;
  Levels asks;
};

Problem ParseDiff(const json& data, TimeUnit unit, DepthDiff* out) {
  auto event_time = data.find("E");
  if (event_time == data.end() || !JsonEpochToNanos(*event_time, unit, &out->ts)) {
    return {"E", "missing or not an epoch time"};
  }
  if (!IntField(data, "U", &out->first_id)) return {"U", "missing first update id"};
  if (!IntField(data, "u", &out->last_id)) return {"u", "missing last update id"};
  if (data.contains("pu") && !IntField(data, "pu", &out->previous_id)) {
    return {"pu", "not an update id"};
  }
  if (!ParseLevels(data, "b", &out->bids)) return {"b", "bids must be [[price, size], ...]"};
  if (!ParseLevels(data, "a", &out->asks)) return {"a", "asks must be [[price, size], ...]"};
  out->symbol = StringField(data, "s");
  return {};
}

// Binance's sequencing rules (header comment); futures diffs carry pu, spot diffs do not.
bool IsFutures(const DepthDiff& diff) { return diff.previous_id != kMissingInt; }
bool InSnapshot(const DepthDiff& diff, int64_t snapshot_id) {
  return IsFutures(diff) ? diff.last_id < snapshot_id : diff.last_id <= snapshot_id;
}
// For a diff not InSnapshot(): u >= lastUpdateId (futures) or > lastUpdateId (spot) holds.
bool BridgesSnapshot(const DepthDiff& diff, int64_t snapshot_id) {
  return diff.first_id <= snapshot_id + 1;
}
bool Continues(const DepthDiff& diff, int64_t previous_last_id) {
  return IsFutures(diff) ? diff.previous_id == previous_last_id
                         : diff.first_id == previous_last_id + 1;
}

std::string DiffIds(const DepthDiff& diff) {
  std::string text = "U " + std::to_string(diff.first_id) + ", u " + std::to_string(diff.last_id);
  if (IsFutures(diff)) text += ", pu " + std::to_string(diff.previous_id);
  return text;
}

class BinanceBooks {
 public:
  BinanceBooks(BatchSink* sink, std::string file_symbol)
      : sink_(sink), file_symbol_(std::move(file_symbol)) {}

  void AddDiff(DepthDiff diff);
  void AddSnapshot(const json& message, int64_t line, std::string_view raw);
  // Stores pending snapshots and rejects diffs still waiting for a snapshot.
  void Finish();

 private:
  enum class Sync { kWaiting, kFirst, kSynced };
  struct Book {
    std::string name;
    RecordBatch* batch = nullptr;
    OrderBookBuilder builder;
    Sync sync = Sync::kWaiting;
    int64_t snapshot_id = kMissingInt;
    int64_t last_id = kMissingInt;
    std::vector<DepthDiff> waiting;  // diffs received while kWaiting
    std::string waiting_reason = "no depth snapshot (lastUpdateId) in the file to start from";
    // The applied diff whose top-N is not stored yet (stored once E moves on).
    bool has_pending = false;
    DepthDiff pending;
  };

  Book* BookFor(const std::string& symbol, int64_t line, std::string_view raw);
  void Sequence(Book& book, DepthDiff diff);
  void Apply(Book& book, DepthDiff diff);
  void Break(Book& book, const DepthDiff& diff, const std::string& why);
  void StorePending(Book& book);

  BatchSink* sink_;
  std::string file_symbol_;
  std::map<std::string, Book> books_;  // by symbol
};

BinanceBooks::Book* BinanceBooks::BookFor(const std::string& symbol, int64_t line,
                                          std::string_view raw) {
  auto found = books_.find(symbol);
  if (found != books_.end()) return &found->second;
  Result<Instrument> instrument =
      ResolveInstrument(sink_->options(), sink_->file_name(), "binance", symbol);
  if (!instrument.ok()) {
    sink_->Reject(line, "", "s", instrument.status().message(), raw);
    return nullptr;
  }
  Book& book = books_[symbol];
  book.name = instrument->ToString();
  book.batch = &sink_->BatchFor(*instrument);
  return &book;
}

void BinanceBooks::StorePending(Book& book) {
  if (!book.has_pending) return;
  book.builder.EmitTopN(sink_, *book.batch, book.pending.line, book.pending.ts,
                        sink_->options().book_depth, book.pending.raw);
  book.has_pending = false;
}

void BinanceBooks::Apply(Book& book, DepthDiff diff) {
  if (book.has_pending && book.pending.ts != diff.ts) StorePending(book);
  for (const auto& [price, size] : diff.bids) book.builder.ApplyDelta(kSideBuy, price, size);
  for (const auto& [price, size] : diff.asks) book.builder.ApplyDelta(kSideSell, price, size);
  book.last_id = diff.last_id;
  book.sync = Sync::kSynced;
  diff.bids.clear();  // only the line, time and text are needed from here on
  diff.asks.clear();
  book.pending = std::move(diff);
  book.has_pending = true;
}

void BinanceBooks::Break(Book& book, const DepthDiff& diff, const std::string& why) {
  StorePending(book);
  sink_->Reject(diff.line, book.name, IsFutures(diff) ? "pu" : "U",
                why + "; diffs are rejected until the next depth snapshot", diff.raw);
  book.sync = Sync::kWaiting;
  book.waiting_reason = "after the sequence break at line " + std::to_string(diff.line) +
                        ", no later depth snapshot to restart the book from";
}

void BinanceBooks::Sequence(Book& book, DepthDiff diff) {
  switch (book.sync) {
    case Sync::kWaiting:
      book.waiting.push_back(std::move(diff));
      return;
    case Sync::kFirst:
      // Its changes are already in the snapshot: dropped, as Binance prescribes, not
      // rejected (nothing is wrong with it).
      if (InSnapshot(diff, book.snapshot_id)) return;
      if (!BridgesSnapshot(diff, book.snapshot_id)) {
        return Break(book, diff,
                     "gap after the depth snapshot: lastUpdateId " +
                         std::to_string(book.snapshot_id) + " is not covered by " + DiffIds(diff));
      }
      break;
    case Sync::kSynced:
      if (!Continues(diff, book.last_id)) {
        return Break(book, diff,
                     "sequence break: " + DiffIds(diff) + " does not follow the previous u " +
                         std::to_string(book.last_id));
      }
      break;
  }
  Apply(book, std::move(diff));
}

void BinanceBooks::AddDiff(DepthDiff diff) {
  Book* book = BookFor(diff.symbol, diff.line, diff.raw);
  if (book != nullptr) Sequence(*book, std::move(diff));
}

void BinanceBooks::AddSnapshot(const json& message, int64_t line, std::string_view raw) {
  // USD-M and spot snapshots do not name their symbol: they belong to the capture's.
  std::string symbol = StringField(message, "symbol");
  if (symbol.empty()) symbol = file_symbol_;
  Book* book = BookFor(symbol, line, raw);
  if (book == nullptr) return;
  int64_t snapshot_id = 0;
  Levels bids;
  Levels asks;
  if (!IntField(message, "lastUpdateId", &snapshot_id) || !ParseLevels(message, "bids", &bids) ||
      !ParseLevels(message, "asks", &asks)) {
    return sink_->Reject(line, book->name, "lastUpdateId",
                         "depth snapshot needs lastUpdateId and [[price, size], ...] bids and asks",
                         raw);
  }
  StorePending(*book);
  book->builder.Clear();
  book->builder.set_has_snapshot(true);
  for (const auto& [price, size] : bids) book->builder.ApplySnapshotLevel(kSideBuy, price, size);
  for (const auto& [price, size] : asks) book->builder.ApplySnapshotLevel(kSideSell, price, size);
  book->snapshot_id = snapshot_id;
  book->sync = Sync::kFirst;
  std::vector<DepthDiff> waiting = std::move(book->waiting);
  book->waiting.clear();
  for (DepthDiff& diff : waiting) Sequence(*book, std::move(diff));
}

void BinanceBooks::Finish() {
  for (auto& [symbol, book] : books_) {
    StorePending(book);
    for (const DepthDiff& diff : book.waiting) {
      sink_->Reject(diff.line, book.name, "U", book.waiting_reason, diff.raw);
    }
  }
}

struct Trade {
  int64_t ts = 0;
  double price = 0;
  double qty = 0;
  int64_t side = kSideUnknown;
  int64_t id = 0;
  std::string symbol;
};

Problem ParseTrade(const json& data, TimeUnit unit, Trade* out) {
  auto time = data.find("T");
  if (time == data.end() || !JsonEpochToNanos(*time, unit, &out->ts)) {
    return {"T", "missing or not an epoch time"};
  }
  auto price = data.find("p");
  if (price == data.end() || !JsonToDouble(*price, &out->price)) return {"p", "not a number"};
  auto qty = data.find("q");
  if (qty == data.end() || !JsonToDouble(*qty, &out->qty)) return {"q", "not a number"};
  auto maker = data.find("m");
  if (maker == data.end() || !maker->is_boolean()) return {"m", "expected true or false"};
  // m = "the buyer is the market maker", so the aggressor sold.
  out->side = maker->get<bool>() ? kSideSell : kSideBuy;
  if (!IntField(data, "t", &out->id)) return {"t", "not a trade id"};
  out->symbol = StringField(data, "s");
  return {};
}

class CaptureReplay {
 public:
  CaptureReplay(BatchSink* sink, std::string file_symbol)
      : sink_(sink),
        unit_(UnitOrDefault(sink->options().time_unit, TimeUnit::kMilliseconds)),
        binance_(sink, std::move(file_symbol)),
        hyperliquid_(sink) {}

  // Handles one line; returns false if it is not "<timestamp> <JSON>".
  bool Add(std::string_view line, int64_t number);
  void Finish() {
    binance_.Finish();
    hyperliquid_.Finish();
  }

 private:
  bool Skipped(std::string_view message) const;
  void AddBinance(const json& message, int64_t number, std::string_view line);
  void AddTrade(const json& data, int64_t number, std::string_view line);
  void AddDiff(const json& data, int64_t number, std::string_view line);

  BatchSink* sink_;
  TimeUnit unit_;
  BinanceBooks binance_;
  HyperliquidMessages hyperliquid_;
  std::map<std::string, RecordBatch*> trade_batches_;  // by symbol
};

// Streams the kind does not use, told from the stream name alone (most lines are
// bookTicker updates, and depth diffs are the longest).
bool CaptureReplay::Skipped(std::string_view message) const {
  const std::string_view stream = LeadingString(message, "stream");
  if (stream.empty()) return false;
  if (stream.ends_with("@bookTicker")) return true;
  const bool trades = sink_->options().kind == DataKind::kTrades;
  return trades ? stream.find("@depth") != std::string_view::npos : stream.ends_with("@trade");
}

bool CaptureReplay::Add(std::string_view line, int64_t number) {
  std::string_view text;
  if (!SplitEnvelope(line, &text)) {
    sink_->CountRead();
    sink_->Reject(number, "", "", "expected '<local timestamp ns> <JSON message>'", line);
    return false;
  }
  if (Skipped(text)) return true;
  json message = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded() || !message.is_object()) {
    sink_->CountRead();
    sink_->Reject(number, "", "", "the message is not a JSON object", line);
  } else if (message.contains("channel")) {
    hyperliquid_.Add(message, number, line);
  } else {
    AddBinance(message, number, line);
  }
  return true;
}

void CaptureReplay::AddBinance(const json& message, int64_t number, std::string_view line) {
  const bool book = sink_->options().kind == DataKind::kOrderBook;
  if (message.contains("lastUpdateId")) {
    if (!book) return;
    sink_->CountRead();
    return binance_.AddSnapshot(message, number, line);
  }
  auto data = message.find("data");
  const std::string stream = StringField(message, "stream");
  if (stream.ends_with("@bookTicker")) return;
  const std::string event = data != message.end() ? StringField(*data, "e") : "";
  if (event == "depthUpdate") {
    if (book) AddDiff(*data, number, line);
  } else if (event == "trade") {
    if (!book) AddTrade(*data, number, line);
  } else if (event != "bookTicker") {
    sink_->CountRead();
    sink_->Reject(number, "", "e",
                  "not a depthUpdate, trade or bookTicker event, nor a depth snapshot", line);
  }
}

void CaptureReplay::AddDiff(const json& data, int64_t number, std::string_view line) {
  sink_->CountRead();
  DepthDiff diff;
  Problem problem = ParseDiff(data, unit_, &diff);
  if (!problem.reason.empty())
    return sink_->Reject(number, "", problem.field, problem.reason, line);
  diff.line = number;
  diff.raw = line;
  binance_.AddDiff(std::move(diff));
}

void CaptureReplay::AddTrade(const json& data, int64_t number, std::string_view line) {
  sink_->CountRead();
  Trade trade;
  Problem problem = ParseTrade(data, unit_, &trade);
  if (!problem.reason.empty())
    return sink_->Reject(number, "", problem.field, problem.reason, line);
  RecordBatch*& batch = trade_batches_[trade.symbol];
  if (batch == nullptr) {
    Result<Instrument> instrument =
        ResolveInstrument(sink_->options(), sink_->file_name(), "binance", trade.symbol);
    if (!instrument.ok()) {
      trade_batches_.erase(trade.symbol);
      return sink_->Reject(number, "", "s", instrument.status().message(), line);
    }
    batch = &sink_->BatchFor(*instrument);
  }
  const double doubles[] = {trade.price, trade.qty};
  const int64_t ints[] = {trade.side, trade.id};
  sink_->AddRow(*batch, number, trade.ts, doubles, ints);
}

// The symbol of the capture's first stream message: the one a symbol-less REST depth
// snapshot belongs to (hftbacktest's collector writes one file per symbol). "" when the
// first message is not a Binance stream message.
std::string FirstStreamSymbol(std::string_view text) {
  LineCursor lines(text);
  std::string_view line;
  while (lines.Next(&line)) {
    std::string_view message;
    if (!SplitEnvelope(line, &message)) continue;
    json parsed = json::parse(message.begin(), message.end(), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object() || parsed.contains("lastUpdateId")) continue;
    auto data = parsed.find("data");
    if (data == parsed.end() || !data->is_object()) return "";
    return StringField(*data, "s");
  }
  return "";
}

}  // namespace

Status ReadHftbacktest(std::string_view text, BatchSink* sink) {
  const DataKind kind = sink->options().kind;
  if (kind != DataKind::kOrderBook && kind != DataKind::kTrades) {
    return InvalidArgument(
        "hftbacktest captures hold order books and trades; pass --kind orderbook or trades (got " +
        std::string(KindName(kind)) + ")");
  }
  if (sink->options().book_depth <= 0) return InvalidArgument("book depth must be positive");
  CaptureReplay replay(sink, FirstStreamSymbol(text));
  LineCursor lines(text);
  std::string_view line;
  int64_t records = 0;
  int64_t envelopes = 0;
  while (lines.Next(&line)) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    ++records;
    envelopes += replay.Add(line, lines.line_number());
    sink->ReportProgress(lines.offset(), text.size());
  }
  replay.Finish();
  if (records > 0 && envelopes == 0) {
    return ParseError(
        "no line is '<local timestamp ns> <JSON message>'; not an hftbacktest capture");
  }
  return Status::Ok();
}

}  // namespace vigil::data_internal
