// Binance historical order-book CSV, the format of Binance's historical order-book data
// downloads for USD-M futures:
//   symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu
// Rows with update_type "snap" that share a timestamp form one full snapshot and rebuild
// the book from scratch; "set" rows set a level to an absolute quantity (0 removes it).
// After the rows of each timestamp the book's top N levels are emitted as one snapshot.
// The book lives in ReaderState, so a snapshot file followed by its update file, read
// with one MarketFileReader, rebuilds one continuous book.
#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/readers/format_readers.h"
#include "data/readers/order_book_builder.h"
#include "data/readers/record_values.h"
#include "vigil/core/text_file.h"

namespace vigil::data_internal {
namespace {

struct DepthColumns {
  int symbol = -1;  // optional when --symbol is given
  int timestamp = -1;
  int last_update_id = -1;  // optional: enables the stale-update check
  int side = -1;
  int update_type = -1;
  int price = -1;
  int qty = -1;
  int needed = 0;  // fields a data row must have
};

struct DepthRow {
  std::string symbol;
  int64_t ts = 0;
  int64_t update_id = kMissingInt;
  int64_t side = kSideUnknown;
  bool snap = false;
  double price = 0;
  double qty = 0;
};

// A field that failed, and why; empty reason = parsed.
struct Problem {
  std::string field;
  std::string reason;
};

// One instrument's book and output batch within this file.
struct BookTarget {
  OrderBookBuilder* book = nullptr;
  RecordBatch* batch = nullptr;
  std::string name;
};

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
}

Result<DepthColumns> FindColumns(std::string_view header_line) {
  std::vector<std::string_view> header;
  SplitFields(header_line, ',', &header);
  DepthColumns columns;
  const std::pair<std::string_view, int*> wanted[] = {{"symbol", &columns.symbol},
                                                      {"timestamp", &columns.timestamp},
                                                      {"last_update_id", &columns.last_update_id},
                                                      {"side", &columns.side},
                                                      {"update_type", &columns.update_type},
                                                      {"price", &columns.price},
                                                      {"qty", &columns.qty}};
  for (size_t column = 0; column < header.size(); ++column) {
    for (const auto& [name, index] : wanted) {
      if (Trim(header[column]) == name) *index = static_cast<int>(column);
    }
  }
  for (const auto& [name, index] : wanted) {
    if (*index < 0 && name != "symbol" && name != "last_update_id") {
      return ParseError("line 1: not a Binance order-book CSV: no '" + std::string(name) +
                        "' column in the header");
    }
    columns.needed = std::max(columns.needed, *index + 1);
  }
  return columns;
}

bool ParseBookSide(std::string_view text, int64_t* side) {
  text = Trim(text);
  if (text == "b" || text == "bid" || text == "buy") {
    *side = kSideBuy;
  } else if (text == "a" || text == "ask" || text == "sell") {
    *side = kSideSell;
  } else {
    return false;
  }
  return true;
}

class DepthReplay {
 public:
  DepthReplay(BatchSink* sink, ReaderState* state, DepthColumns columns)
      : sink_(sink), state_(state), columns_(columns) {}

  void Add(std::string_view line, int64_t number);
  // Emits the book after the last timestamp group; call once at the end.
  void Flush();

 private:
  // Parses a line into `row`; a non-empty Problem::reason says why it cannot be used.
  Problem Parse(std::string_view line, DepthRow* row);
  Problem ParseLevel(DepthRow* row) const;
  BookTarget* TargetFor(const std::string& symbol, std::string* reason);
  void Apply(const DepthRow& row, BookTarget& target, std::string_view line, int64_t number);

  BatchSink* sink_;
  ReaderState* state_;
  DepthColumns columns_;
  std::vector<std::string_view> fields_;
  std::map<std::string, BookTarget> targets_;  // by symbol column value
  // The timestamp group being read: its rows are applied, then emitted together.
  BookTarget* group_target_ = nullptr;
  std::string group_symbol_;
  int64_t group_ts_ = kMissingInt;
  int64_t group_line_ = 0;
  std::string_view group_raw_;
  bool group_snapshot_started_ = false;
  bool group_changed_ = false;
};

Problem DepthReplay::Parse(std::string_view line, DepthRow* row) {
  SplitFields(line, ',', &fields_);
  if (static_cast<int>(fields_.size()) < columns_.needed) {
    return {"", "expected " + std::to_string(columns_.needed) + " columns, got " +
                    std::to_string(fields_.size())};
  }
  if (columns_.symbol >= 0) row->symbol = std::string(Trim(fields_[columns_.symbol]));
  int64_t time = 0;
  if (!ParseInt64(fields_[columns_.timestamp], &time) ||
      !EpochToNanos(time, sink_->options().time_unit, &row->ts)) {
    return {"timestamp", "not an epoch time"};
  }
  if (columns_.last_update_id >= 0 &&
      !ParseInt64(fields_[columns_.last_update_id], &row->update_id)) {
    return {"last_update_id", "not an integer"};
  }
  return ParseLevel(row);
}

Problem DepthReplay::ParseLevel(DepthRow* row) const {
  if (!ParseBookSide(fields_[columns_.side], &row->side)) {
    return {"side", "expected b (bid) or a (ask)"};
  }
  const std::string_view type = Trim(fields_[columns_.update_type]);
  if (type != "snap" && type != "set") {
    return {"update_type", "expected snap or set, got '" + std::string(type) + "'"};
  }
  row->snap = type == "snap";
  if (!ParseDouble(fields_[columns_.price], &row->price) || !(row->price > 0)) {
    return {"price", "not a positive price"};
  }
  if (!ParseDouble(fields_[columns_.qty], &row->qty) || !(row->qty >= 0)) {
    return {"qty", "not a non-negative quantity"};
  }
  return {};
}

BookTarget* DepthReplay::TargetFor(const std::string& symbol, std::string* reason) {
  auto found = targets_.find(symbol);
  if (found != targets_.end()) return &found->second;
  Result<Instrument> instrument =
      ResolveInstrument(sink_->options(), sink_->file_name(), "binance", symbol);
  if (!instrument.ok()) {
    *reason = instrument.status().message();
    return nullptr;
  }
  BookTarget target;
  target.name = instrument->ToString();
  target.book = &BookFor(state_, target.name);
  target.batch = &sink_->BatchFor(*instrument);
  return &targets_.emplace(symbol, std::move(target)).first->second;
}

void DepthReplay::Add(std::string_view line, int64_t number) {
  DepthRow row;
  Problem problem = Parse(line, &row);
  BookTarget* target = nullptr;
  if (problem.reason.empty()) {
    problem.field = "symbol";
    target = TargetFor(row.symbol, &problem.reason);
  }
  if (target == nullptr) {
    auto known = targets_.find(row.symbol);
    sink_->Reject(number, known != targets_.end() ? known->second.name : row.symbol, problem.field,
                  problem.reason, line);
    return;
  }
  if (row.ts != group_ts_ || row.symbol != group_symbol_) {
    Flush();
    group_target_ = target;
    group_symbol_ = row.symbol;
    group_ts_ = row.ts;
    group_snapshot_started_ = false;
  }
  Apply(row, *target, line, number);
}

void DepthReplay::Apply(const DepthRow& row, BookTarget& target, std::string_view line,
                        int64_t number) {
  OrderBookBuilder& book = *target.book;
  if (row.snap) {
    if (!group_snapshot_started_) book.Clear();  // a new snapshot replaces the book
    group_snapshot_started_ = true;
    book.set_has_snapshot(true);
    book.ApplySnapshotLevel(row.side, row.price, row.qty);
  } else if (!book.has_snapshot()) {
    return sink_->Reject(number, target.name, "update_type", "update before any snapshot", line);
  } else if (row.update_id != kMissingInt && book.last_update_id() != kMissingInt &&
             row.update_id < book.last_update_id()) {
    // Binance: drop any event whose last update id precedes the book's.
    return sink_->Reject(number, target.name, "last_update_id",
                         "stale update: last_update_id " + std::to_string(row.update_id) +
                             " < the book's " + std::to_string(book.last_update_id()),
                         line);
  } else {
    book.ApplyDelta(row.side, row.price, row.qty);
  }
  if (row.update_id != kMissingInt) book.set_last_update_id(row.update_id);
  group_changed_ = true;
  group_line_ = number;
  group_raw_ = line;
}

void DepthReplay::Flush() {
  if (group_target_ != nullptr && group_changed_ && group_target_->book->has_snapshot()) {
    group_target_->book->EmitTopN(sink_, *group_target_->batch, group_line_, group_ts_,
                                  sink_->options().book_depth, group_raw_);
  }
  group_changed_ = false;
}

}  // namespace

Status ReadBinanceDepth(std::string_view text, BatchSink* sink, ReaderState* state) {
  const ReadOptions& options = sink->options();
  if (options.kind != DataKind::kOrderBook) {
    return InvalidArgument("Binance depth files rebuild order books; pass --kind orderbook (got " +
                           std::string(KindName(options.kind)) + ")");
  }
  if (options.book_depth <= 0) return InvalidArgument("book depth must be positive");
  ReaderState local_state;  // a caller without a reader keeps no book between calls
  LineCursor lines(text);
  std::string_view line;
  if (!lines.Next(&line)) return ParseError("empty file");
  VIGIL_ASSIGN_OR_RETURN(DepthColumns columns, FindColumns(line));
  DepthReplay replay(sink, state != nullptr ? state : &local_state, columns);
  while (lines.Next(&line)) {
    if (Trim(line).empty()) continue;
    sink->CountRead();
    replay.Add(line, lines.line_number());
    sink->ReportProgress(lines.offset(), text.size());
  }
  replay.Flush();
  return Status::Ok();
}

}  // namespace vigil::data_internal
