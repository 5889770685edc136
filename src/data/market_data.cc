#include "vigil/data/market_data.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace vigil {
namespace {

using CT = ColumnType;
using FR = FieldRule;

constexpr FieldSpec kCandleFields[] = {
    {"open", CT::kDouble, true, FR::kPositive, "first trade price of the bar"},
    {"high", CT::kDouble, true, FR::kPositive, "highest price of the bar"},
    {"low", CT::kDouble, true, FR::kPositive, "lowest price of the bar"},
    {"close", CT::kDouble, true, FR::kPositive, "last trade price of the bar"},
    {"volume", CT::kDouble, false, FR::kNonNegative, "base-asset volume (absent for mark prices)"},
    {"trades", CT::kDouble, false, FR::kNonNegative, "number of trades in the bar"},
    {"quote_volume", CT::kDouble, false, FR::kNonNegative, "quote-asset volume"},
};
constexpr FieldSpec kTradeFields[] = {
    {"price", CT::kDouble, true, FR::kPositive, "trade price"},
    {"qty", CT::kDouble, true, FR::kNonNegative, "traded base quantity"},
    {"side", CT::kInt64, true, FR::kSide, "aggressor side: +1 buy, -1 sell, 0 unknown"},
    {"trade_id", CT::kInt64, true, FR::kAny,
     "venue trade id, or the row's ordinal among same-time rows when the venue gives none"},
};
constexpr FieldSpec kBookFields[] = {
    {"side", CT::kInt64, true, FR::kSide, "+1 bid, -1 ask"},
    {"level", CT::kInt64, true, FR::kAny, "0 = best price"},
    {"price", CT::kDouble, true, FR::kPositive, "level price"},
    {"size", CT::kDouble, true, FR::kNonNegative, "resting quantity at the level"},
};
constexpr FieldSpec kLiquidationFields[] = {
    {"side", CT::kInt64, true, FR::kSide, "side of the liquidated position: +1 long, -1 short"},
    {"price", CT::kDouble, false, FR::kPositive, "fill price"},
    {"qty", CT::kDouble, false, FR::kNonNegative, "liquidated base quantity"},
    {"notional", CT::kDouble, true, FR::kNonNegative, "liquidated notional in quote currency"},
    {"account_value", CT::kDouble, false, FR::kFinite, "account value at liquidation"},
    {"event_id", CT::kInt64, true, FR::kAny, "venue id, or ordinal among same-time rows"},
};
constexpr FieldSpec kFundingFields[] = {
    {"rate", CT::kDouble, true, FR::kFinite, "funding rate per settlement period (fraction)"},
    {"mark_price", CT::kDouble, false, FR::kPositive, "mark price at settlement"},
    {"index_price", CT::kDouble, false, FR::kPositive, "index price at settlement"},
};
constexpr FieldSpec kOracleFields[] = {
    {"price", CT::kDouble, true, FR::kPositive, "oracle answer, scaled to a price"},
    {"reference_price", CT::kDouble, false, FR::kPositive, "mark or index price it is held to"},
    {"round_id", CT::kInt64, true, FR::kAny,
     "oracle round (Chainlink aggregator round id), or the ordinal among same-time rows "
     "when the source gives none; two rounds can be updated in the same second"},
};
constexpr FieldSpec kVaultFields[] = {
    {"equity", CT::kDouble, true, FR::kFinite, "vault equity / account value (USD)"},
    {"pnl", CT::kDouble, false, FR::kFinite, "cumulative PnL (USD)"},
    {"open_interest", CT::kDouble, false, FR::kNonNegative, "vault open interest (USD)"},
};
constexpr FieldSpec kProtocolFields[] = {
    {"tvl", CT::kDouble, true, FR::kNonNegative, "total value locked (USD)"},
    {"volume", CT::kDouble, false, FR::kNonNegative, "volume over the period (USD)"},
    {"price", CT::kDouble, false, FR::kPositive, "governance token price (USD)"},
    {"market_cap", CT::kDouble, false, FR::kNonNegative, "token market capitalisation (USD)"},
};

constexpr std::string_view kNoKey[] = {""};
constexpr std::string_view kTradeKey[] = {"trade_id"};
constexpr std::string_view kBookKey[] = {"side", "level"};
constexpr std::string_view kEventKey[] = {"event_id"};
constexpr std::string_view kRoundKey[] = {"round_id"};

const KindSchema kSchemas[] = {
    {DataKind::kCandles, "candles", kCandleFields, std::span(kNoKey, 0), true, true},
    {DataKind::kTrades, "trades", kTradeFields, kTradeKey, false, false},
    {DataKind::kOrderBook, "orderbook", kBookFields, kBookKey, false, false},
    {DataKind::kLiquidations, "liquidations", kLiquidationFields, kEventKey, false, false},
    {DataKind::kFunding, "funding", kFundingFields, std::span(kNoKey, 0), false, false},
    {DataKind::kOracle, "oracle", kOracleFields, kRoundKey, false, false},
    {DataKind::kVault, "vault", kVaultFields, std::span(kNoKey, 0), false, false},
    {DataKind::kProtocol, "protocol", kProtocolFields, std::span(kNoKey, 0), false, false},
};

constexpr DataKind kAllKinds[] = {DataKind::kCandles,      DataKind::kTrades,  DataKind::kOrderBook,
                                  DataKind::kLiquidations, DataKind::kFunding, DataKind::kOracle,
                                  DataKind::kVault,        DataKind::kProtocol};

struct KindAlias {
  std::string_view name;
  DataKind kind;
};
constexpr KindAlias kAliases[] = {
    {"candle", DataKind::kCandles},        {"ohlcv", DataKind::kCandles},
    {"klines", DataKind::kCandles},        {"trade", DataKind::kTrades},
    {"book", DataKind::kOrderBook},        {"orderbooks", DataKind::kOrderBook},
    {"order-book", DataKind::kOrderBook},  {"liquidation", DataKind::kLiquidations},
    {"funding-rates", DataKind::kFunding}, {"oracles", DataKind::kOracle},
    {"vaults", DataKind::kVault},          {"tvl", DataKind::kProtocol},
    {"protocols", DataKind::kProtocol},    {"defi", DataKind::kProtocol},
};

bool IsVenueChar(char c) {
  return std::islower(static_cast<unsigned char>(c)) ||
         std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
}

}  // namespace

const KindSchema& SchemaOf(DataKind kind) { return kSchemas[static_cast<int>(kind)]; }

std::span<const DataKind> AllKinds() { return kAllKinds; }

std::string_view KindName(DataKind kind) { return SchemaOf(kind).name; }

Result<DataKind> ParseDataKind(std::string_view text) {
  for (const KindSchema& schema : kSchemas) {
    if (schema.name == text) return schema.kind;
  }
  for (const KindAlias& alias : kAliases) {
    if (alias.name == text) return alias.kind;
  }
  return InvalidArgument("unknown data kind '" + std::string(text) +
                         "' (candles|trades|orderbook|liquidations|funding|oracle|vault|protocol)");
}

Frame MakeFrame(const KindSchema& schema) {
  std::vector<ColumnSpec> columns;
  columns.reserve(schema.fields.size());
  for (const FieldSpec& field : schema.fields) {
    columns.push_back({std::string(field.name), field.type});
  }
  return Frame(std::move(columns));
}

int FieldIndex(const KindSchema& schema, std::string_view name) {
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    if (schema.fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Status ValidateVenue(std::string_view venue) {
  if (venue.empty()) return InvalidArgument("empty venue");
  if (!std::all_of(venue.begin(), venue.end(), IsVenueChar)) {
    return InvalidArgument("bad venue '" + std::string(venue) +
                           "': use lower-case letters, digits, '-', '_' or '.'");
  }
  return Status::Ok();
}

Status ValidateSymbol(std::string_view symbol) {
  if (symbol.empty()) return InvalidArgument("empty symbol");
  for (char c : symbol) {
    if (std::isspace(static_cast<unsigned char>(c)) ||
        std::iscntrl(static_cast<unsigned char>(c))) {
      return InvalidArgument("bad symbol '" + std::string(symbol) + "': no whitespace allowed");
    }
  }
  return Status::Ok();
}

Result<Instrument> Instrument::Parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return InvalidArgument("bad instrument '" + std::string(text) + "': expected venue:symbol");
  }
  Instrument instrument{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  VIGIL_RETURN_IF_ERROR(
      ValidateVenue(instrument.venue).WithContext("instrument '" + std::string(text) + "'"));
  VIGIL_RETURN_IF_ERROR(
      ValidateSymbol(instrument.symbol).WithContext("instrument '" + std::string(text) + "'"));
  return instrument;
}

std::string SeriesKey::ToString() const {
  std::string out = instrument.ToString();
  out += ' ';
  out += KindName(kind);
  if (!timeframe.empty()) {
    out += ' ';
    out += timeframe;
  }
  return out;
}

}  // namespace vigil
