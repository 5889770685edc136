// Cross-instrument kernels (onchain.h): correlation and beta on hand-built return series,
// sampling at Emit when the legs' candles do not line up, two-pass references and
// streaming = batch / point-in-time parity on real ETH/BTC and LTC/BTC 5-minute candles,
// and the catalogue entries of the cross group.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "features/event_test_util.h"
#include "vigil/core/timestamp.h"
#include "vigil/features/catalogue.h"
#include "vigil/features/onchain.h"

namespace vigil {
namespace {

using testing_util::ExpectEventPointInTime;
using testing_util::ExpectEventStreamingEqualsBatch;
using testing_util::LoadSharedEvents;
using testing_util::RunColumn;

constexpr int64_t kMin = kNanosPerMinute;
const double kNaN = std::nan("");
const std::string kWith = "binance:ETH/USDT";

// Candles whose closes are start * exp(cumulative sum of `returns`), one per
// `step` from `first_ts`.
EventStream CandlesFromReturns(double start, const std::vector<double>& returns,
                               int64_t first_ts = 0, int64_t step = 5 * kMin) {
  std::vector<Bar> bars;
  double cumulative = 0;
  bars.push_back({first_ts, start, start, start, start, 1});
  for (size_t i = 0; i < returns.size(); ++i) {
    cumulative += returns[i];
    const double c = start * std::exp(cumulative);  // a zero return repeats the close exactly
    bars.push_back({first_ts + static_cast<int64_t>(i + 1) * step, c, c, c, c, 1});
  }
  return EventStream::FromBars(bars);
}

void ExpectValues(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  int failures = 0;
  for (size_t row = 0; row < want.size() && failures < 5; ++row) {
    const bool ok = std::isnan(want[row]) ? std::isnan(got[row])
                                          : std::fabs(got[row] - want[row]) <=
                                                tol * std::max(1.0, std::fabs(want[row]));
    if (!ok) {
      ++failures;
      ADD_FAILURE() << "row " << row << ": got " << got[row] << ", want " << want[row];
    }
  }
}

TEST(CrossTest, NamesAndInputs) {
  auto corr = MakeCorrelation(30, kWith);
  EXPECT_EQ(corr->output_names(), std::vector<std::string>{"corr_30_binance_ETH_USDT"});
  ASSERT_EQ(corr->inputs().size(), 2u);
  EXPECT_EQ(corr->inputs()[0].kind, DataKind::kCandles);
  EXPECT_EQ(corr->inputs()[0].instrument, "");
  EXPECT_EQ(corr->inputs()[1].kind, DataKind::kCandles);
  EXPECT_EQ(corr->inputs()[1].instrument, kWith);
  EXPECT_EQ(MakeBeta(5, "hyperliquid:XRP/USDT:USDT")->output_names()[0],
            "beta_5_hyperliquid_XRP_USDT_USDT");
  EXPECT_EQ(InstrumentColumnSuffix("a-b.c_d:E/F"), "a_b_c_d_E_F");
}

TEST(CrossTest, HandComputedCorrelationAndBeta) {
  // Returns x = 1, 2, 3 % and y = 1, 3, 2 %: deviations (-1, 0, 1) and (-1, 1, 0), so
  // sxy = 1, sxx = syy = 2: corr = beta = 0.5.
  const EventStream self = CandlesFromReturns(100, {0.01, 0.02, 0.03});
  const EventStream with = CandlesFromReturns(50, {0.01, 0.03, 0.02});
  ExpectValues(RunColumn(*MakeCorrelation(3, kWith), {&self, &with}, "corr_3_binance_ETH_USDT"),
               {kNaN, kNaN, kNaN, 0.5}, 1e-12);
  ExpectValues(RunColumn(*MakeBeta(3, kWith), {&self, &with}, "beta_3_binance_ETH_USDT"),
               {kNaN, kNaN, kNaN, 0.5}, 1e-12);
  // With returns twice ours: corr 1, beta 0.5. With returns the opposite: -1 and -1.
  const std::vector<double> r = {0.01, -0.02, 0.005, 0.03};
  const EventStream twice = CandlesFromReturns(50, {0.02, -0.04, 0.01, 0.06});
  const EventStream mirror = CandlesFromReturns(50, {-0.01, 0.02, -0.005, -0.03});
  const EventStream ours = CandlesFromReturns(100, r);
  EXPECT_NEAR(RunColumn(*MakeCorrelation(4, kWith), {&ours, &twice}, "corr_4_binance_ETH_USDT")[4],
              1, 1e-12);
  EXPECT_NEAR(RunColumn(*MakeBeta(4, kWith), {&ours, &twice}, "beta_4_binance_ETH_USDT")[4], 0.5,
              1e-12);
  EXPECT_NEAR(RunColumn(*MakeCorrelation(4, kWith), {&ours, &mirror}, "corr_4_binance_ETH_USDT")[4],
              -1, 1e-12);
  EXPECT_NEAR(RunColumn(*MakeBeta(4, kWith), {&ours, &mirror}, "beta_4_binance_ETH_USDT")[4], -1,
              1e-12);
}

TEST(CrossTest, FlatLegHasNoCorrelation) {
  // The other leg never moves: no variance, so neither corr nor beta; a flat own leg still
  // has a beta of 0.
  const EventStream moving = CandlesFromReturns(100, {0.01, -0.02, 0.03, 0.01});
  const EventStream flat = CandlesFromReturns(50, {0, 0, 0, 0});
  ExpectValues(RunColumn(*MakeCorrelation(3, kWith), {&moving, &flat}, "corr_3_binance_ETH_USDT"),
               {kNaN, kNaN, kNaN, kNaN, kNaN}, 0);
  ExpectValues(RunColumn(*MakeBeta(3, kWith), {&moving, &flat}, "beta_3_binance_ETH_USDT"),
               {kNaN, kNaN, kNaN, kNaN, kNaN}, 0);
  ExpectValues(RunColumn(*MakeBeta(3, kWith), {&flat, &moving}, "beta_3_binance_ETH_USDT"),
               {kNaN, kNaN, kNaN, 0, 0}, 0);
  // A leg that moved and then went flat: once the moves leave the window, the variance is
  // exactly zero again (no rounding residue to divide by).
  const EventStream settles = CandlesFromReturns(50, {0.5, -0.3, 0, 0, 0, 0});
  const EventStream ours = CandlesFromReturns(100, {0.01, 0.02, 0.03, 0.01, 0.02, 0.01});
  const auto beta = RunColumn(*MakeBeta(3, kWith), {&ours, &settles}, "beta_3_binance_ETH_USDT");
  EXPECT_TRUE(std::isnan(beta[6]));
  EXPECT_FALSE(std::isnan(beta[4]));
}

TEST(CrossTest, ReturnsAreSampledAtEmit) {
  // The other leg has bars every 10 minutes, starting 10 minutes late; ours every 5. Rows
  // before its first close push nothing; between its bars its return is 0.
  const EventStream ours = CandlesFromReturns(100, {0.01, 0.02, -0.01, 0.03, 0.02, -0.02});
  const EventStream with = CandlesFromReturns(50, {0.04, -0.02}, 10 * kMin, 10 * kMin);
  // Pairs (x, y) from row 3 on: rows 2->3 (-0.01, 0), 3->4 (0.03, 0.04), 4->5 (0.02, 0),
  // 5->6 (-0.02, -0.02).
  auto expected_beta = [](std::vector<double> x, std::vector<double> y) {
    double mx = 0, my = 0;
    for (size_t i = 0; i < x.size(); ++i) mx += x[i] / x.size(), my += y[i] / y.size();
    double sxy = 0, syy = 0;
    for (size_t i = 0; i < x.size(); ++i)
      sxy += (x[i] - mx) * (y[i] - my), syy += (y[i] - my) * (y[i] - my);
    return sxy / syy;
  };
  ExpectValues(RunColumn(*MakeBeta(3, kWith), {&ours, &with}, "beta_3_binance_ETH_USDT"),
               {kNaN, kNaN, kNaN, kNaN, kNaN, expected_beta({-0.01, 0.03, 0.02}, {0, 0.04, 0}),
                expected_beta({0.03, 0.02, -0.02}, {0.04, 0, -0.02})},
               1e-12);
}

// Real 5-minute ETH/BTC and LTC/BTC bars (same times): rolling correlation and beta of
// their log returns against a two-pass computation over each window.
TEST(CrossTest, RealCandlesMatchTwoPassAndParity) {
  const EventStream eth = LoadSharedEvents(DataKind::kCandles, "candles/ETH_BTC-5m.csv");
  const EventStream ltc = LoadSharedEvents(DataKind::kCandles, "candles/LTC_BTC-5m.csv");
  ASSERT_GT(eth.size(), 5000u);
  ASSERT_EQ(eth.size(), ltc.size());
  std::vector<double> x;
  std::vector<double> y;
  for (size_t i = 1; i < eth.size(); ++i) {
    ASSERT_EQ(eth.events()[i].ts, ltc.events()[i].ts);
    x.push_back(std::log(eth.events()[i].values[fields::kClose] /
                         eth.events()[i - 1].values[fields::kClose]));
    y.push_back(std::log(ltc.events()[i].values[fields::kClose] /
                         ltc.events()[i - 1].values[fields::kClose]));
  }
  constexpr int kN = 30;
  std::vector<double> corr(eth.size(), kNaN);
  std::vector<double> beta(eth.size(), kNaN);
  for (size_t row = kN; row < eth.size(); ++row) {
    // Returns of rows row - kN + 1 .. row are x[row - kN .. row - 1].
    double mx = 0, my = 0;
    for (size_t i = row - kN; i < row; ++i) mx += x[i], my += y[i];
    mx /= kN;
    my /= kN;
    double sxx = 0, syy = 0, sxy = 0;
    for (size_t i = row - kN; i < row; ++i) {
      sxx += (x[i] - mx) * (x[i] - mx);
      syy += (y[i] - my) * (y[i] - my);
      sxy += (x[i] - mx) * (y[i] - my);
    }
    corr[row] = sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : kNaN;
    beta[row] = syy > 0 ? sxy / syy : kNaN;
  }
  auto corr_kernel = MakeCorrelation(kN, "bittrex:LTC/BTC");
  auto beta_kernel = MakeBeta(kN, "bittrex:LTC/BTC");
  const std::vector<const EventStream*> inputs = {&eth, &ltc};
  ExpectValues(RunColumn(*corr_kernel, inputs, "corr_30_bittrex_LTC_BTC"), corr, 1e-9);
  ExpectValues(RunColumn(*beta_kernel, inputs, "beta_30_bittrex_LTC_BTC"), beta, 1e-9);
  for (const EventKernel* kernel : {corr_kernel.get(), beta_kernel.get()}) {
    ExpectEventStreamingEqualsBatch(*kernel, inputs);
    ExpectEventPointInTime(*kernel, inputs, 10);
  }
}

TEST(CrossTest, OddInputNeverCrashes) {
  auto corr = MakeCorrelation(2, kWith);
  const Event empty{DataKind::kCandles, 0, {}, nullptr};
  corr->Observe(0, empty);
  corr->Observe(1, empty);
  corr->Observe(7, empty);
  std::vector<double> out(1);
  corr->Emit(0, out);
  EXPECT_TRUE(std::isnan(out[0]));
  // Only one leg ever trades.
  const EventStream ours = CandlesFromReturns(100, {0.01, 0.02});
  const auto column = RunColumn(*corr, {&ours, nullptr}, "corr_2_binance_ETH_USDT");
  EXPECT_TRUE(std::all_of(column.begin(), column.end(), [](double v) { return std::isnan(v); }));
}

TEST(CrossCatalogueTest, EntriesNeedWithAndBuild) {
  for (const std::string name : {"corr", "beta"}) {
    SCOPED_TRACE(name);
    const FeatureInfo* info = FindFeature(name);
    ASSERT_NE(info, nullptr);
    EXPECT_EQ(info->group, "cross");
    EXPECT_FALSE(info->Resolve({}).ok()) << "`with` is required";
    auto values = info->Resolve({{"with", kWith}});
    ASSERT_TRUE(values.ok()) << values.status().ToString();
    auto kernel = info->make(*values);
    ASSERT_TRUE(kernel.ok()) << kernel.status().ToString();
    EXPECT_EQ((*kernel)->output_names(), std::vector<std::string>{name + "_30_binance_ETH_USDT"});
    EXPECT_EQ((*kernel)->inputs()[1].instrument, kWith);
  }
  size_t in_group = 0;
  for (const FeatureInfo& info : FeatureCatalogue()) in_group += info.group == "cross";
  EXPECT_EQ(in_group, 2u);
}

}  // namespace
}  // namespace vigil
