// Internal to vigil_data: how the columns of a table-shaped file (a CSV header, the keys
// of a JSON-lines object) map onto a kind's fields, shared by the CSV and JSON-lines
// readers so both accept the same names.
//
//   std::vector<std::string_view> header = {"date", "open", "high", "low", "close"};
//   VIGIL_ASSIGN_OR_RETURN(ColumnPlan plan, PlanColumns(header, options));
//   // plan.ts == 0, plan.fields[FieldIndex(schema, "close")] == 4
//
// Names match case-insensitively; ReadOptions::column_map overrides the built-in aliases.
// Thread-safety: pure functions over immutable tables.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "data/readers/format_readers.h"

namespace vigil::data_internal {

// Where each value of a row comes from: column indices, or kAbsent.
struct ColumnPlan {
  static constexpr int kAbsent = -1;

  std::vector<std::string> header;  // column names as written, for messages
  int ts = kAbsent;
  int instrument = kAbsent;  // "venue:symbol"
  int symbol = kAbsent;      // symbol / coin / pair
  int venue = kAbsent;       // venue / exchange
  std::vector<int> fields;   // per SchemaOf(kind).fields entry
  // The side column holds a buyer-is-maker flag ("True" = the aggressor sold).
  bool side_is_buyer_maker = false;

  // Wide order-book rows: Tardis snapshots ("asks[0].price", "bids[0].amount", ... up
  // to ReadOptions::book_depth levels) or best bid / offer quotes ("bid", "ask_size", ...)
  // as level 0. One entry per level, best first. When non-empty, `fields` is unused.
  struct BookLevel {
    int ask_price = kAbsent;
    int ask_size = kAbsent;
    int bid_price = kAbsent;
    int bid_size = kAbsent;
  };
  std::vector<BookLevel> book_levels;

  // The header as one line, for messages ("date,open,high").
  std::string HeaderText() const;
};

// Maps `header` onto the fields of options.kind. Fails with ParseError naming the field
// and listing the header when the timestamp or a required field has no column, or when
// a --column mapping names a column the header lacks. Absent required fields that can
// be derived are allowed: sides (unknown, 0) of trades and liquidations, and trade /
// event ids (the row's ordinal among same-time rows).
Result<ColumnPlan> PlanColumns(std::span<const std::string_view> header,
                               const ReadOptions& options);

// The plan for a headerless file of `width` columns: trades are Kraken's
// "time,price,volume"; candles are "ts,open,high,low,close[,volume]". Other kinds fail.
Result<ColumnPlan> PlanHeaderless(size_t width, const ReadOptions& options);

// Checks that every ReadOptions::column_map key is a field of options.kind or one of
// ts / instrument / symbol / venue, and that no column name is empty.
Status CheckColumnMap(const ReadOptions& options);

// The delimiter a header line uses most: ',' normally, ';' (European exports) or tab.
char DetectDelimiter(std::string_view header_line);

// True for fields that may be absent and are then derived (see PlanColumns).
bool IsDerivableField(DataKind kind, std::string_view field);

}  // namespace vigil::data_internal
