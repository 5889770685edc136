// Liquidation kernels (micro.h): hand-computed window counts, notionals, cascades and
// long shares, eviction by `now`, odd input, and parity on Hyperliquid liquidations.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "features/event_test_util.h"
#include "vigil/core/timestamp.h"
#include "vigil/features/catalogue.h"
#include "vigil/features/micro.h"

namespace vigil {
namespace {

using testing_util::ExpectCatalogueGroup;
using testing_util::ExpectEventPointInTime;
using testing_util::ExpectEventStreamingEqualsBatch;
using testing_util::LoadSharedEvents;
using testing_util::MakeEvents;
using testing_util::RunColumn;

constexpr int64_t kSec = kNanosPerSecond;
constexpr double kLong = 1;
constexpr double kShort = -1;
const double kNaN = std::nan("");

// Rows {ts, side, price, qty, notional, account_value, event_id}.
EventStream HandLiquidations() {
  return MakeEvents(DataKind::kLiquidations, {{10 * kSec, kLong, 100, 1, 100, kNaN, 1},
                                              {20 * kSec, kShort, 100, 2, 200, kNaN, 2},
                                              {20 * kSec, kLong, 50, 1, 50, kNaN, 3},
                                              {30 * kSec, 0, 100, 4, 400, kNaN, 4},
                                              {70 * kSec, kShort, 10, 3, kNaN, kNaN, 5}});
}

std::vector<double> EmitAfter(const EventKernel& kernel, const EventStream& stream, int64_t now) {
  std::unique_ptr<EventKernel> live = kernel.Clone();
  for (const Event& e : stream.events()) live->Observe(0, e);
  std::vector<double> out(kernel.output_names().size());
  live->Emit(now, out);
  return out;
}

TEST(LiquidationTest, CountsBySideOverTheWindow) {
  const EventStream liquidations = HandLiquidations();
  const auto kernel = MakeLiquidationCount(60 * kSec);
  ASSERT_EQ(kernel->output_names(),
            (std::vector<std::string>{"liq_count_long_1m", "liq_count_short_1m", "liq_count_1m"}));
  // At 70s the window (10s, 70s] has dropped the 10s long.
  EXPECT_EQ(RunColumn(*kernel, {&liquidations}, "liq_count_long_1m"),
            (std::vector<double>{1, 1, 2, 2, 1}));
  EXPECT_EQ(RunColumn(*kernel, {&liquidations}, "liq_count_short_1m"),
            (std::vector<double>{0, 1, 1, 1, 2}));
  EXPECT_EQ(RunColumn(*kernel, {&liquidations}, "liq_count_1m"),
            (std::vector<double>{1, 2, 3, 4, 4}));
  // Quiet stream: (70s, 130s] holds only the 70s event at 129s, nothing at 130s.
  EXPECT_EQ(EmitAfter(*kernel, liquidations, 129 * kSec), (std::vector<double>{0, 1, 1}));
  EXPECT_EQ(EmitAfter(*kernel, liquidations, 130 * kSec), (std::vector<double>{0, 0, 0}));
}

TEST(LiquidationTest, NotionalsFallBackToPriceTimesQty) {
  const EventStream liquidations = HandLiquidations();
  const auto kernel = MakeLiquidationNotional(60 * kSec);
  ASSERT_EQ(kernel->output_names(),
            (std::vector<std::string>{"liq_notional_long_1m", "liq_notional_short_1m",
                                      "liq_notional_1m"}));
  EXPECT_EQ(RunColumn(*kernel, {&liquidations}, "liq_notional_long_1m"),
            (std::vector<double>{100, 100, 150, 150, 50}));
  // The 70s event has no notional: 10 * 3 = 30.
  EXPECT_EQ(RunColumn(*kernel, {&liquidations}, "liq_notional_short_1m"),
            (std::vector<double>{0, 200, 200, 200, 230}));
  EXPECT_EQ(RunColumn(*kernel, {&liquidations}, "liq_notional_1m"),
            (std::vector<double>{100, 300, 350, 750, 680}));
  EXPECT_EQ(EmitAfter(*kernel, liquidations, 200 * kSec), (std::vector<double>{0, 0, 0}));
}

TEST(LiquidationTest, CascadeNeedsNInTheWindow) {
  const EventStream liquidations = HandLiquidations();
  const auto kernel = MakeLiquidationCascade(3, 15 * kSec);
  ASSERT_EQ(kernel->output_names(), (std::vector<std::string>{"liq_cascade_3_15s"}));
  // Counts in (t - 15s, t]: 1, 2, 3, 3 ((15s, 30s] holds 20s, 20s, 30s), 1.
  EXPECT_EQ(RunColumn(*kernel, {&liquidations}, "liq_cascade_3_15s"),
            (std::vector<double>{0, 0, 1, 1, 0}));
  // Without the 70s event: (19s, 34s] holds three, (20s, 35s] only the 30s one.
  const EventStream first_four = liquidations.Prefix(4);
  EXPECT_EQ(EmitAfter(*kernel, first_four, 34 * kSec)[0], 1);
  EXPECT_EQ(EmitAfter(*kernel, first_four, 35 * kSec)[0], 0);
}

TEST(LiquidationTest, LongShareIsNaNWithoutNotional) {
  const EventStream liquidations = HandLiquidations();
  const auto kernel = MakeLiquidationLongShare(3600 * kSec);
  ASSERT_EQ(kernel->output_names(), (std::vector<std::string>{"liq_long_share_1h"}));
  const std::vector<double> share = RunColumn(*kernel, {&liquidations}, "liq_long_share_1h");
  ASSERT_EQ(share.size(), 5u);
  EXPECT_EQ(share[0], 1);
  EXPECT_NEAR(share[1], 100.0 / 300, 1e-15);
  EXPECT_NEAR(share[2], 150.0 / 350, 1e-15);
  EXPECT_NEAR(share[3], 150.0 / 350, 1e-15);  // side 0 is left out of the share
  EXPECT_NEAR(share[4], 150.0 / 380, 1e-15);
  EXPECT_TRUE(std::isnan(EmitAfter(*kernel, liquidations, 7200 * kSec)[0]));
  std::vector<double> out(1, 0);
  MakeLiquidationLongShare(60 * kSec)->Emit(0, out);
  EXPECT_TRUE(std::isnan(out[0]));
}

TEST(LiquidationTest, OddInputCountsWithoutNotional) {
  // NaN side, negative notional, NaN notional with NaN price: counted, no notional.
  const EventStream liquidations =
      MakeEvents(DataKind::kLiquidations, {{1 * kSec, kNaN, 10, 1, -5, kNaN, 1},
                                           {1 * kSec, kLong, kNaN, kNaN, kNaN, kNaN, 2},
                                           {1 * kSec, 7, 10, 1, 10, kNaN, 3}});
  EXPECT_EQ(EmitAfter(*MakeLiquidationCount(60 * kSec), liquidations, 1 * kSec),
            (std::vector<double>{2, 0, 3}));  // side 7 reads as long
  EXPECT_EQ(EmitAfter(*MakeLiquidationNotional(60 * kSec), liquidations, 1 * kSec),
            (std::vector<double>{10, 0, 10}));
}

TEST(LiquidationTest, ResetForgetsEverything) {
  const EventStream liquidations = HandLiquidations();
  auto kernel = MakeLiquidationCount(3600 * kSec);
  for (const Event& e : liquidations.events()) kernel->Observe(0, e);
  kernel->Reset();
  std::vector<double> out(3, -1);
  kernel->Emit(100 * kSec, out);
  EXPECT_EQ(out, (std::vector<double>{0, 0, 0}));
}

std::vector<std::unique_ptr<EventKernel>> LiquidationKernels() {
  std::vector<std::unique_ptr<EventKernel>> kernels;
  kernels.push_back(MakeLiquidationCount(300 * kSec));
  kernels.push_back(MakeLiquidationNotional(86400 * kSec));
  kernels.push_back(MakeLiquidationCascade(2, 3600 * kSec));
  kernels.push_back(MakeLiquidationLongShare(7 * 86400 * kSec));
  return kernels;
}

TEST(LiquidationRealDataTest, StreamEqualsBatchAndPointInTimeOnHyperliquid) {
  const EventStream liquidations =
      LoadSharedEvents(DataKind::kLiquidations, "liquidations/hyperliquid_liquidations_2023.csv");
  ASSERT_GT(liquidations.size(), 10u);
  for (const auto& kernel : LiquidationKernels()) {
    SCOPED_TRACE(kernel->output_names()[0]);
    ExpectEventStreamingEqualsBatch(*kernel, {&liquidations});
    ExpectEventPointInTime(*kernel, {&liquidations});
  }
  // The file has no side column: every liquidation counts in the totals only, and the long
  // share (of sided notional) is undefined.
  for (double v :
       RunColumn(*MakeLiquidationCount(300 * kSec), {&liquidations}, "liq_count_long_5m")) {
    EXPECT_EQ(v, 0);
  }
  for (double v :
       RunColumn(*MakeLiquidationLongShare(3600 * kSec), {&liquidations}, "liq_long_share_1h")) {
    EXPECT_TRUE(std::isnan(v));
  }
  // A week of notional is never below the newest liquidation's notional.
  const std::vector<double> total =
      RunColumn(*MakeLiquidationNotional(7 * 86400 * kSec), {&liquidations}, "liq_notional_1w");
  const auto events = liquidations.events();
  for (size_t row = 0; row < events.size(); ++row) {
    EXPECT_GE(total[row], events[row].values[fields::kLiqNotional] * (1 - 1e-12)) << row;
  }
}

// The Hyperliquid websocket fill of a liquidated account: side A (short), 0.001 BTC at
// 66653, so the notional is px * sz.
TEST(LiquidationRealDataTest, HyperliquidWebsocketFillReadsAsShort) {
  const EventStream liquidations = LoadSharedEvents(
      DataKind::kLiquidations, "liquidations/hyperliquid_ws_user_fill_liquidation.json",
      FileFormat::kHyperliquidWs);
  ASSERT_EQ(liquidations.size(), 1u);
  const int64_t at = liquidations.events()[0].ts;
  EXPECT_EQ(EmitAfter(*MakeLiquidationCount(300 * kSec), liquidations, at),
            (std::vector<double>{0, 1, 1}));
  const std::vector<double> notional =
      EmitAfter(*MakeLiquidationNotional(300 * kSec), liquidations, at);
  EXPECT_EQ(notional[0], 0);
  EXPECT_NEAR(notional[1], 66.653, 1e-9);
  EXPECT_EQ(EmitAfter(*MakeLiquidationLongShare(300 * kSec), liquidations, at)[0], 0);
  EXPECT_EQ(EmitAfter(*MakeLiquidationCount(300 * kSec), liquidations, at + 300 * kSec),
            (std::vector<double>{0, 0, 0}));
}

TEST(LiquidationCatalogueTest, EveryEntryBuildsFromDefaultsWithDocumentedNames) {
  const std::map<std::string, std::vector<std::string>> expected = {
      {"liq_count", {"liq_count_long_5m", "liq_count_short_5m", "liq_count_5m"}},
      {"liq_notional", {"liq_notional_long_5m", "liq_notional_short_5m", "liq_notional_5m"}},
      {"liq_cascade", {"liq_cascade_5_1m"}},
      {"liq_long_share", {"liq_long_share_1h"}},
  };
  ExpectCatalogueGroup("liquidation", expected);
  const FeatureInfo* cascade = FindFeature("liq_cascade");
  ASSERT_NE(cascade, nullptr);
  auto values = cascade->Resolve({{"n", "3"}, {"window", "30s"}});
  ASSERT_TRUE(values.ok());
  EXPECT_EQ((*cascade->make(*values))->output_names(),
            (std::vector<std::string>{"liq_cascade_3_30s"}));
}

}  // namespace
}  // namespace vigil
