#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <map>
#include <string>

#include "data/reader_test_util.h"
#include "vigil/core/text_file.h"
#include "vigil/data/reader.h"

namespace vigil {
namespace {

using testing_util::Options;
using testing_util::ParseText;
using testing_util::ReadShared;
using testing_util::RejectsText;
using testing_util::SharedData;

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("vigil_market_file_reader_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

Result<FileFormat> Detect(std::string_view text, std::string_view name = "file") {
  return MarketFileReader::DetectFormat(text, name, DataKind::kCandles);
}

std::string Name(const Result<FileFormat>& format) {
  return format.ok() ? std::string(FileFormatName(*format)) : format.status().ToString();
}

// --- Names and options ---------------------------------------------------------------

TEST(FileFormatTest, NamesRoundTrip) {
  for (const char* name :
       {"auto", "csv", "jsonl", "freqtrade", "binance", "kraken", "chainlink", "defillama",
        "binance-depth", "bybit-orderbook", "hftbacktest", "tardis-l2", "hyperliquid-ws"}) {
    auto format = ParseFileFormat(name);
    ASSERT_TRUE(format.ok()) << name;
    EXPECT_EQ(FileFormatName(*format), name);
  }
  auto unknown = ParseFileFormat("parquet");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("bybit-orderbook"), std::string::npos);
}

TEST(ValidateReadOptionsTest, DefaultsAreValid) {
  EXPECT_TRUE(ValidateReadOptions(ReadOptions()).ok());
  ReadOptions options = Options(DataKind::kTrades, "binance", "BTC/USDT");
  options.timeframe = "5m";
  options.column_map = {{"ts", "time"}, {"qty", "amount"}, {"symbol", "coin"}};
  EXPECT_TRUE(ValidateReadOptions(options).ok());
}

TEST(ValidateReadOptionsTest, EachBadValueNamesItsFlag) {
  auto message = [](auto mutate) {
    ReadOptions options;
    mutate(options);
    Status status = ValidateReadOptions(options);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    return status.message();
  };
  EXPECT_NE(message([](ReadOptions& o) { o.book_depth = 0; }).find("--depth"), std::string::npos);
  EXPECT_NE(message([](ReadOptions& o) { o.price_decimals = -1; }).find("--decimals"),
            std::string::npos);
  EXPECT_NE(message([](ReadOptions& o) { o.venue = "Binance"; }).find("--venue"),
            std::string::npos);
  EXPECT_NE(message([](ReadOptions& o) { o.symbol = "BTC USDT"; }).find("--symbol"),
            std::string::npos);
  EXPECT_NE(message([](ReadOptions& o) { o.timeframe = "5x"; }).find("--timeframe"),
            std::string::npos);
  EXPECT_NE(message([](ReadOptions& o) {
              o.column_map = {{"colse", "c"}};
            }).find("'colse'"),
            std::string::npos);
  EXPECT_NE(message([](ReadOptions& o) {
              o.column_map = {{"close", ""}};
            }).find("--column"),
            std::string::npos);
}

TEST(MarketFileReaderTest, InvalidOptionsFailTheParse) {
  ReadOptions options = Options(DataKind::kCandles, "binance", "BTC");
  options.book_depth = -3;
  EXPECT_FALSE(ParseText("ts,open,high,low,close\n2024-01-01,1,1,1,1\n", options).ok());
}

// --- Detection from inline content -----------------------------------------------------

TEST(DetectFormatTest, JsonArrays) {
  EXPECT_EQ(Name(Detect("[[1509836520000, 0.00162008, 0.00162008]]")), "freqtrade");
  EXPECT_EQ(Name(Detect("  \n[ [ -1, 2 ] ]")), "freqtrade");
  EXPECT_EQ(Name(Detect("[]")), "freqtrade");
  auto objects = Detect("[{\"a\": 1}]");
  ASSERT_FALSE(objects.ok());
  EXPECT_EQ(objects.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(objects.status().message().find("--format"), std::string::npos);
}

TEST(DetectFormatTest, JsonDocuments) {
  EXPECT_EQ(Name(Detect("{\"error\":[],\"result\":{\"XBTUSDT\":[]}}")), "kraken");
  EXPECT_EQ(Name(Detect("{\n  \"error\": [],\n  \"result\": {}\n}\n")), "kraken");
  EXPECT_EQ(
      Name(Detect("{\n\"name\": \"HLP\",\n\"tvl\": [{\"date\": 1, \"totalLiquidityUSD\": 2}]\n}")),
      "defillama");
  EXPECT_EQ(Name(Detect("{\n\"chainTvls\": {}\n}")), "defillama");
  EXPECT_EQ(Name(Detect("{\n  \"channel\": \"allDexsAssetCtxs\"\n}")), "hyperliquid-ws");
  auto unknown = Detect("{\n  \"name\": \"x\",\n  \"data\": []\n}");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("--format"), std::string::npos);
  auto broken = Detect("{\n  \"result\": [1, 2\n");
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), StatusCode::kParseError);
}

TEST(DetectFormatTest, JsonLines) {
  EXPECT_EQ(Name(Detect("{\"topic\":\"orderbook.500.XRPUSDT\",\"type\":\"snapshot\"}\n"
                        "{\"topic\":\"orderbook.500.XRPUSDT\",\"type\":\"delta\"}\n")),
            "bybit-orderbook");
  EXPECT_EQ(Name(Detect("{\"ts\":1,\"price\":2}\n{\"ts\":2,\"price\":3}\n")), "jsonl");
  EXPECT_EQ(Name(Detect("{\"channel\":\"trades\",\"data\":[]}\n")), "hyperliquid-ws");
  EXPECT_EQ(Name(Detect("{\"ts\":1,\"price\":2}")), "jsonl");
  // A ".jsonl" name means lines even when the one object has a "result" key.
  EXPECT_EQ(Name(Detect("{\"result\":1,\"ts\":1}", "x.jsonl")), "jsonl");
  EXPECT_EQ(Name(Detect("{\"result\":1,\"ts\":1}", "x.json")), "kraken");
}

TEST(DetectFormatTest, CsvFlavours) {
  EXPECT_EQ(Name(Detect(",round,answer,start,update,answeredInRound\n0,1,2,3,4,5\n")), "chainlink");
  EXPECT_EQ(Name(Detect(",0,1,2,3,4\n0,1,2,3,4,5\n")), "chainlink");
  EXPECT_EQ(Name(Detect("symbol,timestamp,first_update_id,last_update_id,side,update_type,"
                        "price,qty,pu\n")),
            "binance-depth");
  EXPECT_EQ(Name(Detect("1637971200000,0.00002853,0.00002854,0.00002851,0.00002854,36304.2,"
                        "1637971259999,1.03547608,79,19523,0.55694227,0\n")),
            "binance");
  EXPECT_EQ(Name(Detect("1672531436,90.540000,1.10448420\n")), "csv");
  EXPECT_EQ(Name(Detect("exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,"
                        "amount\n")),
            "tardis-l2");
  // hftbacktest's "<local ns> <JSON>" lines; a short number before the brace is not one.
  EXPECT_EQ(Name(Detect("1723161255030314667 {\"stream\":\"btcusdt@trade\",\"data\":{}}\n")),
            "hftbacktest");
  EXPECT_EQ(Name(Detect("12 {\"a\":1}\n")), "csv");
  EXPECT_EQ(Name(Detect("date,open,high,low,close,volume\n")), "csv");
  EXPECT_EQ(Name(Detect("\xEF\xBB\xBFts;open;high;low;close\n")), "csv");
  EXPECT_FALSE(Detect("   \n ").ok());
}

// --- Detection of every real file ------------------------------------------------------

TEST(DetectFormatTest, EveryRealFile) {
  const std::map<std::string, std::string> expected = {
      {"candles/ADA_BTC-5m.csv", "csv"},
      {"candles/UNITTEST_BTC-30m.csv", "csv"},
      {"candles/orcl-1995-2014.txt", "csv"},
      {"candles/ADABTC-1m-2021-11-27.csv", "binance"},
      {"candles/ADABTC-1m-2021-11-28.csv", "binance"},
      {"candles/UNITTEST_BTC-1m.json", "freqtrade"},
      {"candles/XRP_USDT_USDT-1h-futures.json", "freqtrade"},
      {"candles/kraken_http_ohlc_XBTUSDT_1m.json", "kraken"},
      {"trades/XRP_ETH-trades.json", "freqtrade"},
      {"trades/kraken_http_trades_XBTUSDT.json", "kraken"},
      {"trades/public_trades_list_ETHUSDT.csv", "csv"},
      {"trades/binance_btcusdt-trades.csv", "csv"},
      {"trades/kraken_BCHEUR.csv", "csv"},
      {"trades/tardis_bitmex_trades_XBTUSD.csv", "csv"},
      {"trades/hyperliquid_non_mm_trades.csv", "csv"},
      {"funding/XRP_USDT_USDT-8h-funding_rate.csv", "csv"},
      {"funding/XRP_USDT_USDT-1h-mark.csv", "csv"},
      {"liquidations/hyperliquid_liquidations_2023.csv", "csv"},
      {"liquidations/hyperliquid_ws_user_fill_liquidation.json", "hyperliquid-ws"},
      {"funding/hyperliquid_ws_all_dexs_asset_ctxs.json", "hyperliquid-ws"},
      {"oracle/chainlink_BTC-USD_0xF4030086522a5bEEa4988F8cA5B36dbC97BeE88c.csv", "chainlink"},
      {"oracle/chainlink_ETH-BTC_0xAc559F25B1619171CbC396a50854A3240b6A4e99.csv", "chainlink"},
      {"oracle/chainlink_stETH-ETH_0x86392dC19c0b719886221c78AB11eb8Cf5c52812.csv", "chainlink"},
      {"orderbook/binance_btcusdt-depth-snap.csv", "binance-depth"},
      {"orderbook/binance_btcusdt-depth-update.csv", "binance-depth"},
      {"orderbook/bybit_2024-12-01_XRPUSDT_ob500.data", "bybit-orderbook"},
      {"orderbook/tardis_binance-futures_book_snapshot_5_BTCUSDT.csv", "csv"},
      {"orderbook/binance_btcusdt-quotes.csv", "csv"},
      {"orderbook/tardis_huobi-dm-swap_quotes_BTC-USD.csv", "csv"},
      {"orderbook/tardis_deribit_incremental_book_L2_BTC-PERPETUAL.csv", "tardis-l2"},
      {"orderbook/hftbacktest_usdm_btcusdt_20240808.gz", "hftbacktest"},
      {"orderbook/hftbacktest_spot_ethusdt_20240808.gz", "hftbacktest"},
      {"orderbook/hftbacktest_cm_btcusd_perp_20240808.gz", "hftbacktest"},
      {"orderbook/hftbacktest_hyperliquid_btcusd_20250126.gz", "hftbacktest"},
      {"tvl/defillama_HLP.json", "defillama"},
      {"tvl/defillama_felix_tvl.json", "defillama"},
      {"tvl/defillama_hyperlend_tvl.json", "defillama"},
  };
  for (const auto& [file, format] : expected) {
    auto text = ReadFileToString(SharedData(file));
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    std::string name = std::filesystem::path(file).filename().string();
    EXPECT_EQ(Name(Detect(*text, name)), format) << file;
  }
}

// The snapshot is detected as Hyperliquid websocket JSON, then refused with the reason,
// whatever kind was asked for and with an explicit format too.
TEST(MarketFileReaderTest, AssetContextsSnapshotIsRefusedWithTheReason) {
  for (FileFormat format : {FileFormat::kAuto, FileFormat::kHyperliquidWs}) {
    for (DataKind kind : {DataKind::kFunding, DataKind::kOrderBook}) {
      ReadOptions options = Options(kind, "hyperliquid", "BTC");
      options.format = format;
      auto parsed = ReadShared("funding/hyperliquid_ws_all_dexs_asset_ctxs.json", options);
      ASSERT_FALSE(parsed.ok());
      EXPECT_EQ(parsed.status().code(), StatusCode::kParseError);
      EXPECT_NE(parsed.status().message().find(
                    "hyperliquid_ws_all_dexs_asset_ctxs.json: a Hyperliquid allDexsAssetCtxs "
                    "snapshot has no timestamp and no coin names; "),
                std::string::npos)
          << parsed.status().ToString();
    }
  }
}

// --- Whole-file outcomes -------------------------------------------------------------

ReadOptions EthOptions() { return Options(DataKind::kCandles, "bittrex"); }

TEST(MarketFileReaderTest, EmptyAndHeaderOnlyFilesHaveNoDataRows) {
  for (const char* text : {"", "\n\n  \n", "date,open,high,low,close,volume\n"}) {
    auto parsed = ParseText(text, EthOptions(), "ETH_BTC-5m.csv");
    ASSERT_FALSE(parsed.ok()) << "'" << text << "'";
    EXPECT_EQ(parsed.status().code(), StatusCode::kParseError);
    EXPECT_NE(parsed.status().message().find("ETH_BTC-5m.csv: no data rows"), std::string::npos)
        << parsed.status().message();
  }
}

TEST(MarketFileReaderTest, BinaryGarbageIsAParseError) {
  std::string garbage;
  uint32_t state = 2463534242u;  // xorshift32: fixed bytes, NULs included
  for (int i = 0; i < 4096; ++i) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    garbage.push_back(static_cast<char>(state & 0xff));
  }
  const std::string path = TempPath("garbage.csv");
  ASSERT_TRUE(WriteFileAtomically(path, garbage).ok());
  MarketFileReader reader(EthOptions());
  auto parsed = reader.Read(path);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kParseError);
  EXPECT_NE(parsed.status().message().find(path), std::string::npos);
  EXPECT_NE(parsed.status().message().find("binary"), std::string::npos);
}

TEST(MarketFileReaderTest, FeatherFileSaysWhatItIs) {
  auto parsed = ReadShared("candles/ETH_BTC-5m.feather", EthOptions());
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kParseError);
  EXPECT_NE(parsed.status().message().find("Arrow"), std::string::npos);
}

TEST(MarketFileReaderTest, MissingFileIsAnIoError) {
  MarketFileReader reader(EthOptions());
  auto parsed = reader.Read(SharedData("candles/no_such_file-5m.csv"));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kIoError);
}

// The first `lines` lines of a shared file, each with its newline.
std::string HeadLines(const std::string& text, int lines) {
  size_t end = 0;
  for (int i = 0; i < lines; ++i) end = text.find('\n', end) + 1;
  return text.substr(0, end);
}

TEST(MarketFileReaderTest, TruncatedRealFileRejectsTheCutLine) {
  const std::string path = SharedData("candles/ETH_BTC-5m.csv");
  auto text = ReadFileToString(path);
  ASSERT_TRUE(text.ok());
  // Header + 2999 rows, then the start of row 3000 cut after its third field.
  std::string cut = HeadLines(*text, 3000);
  std::string next_row = text->substr(cut.size(), text->find('\n', cut.size()) - cut.size());
  size_t third_comma = next_row.find(',', next_row.find(',', next_row.find(',') + 1) + 1);
  cut += next_row.substr(0, third_comma);
  MarketFileReader reader(EthOptions());
  auto parsed = reader.Parse(cut, path);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_read, 3000);
  EXPECT_EQ(parsed->rows_valid(), 2999);
  ASSERT_EQ(parsed->rejects.size(), 1u);
  EXPECT_EQ(parsed->rejects[0].ToString(),
            path + ":3001: field 'low': truncated line (row has 3 of 6 columns)");
}

TEST(MarketFileReaderTest, DamagedLinesInARealFileAreRejectedOneByOne) {
  const std::string path = SharedData("candles/ETH_BTC-5m.csv");
  auto text = ReadFileToString(path);
  ASSERT_TRUE(text.ok());
  // Overwrite line 100 (row 99) with junk bytes, keeping every other line intact.
  std::string damaged = HeadLines(*text, 99);
  const size_t line_end = text->find('\n', damaged.size());
  damaged += "\xff\xfe~~@@ junk";
  damaged += text->substr(line_end);
  MarketFileReader reader(EthOptions());
  auto parsed = reader.Parse(damaged, path);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_valid(), 5759);
  ASSERT_EQ(parsed->rejects.size(), 1u) << RejectsText(*parsed);
  EXPECT_EQ(parsed->rejects[0].line, 100);
  EXPECT_EQ(parsed->rejects[0].reason, "missing field (row has 1 of 6 columns)");
  EXPECT_EQ(parsed->rejects[0].instrument, "bittrex:ETH/BTC");
}

TEST(MarketFileReaderTest, GzipFilesAreInflated) {
  const std::string path = TempPath("SOL_USDT-1h.csv.gz");
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  gzputs(file,
         "date,open,high,low,close,volume\n"
         "2024-01-01T00:00:00Z,100,110,90,105,7\n"
         "2024-01-01T01:00:00Z,105,106,104,104.5,3\n");
  gzclose(file);
  MarketFileReader reader(Options(DataKind::kCandles, "binance"));
  auto parsed = reader.Read(path);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->batches.size(), 1u);
  EXPECT_EQ(parsed->batches[0].series.ToString(), "binance:SOL/USDT candles 1h");
  EXPECT_EQ(parsed->rows_valid(), 2);
}

TEST(MarketFileReaderTest, ExplicitFormatSkipsDetection) {
  ReadOptions options = Options(DataKind::kTrades, "kraken", "BCH/EUR");
  options.format = FileFormat::kJsonl;
  auto parsed = ReadShared("trades/kraken_BCHEUR.csv", options);
  ASSERT_FALSE(parsed.ok());  // CSV text read as JSON lines: no line is an object
  EXPECT_EQ(parsed.status().code(), StatusCode::kParseError);
  options.format = FileFormat::kCsv;
  auto as_csv = ReadShared("trades/kraken_BCHEUR.csv", options);
  ASSERT_TRUE(as_csv.ok());
  EXPECT_EQ(as_csv->format, "csv");
  EXPECT_EQ(as_csv->rows_valid(), 148);
}

TEST(MarketFileReaderTest, CandleTimeframeFromSpacingWhenNameHasNone) {
  auto parsed = ParseText(
      "ts,open,high,low,close\n"
      "2024-01-01T00:00:00Z,1,1,1,1\n2024-01-01T00:15:00Z,1,1,1,1\n"
      "2024-01-01T00:30:00Z,1,1,1,1\n2024-01-01T01:15:00Z,1,1,1,1\n",
      Options(DataKind::kCandles, "binance", "BTC"), "prices.csv");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->reports.size(), 1u);
  EXPECT_EQ(parsed->reports[0].series.timeframe, "15m");
  EXPECT_EQ(parsed->reports[0].gaps, 2);  // 00:45 and 01:00 are missing
}

TEST(MarketFileReaderTest, SingleCandleWithoutTimeframeIsRejected) {
  auto parsed = ParseText("ts,open,high,low,close\n2024-01-01T00:00:00Z,1,1,1,1\n",
                          Options(DataKind::kCandles, "binance", "BTC"), "prices.csv");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->rows_valid(), 0);
  ASSERT_EQ(parsed->rejects.size(), 1u);
  EXPECT_EQ(parsed->rejects[0].reason, "cannot tell the timeframe: pass --timeframe");
}

}  // namespace
}  // namespace vigil
