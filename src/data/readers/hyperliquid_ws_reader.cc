// Hyperliquid websocket messages, as pushed on wss://api.hyperliquid.xyz/ws (Hyperliquid
// API docs, "Websocket > Subscriptions"):
//   {"channel":"l2Book","data":{"coin","time":ms,"levels":[[{"px","sz","n"},...],[...]]}}
//       a full snapshot of the top levels (bids, then asks) -> orderbook rows
//   {"channel":"trades","data":[{"coin","side":"B"|"A","px","sz","time":ms,"tid"},...]}
//       -> trades (side is the aggressor's: B bought, A sold)
//   {"channel":"user","data":{"fills":[WsFill,...]}} and
//   {"channel":"userFills","data":{"user","isSnapshot","fills":[...]}}
//       the subscriber's own fills -> trades; fills with a `liquidation` -> liquidations
// A file is either one JSON document (one message, possibly pretty-printed, or an array of
// messages) or JSON lines with one message per line.
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "data/readers/format_readers.h"
#include "data/readers/order_book_builder.h"
#include "data/readers/record_values.h"
#include "vigil/core/text_file.h"

namespace vigil::data_internal {

const char kHyperliquidAssetCtxsRefusal[] =
    "a Hyperliquid allDexsAssetCtxs snapshot has no timestamp and no coin names; its contexts "
    "are in each dex's meta.universe order and the capture time is not in the message, so it "
    "cannot be stored as a time series";

namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A field that failed, and why; empty reason = parsed.
struct Problem {
  std::string field;
  std::string reason;
};

bool ParseHyperliquidSide(const json& value, int64_t* side) {
  if (value == "B") {
    *side = kSideBuy;
  } else if (value == "A") {
    *side = kSideSell;
  } else {
    return false;
  }
  return true;
}

// The fields every trade-like record (trades entry, fill) carries.
struct Fill {
  std::string coin;
  int64_t ts = 0;
  double price = 0;
  double qty = 0;
  int64_t side = kSideUnknown;  // the record's own side (B/A)
  int64_t id = kMissingInt;
};

Problem ParseFill(const json& record, TimeUnit unit, Fill* out) {
  if (!record.is_object()) return {"", "expected a JSON object"};
  auto coin = record.find("coin");
  if (coin == record.end() || !coin->is_string()) return {"coin", "missing coin"};
  out->coin = coin->get<std::string>();
  auto time = record.find("time");
  if (time == record.end() || !JsonEpochToNanos(*time, unit, &out->ts)) {
    return {"time", "missing or not an epoch time"};
  }
  auto px = record.find("px");
  if (px == record.end() || !JsonToDouble(*px, &out->price)) return {"px", "not a number"};
  auto sz = record.find("sz");
  if (sz == record.end() || !JsonToDouble(*sz, &out->qty)) return {"sz", "not a number"};
  auto side = record.find("side");
  if (side == record.end() || !ParseHyperliquidSide(*side, &out->side)) {
    return {"side", "expected B or A"};
  }
  auto tid = record.find("tid");
  if (tid == record.end() || !JsonToInt64(*tid, &out->id)) return {"tid", "not an integer id"};
  return {};
}

// The aggressor side of a trade seen as one party's fill: `crossed` says whether the
// subscriber took liquidity. A maker fill means the other party was the aggressor.
int64_t AggressorSide(const json& fill, int64_t fill_side) {
  auto crossed = fill.find("crossed");
  if (crossed == fill.end() || !crossed->is_boolean()) return kSideUnknown;
  return crossed->get<bool>() ? fill_side : -fill_side;
}

bool ParseBookSide(const json& levels, int64_t side, OrderBookBuilder* book) {
  if (!levels.is_array()) return false;
  for (const json& level : levels) {
    double price = 0;
    double size = 0;
    if (!level.is_object() || !level.contains("px") || !level.contains("sz") ||
        !JsonToDouble(level["px"], &price) || !JsonToDouble(level["sz"], &size) || !(price > 0) ||
        !(size >= 0)) {
      return false;
    }
    book->ApplySnapshotLevel(side, price, size);
  }
  return true;
}

}  // namespace

class HyperliquidMessages::Impl {
 public:
  explicit Impl(BatchSink* sink)
      : sink_(sink), unit_(UnitOrDefault(sink->options().time_unit, TimeUnit::kMilliseconds)) {}

  void Add(const json& message, int64_t line, std::string_view raw);
  void Finish();

 private:
  // One coin's output, and for books the snapshot waiting to be stored: it is stored
  // when a message with a later time arrives, so several snapshots stamped with the same
  // millisecond store one (the last), not duplicates that validation would drop.
  struct Target {
    std::string name;
    RecordBatch* batch = nullptr;
    OrderBookBuilder book;
    bool pending = false;
    int64_t pending_line = 0;
    int64_t pending_ts = 0;
    std::string pending_raw;
  };

  Target* TargetFor(const std::string& coin, int64_t line, std::string_view raw);
  void StorePending(Target& target);
  void AddBook(const json& data, int64_t line, std::string_view raw);
  void AddTrades(const json& data, int64_t line, std::string_view raw);
  void AddFills(const json& data, int64_t line, std::string_view raw);
  void AddFill(const json& record, int64_t line, std::string_view raw);
  void Reject(int64_t line, const std::string& instrument, const Problem& problem,
              std::string_view raw) {
    sink_->Reject(line, instrument, problem.field, problem.reason, raw);
  }

  BatchSink* sink_;
  TimeUnit unit_;
  std::map<std::string, Target> targets_;  // by coin
};

HyperliquidMessages::Impl::Target* HyperliquidMessages::Impl::TargetFor(const std::string& coin,
                                                                        int64_t line,
                                                                        std::string_view raw) {
  auto found = targets_.find(coin);
  if (found != targets_.end()) return &found->second;
  Result<Instrument> instrument =
      ResolveInstrument(sink_->options(), sink_->file_name(), "hyperliquid", coin);
  if (!instrument.ok()) {
    Reject(line, "", {"coin", instrument.status().message()}, raw);
    return nullptr;
  }
  Target& target = targets_[coin];
  target.name = instrument->ToString();
  target.batch = &sink_->BatchFor(*instrument);
  return &target;
}

void HyperliquidMessages::Impl::StorePending(Target& target) {
  if (!target.pending) return;
  target.book.EmitTopN(sink_, *target.batch, target.pending_line, target.pending_ts,
                       sink_->options().book_depth, target.pending_raw);
  target.pending = false;
}

void HyperliquidMessages::Impl::AddBook(const json& data, int64_t line, std::string_view raw) {
  sink_->CountRead();
  if (!data.is_object()) return Reject(line, "", {"data", "expected an object"}, raw);
  auto coin = data.find("coin");
  if (coin == data.end() || !coin->is_string()) {
    return Reject(line, "", {"coin", "missing coin"}, raw);
  }
  int64_t ts = 0;
  auto time = data.find("time");
  if (time == data.end() || !JsonEpochToNanos(*time, unit_, &ts)) {
    return Reject(line, "", {"time", "missing or not an epoch time"}, raw);
  }
  auto levels = data.find("levels");
  if (levels == data.end() || !levels->is_array() || levels->size() != 2) {
    return Reject(line, "", {"levels", "expected [[bids...], [asks...]]"}, raw);
  }
  Target* target = TargetFor(coin->get<std::string>(), line, raw);
  if (target == nullptr) return;
  if (target->pending && target->pending_ts != ts) StorePending(*target);
  OrderBookBuilder parsed;
  if (!ParseBookSide((*levels)[0], kSideBuy, &parsed) ||
      !ParseBookSide((*levels)[1], kSideSell, &parsed)) {
    return Reject(line, target->name, {"levels", "each level must be {px > 0, sz >= 0}"}, raw);
  }
  target->book = std::move(parsed);
  target->book.set_has_snapshot(true);
  target->pending = true;
  target->pending_line = line;
  target->pending_ts = ts;
  target->pending_raw = std::string(raw.substr(0, 512));
}

void HyperliquidMessages::Impl::AddTrades(const json& data, int64_t line, std::string_view raw) {
  if (!data.is_array()) {
    sink_->CountRead();
    return Reject(line, "", {"data", "expected an array of trades"}, raw);
  }
  for (const json& record : data) {
    sink_->CountRead();
    Fill trade;
    Problem problem = ParseFill(record, unit_, &trade);
    if (!problem.reason.empty()) {
      Reject(line, "", problem, JsonSnippet(record));
      continue;
    }
    Target* target = TargetFor(trade.coin, line, raw);
    if (target == nullptr) continue;
    const double doubles[] = {trade.price, trade.qty};
    const int64_t ints[] = {trade.side, trade.id};
    sink_->AddRow(*target->batch, line, trade.ts, doubles, ints);
  }
}

void HyperliquidMessages::Impl::AddFills(const json& data, int64_t line, std::string_view raw) {
  const json* fills = nullptr;
  if (data.is_object()) {
    auto found = data.find("fills");
    if (found != data.end() && found->is_array()) fills = &*found;
  }
  if (fills == nullptr) {
    // Other user events (funding, liquidation summaries without coin or time) carry
    // no rows of any kind Vigil stores.
    return;
  }
  for (const json& record : *fills) AddFill(record, line, raw);
}

// Liquidations: the `user` channel reports the subscriber's own fills, and a fill with a
// `liquidation` object names the liquidated account in liquidatedUser. The subscriber is
// that account's counterparty (in the shared sample the fill opens a short, dir "Open
// Short", which a forced close could not do). A liquidation closes the position with a
// market order, so a liquidated long sells and its counterparty buys (B), and a
// liquidated short buys while the counterparty sells (A): B -> long (+1), A -> short (-1).
void HyperliquidMessages::Impl::AddFill(const json& record, int64_t line, std::string_view raw) {
  const DataKind kind = sink_->options().kind;
  const bool liquidation =
      record.is_object() && record.contains("liquidation") && record["liquidation"].is_object();
  if (kind == DataKind::kLiquidations && !liquidation) return;
  sink_->CountRead();
  Fill fill;
  Problem problem = ParseFill(record, unit_, &fill);
  if (!problem.reason.empty()) return Reject(line, "", problem, JsonSnippet(record));
  Target* target = TargetFor(fill.coin, line, raw);
  if (target == nullptr) return;
  if (kind == DataKind::kTrades) {
    const double doubles[] = {fill.price, fill.qty};
    const int64_t ints[] = {AggressorSide(record, fill.side), fill.id};
    return sink_->AddRow(*target->batch, line, fill.ts, doubles, ints);
  }
  const double doubles[] = {fill.price, fill.qty, fill.price * fill.qty, kNaN};
  const int64_t ints[] = {fill.side, fill.id};
  sink_->AddRow(*target->batch, line, fill.ts, doubles, ints);
}

void HyperliquidMessages::Impl::Add(const json& message, int64_t line, std::string_view raw) {
  auto channel = message.is_object() ? message.find("channel") : message.end();
  if (!message.is_object() || channel == message.end() || !channel->is_string()) {
    sink_->CountRead();
    return Reject(line, "", {"channel", "not a Hyperliquid websocket message"}, raw);
  }
  const std::string& name = channel->get_ref<const std::string&>();
  static const json kNull;
  auto data_it = message.find("data");
  const json& data = data_it != message.end() ? *data_it : kNull;
  const DataKind kind = sink_->options().kind;
  if (name == "l2Book") {
    if (kind == DataKind::kOrderBook) AddBook(data, line, raw);
  } else if (name == "trades") {
    if (kind == DataKind::kTrades) AddTrades(data, line, raw);
  } else if (name == "user" || name == "userFills") {
    if (kind == DataKind::kTrades || kind == DataKind::kLiquidations) AddFills(data, line, raw);
  } else if (name == "allDexsAssetCtxs") {
    sink_->CountRead();
    Reject(line, "", {"channel", kHyperliquidAssetCtxsRefusal}, raw);
  } else if (name != "subscriptionResponse" && name != "pong") {
    sink_->CountRead();
    Reject(line, "",
           {"channel", "channel '" + name + "' is not read (l2Book, trades, user, userFills)"},
           raw);
  }
}

void HyperliquidMessages::Impl::Finish() {
  for (auto& [coin, target] : targets_) StorePending(target);
}

HyperliquidMessages::HyperliquidMessages(BatchSink* sink) : impl_(std::make_unique<Impl>(sink)) {}
HyperliquidMessages::~HyperliquidMessages() = default;

void HyperliquidMessages::Add(const json& message, int64_t line, std::string_view raw) {
  impl_->Add(message, line, raw);
}

void HyperliquidMessages::Finish() { impl_->Finish(); }

namespace {

Status CheckKind(DataKind kind) {
  if (kind == DataKind::kOrderBook || kind == DataKind::kTrades ||
      kind == DataKind::kLiquidations) {
    return Status::Ok();
  }
  return InvalidArgument(
      "Hyperliquid websocket messages hold order books, trades and liquidations; pass --kind "
      "orderbook, trades or liquidations (got " +
      std::string(KindName(kind)) + ")");
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// One message per line: used when the first non-blank line is a whole JSON object.
bool IsJsonLines(std::string_view text) {
  LineCursor lines(text);
  std::string_view line;
  while (lines.Next(&line)) {
    if (IsBlank(line)) continue;
    return line[line.find_first_not_of(" \t\r")] == '{' && json::accept(line.begin(), line.end());
  }
  return false;
}

bool IsAssetCtxs(const json& message) {
  return message.is_object() && message.contains("channel") &&
         message["channel"] == "allDexsAssetCtxs";
}

// Fails when every line is an allDexsAssetCtxs snapshot (nothing could be stored), or for
// a kind these messages cannot hold.
Status ReadLines(std::string_view text, BatchSink* sink, HyperliquidMessages* messages) {
  LineCursor lines(text);
  std::string_view line;
  int64_t total = 0;
  int64_t asset_ctxs = 0;
  while (lines.Next(&line)) {
    if (IsBlank(line)) continue;
    ++total;
    json message = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    const bool refused = !message.is_discarded() && IsAssetCtxs(message);
    asset_ctxs += refused;
    // The kind is checked after the first message, so a snapshot file gets the refusal
    // whatever kind was asked for.
    if (!refused) VIGIL_RETURN_IF_ERROR(CheckKind(sink->options().kind));
    if (message.is_discarded()) {
      sink->CountRead();
      sink->Reject(lines.line_number(), "", "", "not valid JSON", line);
    } else {
      messages->Add(message, lines.line_number(), line);
    }
    sink->ReportProgress(lines.offset(), text.size());
  }
  if (total > 0 && asset_ctxs == total) return ParseError(kHyperliquidAssetCtxsRefusal);
  return Status::Ok();
}

// A whole document: one message (record 1) or an array of messages (record = index + 1).
Status ReadDocument(std::string_view text, BatchSink* sink, HyperliquidMessages* messages) {
  VIGIL_ASSIGN_OR_RETURN(json document, ParseJsonDocument(text));
  if (IsAssetCtxs(document)) return ParseError(kHyperliquidAssetCtxsRefusal);
  VIGIL_RETURN_IF_ERROR(CheckKind(sink->options().kind));
  if (!document.is_array()) {
    messages->Add(document, 1, JsonSnippet(document));
    return Status::Ok();
  }
  for (size_t index = 0; index < document.size(); ++index) {
    messages->Add(document[index], RecordNumber(index), JsonSnippet(document[index]));
    ReportRecordProgress(*sink, index, document.size(), text.size());
  }
  return Status::Ok();
}

}  // namespace

Status ReadHyperliquidWs(std::string_view text, BatchSink* sink) {
  HyperliquidMessages messages(sink);
  VIGIL_RETURN_IF_ERROR(IsJsonLines(text) ? ReadLines(text, sink, &messages)
                                          : ReadDocument(text, sink, &messages));
  messages.Finish();
  return Status::Ok();
}

}  // namespace vigil::data_internal
