// Order-book and trade kernels (micro.h): hand-computed values on small books and trade
// tapes, window eviction by `now`, odd input, and streaming = batch and point-in-time
// parity on real order-book and trade files.
#include "vigil/features/micro.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "features/event_test_util.h"
#include "vigil/core/timestamp.h"
#include "vigil/features/catalogue.h"

namespace vigil {
namespace {

using testing_util::ExpectCatalogueGroup;
using testing_util::ExpectEventPointInTime;
using testing_util::ExpectEventStreamingEqualsBatch;
using testing_util::LoadSharedEvents;
using testing_util::MakeEvents;
using testing_util::RunColumn;

constexpr double kBid = 1;
constexpr double kAsk = -1;
constexpr int64_t kSec = kNanosPerSecond;
const double kNaN = std::nan("");

// Feeds every event of `stream` to a fresh clone and emits once at `now`.
std::vector<double> EmitAfter(const EventKernel& kernel, const EventStream& stream, int64_t now) {
  std::unique_ptr<EventKernel> live = kernel.Clone();
  for (const Event& e : stream.events()) live->Observe(0, e);
  std::vector<double> out(kernel.output_names().size());
  live->Emit(now, out);
  return out;
}

void ExpectNear(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << "column " << i << ": " << got[i];
    } else {
      EXPECT_NEAR(got[i], want[i], 1e-12 * (1 + std::fabs(want[i]))) << "column " << i;
    }
  }
}

// Two snapshots: a 2-level book, then one whose best bid rose and best ask is unchanged.
EventStream TwoBooks() {
  return MakeEvents(DataKind::kOrderBook, {{1 * kSec, kBid, 0, 100, 2},
                                           {1 * kSec, kBid, 1, 99, 4},
                                           {1 * kSec, kAsk, 0, 101, 1},
                                           {1 * kSec, kAsk, 1, 102, 3},
                                           {2 * kSec, kBid, 0, 100.5, 5},
                                           {2 * kSec, kBid, 1, 100, 1},
                                           {2 * kSec, kAsk, 0, 101, 3},
                                           {2 * kSec, kAsk, 1, 102, 3}});
}

TEST(MicroBookTest, SpreadMidMicropriceOnHandBook) {
  const EventStream books = TwoBooks();
  EXPECT_EQ(RunColumn(*MakeSpread(), {&books}, "spread"), (std::vector<double>{1, 0.5}));
  const std::vector<double> bps = RunColumn(*MakeSpread(), {&books}, "spread_bps");
  EXPECT_NEAR(bps[0], 1 / 100.5 * 1e4, 1e-9);
  EXPECT_NEAR(bps[1], 0.5 / 100.75 * 1e4, 1e-9);
  EXPECT_EQ(RunColumn(*MakeMid(), {&books}, "mid"), (std::vector<double>{100.5, 100.75}));
  // (100 * 1 + 101 * 2) / 3 and (100.5 * 3 + 101 * 5) / 8
  const std::vector<double> micro = RunColumn(*MakeMicroprice(), {&books}, "microprice");
  EXPECT_NEAR(micro[0], 302.0 / 3, 1e-12);
  EXPECT_NEAR(micro[1], (301.5 + 505) / 8, 1e-12);
}

TEST(MicroBookTest, ImbalanceAndDepthPressureOnHandBook) {
  const EventStream books = TwoBooks();
  // Top 1: (2 - 1) / 3, (5 - 3) / 8; top 5 (only 2 levels): (6 - 4) / 10, (6 - 6) / 12.
  const std::vector<double> top1 = RunColumn(*MakeBookImbalance(1), {&books}, "imbalance_1");
  EXPECT_NEAR(top1[0], 1.0 / 3, 1e-15);
  EXPECT_NEAR(top1[1], 0.25, 1e-15);
  EXPECT_EQ(RunColumn(*MakeBookImbalance(5), {&books}, "imbalance_5"),
            (std::vector<double>{0.2, 0}));
  // Bw = 100*2 + 99*4/2 = 398, Aw = 101*1 + 102*3/2 = 254.
  const std::vector<double> pressure =
      RunColumn(*MakeDepthPressure(10), {&books}, "depth_pressure_10");
  EXPECT_NEAR(pressure[0], (398.0 - 254) / (398 + 254), 1e-15);
  // Bw = 100.5*5 + 100*1/2 = 552.5, Aw = 101*3 + 102*3/2 = 456.
  EXPECT_NEAR(pressure[1], (552.5 - 456) / (552.5 + 456), 1e-15);
}

TEST(MicroBookTest, CrossedEmptyAndZeroSizeBooks) {
  const EventStream books = MakeEvents(DataKind::kOrderBook, {
                                                                 // crossed
                                                                 {1 * kSec, kBid, 0, 101, 1},
                                                                 {1 * kSec, kAsk, 0, 100, 3},
                                                                 // bids only
                                                                 {2 * kSec, kBid, 0, 100, 2},
                                                                 // zero sizes
                                                                 {3 * kSec, kBid, 0, 99, 0},
                                                                 {3 * kSec, kAsk, 0, 101, 0},
                                                             });
  EXPECT_EQ(RunColumn(*MakeSpread(), {&books}, "spread")[0], -1);
  const std::vector<double> spread = RunColumn(*MakeSpread(), {&books}, "spread");
  EXPECT_TRUE(std::isnan(spread[1]));
  EXPECT_EQ(spread[2], 2);
  const std::vector<double> mid = RunColumn(*MakeMid(), {&books}, "mid");
  EXPECT_EQ(mid[0], 100.5);
  EXPECT_TRUE(std::isnan(mid[1]));
  const std::vector<double> micro = RunColumn(*MakeMicroprice(), {&books}, "microprice");
  EXPECT_NEAR(micro[0], (101.0 * 3 + 100 * 1) / 4, 1e-12);
  EXPECT_TRUE(std::isnan(micro[1]));
  EXPECT_TRUE(std::isnan(micro[2]));  // no size at either best level
  const std::vector<double> imbalance = RunColumn(*MakeBookImbalance(5), {&books}, "imbalance_5");
  EXPECT_EQ(imbalance[0], -0.5);
  EXPECT_EQ(imbalance[1], 1);  // one-sided book
  EXPECT_TRUE(std::isnan(imbalance[2]));
  const std::vector<double> pressure =
      RunColumn(*MakeDepthPressure(3), {&books}, "depth_pressure_3");
  EXPECT_EQ(pressure[1], 1);
  EXPECT_TRUE(std::isnan(pressure[2]));
}

TEST(MicroBookTest, NaNBeforeTheFirstSnapshotAndAfterReset) {
  std::vector<std::unique_ptr<EventKernel>> kernels;
  kernels.push_back(MakeSpread());
  kernels.push_back(MakeMid());
  kernels.push_back(MakeMicroprice());
  kernels.push_back(MakeBookImbalance(5));
  kernels.push_back(MakeDepthPressure(10));
  kernels.push_back(MakeOrderFlowImbalance(60 * kSec));
  for (const auto& kernel : kernels) {
    std::vector<double> out(kernel->output_names().size(), 0);
    kernel->Emit(0, out);
    for (double v : out) EXPECT_TRUE(std::isnan(v)) << kernel->output_names()[0];
    const EventStream books = TwoBooks();
    for (const Event& e : books.events()) kernel->Observe(0, e);
    kernel->Reset();
    kernel->Emit(3 * kSec, out);
    for (double v : out) EXPECT_TRUE(std::isnan(v)) << kernel->output_names()[0];
  }
}

TEST(MicroBookTest, OfiFollowsContKukanovStoikov) {
  // Snapshots: (bid, bid size, ask, ask size)
  //   t1 100 x 2 / 101 x 1
  //   t2 100.5 x 5 / 101 x 3  bid up: +5; ask same: -3 + 1        -> e = 3
  //   t3 100.5 x 4 / 100.8 x 2  bid same: +4 - 5; ask down: -2   -> e = -3
  //   t4 100 x 7 / 101.2 x 6  bid down: -4; ask up: +2           -> e = -2
  const EventStream books = MakeEvents(DataKind::kOrderBook, {{1 * kSec, kBid, 0, 100, 2},
                                                              {1 * kSec, kAsk, 0, 101, 1},
                                                              {2 * kSec, kBid, 0, 100.5, 5},
                                                              {2 * kSec, kAsk, 0, 101, 3},
                                                              {3 * kSec, kBid, 0, 100.5, 4},
                                                              {3 * kSec, kAsk, 0, 100.8, 2},
                                                              {4 * kSec, kBid, 0, 100, 7},
                                                              {4 * kSec, kAsk, 0, 101.2, 6}});
  const std::vector<double> ofi = RunColumn(*MakeOrderFlowImbalance(60 * kSec), {&books}, "ofi_1m");
  ASSERT_EQ(ofi.size(), 4u);
  EXPECT_TRUE(std::isnan(ofi[0]));
  EXPECT_EQ(ofi[1], 3);
  EXPECT_EQ(ofi[2], 0);
  EXPECT_EQ(ofi[3], -2);
  // A 2s window at t4 holds the events of t3 and t4 only.
  EXPECT_EQ(RunColumn(*MakeOrderFlowImbalance(2 * kSec), {&books}, "ofi_2s")[3], -5);
  // Quiet stream: the window empties by `now` alone. (now - 60s, now] still holds t4 at
  // now = 63s, nothing at 64s.
  auto kernel = MakeOrderFlowImbalance(60 * kSec);
  EXPECT_EQ(EmitAfter(*kernel, books, 62 * kSec)[0], -5);  // t3, t4
  EXPECT_EQ(EmitAfter(*kernel, books, 63 * kSec)[0], -2);  // t4
  EXPECT_EQ(EmitAfter(*kernel, books, 64 * kSec)[0], 0);
}

TEST(MicroBookTest, OfiSkipsSnapshotsWithoutBestLevels) {
  const EventStream books = MakeEvents(DataKind::kOrderBook, {{1 * kSec, kBid, 0, 100, 2},
                                                              {1 * kSec, kAsk, 0, 101, 1},
                                                              {2 * kSec, kBid, 0, 100, 9},
                                                              {3 * kSec, kBid, 0, 100, 3},
                                                              {3 * kSec, kAsk, 0, 101, 1},
                                                              {4 * kSec, kBid, 0, 100, 4},
                                                              {4 * kSec, kAsk, 0, 101, 1}});
  // t2 has no ask: no contribution, and t3 has no predecessor; t4: +4 - 3 = 1.
  const std::vector<double> ofi = RunColumn(*MakeOrderFlowImbalance(60 * kSec), {&books}, "ofi_1m");
  EXPECT_TRUE(std::isnan(ofi[1]));
  EXPECT_TRUE(std::isnan(ofi[2]));
  EXPECT_EQ(ofi[3], 1);
}

// Trades: {ts, price, qty, side, trade_id}.
EventStream HandTrades() {
  return MakeEvents(DataKind::kTrades, {{1 * kSec, 100, 2, 1, 1},
                                        {2 * kSec, 100, 1, -1, 2},
                                        {2 * kSec, 100, 3, 0, 3},
                                        {5 * kSec, 100, 4, 1, 4}});
}

TEST(MicroTradeTest, TradeIntensityOnHandTape) {
  const EventStream trades = HandTrades();
  auto kernel = MakeTradeIntensity(3 * kSec);
  EXPECT_EQ(kernel->output_names(),
            (std::vector<std::string>{"trade_count_3s", "trade_volume_3s", "trade_imbalance_3s"}));
  EXPECT_EQ(RunColumn(*kernel, {&trades}, "trade_count_3s"), (std::vector<double>{1, 2, 3, 1}));
  EXPECT_EQ(RunColumn(*kernel, {&trades}, "trade_volume_3s"), (std::vector<double>{2, 3, 6, 4}));
  // Side 0 counts in the total only: (2 - 1) / 6 at the third row.
  const std::vector<double> imbalance = RunColumn(*kernel, {&trades}, "trade_imbalance_3s");
  EXPECT_EQ(imbalance[0], 1);
  EXPECT_NEAR(imbalance[1], 1.0 / 3, 1e-15);
  EXPECT_NEAR(imbalance[2], 1.0 / 6, 1e-15);
  EXPECT_EQ(imbalance[3], 1);
  // Eviction by `now` alone: at 7s the window (4s, 7s] holds the 5s trade; at 8s nothing.
  ExpectNear(EmitAfter(*kernel, trades, 7 * kSec), {1, 4, 1});
  ExpectNear(EmitAfter(*kernel, trades, 8 * kSec), {0, 0, kNaN});
}

TEST(MicroTradeTest, TradeIntensityTreatsOddQuantitiesAsZero) {
  const EventStream trades = MakeEvents(
      DataKind::kTrades,
      {{1 * kSec, 100, kNaN, 1, 1}, {1 * kSec, 100, -5, -1, 2}, {1 * kSec, 100, 2, kNaN, 3}});
  ExpectNear(EmitAfter(*MakeTradeIntensity(60 * kSec), trades, 1 * kSec), {3, 2, 0});
  // Before any trade the window is empty.
  auto kernel = MakeTradeIntensity(60 * kSec);
  std::vector<double> out(3);
  kernel->Emit(0, out);
  ExpectNear(out, {0, 0, kNaN});
}

TEST(MicroTradeTest, VpinWithFixedBucketsSplitsTrades) {
  // V = 2, 2 buckets. Trades: buy 3 -> bucket 1 = 2 buy (|2|), 1 buy carried;
  // sell 1 -> bucket 2 = 1 buy + 1 sell (|0|): VPIN = (2 + 0) / (2 * 2) = 0.5.
  // side-0 5 -> bucket 3 = 2 unknown (0), bucket 4 = 2 unknown (0), 1 carried:
  // last two buckets (0, 0) -> 0. buy 1 -> bucket 5 = 1 unknown + 1 buy (|1|): 1 / 4.
  const EventStream trades = MakeEvents(DataKind::kTrades, {{1 * kSec, 100, 3, 1, 1},
                                                            {2 * kSec, 100, 1, -1, 2},
                                                            {3 * kSec, 100, 5, 0, 3},
                                                            {4 * kSec, 100, 1, 1, 4}});
  const std::vector<double> vpin = RunColumn(*MakeVpin(2, 2), {&trades}, "vpin_2");
  ASSERT_EQ(vpin.size(), 4u);
  EXPECT_TRUE(std::isnan(vpin[0]));  // one bucket complete
  EXPECT_EQ(vpin[1], 0.5);
  EXPECT_EQ(vpin[2], 0);
  EXPECT_EQ(vpin[3], 0.25);
}

TEST(MicroTradeTest, VpinHugeTradeFillsOnlyTheBucketsThatMatter) {
  const EventStream trades =
      MakeEvents(DataKind::kTrades, {{1 * kSec, 100, 1e12, -1, 1}, {2 * kSec, 100, 0.5, 1, 2}});
  const std::vector<double> vpin = RunColumn(*MakeVpin(3, 1), {&trades}, "vpin_3");
  EXPECT_EQ(vpin[0], 1);  // every bucket one-sided
  EXPECT_EQ(vpin[1], 1);  // the open bucket does not count
}

TEST(MicroTradeTest, VpinCalibratesFromTheFirstTrades) {
  // 100 buys of qty 1 (plus zero-qty trades, which do not count): V = 50. Then 100 sells.
  std::vector<std::vector<double>> rows;
  for (int i = 0; i < 100; ++i) {
    rows.push_back({static_cast<double>(i) * kSec, 100, 1, 1, 2.0 * i});
    rows.push_back({static_cast<double>(i) * kSec, 100, 0, -1, 2.0 * i + 1});
  }
  for (int i = 100; i < 200; ++i)
    rows.push_back({static_cast<double>(i) * kSec, 100, 1, -1, 1000.0 + i});
  const EventStream trades = MakeEvents(DataKind::kTrades, rows);
  const std::vector<double> vpin = RunColumn(*MakeVpin(4, 0), {&trades}, "vpin_4");
  ASSERT_EQ(vpin.size(), 300u);
  // Buckets complete at the 50th, 100th buy and after 50 and 100 sells; all one-sided.
  EXPECT_TRUE(std::isnan(vpin[248]));
  EXPECT_EQ(vpin[299], 1);
  // With V = 50 fixed the same answer comes out.
  EXPECT_EQ(RunColumn(*MakeVpin(4, 50), {&trades}, "vpin_4")[299], 1);
}

// --- real data ---

struct RealFile {
  DataKind kind;
  const char* path;
  FileFormat format;
};

// Files the readers turn into more than one snapshot (binance_btcusdt-depth-snap.csv and
// the Tardis incremental L2 sample hold a single book, so they cannot show parity).
constexpr RealFile kBookFiles[] = {
    {DataKind::kOrderBook, "orderbook/tardis_binance-futures_book_snapshot_5_BTCUSDT.csv",
     FileFormat::kAuto},
    {DataKind::kOrderBook, "orderbook/tardis_binance-futures_book_snapshot_25_BTCUSDT.csv",
     FileFormat::kAuto},
    {DataKind::kOrderBook, "orderbook/binance_btcusdt-quotes.csv", FileFormat::kAuto},  // L1
    {DataKind::kOrderBook, "orderbook/bybit_2024-12-01_XRPUSDT_ob500.data", FileFormat::kAuto},
    {DataKind::kOrderBook, "orderbook/hftbacktest_hyperliquid_btcusd_20250126.gz",
     FileFormat::kHftbacktest},
    // 3,432 books rebuilt from Binance spot depth diffs (~0.3 s to read)
    {DataKind::kOrderBook, "orderbook/hftbacktest_spot_ethusdt_20240808.gz",
     FileFormat::kHftbacktest},
};

constexpr RealFile kTradeFiles[] = {
    {DataKind::kTrades, "trades/binance_btcusdt-trades.csv", FileFormat::kAuto},
    {DataKind::kTrades, "trades/tardis_bitmex_trades_XBTUSD.csv", FileFormat::kAuto},
    {DataKind::kTrades, "trades/hyperliquid_non_mm_trades.csv", FileFormat::kAuto},
};

std::vector<std::unique_ptr<EventKernel>> BookKernels() {
  std::vector<std::unique_ptr<EventKernel>> kernels;
  kernels.push_back(MakeSpread());
  kernels.push_back(MakeMid());
  kernels.push_back(MakeMicroprice());
  kernels.push_back(MakeBookImbalance(5));
  kernels.push_back(MakeDepthPressure(10));
  kernels.push_back(MakeOrderFlowImbalance(kSec));
  kernels.push_back(MakeOrderFlowImbalance(60 * kSec));
  return kernels;
}

std::vector<std::unique_ptr<EventKernel>> TradeKernels() {
  std::vector<std::unique_ptr<EventKernel>> kernels;
  kernels.push_back(MakeTradeIntensity(kSec));
  kernels.push_back(MakeTradeIntensity(300 * kSec));
  kernels.push_back(MakeVpin(50, 0));
  kernels.push_back(MakeVpin(5, 0));
  return kernels;
}

void ExpectParityOn(const RealFile& file, std::vector<std::unique_ptr<EventKernel>> kernels) {
  SCOPED_TRACE(file.path);
  const EventStream events = LoadSharedEvents(file.kind, file.path, file.format);
  ASSERT_GT(events.size(), 1u);
  for (const auto& kernel : kernels) {
    SCOPED_TRACE(kernel->output_names()[0]);
    ExpectEventStreamingEqualsBatch(*kernel, {&events});
    ExpectEventPointInTime(*kernel, {&events}, 5);
  }
}

TEST(MicroRealDataTest, BookKernelsStreamEqualsBatchAndPointInTime) {
  for (const RealFile& file : kBookFiles) ExpectParityOn(file, BookKernels());
}

TEST(MicroRealDataTest, TradeKernelsStreamEqualsBatchAndPointInTime) {
  for (const RealFile& file : kTradeFiles) ExpectParityOn(file, TradeKernels());
}

TEST(MicroRealDataTest, BookValuesAreSaneOnTardisSnapshots) {
  const EventStream books = LoadSharedEvents(
      DataKind::kOrderBook, "orderbook/tardis_binance-futures_book_snapshot_5_BTCUSDT.csv");
  ASSERT_EQ(books.size(), 10u);
  // First row: bid 11657.07 x 10.896, ask 11657.08 x 1.714.
  EXPECT_NEAR(RunColumn(*MakeSpread(), {&books}, "spread")[0], 0.01, 1e-9);
  EXPECT_NEAR(RunColumn(*MakeMicroprice(), {&books}, "microprice")[0],
              (11657.07 * 1.714 + 11657.08 * 10.896) / (10.896 + 1.714), 1e-9);
  for (double v : RunColumn(*MakeBookImbalance(5), {&books}, "imbalance_5")) {
    EXPECT_GE(v, -1);
    EXPECT_LE(v, 1);
  }
}

TEST(MicroRealDataTest, VpinBecomesDefinedOnHyperliquidTrades) {
  const EventStream trades =
      LoadSharedEvents(DataKind::kTrades, "trades/hyperliquid_non_mm_trades.csv");
  const std::vector<double> vpin = RunColumn(*MakeVpin(50, 0), {&trades}, "vpin_50");
  ASSERT_FALSE(vpin.empty());
  EXPECT_TRUE(std::isnan(vpin.front()));
  EXPECT_FALSE(std::isnan(vpin.back()));
  EXPECT_GE(vpin.back(), 0);
  EXPECT_LE(vpin.back(), 1);
}

// --- catalogue ---

TEST(MicroCatalogueTest, EveryEntryBuildsFromDefaultsWithDocumentedNames) {
  const std::map<std::string, std::vector<std::string>> expected = {
      {"spread", {"spread", "spread_bps"}},
      {"mid", {"mid"}},
      {"microprice", {"microprice"}},
      {"imbalance", {"imbalance_5"}},
      {"depth_pressure", {"depth_pressure_10"}},
      {"ofi", {"ofi_1m"}},
      {"trade_intensity", {"trade_count_1m", "trade_volume_1m", "trade_imbalance_1m"}},
      {"vpin", {"vpin_50"}},
  };
  ExpectCatalogueGroup("micro", expected);
}

TEST(MicroCatalogueTest, ParametersReachTheNames) {
  const FeatureInfo* ofi = FindFeature("ofi");
  ASSERT_NE(ofi, nullptr);
  auto values = ofi->Resolve({{"window", "30s"}});
  ASSERT_TRUE(values.ok());
  EXPECT_EQ((*ofi->make(*values))->output_names(), (std::vector<std::string>{"ofi_30s"}));
  const FeatureInfo* vpin = FindFeature("vpin");
  ASSERT_NE(vpin, nullptr);
  EXPECT_FALSE(vpin->Resolve({{"bucket_volume", "-1"}}).ok());
  auto vpin_values = vpin->Resolve({{"buckets", "20"}, {"bucket_volume", "2.5"}});
  ASSERT_TRUE(vpin_values.ok());
  EXPECT_EQ((*vpin->make(*vpin_values))->output_names(), (std::vector<std::string>{"vpin_20"}));
  const FeatureInfo* imbalance = FindFeature("imbalance");
  ASSERT_NE(imbalance, nullptr);
  EXPECT_FALSE(imbalance->Resolve({{"levels", "0"}}).ok());
}

}  // namespace
}  // namespace vigil
