#include "vigil/pipeline/labels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "vigil/core/rng.h"
#include "vigil/core/timestamp.h"
#include "vigil/data/reader.h"

namespace vigil {
namespace {

constexpr int64_t kMinute = kNanosPerMinute;

std::vector<int64_t> Minutes(std::initializer_list<int64_t> minutes) {
  std::vector<int64_t> ts;
  for (int64_t m : minutes) ts.push_back(m * kMinute);
  return ts;
}

TEST(LabelsTest, DirectionByBars) {
  const std::vector<int64_t> ts = Minutes({0, 1, 2, 3, 4});
  const std::vector<double> price = {100, 101, 99, 102, 102};
  LabelOptions options;
  options.horizon_bars = 2;
  auto labels = ComputeLabels(options, ts, price);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  // 100 -> 99 down, 101 -> 102 up, 99 -> 102 up, then the horizon runs off the data.
  EXPECT_EQ(labels->values[0], 0.0);
  EXPECT_EQ(labels->values[1], 1.0);
  EXPECT_EQ(labels->values[2], 1.0);
  EXPECT_TRUE(std::isnan(labels->values[3]));
  EXPECT_TRUE(std::isnan(labels->values[4]));
  EXPECT_EQ(labels->windows.end_ts[0], 2 * kMinute);
  EXPECT_FALSE(labels->windows.label_complete(3));
  EXPECT_TRUE(labels->windows.label_complete(2));
}

TEST(LabelsTest, DirectionThresholdIsOnTheLogReturn) {
  const std::vector<int64_t> ts = Minutes({0, 1});
  const std::vector<double> price = {100, 101};
  LabelOptions options;
  options.horizon_bars = 1;
  options.threshold = std::log(1.01);  // exactly the move: not above it
  EXPECT_EQ(ComputeLabels(options, ts, price)->values[0], 0.0);
  options.threshold = std::log(1.0099);
  EXPECT_EQ(ComputeLabels(options, ts, price)->values[0], 1.0);
}

TEST(LabelsTest, ForwardReturnByTimeAcrossAGap) {
  // A gap after minute 2: the 5-minute horizon of minute 1 ends on the last row at or
  // before minute 6, which is minute 2.
  const std::vector<int64_t> ts = Minutes({0, 1, 2, 10, 11, 12, 20});
  const std::vector<double> price = {100, 110, 120, 130, 140, 150, 160};
  LabelOptions options;
  options.kind = LabelKind::kForwardReturn;
  options.horizon_ns = 5 * kMinute;
  auto labels = ComputeLabels(options, ts, price);
  ASSERT_TRUE(labels.ok());
  EXPECT_DOUBLE_EQ(labels->values[0], std::log(120.0 / 100.0));
  EXPECT_DOUBLE_EQ(labels->values[1], std::log(120.0 / 110.0));
  EXPECT_DOUBLE_EQ(labels->values[3], std::log(150.0 / 130.0));
  EXPECT_EQ(labels->windows.end_ts[1], 2 * kMinute);
  // Minute 20's horizon (to 25) passes the data's end (20): incomplete, not shortened.
  EXPECT_TRUE(std::isnan(labels->values[6]));
  // Minute 12's horizon (to 17) is inside the data but holds no later row: no move.
  EXPECT_EQ(labels->values[5], 0.0);
}

TEST(LabelsTest, TiesEndOnTheLastRowOfTheStamp) {
  const std::vector<int64_t> ts = Minutes({0, 1, 1, 2});
  const std::vector<double> price = {100, 90, 110, 100};
  LabelOptions options;
  options.kind = LabelKind::kForwardReturn;
  options.horizon_ns = kMinute;
  auto labels = ComputeLabels(options, ts, price);
  ASSERT_TRUE(labels.ok());
  EXPECT_DOUBLE_EQ(labels->values[0], std::log(110.0 / 100.0));
}

TEST(LabelsTest, NonPositivePricesGiveNaN) {
  const std::vector<int64_t> ts = Minutes({0, 1, 2});
  const std::vector<double> price = {0, 1, std::nan("")};
  LabelOptions options;
  options.horizon_bars = 1;
  auto labels = ComputeLabels(options, ts, price);
  ASSERT_TRUE(labels.ok());
  EXPECT_TRUE(std::isnan(labels->values[0]));
  EXPECT_TRUE(std::isnan(labels->values[1]));
}

TEST(LabelsTest, NoneReadsNoFuture) {
  const std::vector<int64_t> ts = Minutes({0, 1, 2});
  LabelOptions options;
  options.kind = LabelKind::kNone;
  auto labels = ComputeLabels(options, ts, std::vector<double>{1, 2, 3});
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->values, std::vector<double>(3, 0.0));
  EXPECT_EQ(labels->windows.end_ts, ts);
}

// A label never depends on data after its horizon: labels on any prefix of the data equal
// the full-data labels wherever the prefix has them.
TEST(LabelsTest, PointInTimeOnEveryPrefix) {
  Rng rng(5);
  std::vector<int64_t> ts;
  std::vector<double> price;
  int64_t t = 0;
  double p = 100;
  for (int i = 0; i < 400; ++i) {
    t += (1 + rng.UniformInt(0, 2)) * kMinute;  // irregular spacing
    p *= 1 + (rng.UniformInt(0, 200) - 100) * 1e-4;
    ts.push_back(t);
    price.push_back(p);
  }
  for (LabelOptions options : {LabelOptions{LabelKind::kDirection, 7, 0},
                               LabelOptions{LabelKind::kForwardReturn, 0, 9 * kMinute}}) {
    auto full = ComputeLabels(options, ts, price);
    ASSERT_TRUE(full.ok());
    for (size_t n : {1u, 50u, 199u, 333u}) {
      auto prefix = ComputeLabels(options, std::span(ts).first(n), std::span(price).first(n));
      ASSERT_TRUE(prefix.ok());
      for (size_t row = 0; row < n; ++row) {
        if (std::isnan(prefix->values[row])) continue;
        EXPECT_EQ(prefix->values[row], full->values[row]) << "row " << row << " of " << n;
        EXPECT_EQ(prefix->windows.end_ts[row], full->windows.end_ts[row]);
      }
    }
  }
}

TEST(LabelsTest, Errors) {
  const std::vector<int64_t> ts = Minutes({0, 1});
  const std::vector<double> price = {1, 2};
  LabelOptions none_given;
  EXPECT_NE(ComputeLabels(none_given, ts, price).status().message().find("exactly one"),
            std::string::npos);
  LabelOptions both;
  both.horizon_bars = 1;
  both.horizon_ns = kMinute;
  EXPECT_FALSE(ComputeLabels(both, ts, price).ok());
  LabelOptions ok;
  ok.horizon_bars = 1;
  EXPECT_FALSE(ComputeLabels(ok, ts, std::vector<double>{1}).ok());
  EXPECT_FALSE(ComputeLabels(ok, Minutes({1, 0}), price).ok());
  EXPECT_FALSE(ParseLabelKind("up").ok());
  EXPECT_EQ(*ParseLabelKind("forward_return"), LabelKind::kForwardReturn);
}

// ---------------------------------------------------------------------------------------
// Risk kinds: hand-computed cases
// ---------------------------------------------------------------------------------------

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Leverage 4 and maintenance margin 1/8 keep the liquidation prices exact: long 7/8 and
// short 9/8 of the close.
LabelOptions LiquidationOptions(PositionSide side, int64_t horizon_minutes) {
  LabelOptions options;
  options.kind = LabelKind::kLiquidation;
  options.horizon_ns = horizon_minutes * kMinute;
  options.leverage = 4;
  options.maintenance_margin = 0.125;
  options.side = side;
  return options;
}

// Minute 4 is missing; the last two rows' 2-minute horizons run past the data.
struct LiquidationCase {
  std::vector<int64_t> ts = Minutes({0, 1, 2, 3, 5, 6});
  std::vector<double> close = {80, 80, 80, 72, 80, 80};
  std::vector<double> high = {81, 85, 90, 73, 100, 81};
  std::vector<double> low = {79, 75, 70, 71, 60, 79};
  LabelInputs inputs() const {
    LabelInputs in;
    in.ts = ts;
    in.close = close;
    in.high = high;
    in.low = low;
    return in;
  }
};

void ExpectValues(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t row = 0; row < expected.size(); ++row) {
    if (std::isnan(expected[row])) {
      EXPECT_TRUE(std::isnan(actual[row])) << "row " << row << ": " << actual[row];
    } else {
      EXPECT_EQ(actual[row], expected[row]) << "row " << row;
    }
  }
}

TEST(LabelsTest, LiquidationLongAcrossAGapWithATouch) {
  LiquidationCase data;
  auto labels = ComputeLabels(LiquidationOptions(PositionSide::kLong, 2), data.inputs());
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  ExpectValues(labels->liquidation_price, {70, 70, 70, 63, 70, 70});
  // Row 0: the low of row 2 touches 70 exactly (a touch liquidates). Row 2: its horizon
  // (to minute 4) holds only row 3, whose low 71 stays above. Row 3: minute 5's low 60.
  ExpectValues(labels->values, {1, 1, 0, 1, kNaN, kNaN});
  ExpectValues(labels->time_to_event_ns,
               {2.0 * kMinute, 1.0 * kMinute, kNaN, 2.0 * kMinute, kNaN, kNaN});
  EXPECT_EQ(labels->windows.end_ts[2], 3 * kMinute);
  EXPECT_FALSE(labels->windows.label_complete(4));
}

TEST(LabelsTest, LiquidationShortReadsHighs) {
  LiquidationCase data;
  auto labels = ComputeLabels(LiquidationOptions(PositionSide::kShort, 2), data.inputs());
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  ExpectValues(labels->liquidation_price, {90, 90, 90, 81, 90, 90});
  ExpectValues(labels->values, {1, 1, 0, 1, kNaN, kNaN});
  ExpectValues(labels->time_to_event_ns,
               {2.0 * kMinute, 1.0 * kMinute, kNaN, 2.0 * kMinute, kNaN, kNaN});
}

TEST(LabelsTest, LiquidationUnusablePricesAndTies) {
  LiquidationCase data;
  data.close[1] = 0;   // row 1 has no entry price
  data.low[2] = kNaN;  // row 0 reads it before any crossing: undecided
  data.low[4] = -1;    // row 3 reads it: undecided
  auto labels = ComputeLabels(LiquidationOptions(PositionSide::kLong, 2), data.inputs());
  ASSERT_TRUE(labels.ok());
  ExpectValues(labels->values, {kNaN, kNaN, 0, kNaN, kNaN, kNaN});
  EXPECT_TRUE(std::isnan(labels->liquidation_price[1]));
  // A bad bar after the first crossing is never read.
  LiquidationCase later;
  later.low[1] = 60;
  later.low[2] = kNaN;
  labels = ComputeLabels(LiquidationOptions(PositionSide::kLong, 2), later.inputs());
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->values[0], 1);
  EXPECT_EQ(labels->time_to_event_ns[0], 1.0 * kMinute);
  // Rows sharing a stamp: row 0's 1-minute horizon ends on the last row of minute 1, and
  // a crossing on a tie of the entry's own stamp takes zero time.
  LabelInputs ties;
  const std::vector<int64_t> ts = Minutes({0, 0, 1, 1});
  const std::vector<double> close = {80, 80, 80, 80};
  const std::vector<double> high = {80, 80, 80, 80};
  const std::vector<double> low = {80, 70, 80, 60};
  ties.ts = ts;
  ties.close = close;
  ties.high = high;
  ties.low = low;
  labels = ComputeLabels(LiquidationOptions(PositionSide::kLong, 1), ties);
  ASSERT_TRUE(labels.ok());
  ExpectValues(labels->values, {1, 1, kNaN, kNaN});
  ExpectValues(labels->time_to_event_ns, {0, 1.0 * kMinute, kNaN, kNaN});
}

TEST(LabelsTest, LiquidationOptionErrors) {
  LiquidationCase data;
  LabelOptions options = LiquidationOptions(PositionSide::kLong, 2);
  options.leverage = 1;
  EXPECT_NE(ComputeLabels(options, data.inputs()).status().message().find("leverage"),
            std::string::npos);
  options.leverage = 4;
  options.maintenance_margin = 0.25;  // = 1/L: liquidated at entry
  EXPECT_NE(ComputeLabels(options, data.inputs()).status().message().find("maintenance_margin"),
            std::string::npos);
  options.maintenance_margin = -0.01;
  EXPECT_FALSE(ComputeLabels(options, data.inputs()).ok());
  options.maintenance_margin = 0;
  EXPECT_TRUE(ComputeLabels(options, data.inputs()).ok());
  LabelInputs no_lows = data.inputs();
  no_lows.low = {};
  EXPECT_NE(ComputeLabels(options, no_lows).status().message().find("'low'"), std::string::npos);
  // The one-series overload has no highs or lows to give.
  EXPECT_NE(ComputeLabels(options, data.ts, data.close).status().message().find("'high'"),
            std::string::npos);
  EXPECT_FALSE(ParsePositionSide("flat").ok());
  EXPECT_EQ(*ParsePositionSide("short"), PositionSide::kShort);
  EXPECT_EQ(*ParseLabelKind("protocol_risk"), LabelKind::kProtocolRisk);
}

double SampleStd(std::vector<double> x) {
  double mean = 0;
  for (double v : x) mean += v / x.size();
  double squares = 0;
  for (double v : x) squares += (v - mean) * (v - mean);
  return std::sqrt(squares / (x.size() - 1));
}

TEST(LabelsTest, CrashAgainstTrailingVolatility) {
  const std::vector<int64_t> ts = Minutes({0, 1, 2, 3, 4, 5});
  const std::vector<double> close = {100, 110, 100, 110, 90, 90};
  LabelOptions options;
  options.kind = LabelKind::kCrash;
  options.horizon_bars = 1;
  options.crash_k = 1;
  options.vol_window = 2;
  auto labels = ComputeLabels(options, ts, close);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  const double up = std::log(1.1);
  const double sigma2 = SampleStd({up, std::log(100.0 / 110)});
  const double sigma3 = SampleStd({std::log(100.0 / 110), up});
  const double sigma4 = SampleStd({up, std::log(90.0 / 110)});
  // Rows 0 and 1 lack two trailing returns; row 2 rises; row 3 falls 18% against a 13%
  // threshold; row 4 is flat; row 5's horizon runs off the data.
  ExpectValues(labels->values, {kNaN, kNaN, 0, 1, 0, kNaN});
  ASSERT_EQ(labels->details.size(), 2u);
  EXPECT_EQ(labels->details[0].name, "forward_return");
  EXPECT_EQ(labels->details[1].name, "threshold");
  EXPECT_NEAR(labels->details[1].values[2], -sigma2, 1e-15);
  EXPECT_NEAR(labels->details[1].values[3], -sigma3, 1e-15);
  EXPECT_NEAR(labels->details[1].values[4], -sigma4, 1e-15);
  EXPECT_NEAR(labels->details[0].values[3], std::log(90.0 / 110), 1e-15);
  EXPECT_TRUE(std::isnan(labels->details[0].values[1]));
}

TEST(LabelsTest, CrashThresholdScalesWithRowsAheadAndNeverReadsTheFutureVolatility) {
  Rng rng(11);
  std::vector<int64_t> ts;
  std::vector<double> close;
  double p = 50;
  for (int i = 0; i < 300; ++i) {
    ts.push_back((i + (i > 150 ? 7 : 0)) * kMinute);  // a 7-minute gap after row 150
    p *= 1 + (rng.UniformInt(0, 200) - 100) * 1e-4;
    close.push_back(p);
  }
  LabelOptions options;
  options.kind = LabelKind::kCrash;
  options.horizon_ns = 10 * kMinute;
  options.vol_window = 20;
  auto full = ComputeLabels(options, ts, close);
  ASSERT_TRUE(full.ok());
  // Scrambling every price after row r leaves row r's threshold as it was: sigma_r reads
  // rows <= r only, and the row count ahead depends on timestamps alone.
  for (size_t r : {20u, 77u, 148u, 151u, 250u}) {
    std::vector<double> scrambled = close;
    for (size_t k = r + 1; k < scrambled.size(); ++k) scrambled[k] = 1 + rng.UniformInt(1, 100);
    auto other = ComputeLabels(options, ts, scrambled);
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(other->details[1].values[r], full->details[1].values[r]) << "row " << r;
  }
  // Row 148 (minute 148) ends at minute 158 = row 151 (stamps 148..150, then 158).
  const double sigma = -full->details[1].values[148] / (options.crash_k * std::sqrt(3.0));
  const double sigma_no_gap = -full->details[1].values[100] / (options.crash_k * std::sqrt(10.0));
  EXPECT_GT(sigma, 0);
  EXPECT_GT(sigma_no_gap, 0);
  EXPECT_EQ(full->windows.end_ts[148], 158 * kMinute);
}

LabelOptions ProtocolOptions(int64_t horizon_bars) {
  LabelOptions options;
  options.kind = LabelKind::kProtocolRisk;
  options.horizon_bars = horizon_bars;
  options.drawdown_medium = 0.05;
  options.drawdown_high = 0.25;
  options.volatility_medium = 0.3;
  options.volatility_high = 0.5;
  return options;
}

TEST(LabelsTest, ProtocolRiskClasses) {
  const std::vector<int64_t> ts = Minutes({0, 1, 2, 3, 4, 5, 6});
  const std::vector<double> tvl = {128, 96, 128, 128, 128, 120, 128};
  LabelInputs inputs;
  inputs.ts = ts;
  inputs.tvl = tvl;
  auto labels = ComputeLabels(ProtocolOptions(2), inputs);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  // Row 0 falls exactly 25% (high, inclusive); row 1 only rises; row 2 is flat; rows 3
  // and 4 see a 6.25% drawdown (medium); rows 5 and 6 run off the data.
  ExpectValues(labels->values, {2, 0, 0, 1, 1, kNaN, kNaN});
  ASSERT_EQ(labels->details.size(), 2u);
  EXPECT_EQ(labels->details[0].values[0], 0.25);
  EXPECT_EQ(labels->details[0].values[3], 0.0625);
  EXPECT_DOUBLE_EQ(labels->details[0].values[1], 1 - 128.0 / 96);
  EXPECT_EQ(labels->details[1].values[2], 0.0);
  EXPECT_DOUBLE_EQ(labels->details[1].values[3], SampleStd({0.0, std::log(120.0 / 128)}));
  // Volatility alone: medium at 0.3 (row 1's 0.2034 is below it).
  LabelOptions by_vol = ProtocolOptions(2);
  by_vol.volatility_medium = 0.2;
  ExpectValues(ComputeLabels(by_vol, inputs)->values, {2, 1, 0, 1, 1, kNaN, kNaN});
  // One change is no sample volatility: undefined although the horizon is inside the data.
  auto one_bar = ComputeLabels(ProtocolOptions(1), inputs);
  ASSERT_TRUE(one_bar.ok());
  EXPECT_TRUE(std::isnan(one_bar->values[0]));
  EXPECT_TRUE(one_bar->windows.label_complete(0));
  // A zero TVL in the path leaves the rows reading it undefined.
  std::vector<double> with_zero = tvl;
  with_zero[2] = 0;
  inputs.tvl = with_zero;
  ExpectValues(ComputeLabels(ProtocolOptions(2), inputs)->values,
               {kNaN, kNaN, kNaN, 1, 1, kNaN, kNaN});
  LabelOptions bad = ProtocolOptions(2);
  bad.drawdown_high = 0.01;
  EXPECT_NE(ComputeLabels(bad, inputs).status().message().find("drawdown_high"), std::string::npos);
  bad = ProtocolOptions(2);
  bad.drawdown_medium = 1;
  EXPECT_FALSE(ComputeLabels(bad, inputs).ok());
  inputs.tvl = {};
  EXPECT_NE(ComputeLabels(ProtocolOptions(2), inputs).status().message().find("'tvl'"),
            std::string::npos);
}

LabelOptions OpportunityOptions(int64_t persist_rows) {
  LabelOptions options;
  options.kind = LabelKind::kOpportunity;
  options.horizon_ns = 2 * kMinute;
  options.fee_bps = 10;  // round trip 2 x 10 = 20 bps
  options.slippage_bps = 0;
  options.gas_usd = 0;
  options.persist_rows = persist_rows;
  return options;
}

TEST(LabelsTest, OpportunityPersistence) {
  const std::vector<int64_t> ts = Minutes({0, 1, 2, 3, 4, 5});
  const std::vector<double> a = {100, 100, 100, 100, 100, 100};
  const std::vector<double> b = {100.3, 100.3, 100.1, 100.3, 100.3, 100.3};  // 30,30,10,30 bps
  LabelInputs inputs;
  inputs.ts = ts;
  inputs.close = a;
  inputs.pair_price = b;
  auto one = ComputeLabels(OpportunityOptions(1), inputs);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ExpectValues(one->values, {1, 1, 0, 1, kNaN, kNaN});
  ASSERT_EQ(one->details.size(), 2u);
  EXPECT_NEAR(one->details[0].values[2], 10, 1e-9);
  EXPECT_NEAR(one->details[0].values[5], 30, 1e-9);  // the spread is known at every row
  EXPECT_EQ(one->details[1].values[0], 20);
  // Two rows: row 1 is followed by the 10 bps row.
  ExpectValues(ComputeLabels(OpportunityOptions(2), inputs)->values, {1, 0, 0, 1, kNaN, kNaN});
  // Three rows fit in a 2-minute horizon (rows i..i+2); four never do.
  ExpectValues(ComputeLabels(OpportunityOptions(3), inputs)->values, {0, 0, 0, 1, kNaN, kNaN});
  ExpectValues(ComputeLabels(OpportunityOptions(4), inputs)->values, {0, 0, 0, 0, kNaN, kNaN});
  EXPECT_EQ(ComputeLabels(OpportunityOptions(3), inputs)->windows.end_ts[3], 5 * kMinute);
  // Gas is paid per leg, on the notional: 2 x 15 USD on 10,000 USD = 30 bps more.
  LabelOptions gas = OpportunityOptions(1);
  gas.fee_bps = 0;
  gas.gas_usd = 15;
  auto with_gas = ComputeLabels(gas, inputs);
  EXPECT_NEAR(with_gas->details[1].values[0], 30, 1e-12);
  ExpectValues(with_gas->values, {0, 0, 0, 0, kNaN, kNaN});  // ~30 bps does not exceed 30
  // A missing pair price: undefined where it is read before the run is decided.
  std::vector<double> gap = b;
  gap[1] = kNaN;
  inputs.pair_price = gap;
  ExpectValues(ComputeLabels(OpportunityOptions(2), inputs)->values,
               {kNaN, kNaN, 0, 1, kNaN, kNaN});
  LabelOptions bad = OpportunityOptions(0);
  EXPECT_NE(ComputeLabels(bad, inputs).status().message().find("persist_rows"), std::string::npos);
  bad = OpportunityOptions(1);
  bad.notional_usd = 0;
  EXPECT_FALSE(ComputeLabels(bad, inputs).ok());
  inputs.pair_price = {};
  EXPECT_NE(ComputeLabels(OpportunityOptions(1), inputs).status().message().find("pair_price"),
            std::string::npos);
}

TEST(LabelsTest, HorizonBarsAndBarSpacing) {
  EXPECT_EQ(*HorizonBars(15 * kMinute, 5 * kMinute), 3);
  EXPECT_EQ(*HorizonBars(60 * kMinute, kMinute), 60);
  EXPECT_EQ(HorizonBars(5 * kMinute, 30 * kMinute).status().message(),
            "horizon 5m is not a whole number of 30m bars");
  EXPECT_EQ(HorizonBars(7 * kMinute, 5 * kMinute).status().message(),
            "horizon 7m is not a whole number of 5m bars");
  EXPECT_FALSE(HorizonBars(5 * kMinute, 0).ok());
  EXPECT_FALSE(HorizonBars(0, kMinute).ok());
  EXPECT_EQ(*InferBarSpacing(Minutes({0, 1, 2, 4, 5, 6})), kMinute);        // a gap
  EXPECT_EQ(*InferBarSpacing(Minutes({0, 0, 5, 5, 10, 20})), 5 * kMinute);  // ties ignored
  EXPECT_EQ(*InferBarSpacing(Minutes({0, 2, 3})), kMinute);  // equally common: the smaller
  EXPECT_FALSE(InferBarSpacing(Minutes({3, 3, 3})).ok());
  EXPECT_FALSE(InferBarSpacing(Minutes({0, 2, 1})).ok());
}

// Every risk kind reads nothing past its horizon: labels on a prefix equal the full labels
// wherever the prefix has them.
TEST(LabelsTest, RiskKindsPointInTimeOnEveryPrefix) {
  Rng rng(17);
  std::vector<int64_t> ts;
  std::vector<double> close, high, low, pair;
  int64_t t = 0;
  double p = 100;
  for (int i = 0; i < 500; ++i) {
    t += (1 + rng.UniformInt(0, 2)) * kMinute;
    p *= 1 + (rng.UniformInt(0, 200) - 100) * 1e-3;
    ts.push_back(t);
    close.push_back(p);
    high.push_back(p * (1 + rng.UniformInt(0, 60) * 1e-3));
    low.push_back(p * (1 - rng.UniformInt(0, 60) * 1e-3));
    pair.push_back(p * (1 + (rng.UniformInt(0, 100) - 50) * 1e-4));
  }
  LabelInputs all{ts, close, high, low, close, pair};
  std::vector<LabelOptions> cases(4);
  cases[0].kind = LabelKind::kLiquidation;
  cases[0].leverage = 10;
  cases[1].kind = LabelKind::kCrash;
  cases[1].crash_k = 1;
  cases[1].vol_window = 10;
  cases[2] = ProtocolOptions(0);
  cases[3] = OpportunityOptions(2);
  cases[3].fee_bps = 1;
  for (LabelOptions& options : cases) {
    options.horizon_bars = 0;
    options.horizon_ns = 9 * kMinute;
    auto full = ComputeLabels(options, all);
    ASSERT_TRUE(full.ok()) << full.status().ToString();
    int64_t positives = 0;
    for (double v : full->values) positives += v >= 1;
    EXPECT_GT(positives, 0) << LabelKindName(options.kind);
    for (size_t n : {30u, 201u, 377u}) {
      LabelInputs prefix{std::span(ts).first(n),    std::span(close).first(n),
                         std::span(high).first(n),  std::span(low).first(n),
                         std::span(close).first(n), std::span(pair).first(n)};
      auto part = ComputeLabels(options, prefix);
      ASSERT_TRUE(part.ok());
      for (size_t row = 0; row < n; ++row) {
        if (!part->windows.label_complete(row)) continue;
        EXPECT_EQ(std::isnan(part->values[row]), std::isnan(full->values[row]));
        if (!std::isnan(part->values[row])) {
          EXPECT_EQ(part->values[row], full->values[row]);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Against the pandas/numpy reference on real data (scripts/fixtures/risk_labels.py)
// ---------------------------------------------------------------------------------------

nlohmann::json ReadFixture() {
  std::ifstream in(std::string(VIGIL_TEST_DATA) + "/labels/risk_labels.json");
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
}

// The first `rows` rows of one series of a real file, read like `vigil ingest` reads it.
Frame ReadRealSeries(const std::string& relative, DataKind kind, int64_t rows) {
  ReadOptions options;
  options.kind = kind;
  options.venue = "reference";  // the files name no venue; labels do not need one
  MarketFileReader reader(options);
  auto parsed = reader.Read(std::string(VIGIL_SHARED_DATA) + "/" + relative);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  if (!parsed.ok() || parsed->batches.size() != 1) return Frame();
  EXPECT_TRUE(parsed->rejects.empty()) << relative;
  Frame frame = parsed->batches[0].frame;
  frame.SortByTime();
  return rows < frame.rows() ? frame.CopyRows(0, rows) : frame;
}

// The label string's character for a row ('0', '1', '2', 'n' undefined, '-' incomplete).
char LabelChar(const Labels& labels, size_t row) {
  if (!labels.windows.label_complete(row)) return '-';
  if (std::isnan(labels.values[row])) return 'n';
  return static_cast<char>('0' + static_cast<int>(labels.values[row]));
}

std::string LabelString(const Labels& labels) {
  std::string text;
  for (size_t row = 0; row < labels.values.size(); ++row) text += LabelChar(labels, row);
  return text;
}

// Values equal to 1e-12 relative, NaN where the reference has null.
void ExpectClose(const std::vector<double>& actual, const nlohmann::json& expected,
                 const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t row = 0; row < actual.size(); ++row) {
    if (expected[row].is_null()) {
      EXPECT_TRUE(std::isnan(actual[row])) << what << " row " << row;
      continue;
    }
    const double want = expected[row].get<double>();
    EXPECT_NEAR(actual[row], want, 1e-12 * std::max(1e-12, std::abs(want)))
        << what << " row " << row;
  }
}

struct CandleSeries {
  std::vector<int64_t> ts;
  std::vector<double> close, high, low;
  LabelInputs inputs() const {
    LabelInputs in;
    in.ts = ts;
    in.close = close;
    in.high = high;
    in.low = low;
    return in;
  }
};

CandleSeries FixtureCandles(const nlohmann::json& spec) {
  const Frame frame = ReadRealSeries(spec["source"], DataKind::kCandles, spec["rows"]);
  CandleSeries series;
  series.ts.assign(frame.timestamps().begin(), frame.timestamps().end());
  for (const char* name : {"close", "high", "low"}) {
    std::span<const double> column = frame.Doubles(name);
    std::vector<double>& out = name[0] == 'c'   ? series.close
                               : name[0] == 'h' ? series.high
                                                : series.low;
    out.assign(column.begin(), column.end());
  }
  return series;
}

class RiskLabelFixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fixture_ = ReadFixture();
    ASSERT_TRUE(fixture_.is_object()) << "tests/testdata/labels/risk_labels.json";
    candles_ = FixtureCandles(fixture_["candles"]);
    ASSERT_EQ(candles_.ts.size(), fixture_["candles"]["rows"].get<size_t>());
    EXPECT_EQ(candles_.ts.front(), fixture_["candles"]["first_ts_ns"].get<int64_t>());
    EXPECT_EQ(candles_.ts.back(), fixture_["candles"]["last_ts_ns"].get<int64_t>());
  }
  nlohmann::json fixture_;
  CandleSeries candles_;
};

TEST_F(RiskLabelFixtureTest, LiquidationMatchesPandas) {
  const std::vector<int64_t> horizons = {5 * kMinute, 15 * kMinute, 30 * kMinute, 60 * kMinute};
  for (const nlohmann::json& spec : fixture_["liquidation"]) {
    LabelOptions options;
    options.kind = LabelKind::kLiquidation;
    options.side = *ParsePositionSide(spec["side"].get<std::string>());
    options.leverage = spec["leverage"];
    options.maintenance_margin = spec["maintenance_margin"];
    auto all = ComputeMultiHorizonLabels(options, candles_.inputs(), horizons);
    ASSERT_TRUE(all.ok()) << all.status().ToString();
    const std::string name = spec["side"].get<std::string>() + " " + spec["leverage"].dump();
    for (size_t h = 0; h < horizons.size(); ++h) {
      const std::string key = std::to_string(horizons[h] / kMinute) + "m";
      const Labels& labels = (*all)[h];
      EXPECT_EQ(LabelString(labels), spec["labels"][key].get<std::string>()) << name << " " << key;
      ExpectClose(labels.liquidation_price, spec["liquidation_price"], name);
      std::vector<double> expected_time(labels.values.size(), kNaN);
      for (const auto& hit : spec["time_to_event_ns"][key]) {
        expected_time[hit[0].get<size_t>()] = hit[1].get<double>();
      }
      ExpectValues(labels.time_to_event_ns, expected_time);
      // One horizon at a time gives the same labels.
      LabelOptions single = options;
      single.horizon_ns = horizons[h];
      auto alone = ComputeLabels(single, candles_.inputs());
      ASSERT_TRUE(alone.ok());
      ExpectValues(alone->values, labels.values);
      ExpectValues(alone->time_to_event_ns, labels.time_to_event_ns);
      EXPECT_EQ(alone->windows.end_ts, labels.windows.end_ts);
      EXPECT_EQ(alone->windows.complete, labels.windows.complete);
    }
  }
}

TEST_F(RiskLabelFixtureTest, CrashMatchesPandas) {
  for (const nlohmann::json& spec : fixture_["crash"]) {
    LabelOptions options;
    options.kind = LabelKind::kCrash;
    options.horizon_ns = spec["horizon_minutes"].get<int64_t>() * kMinute;
    options.crash_k = spec["k"];
    options.vol_window = spec["vol_window"];
    auto labels = ComputeLabels(options, candles_.ts, candles_.close);
    ASSERT_TRUE(labels.ok()) << labels.status().ToString();
    EXPECT_EQ(LabelString(*labels), spec["labels"].get<std::string>());
    ExpectClose(labels->details[0].values, spec["forward_return"], "forward_return");
    ExpectClose(labels->details[1].values, spec["threshold"], "threshold");
  }
}

TEST_F(RiskLabelFixtureTest, ProtocolRiskMatchesPandasOnHlpTvl) {
  const nlohmann::json& spec = fixture_["protocol_risk"];
  const Frame frame = ReadRealSeries(spec["source"], DataKind::kProtocol, 1 << 20);
  ASSERT_EQ(frame.rows(), spec["rows"].get<int64_t>());
  EXPECT_EQ(frame.timestamps().front(), spec["first_ts_ns"].get<int64_t>());
  EXPECT_EQ(frame.timestamps().back(), spec["last_ts_ns"].get<int64_t>());
  LabelOptions options;
  options.kind = LabelKind::kProtocolRisk;
  options.horizon_ns = spec["horizon_days"].get<int64_t>() * kNanosPerDay;
  options.drawdown_medium = spec["drawdown_medium"];
  options.drawdown_high = spec["drawdown_high"];
  options.volatility_medium = spec["volatility_medium"];
  options.volatility_high = spec["volatility_high"];
  LabelInputs inputs;
  inputs.ts = frame.timestamps();
  inputs.tvl = frame.Doubles("tvl");
  auto labels = ComputeLabels(options, inputs);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(LabelString(*labels), spec["labels"].get<std::string>());
  ExpectClose(labels->details[0].values, spec["drawdown"], "drawdown");
  ExpectClose(labels->details[1].values, spec["volatility"], "volatility");
}

TEST_F(RiskLabelFixtureTest, OpportunityMatchesPandas) {
  const nlohmann::json& spec = fixture_["opportunity"];
  const Frame all = ReadRealSeries(spec["source"], DataKind::kCandles, 1 << 20);
  const FrameView window = all.Slice(Timestamp(spec["first_ts_ns"].get<int64_t>()),
                                     Timestamp(spec["last_ts_ns"].get<int64_t>() + 1));
  ASSERT_EQ(window.rows(), spec["rows"].get<int64_t>());
  // The pair series as pandas aligned it (merge_asof on bar close times): the as-of
  // alignment itself is checked through the CLI (tests/apps/cli_labels_test.cc).
  std::vector<double> pair;
  for (const auto& value : spec["pair_price"]) {
    pair.push_back(value.is_null() ? kNaN : value.get<double>());
  }
  LabelOptions options;
  options.kind = LabelKind::kOpportunity;
  options.horizon_ns = spec["horizon_minutes"].get<int64_t>() * kMinute;
  options.persist_rows = spec["persist_rows"];
  options.fee_bps = spec["fee_bps"];
  options.slippage_bps = spec["slippage_bps"];
  options.gas_usd = spec["gas_usd"];
  options.notional_usd = spec["notional_usd"];
  LabelInputs inputs;
  inputs.ts = window.timestamps();
  inputs.close = window.Doubles("close");
  inputs.pair_price = pair;
  auto labels = ComputeLabels(options, inputs);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(LabelString(*labels), spec["labels"].get<std::string>());
  ExpectClose(labels->details[0].values, spec["spread_bps"], "spread_bps");
  EXPECT_NEAR(labels->details[1].values[0], spec["cost_bps"].get<double>(), 1e-12);
}

}  // namespace
}  // namespace vigil
