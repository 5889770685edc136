#include "data/readers/row_assembler.h"

#include <cctype>
#include <cmath>
#include <limits>

namespace vigil::data_internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr char kKeySeparator = '\x1f';  // cannot occur in a venue or symbol

bool IsBlank(std::string_view text) {
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '"') return false;
  }
  return true;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

std::string Quoted(std::string_view text) {
  constexpr size_t kMaxShown = 64;
  std::string out = "'" + std::string(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) out += "...";
  return out + "'";
}

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Buyer-is-maker flags: "True" means the seller took liquidity, so the aggressor sold.
bool ParseBuyerMaker(std::string_view text, int64_t* side) {
  const std::string lower = ToLower(Trim(text));
  if (lower == "true" || lower == "t" || lower == "1" || lower == "yes") {
    *side = kSideSell;
    return true;
  }
  if (lower == "false" || lower == "f" || lower == "0" || lower == "no") {
    *side = kSideBuy;
    return true;
  }
  return false;
}

}  // namespace

RowAssembler::RowAssembler(BatchSink* sink) : sink_(sink), schema_(SchemaOf(sink->options().kind)) {
  size_t doubles = 0;
  size_t ints = 0;
  for (const FieldSpec& field : schema_.fields) {
    slot_.push_back(static_cast<int>(field.type == ColumnType::kDouble ? doubles++ : ints++));
  }
  doubles_.resize(doubles);
  ints_.resize(ints);
}

Status RowAssembler::SetPlan(ColumnPlan plan) {
  plan_ = std::move(plan);
  last_key_.clear();
  last_batch_ = nullptr;
  batch_by_key_.clear();
  fixed_batch_ = nullptr;
  const ReadOptions& options = sink_->options();
  const bool options_name_it = !options.venue.empty() && !options.symbol.empty();
  const bool columns_name_it = plan_.instrument >= 0 || plan_.symbol >= 0 || plan_.venue >= 0;
  if (options_name_it || !columns_name_it) {
    VIGIL_ASSIGN_OR_RETURN(Instrument instrument,
                           ResolveInstrument(options, sink_->file_name(), ""));
    fixed_batch_ = &sink_->BatchFor(instrument);
    fixed_instrument_ = instrument.ToString();
  }
  return Status::Ok();
}

Status RowAssembler::Add(std::span<const std::string_view> cells, int64_t line,
                         std::string_view raw, bool unterminated) {
  RowContext row{cells, line, raw, fixed_batch_};
  if (cells.size() < plan_.header.size()) {
    Reject(row, plan_.header[cells.size()],
           std::string(unterminated ? "truncated line" : "missing field") + " (row has " +
               std::to_string(cells.size()) + " of " + std::to_string(plan_.header.size()) +
               " columns)");
    return Status::Ok();
  }
  if (row.batch == nullptr) {
    VIGIL_ASSIGN_OR_RETURN(row.batch, BatchForRow(row));
    if (row.batch == nullptr) return Status::Ok();
  }
  int64_t ts = 0;
  if (!ParseTs(row, &ts)) return Status::Ok();
  if (!plan_.book_levels.empty()) {
    AddWideBookRows(row, ts);
  } else if (FillValues(row, ts)) {
    sink_->AddRow(*row.batch, line, ts, doubles_, ints_);
  }
  return Status::Ok();
}

void RowAssembler::ReserveRows(int64_t rows) {
  if (fixed_batch_ == nullptr || !plan_.book_levels.empty()) return;
  fixed_batch_->frame.Reserve(rows);
  fixed_batch_->lines.reserve(static_cast<size_t>(rows));
}

Result<RecordBatch*> RowAssembler::BatchForRow(RowContext& row) {
  key_.clear();
  for (int column : {plan_.instrument, plan_.venue, plan_.symbol}) {
    if (column >= 0) key_.append(Trim(row.cells[column]));
    key_.push_back(kKeySeparator);
  }
  if (last_batch_ != nullptr && key_ == last_key_) return last_batch_;
  auto it = batch_by_key_.find(key_);
  RecordBatch* batch = nullptr;
  if (it != batch_by_key_.end()) {
    batch = it->second;
  } else {
    VIGIL_ASSIGN_OR_RETURN(batch, ResolveBatch(row));
    if (batch == nullptr) return batch;  // rejected; do not cache, the reason may differ
    batch_by_key_.emplace(key_, batch);
  }
  last_key_ = key_;
  last_batch_ = batch;
  return batch;
}

// Resolves the instrument of a row from its instrument / venue / symbol cells.
Result<RecordBatch*> RowAssembler::ResolveBatch(RowContext& row) {
  const ReadOptions& options = sink_->options();
  if (plan_.instrument < 0) return ResolveFromVenueAndSymbol(row);
  auto parsed = Instrument::Parse(Trim(row.cells[plan_.instrument]));
  if (!parsed.ok()) {
    Reject(row, "instrument", parsed.status().message());
    return static_cast<RecordBatch*>(nullptr);
  }
  Instrument instrument = *std::move(parsed);
  if (!options.venue.empty()) instrument.venue = options.venue;
  if (!options.symbol.empty()) instrument.symbol = options.symbol;
  return &sink_->BatchFor(instrument);
}

Result<RecordBatch*> RowAssembler::ResolveFromVenueAndSymbol(RowContext& row) {
  const ReadOptions& options = sink_->options();
  Instrument cells;
  if (plan_.venue >= 0) cells.venue = ToLower(Trim(row.cells[plan_.venue]));
  if (plan_.symbol >= 0) cells.symbol = std::string(Trim(row.cells[plan_.symbol]));
  std::string_view bad_field;
  Status bad;
  if (!cells.venue.empty() && !(bad = ValidateVenue(cells.venue)).ok()) bad_field = "venue";
  if (bad.ok() && !cells.symbol.empty() && !(bad = ValidateSymbol(cells.symbol)).ok()) {
    bad_field = "symbol";
  }
  if (bad.ok() && cells.venue.empty() && plan_.venue >= 0 && options.venue.empty()) {
    bad = DataError("missing venue");
    bad_field = "venue";
  }
  if (bad.ok() && cells.symbol.empty() && plan_.symbol >= 0 && options.symbol.empty()) {
    bad = DataError("missing symbol");
    bad_field = "symbol";
  }
  if (!bad.ok()) {
    Reject(row, std::string(bad_field), bad.message());
    return static_cast<RecordBatch*>(nullptr);
  }
  // Fills what the cells lack from the options or the file name, or fails for the
  // whole file with a message naming the flag to pass.
  VIGIL_ASSIGN_OR_RETURN(Instrument instrument,
                         ResolveInstrument(options, sink_->file_name(), cells.venue, cells.symbol));
  return &sink_->BatchFor(instrument);
}

bool RowAssembler::ParseTs(RowContext& row, int64_t* ts) {
  std::string_view cell = row.cells[plan_.ts];
  if (IsBlank(cell)) {
    Reject(row, "ts", "missing timestamp");
    return false;
  }
  Result<Timestamp> parsed = Timestamp::Parse(cell, sink_->options().time_unit);
  if (!parsed.ok()) {
    Reject(row, "ts", parsed.status().message());
    return false;
  }
  *ts = parsed->nanos();
  return true;
}

bool RowAssembler::FillValues(RowContext& row, int64_t ts) {
  for (size_t field = 0; field < schema_.fields.size(); ++field) {
    const int column = plan_.fields[field];
    const std::string_view cell = column >= 0 ? row.cells[column] : std::string_view();
    if (schema_.fields[field].type == ColumnType::kInt64) {
      if (!ParseIntField(row, field, cell, ts, &ints_[slot_[field]])) return false;
      continue;
    }
    double& value = doubles_[slot_[field]];
    if (!ParseDouble(cell, &value)) {
      if (!IsBlank(cell)) {
        Reject(row, std::string(schema_.fields[field].name), "not a number: " + Quoted(cell));
        return false;
      }
      value = kNaN;  // absent; validation rejects it if the field is required
    }
  }
  return true;
}

bool RowAssembler::ParseIntField(RowContext& row, size_t field, std::string_view cell, int64_t ts,
                                 int64_t* out) {
  const std::string_view name = schema_.fields[field].name;
  const bool blank = IsBlank(cell);
  if (name == "side") {
    if (blank) {
      *out = schema_.kind == DataKind::kOrderBook ? kMissingInt : kSideUnknown;
      return true;
    }
    if (plan_.side_is_buyer_maker ? ParseBuyerMaker(cell, out) : ParseSide(cell, out)) return true;
    Reject(row, "side",
           plan_.side_is_buyer_maker
               ? "not a buyer-is-maker flag (true/false): " + Quoted(cell)
               : "not a side: " + Quoted(cell) + " (expected buy/sell, bid/ask, b/s or 1/-1)");
    return false;
  }
  if (!blank && ParseInt64(cell, out)) return true;
  if (name == "trade_id" || name == "event_id" || name == "round_id") {
    // No usable venue id (absent, or not an integer such as a UUID): the ordinal among
    // same-time rows is deterministic, so re-ingesting the file yields the same keys.
    *out = NextOrdinal(row.batch, ts);
    return true;
  }
  if (blank) {
    *out = kMissingInt;
    return true;
  }
  Reject(row, std::string(name), "not an integer: " + Quoted(cell));
  return false;
}

void RowAssembler::AddWideBookRows(RowContext& row, int64_t ts) {
  book_scratch_.clear();
  for (size_t level = 0; level < plan_.book_levels.size(); ++level) {
    const ColumnPlan::BookLevel& columns = plan_.book_levels[level];
    const std::pair<int64_t, std::pair<int, int>> sides[] = {
        {kSideBuy, {columns.bid_price, columns.bid_size}},
        {kSideSell, {columns.ask_price, columns.ask_size}}};
    for (const auto& [side, price_size] : sides) {
      auto [price_column, size_column] = price_size;
      if (price_column < 0) continue;
      std::string_view price_cell = row.cells[price_column];
      std::string_view size_cell = size_column >= 0 ? row.cells[size_column] : "";
      if (IsBlank(price_cell) && IsBlank(size_cell)) continue;  // a book thinner than N
      double price = 0;
      double size = 0;
      for (auto [cell, value, column] : {std::tuple{price_cell, &price, price_column},
                                         std::tuple{size_cell, &size, size_column}}) {
        if (!ParseDouble(cell, value)) {
          // A partial snapshot would misstate the book: drop the whole row.
          Reject(row, column >= 0 ? plan_.header[column] : "size",
                 IsBlank(cell) ? "missing value" : "not a number: " + Quoted(cell));
          return;
        }
      }
      book_scratch_.push_back({side, static_cast<int64_t>(level), price, size});
    }
  }
  for (const BookRow& entry : book_scratch_) {
    // Orderbook schema order: side, level (int64), then price, size (double).
    const double values[] = {entry.price, entry.size};
    const int64_t keys[] = {entry.side, entry.level};
    sink_->AddRow(*row.batch, row.line, ts, values, keys);
  }
}

int64_t RowAssembler::NextOrdinal(const RecordBatch* batch, int64_t ts) {
  return ordinals_[batch][ts]++;
}

void RowAssembler::Reject(const RowContext& row, std::string field, std::string reason) {
  std::string instrument =
      row.batch != nullptr ? row.batch->series.instrument.ToString() : fixed_instrument_;
  sink_->Reject(row.line, instrument, std::move(field), std::move(reason), row.raw);
}

}  // namespace vigil::data_internal
