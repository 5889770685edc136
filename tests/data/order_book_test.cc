// Order-book rebuilding: the L2 builder, Binance depth CSV (snap + set rows) and Bybit
// order-book JSON lines, on hand-made books and on the real Binance and Bybit samples.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "data/readers/format_readers.h"
#include "data/readers/order_book_builder.h"
#include "vigil/data/reader.h"

namespace vigil::data_internal {
namespace {

// One emitted book row, read back from a frame.
struct Level {
  int64_t ts;
  int64_t side;
  int64_t level;
  double price;
  double size;
};

std::vector<Level> Levels(const Frame& frame) {
  std::vector<Level> out;
  for (int64_t row = 0; row < frame.rows(); ++row) {
    out.push_back({frame.timestamps()[row], frame.Int64s("side")[row], frame.Int64s("level")[row],
                   frame.Doubles("price")[row], frame.Doubles("size")[row]});
  }
  return out;
}

// The rows of one timestamp and side, in level order.
std::vector<Level> SideAt(const std::vector<Level>& levels, int64_t ts, int64_t side) {
  std::vector<Level> out;
  for (const Level& level : levels) {
    if (level.ts == ts && level.side == side) out.push_back(level);
  }
  return out;
}

ReadOptions BookOptions(int depth = 10) {
  ReadOptions options;
  options.kind = DataKind::kOrderBook;
  options.book_depth = depth;
  return options;
}

const Instrument kTestInstrument{"test", "BTCUSDT"};

// --- OrderBookBuilder ------------------------------------------------------------

TEST(OrderBookBuilderTest, EmitsBestLevelsFirstOnEachSide) {
  BatchSink sink(BookOptions(), "book");
  RecordBatch& batch = sink.BatchFor(kTestInstrument);
  OrderBookBuilder book;
  book.ApplySnapshotLevel(kSideBuy, 99.0, 1.0);
  book.ApplySnapshotLevel(kSideBuy, 100.0, 2.0);
  book.ApplySnapshotLevel(kSideBuy, 98.0, 3.0);
  book.ApplySnapshotLevel(kSideSell, 102.0, 4.0);
  book.ApplySnapshotLevel(kSideSell, 101.0, 5.0);
  book.ApplySnapshotLevel(kSideSell, 103.0, 0.0);  // size 0 is not a level
  EXPECT_EQ(book.EmitTopN(&sink, batch, 7, 1000, 2), 4);
  std::vector<Level> rows = Levels(batch.frame);
  std::vector<Level> bids = SideAt(rows, 1000, kSideBuy);
  std::vector<Level> asks = SideAt(rows, 1000, kSideSell);
  ASSERT_EQ(bids.size(), 2u);  // depth 2 cuts 98.0
  EXPECT_EQ(bids[0].price, 100.0);
  EXPECT_EQ(bids[0].level, 0);
  EXPECT_EQ(bids[1].price, 99.0);
  EXPECT_EQ(bids[1].level, 1);
  ASSERT_EQ(asks.size(), 2u);
  EXPECT_EQ(asks[0].price, 101.0);
  EXPECT_EQ(asks[0].size, 5.0);
  EXPECT_EQ(asks[1].price, 102.0);
  EXPECT_EQ(batch.lines[0], 7);
}

TEST(OrderBookBuilderTest, DeltaSetsAbsoluteSizeAndZeroDeletes) {
  OrderBookBuilder book;
  book.ApplySnapshotLevel(kSideBuy, 100.0, 2.0);
  book.ApplySnapshotLevel(kSideSell, 101.0, 5.0);
  book.ApplyDelta(kSideBuy, 100.0, 0.5);  // absolute, not +0.5
  book.ApplyDelta(kSideSell, 101.0, 0.0);
  book.ApplyDelta(kSideSell, 100.0, 0.0);  // deleting an absent level is harmless
  ASSERT_EQ(book.bids().size(), 1u);
  EXPECT_EQ(book.bids().begin()->second, 0.5);
  EXPECT_TRUE(book.asks().empty());
  book.Clear();
  EXPECT_TRUE(book.bids().empty());
  EXPECT_FALSE(book.has_snapshot());
  EXPECT_EQ(book.last_update_id(), kMissingInt);
}

TEST(OrderBookBuilderTest, CrossedBookIsRejectedNotEmitted) {
  BatchSink sink(BookOptions(), "book.csv");
  RecordBatch& batch = sink.BatchFor(kTestInstrument);
  OrderBookBuilder book;
  book.ApplySnapshotLevel(kSideBuy, 100.0, 1.0);
  book.ApplySnapshotLevel(kSideSell, 101.0, 1.0);
  EXPECT_FALSE(book.IsCrossed());
  book.ApplyDelta(kSideBuy, 101.0, 1.0);  // bid at the ask: locked counts as crossed
  EXPECT_TRUE(book.IsCrossed());
  EXPECT_EQ(book.EmitTopN(&sink, batch, 12, 1000, 10, "raw line"), 0);
  EXPECT_EQ(batch.frame.rows(), 0);
  ParsedFile file = sink.Finish("test");
  ASSERT_EQ(file.rejects.size(), 1u);
  EXPECT_EQ(file.rejects[0].line, 12);
  EXPECT_EQ(file.rejects[0].instrument, "test:BTCUSDT");
  EXPECT_EQ(file.rejects[0].raw, "raw line");
  EXPECT_NE(file.rejects[0].reason.find("best bid 101 >= best ask 101"), std::string::npos);
}

// --- Binance depth CSV -------------------------------------------------------------

constexpr const char* kDepthHeader =
    "symbol,timestamp,first_update_id,last_update_id,side,update_type,price,qty,pu\n";
// t1 = 2022-11-01T23:49:39.146Z, t2 = 2022-11-01T23:59:59.939Z.
constexpr int64_t kT1 = 1667346579146LL * kNanosPerMilli;
constexpr int64_t kT2 = 1667347199939LL * kNanosPerMilli;
constexpr const char* kDepthSnap =
    "BTCUSDT,1667346579146,10,10,b,snap,100.0,1.0,-1\n"
    "BTCUSDT,1667346579146,10,10,b,snap,99.5,2.0,-1\n"
    "BTCUSDT,1667346579146,10,10,a,snap,101.0,1.5,-1\n"
    "BTCUSDT,1667346579146,10,10,a,snap,101.5,3.0,-1\n";
constexpr const char* kDepthUpdate =
    "BTCUSDT,1667347199939,11,12,b,set,100.0,0.000,10\n"  // best bid removed
    "BTCUSDT,1667347199939,11,12,a,set,100.5,0.700,10\n"  // new best ask
    "BTCUSDT,1667347199939,11,12,b,set,99.8,4.000,10\n";  // new best bid

struct Outcome {
  Status status;
  ParsedFile file;
};

Outcome RunDepth(const std::string& body, ReaderState* state, int depth = 10) {
  BatchSink sink(BookOptions(depth), "binance_btcusdt-depth.csv");
  Outcome out;
  out.status = ReadBinanceDepth(std::string(kDepthHeader) + body, &sink, state);
  if (out.status.ok()) out.file = sink.Finish("binance-depth");
  return out;
}

TEST(BinanceDepthTest, SnapshotThenUpdateGivesHandComputedBook) {
  ReaderState state;
  Outcome out = RunDepth(std::string(kDepthSnap) + kDepthUpdate, &state);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.file.rows_read, 7);
  EXPECT_TRUE(out.file.rejects.empty());
  ASSERT_EQ(out.file.batches.size(), 1u);
  EXPECT_EQ(out.file.batches[0].series.instrument.ToString(), "binance:BTCUSDT");
  std::vector<Level> rows = Levels(out.file.batches[0].frame);
  ASSERT_EQ(rows.size(), 9u);  // t1: 2 bids + 2 asks; t2: 2 bids + 3 asks
  // After the snapshot: bids 100 / 99.5, asks 101 / 101.5.
  EXPECT_EQ(SideAt(rows, kT1, kSideBuy)[0].price, 100.0);
  EXPECT_EQ(SideAt(rows, kT1, kSideSell)[0].price, 101.0);
  // After the update: 100 gone, 99.8 (4.0) best; 100.5 (0.7) is the new best ask.
  std::vector<Level> bids = SideAt(rows, kT2, kSideBuy);
  std::vector<Level> asks = SideAt(rows, kT2, kSideSell);
  ASSERT_EQ(bids.size(), 2u);
  EXPECT_EQ(bids[0].price, 99.8);
  EXPECT_EQ(bids[0].size, 4.0);
  EXPECT_EQ(bids[1].price, 99.5);
  ASSERT_EQ(asks.size(), 3u);
  EXPECT_EQ(asks[0].price, 100.5);
  EXPECT_EQ(asks[0].size, 0.7);
  EXPECT_EQ(asks[2].price, 101.5);
  EXPECT_EQ(out.file.batches[0].lines.back(), 8);  // emitted after the group's last line
}

TEST(BinanceDepthTest, BookCarriesAcrossFilesThroughReaderState) {
  ReaderState state;
  Outcome snap = RunDepth(kDepthSnap, &state, 1);
  ASSERT_TRUE(snap.status.ok()) << snap.status.ToString();
  EXPECT_EQ(snap.file.rows_valid(), 2);
  Outcome update = RunDepth(kDepthUpdate, &state, 1);
  ASSERT_TRUE(update.status.ok()) << update.status.ToString();
  std::vector<Level> rows = Levels(update.file.batches[0].frame);
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(SideAt(rows, kT2, kSideBuy).size(), 1u);
  EXPECT_EQ(SideAt(rows, kT2, kSideBuy)[0].price, 99.8);
  ASSERT_EQ(SideAt(rows, kT2, kSideSell).size(), 1u);
  EXPECT_EQ(SideAt(rows, kT2, kSideSell)[0].price, 100.5);
}

TEST(BinanceDepthTest, UpdateBeforeAnySnapshotRejectsEveryRow) {
  ReaderState state;
  Outcome out = RunDepth(kDepthUpdate, &state);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.file.rows_read, 3);
  EXPECT_EQ(out.file.rows_valid(), 0);
  ASSERT_EQ(out.file.rejects.size(), 3u);
  for (size_t row = 0; row < 3; ++row) {
    EXPECT_EQ(out.file.rejects[row].line, static_cast<int64_t>(row) + 2);
    EXPECT_EQ(out.file.rejects[row].reason, "update before any snapshot");
  }
}

TEST(BinanceDepthTest, StaleCrossedAndMalformedRowsAreRejected) {
  ReaderState state;
  const std::string body = std::string(kDepthSnap) +
                           "BTCUSDT,1667347199939,5,5,b,set,100.2,1.0,4\n"      // stale id
                           "BTCUSDT,1667347199939,11,12,x,set,100.2,1.0,10\n"   // bad side
                           "BTCUSDT,1667347199939,11,12,b,set,abc,1.0,10\n"     // bad price
                           "BTCUSDT,1667347199939,11,12,b,set,101.2,1.0,10\n";  // crosses 101
  Outcome out = RunDepth(body, &state);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  ASSERT_EQ(out.file.rejects.size(), 4u);
  EXPECT_EQ(out.file.rejects[0].field, "last_update_id");
  EXPECT_EQ(out.file.rejects[1].field, "side");
  EXPECT_EQ(out.file.rejects[2].field, "price");
  EXPECT_NE(out.file.rejects[3].reason.find("crossed"), std::string::npos);
  EXPECT_EQ(out.file.rejects[3].line, 9);
  EXPECT_EQ(out.file.rows_valid(), 4);  // only the snapshot's levels were stored
}

TEST(BinanceDepthTest, MissingColumnOrWrongKindFails) {
  BatchSink sink(BookOptions(), "depth.csv");
  ReaderState state;
  EXPECT_EQ(ReadBinanceDepth("symbol,timestamp,side,price\n", &sink, &state).code(),
            StatusCode::kParseError);
  ReadOptions candles;
  BatchSink candle_sink(candles, "depth.csv");
  EXPECT_EQ(ReadBinanceDepth(std::string(kDepthHeader) + kDepthSnap, &candle_sink, &state).code(),
            StatusCode::kInvalidArgument);
}

// --- Bybit order-book JSON lines ------------------------------------------------------

constexpr const char* kBybitSnapshot =
    R"({"topic":"orderbook.50.XRPUSDT","type":"snapshot","ts":1733011200691,"data":{"s":"XRPUSDT",)"
    R"("b":[["1.9531","6203"],["1.9530","2409"]],"a":[["1.9532","100"],["1.9535","50"]],)"
    R"("u":100,"seq":1}})";
constexpr const char* kBybitDelta =
    R"({"topic":"orderbook.50.XRPUSDT","type":"delta","ts":1733011200693,"data":{"s":"XRPUSDT",)"
    R"("b":[["1.9531","0"]],"a":[["1.9533","7"]],"u":101,"seq":2}})";

Outcome RunBybit(const std::string& text, ReaderState* state) {
  BatchSink sink(BookOptions(), "bybit.data");
  Outcome out;
  out.status = ReadBybitOrderBook(text, &sink, state);
  if (out.status.ok()) out.file = sink.Finish("bybit-orderbook");
  return out;
}

TEST(BybitOrderBookTest, SnapshotThenDeltaGivesHandComputedBook) {
  ReaderState state;
  Outcome out = RunBybit(std::string(kBybitSnapshot) + "\n" + kBybitDelta + "\n", &state);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.file.rows_read, 2);
  ASSERT_EQ(out.file.batches.size(), 1u);
  EXPECT_EQ(out.file.batches[0].series.instrument.ToString(), "bybit:XRPUSDT");
  std::vector<Level> rows = Levels(out.file.batches[0].frame);
  const int64_t t2 = 1733011200693LL * kNanosPerMilli;
  ASSERT_EQ(rows.size(), 4u + 4u);  // 2+2 after the snapshot, 1+3 after the delta
  std::vector<Level> bids = SideAt(rows, t2, kSideBuy);
  std::vector<Level> asks = SideAt(rows, t2, kSideSell);
  ASSERT_EQ(bids.size(), 1u);
  EXPECT_EQ(bids[0].price, 1.9530);
  EXPECT_EQ(bids[0].size, 2409);
  ASSERT_EQ(asks.size(), 3u);
  EXPECT_EQ(asks[0].price, 1.9532);
  EXPECT_EQ(asks[1].price, 1.9533);
  EXPECT_EQ(asks[1].size, 7);
  EXPECT_EQ(state.books.count("bybit:XRPUSDT"), 1u);
  EXPECT_EQ(state.books["bybit:XRPUSDT"]->last_update_id(), 101);
}

TEST(BybitOrderBookTest, BadLinesAreRejectedWithTheirLineNumbers) {
  ReaderState state;
  const std::string text = std::string(kBybitDelta) + "\n" +  // before any snapshot
                           kBybitSnapshot + "\n" + "{not json\n" + kBybitDelta + "\n" +
                           kBybitDelta + "\n";  // repeated u 101: stale
  Outcome out = RunBybit(text, &state);
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(out.file.rows_read, 5);
  ASSERT_EQ(out.file.rejects.size(), 3u);
  EXPECT_EQ(out.file.rejects[0].line, 1);
  EXPECT_EQ(out.file.rejects[0].reason, "delta before any snapshot");
  EXPECT_EQ(out.file.rejects[1].line, 3);
  EXPECT_EQ(out.file.rejects[2].line, 5);
  EXPECT_NE(out.file.rejects[2].reason.find("stale"), std::string::npos);
}

TEST(BybitOrderBookTest, NothingButGarbageIsAParseError) {
  ReaderState state;
  EXPECT_EQ(RunBybit("garbage\nmore garbage\n", &state).status.code(), StatusCode::kParseError);
}

// --- Real data ---------------------------------------------------------------------

using BidMap = std::map<double, double, std::greater<double>>;
using AskMap = std::map<double, double>;

// An independent replay of a Binance depth CSV onto plain maps, following the format's
// documented rules (snap rows of one timestamp replace the book; qty 0 deletes).
void ReplayDepthCsv(const std::string& path, BidMap* bids, AskMap* asks) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  std::string snapshot_ts;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream stream(line);
    for (std::string cell; std::getline(stream, cell, ',');) cells.push_back(cell);
    ASSERT_EQ(cells.size(), 9u) << line;
    if (cells[5] == "snap" && cells[1] != snapshot_ts) {
      snapshot_ts = cells[1];
      bids->clear();
      asks->clear();
    }
    const double price = std::stod(cells[6]);
    const double qty = std::stod(cells[7]);
    if (cells[4] == "b") {
      qty == 0 ? (void)bids->erase(price) : (void)((*bids)[price] = qty);
    } else {
      qty == 0 ? (void)asks->erase(price) : (void)((*asks)[price] = qty);
    }
  }
}

TEST(OrderBookRealDataTest, BinanceSnapshotPlusUpdateMatchesIndependentReplay) {
  const std::string dir = std::string(VIGIL_SHARED_DATA) + "/orderbook/";
  ReadOptions options = BookOptions(10);
  options.format = FileFormat::kBinanceDepth;
  MarketFileReader reader(options);
  Result<ParsedFile> snap = reader.Read(dir + "binance_btcusdt-depth-snap.csv");
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  Result<ParsedFile> update = reader.Read(dir + "binance_btcusdt-depth-update.csv");
  ASSERT_TRUE(update.ok()) << update.status().ToString();
  EXPECT_TRUE(update->rejects.empty());
  ASSERT_EQ(update->batches.size(), 1u);

  BidMap bids;
  AskMap asks;
  ReplayDepthCsv(dir + "binance_btcusdt-depth-snap.csv", &bids, &asks);
  ReplayDepthCsv(dir + "binance_btcusdt-depth-update.csv", &bids, &asks);
  ASSERT_FALSE(bids.empty());
  ASSERT_FALSE(asks.empty());
  ASSERT_LT(bids.begin()->first, asks.begin()->first);

  std::vector<Level> rows = Levels(update->batches[0].frame);
  std::vector<Level> emitted_bids = SideAt(rows, kT2, kSideBuy);
  std::vector<Level> emitted_asks = SideAt(rows, kT2, kSideSell);
  ASSERT_EQ(emitted_bids.size(), std::min<size_t>(10, bids.size()));
  ASSERT_EQ(emitted_asks.size(), std::min<size_t>(10, asks.size()));
  EXPECT_LT(emitted_bids[0].price, emitted_asks[0].price);  // uncrossed
  auto bid = bids.begin();
  for (const Level& level : emitted_bids) {
    EXPECT_EQ(level.price, bid->first);
    EXPECT_EQ(level.size, bid->second);
    ++bid;
  }
  auto ask = asks.begin();
  for (const Level& level : emitted_asks) {
    EXPECT_EQ(level.price, ask->first);
    EXPECT_EQ(level.size, ask->second);
    ++ask;
  }
}

TEST(OrderBookRealDataTest, BybitSampleStaysUncrossedWithKnownTouches) {
  ReadOptions options = BookOptions(10);
  options.format = FileFormat::kBybitOrderBook;
  MarketFileReader reader(options);
  Result<ParsedFile> parsed = reader.Read(std::string(VIGIL_SHARED_DATA) +
                                          "/orderbook/bybit_2024-12-01_XRPUSDT_ob500.data");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->rows_read, 50);
  EXPECT_TRUE(parsed->rejects.empty());
  ASSERT_EQ(parsed->batches.size(), 1u);
  std::vector<Level> rows = Levels(parsed->batches[0].frame);
  // 50 messages; both sides always hold >= 10 levels (500-level book).
  ASSERT_EQ(rows.size(), 50u * 20u);
  std::map<int64_t, std::pair<double, double>> touch;  // ts -> (best bid, best ask)
  for (const Level& level : rows) {
    if (level.level != 0) continue;
    (level.side == kSideBuy ? touch[level.ts].first : touch[level.ts].second) = level.price;
  }
  ASSERT_EQ(touch.size(), 50u);
  for (const auto& [ts, best] : touch) EXPECT_LT(best.first, best.second) << ts;
  // Touches computed with a separate Python replay of the same file (snapshot, then
  // deltas with size 0 deleting): first message 1.9531 / 1.9532, last 1.9537 / 1.9538.
  EXPECT_EQ(touch.begin()->second.first, 1.9531);
  EXPECT_EQ(touch.begin()->second.second, 1.9532);
  EXPECT_EQ(touch.rbegin()->second.first, 1.9537);
  EXPECT_EQ(touch.rbegin()->second.second, 1.9538);
}

}  // namespace
}  // namespace vigil::data_internal
