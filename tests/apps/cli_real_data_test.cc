// Every real market-data file the project reads (the list in tests/data/real_data_test.cc,
// which also explains the files it does not read) goes through `vigil ingest`, all into
// one home. The exit code and the JSON counts must match the reader-level expectations
// there (rows_read; rows_stored = its rows_valid; rows_rejected = its rejects), and
// `data summary` must then hold exactly the series the files name.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "apps/cli_runner.h"

namespace vigil::cli_test {
namespace {

constexpr int64_t kUnchecked = -1;

struct Series {
  std::string instrument;
  std::string kind;
  std::string timeframe;  // candles only
  int64_t gaps = kUnchecked;

  std::string Key() const { return instrument + " " + kind + " " + timeframe; }
};

struct RealIngest {
  std::vector<std::string> files;  // relative to VIGIL_SHARED_DATA, one ingest call
  std::vector<std::string> options;
  int exit_code;
  int64_t rows_read;
  int64_t rows_stored;
  int64_t rows_rejected;
  std::vector<Series> series;  // the series the call writes to
};

std::vector<std::string> Flags(const std::string& kind, const std::string& venue,
                               const std::string& symbol = "",
                               const std::vector<std::string>& extra = {}) {
  std::vector<std::string> flags = {"--kind", kind};
  if (!venue.empty()) flags.insert(flags.end(), {"--venue", venue});
  if (!symbol.empty()) flags.insert(flags.end(), {"--symbol", symbol});
  flags.insert(flags.end(), extra.begin(), extra.end());
  return flags;
}

// Instruments: freqtrade names ("ETH_BTC-5m") give BASE/QUOTE and the timeframe, Binance
// kline names ("ADABTC-1m-...") the raw symbol; Kraken and DeFiLlama JSON and the
// Chainlink file names carry their own names; CSVs with venue/symbol/coin columns name
// each row's instrument. Gaps are PROVENANCE.md's missing bars, as in real_data_test.cc.
std::vector<RealIngest> RealIngests() {
  std::vector<RealIngest> ingests;
  const std::vector<std::pair<std::string, int64_t>> bittrex = {
      {"ADA", 5720}, {"DASH", 5758}, {"ETC", 5759}, {"ETH", 5760}, {"LTC", 5760},
      {"NXT", 5760}, {"TRX", 5754},  {"XLM", 5760}, {"XMR", 5758}, {"ZEC", 5757}};
  const std::map<std::string, int64_t> bittrex_gaps = {
      {"ADA", 40}, {"DASH", 2}, {"TRX", 6}, {"XMR", 2}, {"ZEC", 2}};
  for (const auto& [coin, rows] : bittrex) {
    const auto gaps = bittrex_gaps.find(coin);
    ingests.push_back({{"candles/" + coin + "_BTC-5m.csv"},
                       Flags("candles", "bittrex"),
                       0,
                       rows,
                       rows,
                       0,
                       {{"bittrex:" + coin + "/BTC", "candles", "5m",
                         gaps == bittrex_gaps.end() ? 0 : gaps->second}}});
  }
  // clang-format off
  const std::vector<RealIngest> others = {
      {{"candles/UNITTEST_BTC-1m.json"}, Flags("candles", "bittrex"), 0, 13681, 13681, 0,
       {{"bittrex:UNITTEST/BTC", "candles", "1m", 717}}},
      {{"candles/UNITTEST_BTC-30m.csv"}, Flags("candles", "bittrex"), 0, 1920, 1920, 0,
       {{"bittrex:UNITTEST/BTC", "candles", "30m", 0}}},
      {{"candles/XRP_ETH-1m.csv"}, Flags("candles", "binance"), 0, 2469, 2469, 0,
       {{"binance:XRP/ETH", "candles", "1m", 1091}}},
      {{"candles/XRP_ETH-5m.csv"}, Flags("candles", "binance"), 0, 706, 706, 0,
       {{"binance:XRP/ETH", "candles", "5m", 6}}},
      {{"candles/XRP_USDT_USDT-1h-futures.json"}, Flags("candles", "binance"), 0, 100, 100, 0,
       {{"binance:XRP/USDT:USDT", "candles", "1h"}}},
      {{"candles/XRP_USDT_USDT-5m-futures.csv"}, Flags("candles", "binance"), 0, 1999, 1999, 0,
       {{"binance:XRP/USDT:USDT", "candles", "5m", 0}}},
      // Two Binance kline days in one call: 10 + 11 bars of one series. 2021-11-27 00:09
      // to 2021-11-28 00:00 is 1,431 minutes: 1,430 missing bars.
      {{"candles/ADABTC-1m-2021-11-27.csv", "candles/ADABTC-1m-2021-11-28.csv"},
       Flags("candles", ""), 0, 21, 21, 0, {{"binance:ADABTC", "candles", "1m", 1430}}},
      {{"candles/kraken_http_ohlc_XBTUSDT_1m.json"}, Flags("candles", ""), 0, 721, 721, 0,
       {{"kraken:XBTUSDT", "candles", "1m", 0}}},
      {{"candles/orcl-1995-2014.txt"}, Flags("candles", "nyse", "ORCL"), 0, 5036, 5036, 0,
       {{"nyse:ORCL", "candles", "1d"}}},
      // Mark-price candles are their own series ("-mark" from the file name), so they do not
      // collide with the futures trade candles above. 1h: 2021-11-15 06:00 to 11-19 09:00 is
      // 100 hours, all present.
      {{"funding/XRP_USDT_USDT-1h-mark.csv"}, Flags("candles", "binance"), 0, 100, 100, 0,
       {{"binance:XRP/USDT:USDT-mark", "candles", "1h", 0}}},
      {{"funding/XRP_USDT_USDT-8h-mark.csv"}, Flags("candles", "binance"), 0, 91, 91, 0,
       {{"binance:XRP/USDT:USDT-mark", "candles", "8h", 0}}},
      {{"funding/XRP_USDT_USDT-8h-funding_rate.csv"}, Flags("funding", "binance"), 0, 91, 91, 0,
       {{"binance:XRP/USDT:USDT", "funding", ""}}},
      {{"trades/XRP_ETH-trades.json"}, Flags("trades", "binance"), 0, 12477, 12477, 0,
       {{"binance:XRP/ETH", "trades", ""}}},
      {{"trades/binance_btcusdt-trades.csv"},
       Flags("trades", "binance", "BTC/USDT"), 0, 2001, 2001, 0,
       {{"binance:BTC/USDT", "trades", ""}}},
      {{"trades/kraken_http_trades_XBTUSDT.json"}, Flags("trades", ""), 0, 1000, 1000, 0,
       {{"kraken:XBTUSDT", "trades", ""}}},
      {{"trades/kraken_BCHEUR.csv"}, Flags("trades", "kraken", "BCH/EUR"), 0, 148, 148, 0,
       {{"kraken:BCH/EUR", "trades", ""}}},
      {{"trades/kraken_BCHEUR_incremental_q2.csv"},
       Flags("trades", "kraken", "BCH/EUR"), 0, 486, 486, 0,
       {{"kraken:BCH/EUR", "trades", ""}}},
      {{"trades/public_trades_list_ETHUSDT.csv"},
       Flags("trades", "unknown", "ETH/USDT:USDT"), 0, 1000, 1000, 0,
       {{"unknown:ETH/USDT:USDT", "trades", ""}}},
      {{"trades/tardis_bitmex_trades_XBTUSD.csv"}, Flags("trades", ""), 0, 10, 10, 0,
       {{"bitmex:XBTUSD", "trades", ""}}},
      // Rebuilt books: rows_stored counts book levels (10 per side at depth 10).
      {{"orderbook/bybit_2024-12-01_XRPUSDT_ob500.data"}, Flags("orderbook", ""), 0, 50, 1000, 0,
       {{"bybit:XRPUSDT", "orderbook", ""}}},
      {{"orderbook/tardis_binance-futures_book_snapshot_25_BTCUSDT.csv"},
       Flags("orderbook", ""), 0, 10, 200, 0,
       {{"binance-futures:BTCUSDT", "orderbook", ""}}},
      {{"orderbook/tardis_binance-futures_book_snapshot_5_BTCUSDT.csv"},
       Flags("orderbook", ""), 0, 10, 100, 0,
       {{"binance-futures:BTCUSDT", "orderbook", ""}}},
      // 23 repeated milliseconds, each repeating a bid and an ask at level 0: 46 rejects.
      {{"orderbook/binance_btcusdt-quotes.csv"}, Flags("orderbook", "binance"), 3, 451, 856, 46,
       {{"binance:BTC/USDT", "orderbook", ""}}},
      {{"orderbook/binance_btcusdt-depth-snap.csv", "orderbook/binance_btcusdt-depth-update.csv"},
       Flags("orderbook", ""), 0, 200, 30, 0, {{"binance:BTCUSDT", "orderbook", ""}}},
      {{"orderbook/tardis_huobi-dm-swap_quotes_BTC-USD.csv"}, Flags("orderbook", ""), 0, 10, 20, 0,
       {{"huobi-dm-swap:BTC-USD", "orderbook", ""}}},
      {{"orderbook/tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv"},
       Flags("orderbook", ""), 0, 15, 10, 0,
       {{"deribit:BTC-PERPETUAL", "orderbook", ""}}},
      // The zip's member is the .data file above: the same rows, into the same series.
      {{"orderbook/bybit_xrpusdt-ob500.data.zip"}, Flags("orderbook", ""), 0, 50, 1000, 0,
       {{"bybit:XRPUSDT", "orderbook", ""}}},
      // hftbacktest captures: diffs applied (see real_data_test.cc) * (10 bids + 10 asks).
      // The USD-M capture is named like the depth pair above and joins its series.
      {{"orderbook/hftbacktest_usdm_btcusdt_20240808.gz"},
       Flags("orderbook", ""), 0, 6552, 6547 * 20, 0,
       {{"binance:BTCUSDT", "orderbook", ""}}},
      {{"orderbook/hftbacktest_cm_btcusd_perp_20240808.gz"},
       Flags("orderbook", ""), 0, 26848, 26824 * 20, 0,
       {{"binance:BTCUSD_PERP", "orderbook", ""}}},
      {{"orderbook/hftbacktest_spot_ethusdt_20240808.gz"},
       Flags("orderbook", ""), 0, 3435, 3432 * 20, 0,
       {{"binance:ETHUSDT", "orderbook", ""}}},
      {{"orderbook/hftbacktest_hyperliquid_btcusd_20250126.gz"},
       Flags("orderbook", ""), 0, 46, 45 * 20, 0,
       {{"hyperliquid:BTC", "orderbook", ""}}},
      {{"liquidations/hyperliquid_liquidations_2023.csv"},
       Flags("liquidations", "hyperliquid", "ALL"), 0, 62, 62, 0,
       {{"hyperliquid:ALL", "liquidations", ""}}},
      // One websocket fill carrying a liquidation object, of the BTC perpetual.
      {{"liquidations/hyperliquid_ws_user_fill_liquidation.json"},
       Flags("liquidations", ""), 0, 1, 1, 0,
       {{"hyperliquid:BTC", "liquidations", ""}}},
      // The last round of the BTC/USD file never completed (update time 0): rejected.
      {{"oracle/chainlink_BTC-USD_0xF4030086522a5bEEa4988F8cA5B36dbC97BeE88c.csv"},
       Flags("oracle", ""), 3, 10692, 10691, 1,
       {{"chainlink:BTC/USD", "oracle", ""}}},
      // stETH/ETH answers have 18 decimals.
      {{"oracle/chainlink_stETH-ETH_0x86392dC19c0b719886221c78AB11eb8Cf5c52812.csv"},
       Flags("oracle", "", "", {"--decimals", "18"}), 0, 745, 745, 0,
       {{"chainlink:stETH/ETH", "oracle", ""}}},
      {{"oracle/chainlink_ETH-BTC_0xAc559F25B1619171CbC396a50854A3240b6A4e99.csv"},
       Flags("oracle", ""), 0, 813, 813, 0,
       {{"chainlink:ETH/BTC", "oracle", ""}}},
      {{"tvl/defillama_HLP.json"}, Flags("vault", ""), 0, 164, 164, 0,
       {{"defillama:hyperliquid-hlp", "vault", ""}}},
      {{"tvl/defillama_hyperlend_tvl.json"}, Flags("protocol", ""), 0, 53, 53, 0,
       {{"defillama:hyperlend", "protocol", ""}}},
      {{"tvl/defillama_felix_tvl.json"}, Flags("protocol", ""), 0, 36, 36, 0,
       {{"defillama:felix", "protocol", ""}}},
  };
  // clang-format on
  ingests.insert(ingests.end(), others.begin(), others.end());

  // One batch per coin: the file's `coin` column holds these 14 (counted with
  // `cut | sort | uniq -c`).
  RealIngest hyperliquid{{"trades/hyperliquid_non_mm_trades.csv"},
                         Flags("trades", "hyperliquid"),
                         0,
                         35691,
                         35691,
                         0,
                         {}};
  for (const char* coin : {"APE", "ARB", "ATOM", "AVAX", "BNB", "BTC", "DOGE", "DYDX", "ETH", "INJ",
                           "LTC", "MATIC", "OP", "SOL"}) {
    hyperliquid.series.push_back({std::string("hyperliquid:") + coin, "trades", ""});
  }
  ingests.push_back(hyperliquid);
  return ingests;
}

// The Series::Key of a `data summary --json` entry.
std::string KeyOf(const nlohmann::ordered_json& entry) {
  return Series{entry["instrument"].get<std::string>(), entry["kind"].get<std::string>(),
                entry["timeframe"].get<std::string>()}
      .Key();
}

std::string ExpectedJson(const RealIngest& ingest) {
  std::set<std::string> instruments;
  for (const Series& series : ingest.series) instruments.insert(series.instrument);
  nlohmann::ordered_json json = {{"rows_read", ingest.rows_read},
                                 {"rows_stored", ingest.rows_stored},
                                 {"rows_rejected", ingest.rows_rejected},
                                 {"instruments", instruments}};
  return json.dump() + "\n";
}

// Runs every ingest once into one home; the tests then look at the results.
class CliRealDataTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sandbox_ = std::make_unique<CliSandbox>("");
    ingests_ = RealIngests();
    for (const RealIngest& ingest : ingests_) {
      std::vector<std::string> args = {"--json", "ingest"};
      args.insert(args.end(), ingest.options.begin(), ingest.options.end());
      for (const std::string& file : ingest.files) args.push_back(SharedDataPath(file));
      runs_.push_back(sandbox_->Vigil(args));
    }
    CliRun summary = sandbox_->Vigil({"--json", "data", "summary"});
    EXPECT_EQ(summary.exit_code, 0) << summary;
    summary_ = ParseJson(summary.out);
  }
  static void TearDownTestSuite() { sandbox_.reset(); }

  static std::unique_ptr<CliSandbox> sandbox_;
  static std::vector<RealIngest> ingests_;
  static std::vector<CliRun> runs_;
  static nlohmann::ordered_json summary_;
};

std::unique_ptr<CliSandbox> CliRealDataTest::sandbox_;
std::vector<RealIngest> CliRealDataTest::ingests_;
std::vector<CliRun> CliRealDataTest::runs_;
nlohmann::ordered_json CliRealDataTest::summary_;

TEST_F(CliRealDataTest, EveryFileIngestsWithTheExpectedExitCodeAndCounts) {
  ASSERT_EQ(runs_.size(), ingests_.size());
  for (size_t i = 0; i < ingests_.size(); ++i) {
    const std::string& name = ingests_[i].files[0];
    EXPECT_EQ(runs_[i].exit_code, ingests_[i].exit_code) << name << "\n" << runs_[i];
    EXPECT_EQ(runs_[i].out, ExpectedJson(ingests_[i])) << name;
  }
}

TEST_F(CliRealDataTest, SummaryHasOneEntryPerSeries) {
  std::set<std::string> expected;
  for (const RealIngest& ingest : ingests_) {
    for (const Series& series : ingest.series) expected.insert(series.Key());
  }
  std::multiset<std::string> stored;
  for (const auto& entry : summary_) {
    stored.insert(KeyOf(entry));
  }
  EXPECT_EQ(stored, std::multiset<std::string>(expected.begin(), expected.end()));
  // Hand count: 21 candle series (10 Bittrex pairs, UNITTEST 1m and 30m, XRP/ETH 1m and
  // 5m, XRP/USDT:USDT 1h and 5m, XRP/USDT:USDT-mark 1h and 8h, ADABTC, Kraken XBTUSDT,
  // ORCL), 1 funding, 20 trade
  // series (14 of them Hyperliquid coins), 9 books (Bybit, Tardis Binance futures, Huobi
  // and Deribit, Binance quotes, Binance BTCUSDT (depth pair + USD-M capture),
  // BTCUSD_PERP, ETHUSDT, Hyperliquid BTC), 2 liquidations, 3 oracles, 1 vault and 2
  // protocols.
  EXPECT_EQ(expected.size(), 59u);
}

// Rows and gaps of each series that a single call fills on its own.
TEST_F(CliRealDataTest, SummaryRowsAndGapsMatchTheFiles) {
  std::map<std::string, int> calls_per_series;
  for (const RealIngest& ingest : ingests_) {
    for (const Series& series : ingest.series) ++calls_per_series[series.Key()];
  }
  for (const RealIngest& ingest : ingests_) {
    if (ingest.series.size() != 1 || calls_per_series[ingest.series[0].Key()] != 1) continue;
    const Series& series = ingest.series[0];
    for (const auto& entry : summary_) {
      if (KeyOf(entry) != series.Key()) continue;
      EXPECT_EQ(entry["rows"], ingest.rows_stored) << series.Key();
      if (series.gaps != kUnchecked) {
        EXPECT_EQ(entry["gaps"], series.gaps) << series.Key();
      }
    }
  }
}

// Every row the ingest reported as rejected is kept in the rejects table: the summary's
// per-series rejects and `data rejects --source FILE` agree with rows_rejected.
TEST_F(CliRealDataTest, RejectsTableKeepsEveryRejectedRow) {
  for (const RealIngest& ingest : ingests_) {
    if (ingest.rows_rejected == 0) continue;
    ASSERT_EQ(ingest.files.size(), 1u);
    ASSERT_EQ(ingest.series.size(), 1u);
    for (const auto& entry : summary_) {
      if (KeyOf(entry) == ingest.series[0].Key()) {
        EXPECT_EQ(entry["rejects"], ingest.rows_rejected) << ingest.files[0];
      }
    }
    CliRun rejects = sandbox_->Vigil({"--json", "data", "rejects", "--limit", "100000", "--source",
                                      SharedDataPath(ingest.files[0])});
    ASSERT_EQ(rejects.exit_code, 0) << rejects;
    EXPECT_EQ(static_cast<int64_t>(ParseJson(rejects.out).size()), ingest.rows_rejected)
        << ingest.files[0];
  }
}

// The lowest and highest `price` of an exported oracle series.
std::pair<double, double> ExportedPriceRange(const CliSandbox& sandbox,
                                             const std::string& instrument) {
  const std::string out = "oracle_export.csv";
  CliRun run = sandbox.Vigil(
      {"data", "export", "--kind", "oracle", "--instrument", instrument, "--out", out});
  EXPECT_EQ(run.exit_code, 0) << run;
  const std::vector<std::string> lines = SplitLines(ReadBytes(sandbox.dir() / out));
  if (lines.size() < 2) {
    ADD_FAILURE() << instrument << ": nothing exported";
    return {0, 0};
  }
  // Column of `price` in the header.
  size_t column = 0;
  for (size_t start = 0, end; start != std::string::npos; ++column) {
    end = lines[0].find(',', start);
    if (lines[0].substr(start, end - start) == "price") break;
    start = end == std::string::npos ? end : end + 1;
  }
  double low = std::numeric_limits<double>::infinity();
  double high = -low;
  for (size_t row = 1; row < lines.size(); ++row) {
    size_t start = 0;
    for (size_t skip = 0; skip < column; ++skip) start = lines[row].find(',', start) + 1;
    const double price = std::strtod(lines[row].c_str() + start, nullptr);
    low = std::min(low, price);
    high = std::max(high, price);
  }
  return {low, high};
}

// --decimals reaches the reader: Chainlink answers are integers scaled by 10^decimals.
// stETH/ETH (18 decimals) traded near 1 (its 2022 low was about 0.93); BTC/USD (the
// default 8) between roughly 25,000 and 50,000 from April 2023 to January 2024.
TEST_F(CliRealDataTest, OracleDecimalsScaleTheAnswers) {
  const auto [steth_low, steth_high] = ExportedPriceRange(*sandbox_, "chainlink:stETH/ETH");
  EXPECT_GT(steth_low, 0.9);
  EXPECT_LT(steth_high, 1.1);
  const auto [btc_low, btc_high] = ExportedPriceRange(*sandbox_, "chainlink:BTC/USD");
  EXPECT_GT(btc_low, 20000);
  EXPECT_LT(btc_high, 60000);
}

// The files tests/data/real_data_test.cc leaves unread, for the reasons it gives there
// (Arrow/Parquet binaries are skipped by extension below).
const std::set<std::string> kNotRead = {
    "funding/hyperliquid_ws_all_dexs_asset_ctxs.json",
};

// A file added to the shared data and to the reader tests must be added here too.
TEST_F(CliRealDataTest, EveryReadableSharedFileGoesThroughTheCli) {
  std::set<std::string> ingested;
  for (const RealIngest& ingest : ingests_)
    ingested.insert(ingest.files.begin(), ingest.files.end());
  const std::filesystem::path root(VIGIL_SHARED_DATA);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string relative = std::filesystem::relative(entry.path(), root).generic_string();
    const std::string extension = entry.path().extension().string();
    if (relative == "PROVENANCE.md" || extension == ".feather" || extension == ".parquet" ||
        kNotRead.count(relative)) {
      continue;
    }
    EXPECT_TRUE(ingested.count(relative))
        << relative << " is read by the project but not ingested here";
  }
}

}  // namespace
}  // namespace vigil::cli_test
