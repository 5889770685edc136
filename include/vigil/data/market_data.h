// The market-data model: which kinds of data Vigil stores, the columns each kind has,
// and how a series is named.
//
// Every kind travels as a Frame whose value columns are the kind's FieldSpecs, in
// order, after the timestamp. Instruments are "venue:symbol" ("binance:BTC/USDT",
// "hyperliquid:ETH"); a series is an instrument + kind (+ timeframe for candles).
//
//   const vigil::KindSchema& schema = vigil::SchemaOf(vigil::DataKind::kCandles);
//   vigil::Frame frame = vigil::MakeFrame(schema);
//   auto instrument = vigil::Instrument::Parse("binance:BTC/USDT");
//
// Conventions: missing optional doubles are NaN; missing optional int64 values are
// kMissingInt. Sides are +1 (buy / bid / long) and -1 (sell / ask / short), 0 unknown.
// Thread-safety: all functions here are pure; schemas are immutable statics.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/frame.h"
#include "vigil/core/status.h"

namespace vigil {

enum class DataKind {
  kCandles,       // OHLCV bars of one timeframe
  kTrades,        // individual trades (or one side of a fill)
  kOrderBook,     // top-N book snapshots, one row per (side, level)
  kLiquidations,  // forced closes of leveraged positions
  kFunding,       // perpetual funding rates (with mark / index price when known)
  kOracle,        // on-chain oracle prices vs a reference (mark / index) price
  kVault,         // vault state, e.g. Hyperliquid HLP equity, PnL, open interest
  kProtocol,      // DeFi protocol metrics: TVL, volume, price, market cap
};

inline constexpr int64_t kMissingInt = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kSideBuy = 1;
inline constexpr int64_t kSideSell = -1;
inline constexpr int64_t kSideUnknown = 0;

// What validation demands of a field's value.
enum class FieldRule {
  kFinite,       // any finite number
  kPositive,     // > 0 (prices)
  kNonNegative,  // >= 0 (volumes, sizes, notionals)
  kSide,         // int64 in {-1, 0, 1}
  kAny,          // ids and levels: any value
};

struct FieldSpec {
  std::string_view name;
  ColumnType type;
  bool required;  // a missing / NaN value rejects the row
  FieldRule rule;
  std::string_view description;
};

struct KindSchema {
  DataKind kind;
  std::string_view name;  // CLI and table name: "candles", "orderbook", ...
  std::span<const FieldSpec> fields;
  // Fields that, with (series, ts), form the primary key ("trade_id", "side,level").
  std::span<const std::string_view> key_fields;
  bool has_timeframe;  // series are split by timeframe (candles)
  bool regular;        // rows expected at a fixed interval, so gaps are counted
};

const KindSchema& SchemaOf(DataKind kind);
std::span<const DataKind> AllKinds();
std::string_view KindName(DataKind kind);
// Accepts the names above plus aliases ("candle", "ohlcv", "book", "tvl", ...).
Result<DataKind> ParseDataKind(std::string_view text);
// An empty Frame with the kind's columns.
Frame MakeFrame(const KindSchema& schema);
// Index of a field in schema.fields, or -1.
int FieldIndex(const KindSchema& schema, std::string_view name);

struct Instrument {
  std::string venue;
  std::string symbol;

  // "venue:symbol"; the venue is lower-case letters, digits, '-', '_' or '.'; the symbol
  // is non-empty and has no whitespace. The first ':' separates them, so symbols like
  // "XRP/USDT:USDT" survive.
  static Result<Instrument> Parse(std::string_view text);
  std::string ToString() const { return venue + ":" + symbol; }
  auto operator<=>(const Instrument&) const = default;
};

// Validates a venue name (see Instrument::Parse); the message names the problem.
Status ValidateVenue(std::string_view venue);
Status ValidateSymbol(std::string_view symbol);

struct SeriesKey {
  Instrument instrument;
  DataKind kind = DataKind::kCandles;
  std::string timeframe;  // "1m", "5m", ... for candles; empty otherwise

  std::string ToString() const;  // "binance:BTC/USDT candles 1m"
  auto operator<=>(const SeriesKey&) const = default;
};

}  // namespace vigil
