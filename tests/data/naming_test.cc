#include <gtest/gtest.h>

#include <vector>

#include "data/readers/format_readers.h"
#include "vigil/core/timestamp.h"

namespace vigil::data_internal {
namespace {

TEST(SymbolFromFileNameTest, FreqtradePairs) {
  EXPECT_EQ(SymbolFromFileName("ETH_BTC-5m.csv"), "ETH/BTC");
  EXPECT_EQ(SymbolFromFileName("ETH_BTC-5m.feather"), "ETH/BTC");
  EXPECT_EQ(SymbolFromFileName("ETH_BTC-5m.json"), "ETH/BTC");
  EXPECT_EQ(SymbolFromFileName("UNITTEST_BTC-1m.json"), "UNITTEST/BTC");
  EXPECT_EQ(SymbolFromFileName("XRP_ETH-trades.json"), "XRP/ETH");
}

TEST(SymbolFromFileNameTest, FreqtradeFuturesAddTheSettleCurrency) {
  EXPECT_EQ(SymbolFromFileName("XRP_USDT_USDT-5m-futures.csv"), "XRP/USDT:USDT");
  EXPECT_EQ(SymbolFromFileName("XRP_USDT_USDT-8h-funding_rate.csv"), "XRP/USDT:USDT");
  EXPECT_EQ(SymbolFromFileName("XRP_USDT_USDT-1h-mark.csv"), "XRP/USDT:USDT-mark");
}

TEST(SymbolFromFileNameTest, BinanceVisionNames) {
  EXPECT_EQ(SymbolFromFileName("ADABTC-1m-2021-11-27.csv"), "ADABTC");
  EXPECT_EQ(SymbolFromFileName("BTCUSDT-trades-2021-01-08.csv"), "BTCUSDT");
}

TEST(SymbolFromFileNameTest, IgnoresDirectoriesAndGzip) {
  EXPECT_EQ(SymbolFromFileName("/data/ftdata/ETH_BTC-5m.csv.gz"), "ETH/BTC");
  EXPECT_EQ(SymbolFromFileName("sub/ADABTC-1m-2021-11-27.csv"), "ADABTC");
}

TEST(SymbolFromFileNameTest, FreeFormNamesGiveNothing) {
  for (const char* name :
       {"kraken_BCHEUR.csv", "binance_btcusdt-trades.csv", "orcl-1995-2014.txt",
        "hyperliquid_non_mm_trades.csv", "chainlink_BTC-USD_0xF403.csv", "prices.csv", ""}) {
    EXPECT_EQ(SymbolFromFileName(name), "") << name;
  }
}

TEST(TimeframeFromFileNameTest, FromBothSchemes) {
  EXPECT_EQ(TimeframeFromFileName("ETH_BTC-5m.csv"), "5m");
  EXPECT_EQ(TimeframeFromFileName("ADABTC-1m-2021-11-27.csv"), "1m");
  EXPECT_EQ(TimeframeFromFileName("XRP_USDT_USDT-1h-futures.json"), "1h");
  EXPECT_EQ(TimeframeFromFileName("XRP_USDT_USDT-8h-funding_rate.csv"), "8h");
  EXPECT_EQ(TimeframeFromFileName("UNITTEST_BTC-30m.csv"), "30m");
}

TEST(TimeframeFromFileNameTest, TokenInFreeFormName) {
  EXPECT_EQ(TimeframeFromFileName("kraken_http_ohlc_XBTUSDT_1m.json"), "1m");
  EXPECT_EQ(TimeframeFromFileName("btc-4h.csv"), "4h");
}

TEST(TimeframeFromFileNameTest, NoneWhenAbsent) {
  EXPECT_EQ(TimeframeFromFileName("XRP_ETH-trades.json"), "");
  EXPECT_EQ(TimeframeFromFileName("orcl-1995-2014.txt"), "");
  EXPECT_EQ(TimeframeFromFileName("tardis_binance-futures_book_snapshot_5_BTCUSDT.csv"), "");
  EXPECT_EQ(TimeframeFromFileName("bybit_2024-12-01_XRPUSDT_ob500.data"), "");
}

TEST(TimeframeFromSpacingTest, MostCommonSpacingWins) {
  const int64_t m = kNanosPerMinute;
  // Spacings 5m, 5m, 10m (a gap), 5m: 5m is the most common.
  std::vector<int64_t> ts = {0, 5 * m, 10 * m, 20 * m, 25 * m};
  EXPECT_EQ(TimeframeFromSpacing(ts), "5m");
  std::vector<int64_t> daily = {0, kNanosPerDay, 2 * kNanosPerDay, 5 * kNanosPerDay};
  EXPECT_EQ(TimeframeFromSpacing(daily), "1d");
}

TEST(TimeframeFromSpacingTest, TiesGoToTheShorterSpacing) {
  const int64_t m = kNanosPerMinute;
  std::vector<int64_t> ts = {0, 1 * m, 6 * m};  // one 1m and one 5m spacing
  EXPECT_EQ(TimeframeFromSpacing(ts), "1m");
}

TEST(TimeframeFromSpacingTest, NothingToMeasure) {
  EXPECT_EQ(TimeframeFromSpacing(std::vector<int64_t>{}), "");
  EXPECT_EQ(TimeframeFromSpacing(std::vector<int64_t>{42}), "");
  EXPECT_EQ(TimeframeFromSpacing(std::vector<int64_t>{7, 7, 7}), "");
}

ReadOptions WithInstrument(std::string venue, std::string symbol) {
  ReadOptions options;
  options.venue = std::move(venue);
  options.symbol = std::move(symbol);
  return options;
}

TEST(ResolveInstrumentTest, OptionsWinOverContentAndName) {
  auto instrument =
      ResolveInstrument(WithInstrument("bybit", "SOL/USDT"), "ETH_BTC-5m.csv", "binance", "ADA");
  ASSERT_TRUE(instrument.ok()) << instrument.status().ToString();
  EXPECT_EQ(instrument->ToString(), "bybit:SOL/USDT");
}

TEST(ResolveInstrumentTest, ContentSymbolThenFileName) {
  auto from_content = ResolveInstrument(WithInstrument("", ""), "ETH_BTC-5m.csv", "binance", "ADA");
  ASSERT_TRUE(from_content.ok());
  EXPECT_EQ(from_content->ToString(), "binance:ADA");
  auto from_name = ResolveInstrument(WithInstrument("binance", ""), "ETH_BTC-5m.csv", "");
  ASSERT_TRUE(from_name.ok());
  EXPECT_EQ(from_name->ToString(), "binance:ETH/BTC");
}

TEST(ResolveInstrumentTest, MissingVenueNamesTheFlag) {
  auto instrument = ResolveInstrument(WithInstrument("", ""), "/tmp/ETH_BTC-5m.csv", "");
  ASSERT_FALSE(instrument.ok());
  EXPECT_EQ(instrument.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(instrument.status().message(),
            "cannot tell the venue of 'ETH_BTC-5m.csv': pass --venue");
}

TEST(ResolveInstrumentTest, MissingSymbolNamesTheFlag) {
  auto instrument = ResolveInstrument(WithInstrument("kraken", ""), "kraken_BCHEUR.csv", "");
  ASSERT_FALSE(instrument.ok());
  EXPECT_EQ(instrument.status().message(),
            "cannot tell the symbol of 'kraken_BCHEUR.csv': pass --symbol");
}

TEST(ResolveInstrumentTest, InvalidVenueOrSymbolFails) {
  EXPECT_FALSE(ResolveInstrument(WithInstrument("Binance", "BTC"), "x.csv", "").ok());
  EXPECT_FALSE(ResolveInstrument(WithInstrument("binance", "BTC USDT"), "x.csv", "").ok());
}

}  // namespace
}  // namespace vigil::data_internal
