// Every real market-data file in VIGIL_SHARED_DATA that Vigil reads goes through
// MarketFileReader::Read with format auto-detection, and must give the row counts that
// /work/shared/data/PROVENANCE.md states (or, where it states none, counts derived by
// hand from the file as explained next to the case).
//
// Files deliberately not read, and why (each refusal is checked below):
//   *.feather, *.parquet   Arrow / Parquet copies of the .csv beside them, which is read;
//       the refusal names that CSV.
//   funding/hyperliquid_ws_all_dexs_asset_ctxs.json   one allDexsAssetCtxs snapshot with
//       no coin names and no timestamp: not a time series.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
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
    // Tardis Huobi quotes: 10 rows at 10 distinct timestamps, each a bid and an ask at level 0.
    {"orderbook/tardis_huobi-dm-swap_quotes_BTC-USD.csv", DataKind::kOrderBook, "", "", "csv", 10, 20, 0},
    // Tardis Deribit L2: 15 snapshot rows, all asks, one timestamp: the best 10 asks stored.
    {"orderbook/tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv", DataKind::kOrderBook, "", "", "tardis-l2", 15, 10, 0},
    // The zip's one member is the .data file above: the same counts.
    {"orderbook/bybit_xrpusdt-ob500.data.zip", DataKind::kOrderBook, "", "", "bybit-orderbook", 50, 1000, 0},
    // hftbacktest captures, kind orderbook: rows read = depthUpdate lines + the snapshot line
    // (`zcat F | grep -c depthUpdate`, `grep -c lastUpdateId`; PROVENANCE.md's "by type"
    // column agrees). Every applied diff stores 10 bids + 10 asks (the REST snapshot has
    // 1,000 levels a side), and no two diffs share an E. The diffs before the snapshot line
    // whose u precedes its lastUpdateId are dropped, by the U/u values printed by
    //   zcat F | head -80 | grep -n 'depthUpdate\|lastUpdateId' | grep -o '"U":[0-9]*,"u":[0-9]*'
    // usdm: lastUpdateId 5123107852948 (line 55); the diffs on lines 1, 12, 20, 38 end
    //   before it and line 42 (U ...850310, u ...853551) bridges it: 6,551 - 4 = 6,547 applied.
    {"orderbook/hftbacktest_usdm_btcusdt_20240808.gz", DataKind::kOrderBook, "", "", "hftbacktest", 6552, 6547 * 20, 0},
    // cm: lastUpdateId 1007198635033 (line 37); the 23 diffs on lines 1-34 end before it,
    //   line 35 (U ...635026, u ...635121) bridges it: 26,847 - 23 = 26,824 applied.
    {"orderbook/hftbacktest_cm_btcusd_perp_20240808.gz", DataKind::kOrderBook, "", "", "hftbacktest", 26848, 26824 * 20, 0},
    // spot: lastUpdateId 35346513512 (line 6); lines 2 and 5 end at or before it (u ...505,
    //   ...512; spot drops u <= lastUpdateId), line 7 has U = lastUpdateId + 1: 3,432 applied.
    {"orderbook/hftbacktest_spot_ethusdt_20240808.gz", DataKind::kOrderBook, "", "", "hftbacktest", 3435, 3432 * 20, 0},
    // Hyperliquid: 46 l2Book messages (`grep -c l2Book`) of 20 levels a side; lines 1 and 2
    // carry the same time (and levels), so 45 distinct times store 10 + 10 rows each.
    {"orderbook/hftbacktest_hyperliquid_btcusd_20250126.gz", DataKind::kOrderBook, "", "", "hftbacktest", 46, 45 * 20, 0},
    // liquidations/: every Hyperliquid liquidation, Feb to May 2023 (all coins).
    {"liquidations/hyperliquid_liquidations_2023.csv", DataKind::kLiquidations, "hyperliquid", "ALL", "csv", 62, 62, 0},
    // One websocket fill carrying a liquidation object.
    {"liquidations/hyperliquid_ws_user_fill_liquidation.json", DataKind::kLiquidations, "", "", "hyperliquid-ws", 1, 1, 0},
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
      {"orderbook/hftbacktest_hyperliquid_btcusd_20250126.gz", FileFormat::kHftbacktest},
      {"orderbook/tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv", FileFormat::kTardisL2},
      {"liquidations/hyperliquid_ws_user_fill_liquidation.json", FileFormat::kHyperliquidWs},
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
                   : format == FileFormat::kChainlink     ? DataKind::kOracle
                   : format == FileFormat::kDefiLlama     ? DataKind::kProtocol
                   : format == FileFormat::kHyperliquidWs ? DataKind::kLiquidations
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

// --- hftbacktest captures -------------------------------------------------------------

// Kind trades: one row per `trade` event (`zcat F | grep -c '@trade"'`; PROVENANCE.md's
// "by type" column agrees) and, for Hyperliquid, per entry of the 9 `trades` messages
// (30 + 1 + 1 + 1 + 1 + 1 + 7 + 21 + 1 = 64, counted with jq). Trade ids are unique in each.
TEST(RealDataHftbacktestTest, TradesOfEveryCapture) {
  const struct {
    std::string path;
    std::string instrument;
    int64_t trades;
  } captures[] = {
      {"orderbook/hftbacktest_usdm_btcusdt_20240808.gz", "binance:BTCUSDT", 21313},
      {"orderbook/hftbacktest_spot_ethusdt_20240808.gz", "binance:ETHUSDT", 6106},
      {"orderbook/hftbacktest_cm_btcusd_perp_20240808.gz", "binance:BTCUSD_PERP", 2286},
      {"orderbook/hftbacktest_hyperliquid_btcusd_20250126.gz", "hyperliquid:BTC", 64},
  };
  for (const auto& capture : captures) {
    ReadOptions options;
    options.kind = DataKind::kTrades;
    MarketFileReader reader(options);
    Result<ParsedFile> parsed = reader.Read(SharedPath(capture.path));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->format, "hftbacktest");
    EXPECT_EQ(parsed->rows_read, capture.trades) << capture.path;
    EXPECT_EQ(parsed->rows_valid(), capture.trades) << capture.path;
    EXPECT_TRUE(parsed->rejects.empty()) << parsed->rejects[0].ToString();
    ASSERT_EQ(parsed->batches.size(), 1u);
    EXPECT_EQ(parsed->batches[0].series.instrument.ToString(), capture.instrument);
  }
}

// The first trade of the USD-M capture, line 3: {"e":"trade","E":1723161256322,
// "T":1723161256322,"s":"BTCUSDT","t":5266583935,"p":"61800.30","q":"0.006","m":false}:
// the buyer was the taker, so the aggressor bought.
TEST(RealDataHftbacktestTest, BinanceTradeFields) {
  ReadOptions options;
  options.kind = DataKind::kTrades;
  MarketFileReader reader(options);
  Result<ParsedFile> parsed =
      reader.Read(SharedPath("orderbook/hftbacktest_usdm_btcusdt_20240808.gz"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->batches.size(), 1u);
  const RecordBatch& batch = parsed->batches[0];
  ASSERT_GT(batch.frame.rows(), 0);
  EXPECT_EQ(batch.lines[0], 3);
  EXPECT_EQ(batch.frame.timestamps()[0], 1723161256322 * kNanosPerMilli);
  EXPECT_EQ(batch.frame.Doubles("price")[0], 61800.30);
  EXPECT_EQ(batch.frame.Doubles("qty")[0], 0.006);
  EXPECT_EQ(batch.frame.Int64s("side")[0], kSideBuy);
  EXPECT_EQ(batch.frame.Int64s("trade_id")[0], 5266583935);
}

// Best bid / ask after each applied diff of the USD-M capture, replayed here with plain
// maps: the snapshot line loads the book, diffs received before it are applied after it,
// and a diff whose u precedes lastUpdateId is skipped (Binance's futures rule).
struct Touch {
  double bid = 0;
  double bid_size = 0;
  double ask = 0;
  double ask_size = 0;
};

std::map<int64_t, Touch> ReplayUsdmTouches(const std::string& text) {
  std::map<double, double, std::greater<double>> bids;
  std::map<double, double> asks;
  auto apply = [](auto& side, const nlohmann::json& levels) {
    for (const nlohmann::json& level : levels) {
      const double price = std::stod(level[0].get<std::string>());
      const double size = std::stod(level[1].get<std::string>());
      if (size == 0) {
        side.erase(price);
      } else {
        side[price] = size;
      }
    }
  };
  std::map<int64_t, Touch> touches;
  std::vector<nlohmann::json> early;
  int64_t snapshot_id = -1;
  auto apply_diff = [&](const nlohmann::json& data) {
    if (data["u"].get<int64_t>() < snapshot_id) return;
    apply(bids, data["b"]);
    apply(asks, data["a"]);
    touches[data["E"].get<int64_t>() * kNanosPerMilli] = {
        bids.begin()->first, bids.begin()->second, asks.begin()->first, asks.begin()->second};
  };
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const nlohmann::json message = nlohmann::json::parse(line.substr(line.find(' ') + 1));
    if (message.contains("lastUpdateId")) {
      snapshot_id = message["lastUpdateId"].get<int64_t>();
      apply(bids, message["bids"]);
      apply(asks, message["asks"]);
      for (const nlohmann::json& data : early) apply_diff(data);
    } else if (message["data"].value("e", "") == "depthUpdate") {
      if (snapshot_id < 0) {
        early.push_back(message["data"]);
      } else {
        apply_diff(message["data"]);
      }
    }
  }
  return touches;
}

TEST(RealDataHftbacktestTest, UsdmBookMatchesAnIndependentReplayAndNeverCrosses) {
  const std::string path = SharedPath("orderbook/hftbacktest_usdm_btcusdt_20240808.gz");
  Result<std::string> text = ReadFileToString(path);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const std::map<int64_t, Touch> expected = ReplayUsdmTouches(*text);
  ReadOptions options;
  options.kind = DataKind::kOrderBook;
  MarketFileReader reader(options);
  Result<ParsedFile> parsed = reader.Read(path);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->batches.size(), 1u);
  const Frame& frame = parsed->batches[0].frame;
  std::map<int64_t, Touch> stored;
  for (int64_t row = 0; row < frame.rows(); ++row) {
    if (frame.Int64s("level")[row] != 0) continue;
    Touch& touch = stored[frame.timestamps()[row]];
    const bool bid = frame.Int64s("side")[row] == kSideBuy;
    (bid ? touch.bid : touch.ask) = frame.Doubles("price")[row];
    (bid ? touch.bid_size : touch.ask_size) = frame.Doubles("size")[row];
  }
  ASSERT_EQ(stored.size(), expected.size());
  EXPECT_EQ(stored.size(), 6547u);
  for (const auto& [ts, touch] : stored) {
    EXPECT_LT(touch.bid, touch.ask) << "crossed at " << ts;
    auto want = expected.find(ts);
    ASSERT_NE(want, expected.end()) << ts;
    EXPECT_EQ(touch.bid, want->second.bid) << ts;
    EXPECT_EQ(touch.bid_size, want->second.bid_size) << ts;
    EXPECT_EQ(touch.ask, want->second.ask) << ts;
    EXPECT_EQ(touch.ask_size, want->second.ask_size) << ts;
  }
}

// --- Zip -----------------------------------------------------------------------------

TEST(RealDataZipTest, BybitZipReadsExactlyLikeItsExtractedMember) {
  ReadOptions options;
  options.kind = DataKind::kOrderBook;
  MarketFileReader zip_reader(options);
  Result<ParsedFile> zipped = zip_reader.Read(SharedPath("orderbook/bybit_xrpusdt-ob500.data.zip"));
  ASSERT_TRUE(zipped.ok()) << zipped.status().ToString();
  MarketFileReader data_reader(options);
  Result<ParsedFile> data =
      data_reader.Read(SharedPath("orderbook/bybit_2024-12-01_XRPUSDT_ob500.data"));
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(zipped->path, SharedPath("orderbook/bybit_xrpusdt-ob500.data.zip") +
                              "!/2024-12-01_XRPUSDT_ob500.data");
  ASSERT_EQ(zipped->batches.size(), 1u);
  ASSERT_EQ(data->batches.size(), 1u);
  const RecordBatch& a = zipped->batches[0];
  const RecordBatch& b = data->batches[0];
  EXPECT_EQ(a.series, b.series);
  EXPECT_EQ(a.lines, b.lines);
  ASSERT_EQ(a.frame.rows(), b.frame.rows());
  EXPECT_TRUE(std::equal(a.frame.timestamps().begin(), a.frame.timestamps().end(),
                         b.frame.timestamps().begin()));
  for (const char* column : {"price", "size"}) {
    EXPECT_TRUE(std::ranges::equal(a.frame.Doubles(column), b.frame.Doubles(column))) << column;
  }
  for (const char* column : {"side", "level"}) {
    EXPECT_TRUE(std::ranges::equal(a.frame.Int64s(column), b.frame.Int64s(column))) << column;
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

// Arrow and Parquet files are refused, each naming the CSV copy beside it, which is read.
TEST(RealDataCoverageTest, ColumnarCopiesAreRefusedNamingTheirCsv) {
  std::set<std::string> read;
  for (const RealFile& file : kRealFiles) read.insert(file.path);
  const std::filesystem::path root(VIGIL_SHARED_DATA);
  int refused = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const std::string extension = entry.path().extension().string();
    if (!entry.is_regular_file() || (extension != ".feather" && extension != ".parquet")) continue;
    std::filesystem::path csv = entry.path();
    csv.replace_extension(".csv");
    EXPECT_TRUE(read.count(std::filesystem::relative(csv, root).generic_string())) << csv;
    MarketFileReader reader(ReadOptions{});
    Result<ParsedFile> parsed = reader.Read(entry.path().string());
    ASSERT_FALSE(parsed.ok()) << entry.path();
    EXPECT_EQ(parsed.status().code(), StatusCode::kParseError);
    EXPECT_NE(parsed.status().message().find(csv.string()), std::string::npos)
        << parsed.status().ToString();
    ++refused;
  }
  // 17 .feather files in candles/ and funding/, 2 .parquet files (`find -name`).
  EXPECT_EQ(refused, 19);
}

TEST(RealDataCoverageTest, AssetContextsSnapshotIsRefusedWithTheReason) {
  for (DataKind kind : {DataKind::kFunding, DataKind::kTrades}) {
    ReadOptions options;
    options.kind = kind;
    MarketFileReader reader(options);
    Result<ParsedFile> parsed =
        reader.Read(SharedPath("funding/hyperliquid_ws_all_dexs_asset_ctxs.json"));
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.status().code(), StatusCode::kParseError);
    EXPECT_NE(parsed.status().message().find(
                  "hyperliquid_ws_all_dexs_asset_ctxs.json: a Hyperliquid allDexsAssetCtxs "
                  "snapshot has no timestamp and no coin names; "),
              std::string::npos)
        << parsed.status().ToString();
  }
}

}  // namespace
}  // namespace vigil
