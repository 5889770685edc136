// Tardis.dev incremental_book_L2 CSV (Tardis "Downloadable CSV files" docs):
//   exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount
// timestamp is the exchange time in microseconds (Tardis falls back to local_timestamp
// when the exchange sends none). A run of is_snapshot=true rows is a full book: the first
// of a run starts a new book (Tardis repeats the snapshot after a reconnect, and the
// client must then drop its book). Other rows set a level to an absolute amount; amount 0
// removes it. The book's top N levels are stored once per distinct timestamp, after all
// its rows. Every file starts with a snapshot, so no state is kept between files.
#include <algorithm>
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

struct L2Columns {
  int exchange = -1;  // optional with --venue
  int symbol = -1;    // optional with --symbol
  int timestamp = -1;
  int is_snapshot = -1;
  int side = -1;
  int price = -1;
  int amount = -1;
  int needed = 0;  // fields a data row must have
};

struct L2Row {
  std::string exchange;
  std::string symbol;
  int64_t ts = 0;
  bool snapshot = false;
  int64_t side = kSideUnknown;
  double price = 0;
  double amount = 0;
};

// A field that failed, and why; empty reason = parsed.
struct Problem {
  std::string field;
  std::string reason;
};

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\"");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\r\"") - begin + 1);
}

Result<L2Columns> FindColumns(std::string_view header_line) {
  std::vector<std::string_view> header;
  SplitFields(header_line, ',', &header);
  L2Columns columns;
  const std::pair<std::string_view, int*> wanted[] = {
      {"exchange", &columns.exchange},   {"symbol", &columns.symbol},
      {"timestamp", &columns.timestamp}, {"is_snapshot", &columns.is_snapshot},
      {"side", &columns.side},           {"price", &columns.price},
      {"amount", &columns.amount}};
  for (size_t column = 0; column < header.size(); ++column) {
    for (const auto& [name, index] : wanted) {
      if (Trim(header[column]) == name) *index = static_cast<int>(column);
    }
  }
  for (const auto& [name, index] : wanted) {
    if (*index < 0 && name != "exchange" && name != "symbol") {
      return ParseError("line 1: not a Tardis incremental_book_L2 CSV: no '" + std::string(name) +
                        "' column in the header");
    }
    columns.needed = std::max(columns.needed, *index + 1);
  }
  return columns;
}

bool ParseL2Side(std::string_view text, int64_t* side) {
  if (text == "bid" || text == "buy" || text == "b") {
    *side = kSideBuy;
  } else if (text == "ask" || text == "sell" || text == "a") {
    *side = kSideSell;
  } else {
    return false;
  }
  return true;
}

class L2Replay {
 public:
  L2Replay(BatchSink* sink, L2Columns columns)
      : sink_(sink),
        columns_(columns),
        unit_(UnitOrDefault(sink->options().time_unit, TimeUnit::kMicroseconds)) {}

  void Add(std::string_view line, int64_t number);
  // Stores every book's last timestamp group; call once at the end.
  void Finish();

 private:
  // One instrument's book, and its timestamp group whose top N is not stored yet.
  struct Target {
    std::string name;
    RecordBatch* batch = nullptr;
    OrderBookBuilder book;
    bool in_snapshot = false;  // the previous row was a snapshot row
    bool pending = false;
    int64_t pending_ts = 0;
    int64_t pending_line = 0;
    std::string_view pending_raw;
  };

  Problem Parse(std::string_view line, L2Row* row);
  Target* TargetFor(const L2Row& row, std::string* reason);
  void StorePending(Target& target);

  BatchSink* sink_;
  L2Columns columns_;
  TimeUnit unit_;
  std::vector<std::string_view> fields_;
  std::map<std::pair<std::string, std::string>, Target> targets_;  // by (exchange, symbol)
};

Problem L2Replay::Parse(std::string_view line, L2Row* row) {
  SplitFields(line, ',', &fields_);
  if (static_cast<int>(fields_.size()) < columns_.needed) {
    return {"", "expected " + std::to_string(columns_.needed) + " columns, got " +
                    std::to_string(fields_.size())};
  }
  if (columns_.exchange >= 0) row->exchange = std::string(Trim(fields_[columns_.exchange]));
  if (columns_.symbol >= 0) row->symbol = std::string(Trim(fields_[columns_.symbol]));
  int64_t time = 0;
  if (!ParseInt64(Trim(fields_[columns_.timestamp]), &time) ||
      !EpochToNanos(time, unit_, &row->ts)) {
    return {"timestamp", "not an epoch time"};
  }
  const std::string_view snapshot = Trim(fields_[columns_.is_snapshot]);
  if (snapshot != "true" && snapshot != "false") return {"is_snapshot", "expected true or false"};
  row->snapshot = snapshot == "true";
  if (!ParseL2Side(Trim(fields_[columns_.side]), &row->side)) {
    return {"side", "expected bid or ask"};
  }
  if (!ParseDouble(Trim(fields_[columns_.price]), &row->price) || !(row->price > 0)) {
    return {"price", "not a positive price"};
  }
  if (!ParseDouble(Trim(fields_[columns_.amount]), &row->amount) || !(row->amount >= 0)) {
    return {"amount", "not a non-negative amount"};
  }
  return {};
}

L2Replay::Target* L2Replay::TargetFor(const L2Row& row, std::string* reason) {
  auto key = std::make_pair(row.exchange, row.symbol);
  auto found = targets_.find(key);
  if (found != targets_.end()) return &found->second;
  // The exchange column is the venue unless --venue overrides it.
  Result<Instrument> instrument =
      ResolveInstrument(sink_->options(), sink_->file_name(), row.exchange, row.symbol);
  if (!instrument.ok()) {
    *reason = instrument.status().message();
    return nullptr;
  }
  Target& target = targets_[key];
  target.name = instrument->ToString();
  target.batch = &sink_->BatchFor(*instrument);
  return &target;
}

void L2Replay::StorePending(Target& target) {
  if (!target.pending) return;
  target.book.EmitTopN(sink_, *target.batch, target.pending_line, target.pending_ts,
                       sink_->options().book_depth, target.pending_raw);
  target.pending = false;
}

void L2Replay::Add(std::string_view line, int64_t number) {
  L2Row row;
  Problem problem = Parse(line, &row);
  Target* target = nullptr;
  if (problem.reason.empty()) {
    problem.field = "exchange";
    target = TargetFor(row, &problem.reason);
  }
  if (target == nullptr) return sink_->Reject(number, "", problem.field, problem.reason, line);
  if (target->pending && target->pending_ts != row.ts) StorePending(*target);
  if (row.snapshot) {
    if (!target->in_snapshot) target->book.Clear();
    target->book.set_has_snapshot(true);
    target->book.ApplySnapshotLevel(row.side, row.price, row.amount);
  } else if (!target->book.has_snapshot()) {
    target->in_snapshot = false;
    return sink_->Reject(number, target->name, "is_snapshot",
                         "update before any snapshot (is_snapshot=true rows)", line);
  } else {
    target->book.ApplyDelta(row.side, row.price, row.amount);
  }
  target->in_snapshot = row.snapshot;
  target->pending = true;
  target->pending_ts = row.ts;
  target->pending_line = number;
  target->pending_raw = line;
}

void L2Replay::Finish() {
  for (auto& [key, target] : targets_) StorePending(target);
}

}  // namespace

Status ReadTardisL2(std::string_view text, BatchSink* sink) {
  const ReadOptions& options = sink->options();
  if (options.kind != DataKind::kOrderBook) {
    return InvalidArgument(
        "Tardis incremental_book_L2 files rebuild order books; pass --kind orderbook (got " +
        std::string(KindName(options.kind)) + ")");
  }
  if (options.book_depth <= 0) return InvalidArgument("book depth must be positive");
  LineCursor lines(text);
  std::string_view line;
  if (!lines.Next(&line)) return ParseError("empty file");
  VIGIL_ASSIGN_OR_RETURN(L2Columns columns, FindColumns(line));
  L2Replay replay(sink, columns);
  while (lines.Next(&line)) {
    if (Trim(line).empty()) continue;
    sink->CountRead();
    replay.Add(line, lines.line_number());
    sink->ReportProgress(lines.offset(), text.size());
  }
  replay.Finish();
  return Status::Ok();
}

}  // namespace vigil::data_internal
