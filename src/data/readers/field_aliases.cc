#include "data/readers/field_aliases.h"

#include <algorithm>
#include <cctype>

namespace vigil::data_internal {
namespace {

// Column names each field is found under, best first, lower case, '|'-separated. The
// canonical field name always comes first so files Vigil writes read back exactly.
struct AliasEntry {
  DataKind kind;
  std::string_view field;
  std::string_view names;
};

using DK = DataKind;
constexpr AliasEntry kFieldAliases[] = {
    {DK::kCandles, "open", "open|o"},
    {DK::kCandles, "high", "high|h"},
    {DK::kCandles, "low", "low|l"},
    {DK::kCandles, "close", "close|c"},
    {DK::kCandles, "volume", "volume|vol|v|base_volume"},
    {DK::kCandles, "trades", "trades|trade_count|count|number_of_trades|n"},
    {DK::kCandles, "quote_volume", "quote_volume|quote_asset_volume|quotevolume"},
    {DK::kTrades, "price", "price|px|p"},
    {DK::kTrades, "qty", "qty|quantity|amount|size|sz|volume|q"},
    {DK::kTrades, "side", "side|taker_side|aggressor_side"},
    {DK::kTrades, "trade_id", "trade_id|id|tid|tradeid|trade_no"},
    {DK::kOrderBook, "side", "side"},
    {DK::kOrderBook, "level", "level|depth|lvl"},
    {DK::kOrderBook, "price", "price|px|p"},
    {DK::kOrderBook, "size", "size|qty|quantity|amount|sz"},
    {DK::kLiquidations, "side", "side"},
    {DK::kLiquidations, "price", "price|px|p"},
    {DK::kLiquidations, "qty", "qty|quantity|amount|size|sz"},
    {DK::kLiquidations, "notional", "notional|liquidated_ntl_pos|value|ntl|notional_usd"},
    {DK::kLiquidations, "account_value", "account_value|liquidated_account_value"},
    {DK::kLiquidations, "event_id", "event_id|id|tid|liquidation_id"},
    // freqtrade stores a funding rate in the `open` column of a candle-shaped file.
    {DK::kFunding, "rate", "rate|funding_rate|fundingrate|funding|open"},
    {DK::kFunding, "mark_price", "mark_price|markpx|mark|mark_px"},
    {DK::kFunding, "index_price", "index_price|indexpx|index|oraclepx|oracle_price"},
    {DK::kOracle, "price", "price|answer|oracle_price|oraclepx"},
    {DK::kOracle, "reference_price", "reference_price|mark_price|markpx|index_price"},
    {DK::kOracle, "round_id", "round_id|round|roundid"},
    {DK::kVault, "equity", "equity|account_value|accountvalue|tvl"},
    {DK::kVault, "pnl", "pnl|cumulative_pnl|all_time_pnl"},
    {DK::kVault, "open_interest", "open_interest|openinterest|oi"},
    {DK::kProtocol, "tvl", "tvl|totalliquidityusd|total_liquidity_usd"},
    {DK::kProtocol, "volume", "volume|vol|volume_usd"},
    {DK::kProtocol, "price", "price"},
    {DK::kProtocol, "market_cap", "market_cap|mcap|marketcap"},
};

constexpr std::string_view kTimestampNames = "ts|timestamp|time|date|datetime|open_time|t";
constexpr std::string_view kInstrumentNames = "instrument";
constexpr std::string_view kSymbolNames = "symbol|coin|pair";
constexpr std::string_view kVenueNames = "venue|exchange";
// Binance trades say whether the buyer was the maker instead of naming the aggressor.
constexpr std::string_view kBuyerMakerNames = "buyer_maker|is_buyer_maker|isbuyermaker|m";

constexpr std::string_view kPseudoFields[] = {"ts", "instrument", "symbol", "venue"};

std::string JoinNames(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

// A header name without surrounding spaces or quotes.
std::string Trimmed(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\"");
  if (begin == std::string_view::npos) return std::string();
  const size_t end = text.find_last_not_of(" \t\r\"");
  return std::string(text.substr(begin, end - begin + 1));
}

std::string Lower(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '"') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

std::string_view NamesOf(DataKind kind, std::string_view field) {
  for (const AliasEntry& entry : kFieldAliases) {
    if (entry.kind == kind && entry.field == field) return entry.names;
  }
  return field;
}

// Normalised header plus which columns are already claimed by a field.
class HeaderIndex {
 public:
  explicit HeaderIndex(std::span<const std::string_view> header) {
    for (std::string_view name : header) {
      exact_.push_back(Trimmed(name));
      lower_.push_back(Lower(name));
    }
    used_.assign(lower_.size(), false);
  }
  // First unused column named by one of `names` (in their order), claimed; or kAbsent.
  int Claim(std::string_view names) {
    size_t start = 0;
    while (start <= names.size()) {
      size_t stop = std::min(names.find('|', start), names.size());
      int column = ClaimName(names.substr(start, stop - start));
      if (column != ColumnPlan::kAbsent) return column;
      start = stop + 1;
    }
    return ColumnPlan::kAbsent;
  }
  int ClaimName(std::string_view name) {
    int column = Find(name);
    if (column != ColumnPlan::kAbsent) used_[column] = true;
    return column;
  }
  // An exact match wins over a case-insensitive one: Hyperliquid candles have both "t"
  // (open time) and "T" (close time).
  int Find(std::string_view name) const {
    for (size_t i = 0; i < exact_.size(); ++i) {
      if (!used_[i] && exact_[i] == name) return static_cast<int>(i);
    }
    const std::string lower = Lower(name);
    for (size_t i = 0; i < lower_.size(); ++i) {
      if (!used_[i] && lower_[i] == lower) return static_cast<int>(i);
    }
    return ColumnPlan::kAbsent;
  }

 private:
  std::vector<std::string> exact_;
  std::vector<std::string> lower_;
  std::vector<bool> used_;
};

std::string AliasList(std::string_view names) {
  std::string out(names);
  std::replace(out.begin(), out.end(), '|', ',');
  return out;
}

Status NoColumn(const ColumnPlan& plan, std::string_view field, std::string_view names) {
  return ParseError("no column for " + std::string(field == "ts" ? "the timestamp" : "field") +
                    " '" + std::string(field) + "' (looked for " + AliasList(names) +
                    "; pass --column " + std::string(field) +
                    "=NAME); header: " + plan.HeaderText());
}

// Applies --column mappings: the named column is claimed for the canonical field.
Status ApplyColumnMap(const ReadOptions& options, HeaderIndex* index, ColumnPlan* plan) {
  const KindSchema& schema = SchemaOf(options.kind);
  for (const auto& [canonical, column_name] : options.column_map) {
    int column = index->ClaimName(column_name);
    if (column == ColumnPlan::kAbsent) {
      return ParseError("--column " + canonical + "=" + column_name + ": no column '" +
                        column_name + "' in the header: " + plan->HeaderText());
    }
    if (canonical == "ts") {
      plan->ts = column;
    } else if (canonical == "instrument") {
      plan->instrument = column;
    } else if (canonical == "symbol") {
      plan->symbol = column;
    } else if (canonical == "venue") {
      plan->venue = column;
    } else {
      int field = FieldIndex(schema, canonical);
      if (field < 0) {
        return InvalidArgument("--column " + canonical + "=" + column_name + ": '" + canonical +
                               "' is not a field of " + std::string(schema.name));
      }
      plan->fields[field] = column;
    }
  }
  return Status::Ok();
}

// Best bid / offer files (Tardis quotes, Binance bookTicker dumps) as a one-level book.
void PlanQuoteBook(HeaderIndex* index, ColumnPlan* plan) {
  ColumnPlan::BookLevel columns;
  columns.ask_price = index->Claim("ask_price|ask|best_ask|ask_px");
  columns.bid_price = index->Claim("bid_price|bid|best_bid|bid_px");
  if (columns.ask_price < 0 || columns.bid_price < 0) return;
  columns.ask_size = index->Claim("ask_amount|ask_size|ask_qty|ask_sz");
  columns.bid_size = index->Claim("bid_amount|bid_size|bid_qty|bid_sz");
  plan->book_levels.push_back(columns);
}

// Finds "asks[i].price" / "asks[i].amount" / "bids[i]..." for i < depth.
void PlanWideBook(HeaderIndex* index, int depth, ColumnPlan* plan) {
  for (int level = 0; level < depth; ++level) {
    const std::string at = "[" + std::to_string(level) + "].";
    ColumnPlan::BookLevel columns;
    columns.ask_price = index->Claim("asks" + at + "price");
    columns.ask_size = index->Claim("asks" + at + "amount|asks" + at + "size");
    columns.bid_price = index->Claim("bids" + at + "price");
    columns.bid_size = index->Claim("bids" + at + "amount|bids" + at + "size");
    if (columns.ask_price < 0 && columns.bid_price < 0) break;
    plan->book_levels.push_back(columns);
  }
  if (plan->book_levels.empty() && index->Find("side") < 0) PlanQuoteBook(index, plan);
}

Status CheckRequired(const KindSchema& schema, const ColumnPlan& plan) {
  if (plan.ts == ColumnPlan::kAbsent) return NoColumn(plan, "ts", kTimestampNames);
  if (!plan.book_levels.empty()) return Status::Ok();
  for (size_t field = 0; field < schema.fields.size(); ++field) {
    const FieldSpec& spec = schema.fields[field];
    if (!spec.required || plan.fields[field] != ColumnPlan::kAbsent) continue;
    if (IsDerivableField(schema.kind, spec.name)) continue;
    return NoColumn(plan, spec.name, NamesOf(schema.kind, spec.name));
  }
  return Status::Ok();
}

}  // namespace

std::string ColumnPlan::HeaderText() const {
  std::string out;
  for (size_t i = 0; i < header.size(); ++i) {
    if (i > 0) out += ',';
    out += header[i];
  }
  return out;
}

Status CheckColumnMap(const ReadOptions& options) {
  const KindSchema& schema = SchemaOf(options.kind);
  for (const auto& [canonical, column_name] : options.column_map) {
    const bool pseudo = std::find(std::begin(kPseudoFields), std::end(kPseudoFields), canonical) !=
                        std::end(kPseudoFields);
    if (!pseudo && FieldIndex(schema, canonical) < 0) {
      std::vector<std::string_view> known(std::begin(kPseudoFields), std::end(kPseudoFields));
      for (const FieldSpec& field : schema.fields) known.push_back(field.name);
      return InvalidArgument("--column " + canonical + "=" + column_name + ": '" + canonical +
                             "' is not a field of " + std::string(schema.name) + " (" +
                             JoinNames(known) + ")");
    }
    if (column_name.empty()) {
      return InvalidArgument("--column " + canonical + "=: empty column name");
    }
  }
  return Status::Ok();
}

char DetectDelimiter(std::string_view header_line) {
  char best = ',';
  size_t best_count = 0;
  for (char candidate : {',', ';', '\t'}) {
    const size_t count = std::count(header_line.begin(), header_line.end(), candidate);
    if (count > best_count) {
      best = candidate;
      best_count = count;
    }
  }
  return best;
}

bool IsDerivableField(DataKind kind, std::string_view field) {
  if (field == "trade_id" || field == "event_id") return true;
  return field == "side" && (kind == DataKind::kTrades || kind == DataKind::kLiquidations);
}

Result<ColumnPlan> PlanColumns(std::span<const std::string_view> header,
                               const ReadOptions& options) {
  const KindSchema& schema = SchemaOf(options.kind);
  ColumnPlan plan;
  plan.header.assign(header.begin(), header.end());
  plan.fields.assign(schema.fields.size(), ColumnPlan::kAbsent);
  HeaderIndex index(header);
  VIGIL_RETURN_IF_ERROR(ApplyColumnMap(options, &index, &plan));
  if (plan.ts == ColumnPlan::kAbsent) plan.ts = index.Claim(kTimestampNames);
  if (options.kind == DataKind::kOrderBook) PlanWideBook(&index, options.book_depth, &plan);
  for (size_t field = 0; field < schema.fields.size(); ++field) {
    if (plan.fields[field] != ColumnPlan::kAbsent) continue;
    plan.fields[field] = index.Claim(NamesOf(options.kind, schema.fields[field].name));
  }
  int side = FieldIndex(schema, "side");
  if (options.kind == DataKind::kTrades && plan.fields[side] == ColumnPlan::kAbsent) {
    plan.fields[side] = index.Claim(kBuyerMakerNames);
    plan.side_is_buyer_maker = plan.fields[side] != ColumnPlan::kAbsent;
  }
  if (plan.instrument == ColumnPlan::kAbsent) plan.instrument = index.Claim(kInstrumentNames);
  if (plan.symbol == ColumnPlan::kAbsent) plan.symbol = index.Claim(kSymbolNames);
  if (plan.venue == ColumnPlan::kAbsent) plan.venue = index.Claim(kVenueNames);
  VIGIL_RETURN_IF_ERROR(CheckRequired(schema, plan));
  return plan;
}

Result<ColumnPlan> PlanHeaderless(size_t width, const ReadOptions& options) {
  const KindSchema& schema = SchemaOf(options.kind);
  ColumnPlan plan;
  plan.fields.assign(schema.fields.size(), ColumnPlan::kAbsent);
  std::vector<std::string_view> names;
  if (options.kind == DataKind::kTrades) {
    names = {"ts", "price", "qty"};  // Kraken time-and-sales: time_s,price,volume
  } else if (options.kind == DataKind::kCandles) {
    names = {"ts", "open", "high", "low", "close", "volume"};
  } else {
    return ParseError("the file has no header row and " + std::string(schema.name) +
                      " columns cannot be guessed: add a header");
  }
  const size_t needed = options.kind == DataKind::kCandles ? names.size() - 1 : names.size();
  if (width < needed) {
    return ParseError("the file has no header row and only " + std::to_string(width) +
                      " columns: expected " + JoinNames(names));
  }
  for (size_t column = 0; column < width; ++column) {
    plan.header.push_back(column < names.size() ? std::string(names[column])
                                                : "column" + std::to_string(column + 1));
  }
  plan.ts = 0;
  for (size_t column = 1; column < names.size() && column < width; ++column) {
    plan.fields[FieldIndex(schema, names[column])] = static_cast<int>(column);
  }
  return plan;
}

}  // namespace vigil::data_internal
