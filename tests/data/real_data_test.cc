// Every real market-data file in VIGIL_SHARED_DATA that Vigil reads goes through
// MarketFileReader::Read with format auto-detection, and must give the row counts that
// /work/shared/data/PROVENANCE.md states (or, where it states none, counts derived by
// hand from the file as explained next to the case).
//
// Files deliberately not read, and why:
//   *.feather, *.parquet   Arrow / Parquet binaries; their .csv conversions are read.
//   orderbook/bybit_xrpusdt-ob500.data.zip   a zip; its extracted member is read.
//   orderbook/hftbacktest_*.gz   "<ns> <raw websocket JSON>" captures mixing depth diffs,
//       bookTicker and trades; no reader for that envelope.
//   funding/hyperliquid_ws_all_dexs_asset_ctxs.json   no coin names, no timestamp.
//   liquidations/hyperliquid_ws_user_fill_liquidation.json   one websocket message, a
//       schema sample only.
//   orderbook/tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv   incremental L2 in
//       one-row-per-level form; not a format Vigil rebuilds.
//   orderbook/tardis_huobi-dm-swap_quotes_BTC-USD.csv   Tardis quote format sample,
//       covered by the Binance quotes file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "vigil/core/text_file.h"
#include "vigil/data/reader.h"

namespace vigil {
namespace {

constexpr int64_t kSkip = -1;

struct RealFile {
  std::string path;  // relative to VIGIL_SHARED_DATA
  DataKind kind;
  std::string venue;
  std::string symbol;
  std::string format;  // the format auto-detection must pick
  int64_t rows_read;
  int64_t rows_valid;
  int64_t rejects;
  size_t batches = 1;
  std::string timeframe = "";  // candles: the resolved timeframe
  int64_t gaps = kSkip;        // candles: missing bars (PROVENANCE.md)
  int price_decimals = 8;
};

std::string SharedPath(const std::string& relative) {
  return std::string(VIGIL_SHARED_DATA) + "/" + relative;
}

// clang-format off
const std::vector<RealFile> kRealFiles = {
    // candles/ Bittrex-era 5m bars: rows and missing bars from PROVENANCE.md's table.
    {"candles/ADA_BTC-5m.csv", DataKind::kCandles, "bittrex", "", "csv", 5720, 5720, 0, 1, "5m", 40},
    {"candles/DASH_BTC-5m.csv", DataKind::kCandles, "bittrex", "", "csv", 5758, 5758, 0, 1, "5m", 2},
    {"candles/ETC_BTC-5m.csv", DataKind::kCandles, "bittrex", "", "csv", 5759, 5759, 0, 1, "5m", 0},
    {"candles/ETH_BTC-5m.csv", DataKind::kCandles, "bittrex", "", "csv", 5760, 5760, 0, 1, "5m", 0},
    {"candles/LTC_BTC-5m.csv", DataKind::kCandles, "bittrex", "", "csv", 5760, 5760, 0, 1, "5m", 0},
    {"candles/NXT_BTC-5m.csv", DataKind::kCandles, "bittrex", "", "csv", 5760, 5760, 0, 1, "5m", 0},
    {"candles/TRX_BTC-5m.csv", DataKind::kCandles, "bittrex", "", "csv", 5754, 5754, 0, 1, "5m", 6},
    {"candles/XLM_BTC-5m.csv", DataKind::kCandles, "bittrex", "", "csv", 5760, 5760, 0, 1, "5m", 0},
    {"candles/XMR_BTC-5m.csv", DataKind::kCandles, "bittrex", "", "csv", 5758, 5758, 0, 1, "5m", 2},
    {"candles/ZEC_BTC-5m.csv", DataKind::kCandles, "bittrex", "", "csv", 5757, 5757, 0, 1, "5m", 2},
    // 13,681 bars where a complete series would have 14,398: 717 missing.
    {"candles/UNITTEST_BTC-1m.json", DataKind::kCandles, "bittrex", "", "freqtrade", 13681, 13681, 0, 1, "1m", 717},
    {"candles/UNITTEST_BTC-30m.csv", DataKind::kCandles, "bittrex", "", "csv", 1920, 1920, 0, 1, "30m", 0},
    // 2019-10-11 00:00 to 10-13 11:19 is 3,560 minutes: 3,560 - 2,469 = 1,091 missing;
    // at 5m the span holds 712 bars: 712 - 706 = 6 missing.
    {"candles/XRP_ETH-1m.csv", DataKind::kCandles, "binance", "", "csv", 2469, 2469, 0, 1, "1m", 1091},
    {"candles/XRP_ETH-5m.csv", DataKind::kCandles, "binance", "", "csv", 706, 706, 0, 1, "5m", 6},
    {"candles/XRP_USDT_USDT-1h-futures.json", DataKind::kCandles, "binance", "", "freqtrade", 100, 100, 0, 1, "1h", 0},
    {"candles/XRP_USDT_USDT-5m-futures.csv", DataKind::kCandles, "binance", "", "csv", 1999, 1999, 0, 1, "5m", 0},
    {"candles/ADABTC-1m-2021-11-27.csv", DataKind::kCandles, "", "", "binance", 10, 10, 0, 1, "1m", 0},
    {"candles/ADABTC-1m-2021-11-28.csv", DataKind::kCandles, "", "", "binance", 11, 11, 0, 1, "1m", 0},
    {"candles/kraken_http_ohlc_XBTUSDT_1m.json", DataKind::kCandles, "", "", "kraken", 721, 721, 0, 1, "1m", 0},
    // Trading days only, so weekends count as gaps; not asserted.
    {"candles/orcl-1995-2014.txt", DataKind::kCandles, "nyse", "ORCL", "csv", 5036, 5036, 0, 1, "1d"},
    // funding/: mark-price candles (the 1h file has empty volumes) and the funding rates
    // freqtrade keeps in the `open` column.
    {"funding/XRP_USDT_USDT-1h-mark.csv", DataKind::kCandles, "binance", "", "csv", 100, 100, 0, 1, "1h", 0},
    {"funding/XRP_USDT_USDT-8h-mark.csv", DataKind::kCandles, "binance", "", "csv", 91, 91, 0, 1, "8h", 0},
    {"funding/XRP_USDT_USDT-8h-funding_rate.csv", DataKind::kFunding, "binance", "", "csv", 91, 91, 0},
    // trades/
    {"trades/XRP_ETH-trades.json", DataKind::kTrades, "binance", "", "freqtrade", 12477, 12477, 0},
    {"trades/binance_btcusdt-trades.csv", DataKind::kTrades, "binance", "BTC/USDT", "csv", 2001, 2001, 0},
    {"trades/kraken_http_trades_XBTUSDT.json", DataKind::kTrades, "", "", "kraken", 1000, 1000, 0},
    {"trades/kraken_BCHEUR.csv", DataKind::kTrades, "kraken", "BCH/EUR", "csv", 148, 148, 0},
    {"trades/kraken_BCHEUR_incremental_q2.csv", DataKind::kTrades, "kraken", "BCH/EUR", "csv", 486, 486, 0},
    // One batch per coin; the file has 14 coins (counted from its `coin` column).
    {"trades/hyperliquid_non_mm_trades.csv", DataKind::kTrades, "hyperliquid", "", "csv", 35691, 35691, 0, 14},
    {"trades/public_trades_list_ETHUSDT.csv", DataKind::kTrades, "unknown", "ETH/USDT:USDT", "csv", 1000, 1000, 0},
    // Venue and symbol from the exchange / symbol columns; UUID ids become ordinals.
    {"trades/tardis_bitmex_trades_XBTUSD.csv", DataKind::kTrades, "", "", "csv", 10, 10, 0},
    // orderbook/ (book_depth 10). Bybit: 50 messages of a 500-level book -> 10 bids +
    // 10 asks each. Tardis: 10 snapshots each, of 25 (cut to 10) and 5 levels a side.
    {"orderbook/bybit_2024-12-01_XRPUSDT_ob500.data", DataKind::kOrderBook, "", "", "bybit-orderbook", 50, 1000, 0},
    {"orderbook/tardis_binance-futures_book_snapshot_25_BTCUSDT.csv", DataKind::kOrderBook, "", "", "csv", 10, 200, 0},
    {"orderbook/tardis_binance-futures_book_snapshot_5_BTCUSDT.csv", DataKind::kOrderBook, "", "", "csv", 10, 100, 0},
    // L1 quotes as level 0 of each side: 451 rows at 428 distinct milliseconds; each of
    // the 23 repeated milliseconds repeats both (side, level 0) keys, 46 duplicates.
    {"orderbook/binance_btcusdt-quotes.csv", DataKind::kOrderBook, "binance", "", "csv", 451, 856, 46},
    // liquidations/: every Hyperliquid liquidation, Feb to May 2023 (all coins).
    {"liquidations/hyperliquid_liquidations_2023.csv", DataKind::kLiquidations, "hyperliquid", "ALL", "csv", 62, 62, 0},
    // oracle/: the BTC/USD file ends with the empty first round of a phase (update 0),
    // PROVENANCE.md's one invalid row. 7 seconds each saw two rounds (e.g. file lines
    // 895-896 at 1704834779); the oracle key includes round_id, so both rounds are kept.
    {"oracle/chainlink_BTC-USD_0xF4030086522a5bEEa4988F8cA5B36dbC97BeE88c.csv", DataKind::kOracle, "", "", "chainlink", 10692, 10691, 1},
    {"oracle/chainlink_stETH-ETH_0x86392dC19c0b719886221c78AB11eb8Cf5c52812.csv", DataKind::kOracle, "", "", "chainlink", 745, 745, 0, 1, "", kSkip, 18},
    {"oracle/chainlink_ETH-BTC_0xAc559F25B1619171CbC396a50854A3240b6A4e99.csv", DataKind::kOracle, "", "", "chainlink", 813, 813, 0},
    // tvl/: the HLP "protocol" is the Hyperliquid HLP vault, so its TVL is vault equity.
    {"tvl/defillama_HLP.json", DataKind::kVault, "", "", "defillama", 164, 164, 0},
    {"tvl/defillama_hyperlend_tvl.json", DataKind::kProtocol, "", "", "defillama", 53, 53, 0},
    {"tvl/defillama_felix_tvl.json", DataKind::kProtocol, "", "", "defillama", 36, 36, 0},
};
// clang-format on

// Read by the order-book test below (one reader for both files).
const std::vector<std::string> kBinanceDepthPair = {"orderbook/binance_btcusdt-depth-snap.csv",
                                                    "orderbook/binance_btcusdt-depth-update.csv"};

const std::set<std::string> kNotRead = {
    "funding/hyperliquid_ws_all_dexs_asset_ctxs.json",
    "liquidations/hyperliquid_ws_user_fill_liquidation.json",
    "orderbook/bybit_xrpusdt-ob500.data.zip",
    "orderbook/hftbacktest_cm_btcusd_perp_20240808.gz",
    "orderbook/hftbacktest_hyperliquid_btcusd_20250126.gz",
    "orderbook/hftbacktest_spot_ethusdt_20240808.gz",
    "orderbook/hftbacktest_usdm_btcusdt_20240808.gz",
    "orderbook/tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv",
    "orderbook/tardis_huobi-dm-swap_quotes_BTC-USD.csv",
};

class RealDataTest : public ::testing::TestWithParam<RealFile> {};

TEST_P(RealDataTest, ReadsWithExpectedCounts) {
  const RealFile& file = GetParam();
  ReadOptions options;
  options.kind = file.kind;
  options.venue = file.venue;
  options.symbol = file.symbol;
  options.price_decimals = file.price_decimals;
  MarketFileReader reader(options);
  Result<ParsedFile> parsed = reader.Read(SharedPath(file.path));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->format, file.format);
  EXPECT_EQ(parsed->rows_read, file.rows_read);
  EXPECT_EQ(parsed->rows_valid(), file.rows_valid);
  EXPECT_EQ(static_cast<int64_t>(parsed->rejects.size()), file.rejects)
      << (parsed->rejects.empty() ? "" : parsed->rejects[0].ToString());
  EXPECT_EQ(parsed->batches.size(), file.batches);
  if (!file.timeframe.empty() && !parsed->batches.empty()) {
    EXPECT_EQ(parsed->batches[0].series.timeframe, file.timeframe);
  }
  if (file.gaps != kSkip && parsed->reports.size() == 1) {
    EXPECT_EQ(parsed->reports[0].gaps, file.gaps);
  }
  for (const RecordBatch& batch : parsed->batches) {
    EXPECT_TRUE(batch.frame.IsSorted()) << batch.series.ToString();
    EXPECT_EQ(static_cast<int64_t>(batch.lines.size()), batch.frame.rows());
  }
}

std::string CaseName(const ::testing::TestParamInfo<RealFile>& info) {
  std::string name = std::filesystem::path(info.param.path).stem().string();
  std::replace_if(
      name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(SharedData, RealDataTest, ::testing::ValuesIn(kRealFiles), CaseName);

TEST(RealDataOrderBookTest, BinanceSnapshotThenUpdateWithOneReader) {
  ReadOptions options;
  options.kind = DataKind::kOrderBook;
  MarketFileReader reader(options);
  Result<ParsedFile> snap = reader.Read(SharedPath(kBinanceDepthPair[0]));
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ(snap->format, "binance-depth");
  EXPECT_EQ(snap->rows_read, 100);
  // The snapshot holds 100 bid levels and no asks: the top 10 bids are stored.
  EXPECT_EQ(snap->rows_valid(), 10);
  EXPECT_TRUE(snap->rejects.empty());
  Result<ParsedFile> update = reader.Read(SharedPath(kBinanceDepthPair[1]));
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  EXPECT_EQ(update->rows_read, 100);
  // After the updates the book has asks too: 10 bids + 10 asks at the update's time.
  EXPECT_EQ(update->rows_valid(), 20);
  EXPECT_TRUE(update->rejects.empty());
  ASSERT_EQ(update->batches.size(), 1u);
  EXPECT_EQ(update->batches[0].series.instrument.ToString(), "binance:BTCUSDT");
}

TEST(RealDataOrderBookTest, UpdateFileAloneRejectsEveryRow) {
  ReadOptions options;
  options.kind = DataKind::kOrderBook;
  MarketFileReader reader(options);
  Result<ParsedFile> update = reader.Read(SharedPath(kBinanceDepthPair[1]));
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  EXPECT_EQ(update->rows_read, 100);
  EXPECT_EQ(update->rows_valid(), 0);
  ASSERT_EQ(update->rejects.size(), 100u);
  EXPECT_EQ(update->rejects[0].reason, "update before any snapshot");
}

// Cut and corrupted copies of the venue files must give a Status or rejected rows, never
// a crash: a truncated download is the commonest bad input.
TEST(RealDataRobustnessTest, TruncatedAndCorruptedVenueFilesFailCleanly) {
  const std::pair<std::string, FileFormat> files[] = {
      {"candles/XRP_USDT_USDT-1h-futures.json", FileFormat::kFreqtrade},
      {"candles/ADABTC-1m-2021-11-28.csv", FileFormat::kBinance},
      {"candles/kraken_http_ohlc_XBTUSDT_1m.json", FileFormat::kKraken},
      {"oracle/chainlink_ETH-BTC_0xAc559F25B1619171CbC396a50854A3240b6A4e99.csv",
       FileFormat::kChainlink},
      {"tvl/defillama_felix_tvl.json", FileFormat::kDefiLlama},
      {"orderbook/binance_btcusdt-depth-snap.csv", FileFormat::kBinanceDepth},
      {"orderbook/bybit_2024-12-01_XRPUSDT_ob500.data", FileFormat::kBybitOrderBook},
  };
  constexpr size_t kCuts = 23;
  for (const auto& [path, format] : files) {
    Result<std::string> text = ReadFileToString(SharedPath(path));
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    ReadOptions options;
    options.format = format;
    options.kind = format == FileFormat::kKraken || format == FileFormat::kFreqtrade ||
                           format == FileFormat::kBinance
                       ? DataKind::kCandles
                   : format == FileFormat::kChainlink ? DataKind::kOracle
                   : format == FileFormat::kDefiLlama ? DataKind::kProtocol
                                                      : DataKind::kOrderBook;
    options.venue = "test";
    for (size_t cut = 1; cut <= kCuts; ++cut) {
      std::string damaged = text->substr(0, text->size() * cut / (kCuts + 1));
      if (cut % 2 == 0 && !damaged.empty()) damaged[damaged.size() / 2] = '"';
      MarketFileReader reader(options);
      Result<ParsedFile> parsed = reader.Parse(damaged, path);
      if (!parsed.ok()) {
        EXPECT_NE(parsed.status().message().find(path), std::string::npos)
            << parsed.status().ToString();
        continue;
      }
      for (const RejectedRow& reject : parsed->rejects) {
        EXPECT_GE(reject.line, 1) << path << " cut " << cut;
        EXPECT_FALSE(reject.reason.empty()) << path << " cut " << cut;
      }
    }
  }
}

// Every file in the shared directory is either read above or listed as not read.
TEST(RealDataCoverageTest, EveryFileIsReadOrExplained) {
  std::set<std::string> covered(kNotRead);
  for (const RealFile& file : kRealFiles) covered.insert(file.path);
  covered.insert(kBinanceDepthPair.begin(), kBinanceDepthPair.end());
  const std::filesystem::path root(VIGIL_SHARED_DATA);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string relative = std::filesystem::relative(entry.path(), root).generic_string();
    const std::string extension = entry.path().extension().string();
    if (relative == "PROVENANCE.md" || extension == ".feather" || extension == ".parquet") continue;
    EXPECT_TRUE(covered.count(relative)) << relative << " is neither read nor listed as not read";
  }
}

}  // namespace
}  // namespace vigil
