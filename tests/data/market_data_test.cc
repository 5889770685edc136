#include "vigil/data/market_data.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(InstrumentTest, ParsesVenueAndSymbolAtFirstColon) {
  auto instrument = Instrument::Parse("binance:XRP/USDT:USDT");
  ASSERT_TRUE(instrument.ok()) << instrument.status().ToString();
  EXPECT_EQ(instrument->venue, "binance");
  EXPECT_EQ(instrument->symbol, "XRP/USDT:USDT");
  EXPECT_EQ(instrument->ToString(), "binance:XRP/USDT:USDT");
}

TEST(InstrumentTest, RejectsMissingColonUpperCaseVenueAndSpaces) {
  EXPECT_FALSE(Instrument::Parse("BTCUSDT").ok());
  EXPECT_FALSE(Instrument::Parse("Binance:BTC").ok());
  EXPECT_FALSE(Instrument::Parse("binance:BTC USDT").ok());
  EXPECT_FALSE(Instrument::Parse("binance:").ok());
}

TEST(KindTest, NamesAndAliasesRoundTrip) {
  for (DataKind kind : AllKinds()) {
    auto parsed = ParseDataKind(KindName(kind));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, kind);
  }
  EXPECT_EQ(*ParseDataKind("tvl"), DataKind::kProtocol);
  EXPECT_EQ(*ParseDataKind("ohlcv"), DataKind::kCandles);
  EXPECT_FALSE(ParseDataKind("bananas").ok());
}

TEST(KindTest, MakeFrameFollowsSchema) {
  Frame frame = MakeFrame(SchemaOf(DataKind::kTrades));
  ASSERT_EQ(frame.num_columns(), 4u);
  EXPECT_EQ(frame.columns()[0].name, "price");
  EXPECT_EQ(frame.columns()[2].type, ColumnType::kInt64);
  EXPECT_EQ(FieldIndex(SchemaOf(DataKind::kTrades), "trade_id"), 3);
  EXPECT_EQ(FieldIndex(SchemaOf(DataKind::kTrades), "nope"), -1);
}

TEST(KindTest, KeysAndRegularity) {
  EXPECT_TRUE(SchemaOf(DataKind::kCandles).has_timeframe);
  EXPECT_TRUE(SchemaOf(DataKind::kCandles).regular);
  EXPECT_TRUE(SchemaOf(DataKind::kCandles).key_fields.empty());
  ASSERT_EQ(SchemaOf(DataKind::kOrderBook).key_fields.size(), 2u);
  EXPECT_EQ(SchemaOf(DataKind::kOrderBook).key_fields[1], "level");
}

TEST(SeriesKeyTest, ToStringShowsTimeframeForCandlesOnly) {
  SeriesKey candles{{"binance", "BTC/USDT"}, DataKind::kCandles, "1m"};
  EXPECT_EQ(candles.ToString(), "binance:BTC/USDT candles 1m");
  SeriesKey funding{{"binance", "BTC/USDT"}, DataKind::kFunding, ""};
  EXPECT_EQ(funding.ToString(), "binance:BTC/USDT funding");
}

}  // namespace
}  // namespace vigil
