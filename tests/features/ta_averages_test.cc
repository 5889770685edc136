// TTR-exact averages and oscillators: reference values from R's TTR, hand-computed small
// cases, streaming = batch, point in time, Reset() and Clone().
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ta_test_util.h"
#include "vigil/features/ta.h"

namespace vigil {
namespace {

// The first n bars of TTR's ttrc data.
std::vector<Bar> TtrcHead(size_t n) {
  const std::vector<Bar>& bars = testing_util::Ttrc().bars;
  return std::vector<Bar>(bars.begin(), bars.begin() + static_cast<long>(n));
}

using testing_util::ExpectMatchesTtr;
using testing_util::ExpectPointInTime;
using testing_util::ExpectResetAndCloneStartFresh;
using testing_util::ExpectStreamingEqualsBatch;
using testing_util::RunKernel;
using testing_util::SharedCandles;
using testing_util::Ttrc;

std::vector<Bar> BarsFromCloses(const std::vector<double>& closes) {
  std::vector<Bar> bars;
  int64_t ts = 0;
  for (double close : closes) bars.push_back(Bar{ts++, close, close, close, close, 1});
  return bars;
}

// Column 0 of `kernel` over the closes.
std::vector<double> FirstColumn(FeatureKernel& kernel, const std::vector<double>& closes) {
  std::vector<double> column;
  for (const auto& row : RunKernel(kernel, BarsFromCloses(closes))) column.push_back(row[0]);
  return column;
}

void ExpectNear(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t row = 0; row < want.size(); ++row) {
    if (std::isnan(want[row])) {
      EXPECT_TRUE(std::isnan(got[row])) << "row " << row << ": " << got[row];
    } else {
      EXPECT_NEAR(got[row], want[row], 1e-12) << "row " << row;
    }
  }
}

constexpr double kNa = std::numeric_limits<double>::quiet_NaN();

const std::vector<Bar>& EthBtc() {
  static const std::vector<Bar> bars = SharedCandles("candles/ETH_BTC-5m.csv");
  return bars;
}

// The property checks shared by every kernel of this file.
void ExpectKernelProperties(const FeatureKernel& kernel) {
  ExpectMatchesTtr(kernel);
  ExpectStreamingEqualsBatch(kernel, Ttrc().bars);
  ExpectPointInTime(kernel, Ttrc().bars);
  ASSERT_FALSE(EthBtc().empty());
  ExpectStreamingEqualsBatch(kernel, EthBtc());
  ExpectPointInTime(kernel, EthBtc());
}

TEST(SmaTest, MatchesTtrAndProperties) { ExpectKernelProperties(*MakeSma(20)); }

TEST(SmaTest, HandComputed) {
  auto sma = MakeSma(3);
  EXPECT_EQ(sma->output_names(), std::vector<std::string>{"sma_3"});
  ExpectNear(FirstColumn(*sma, {1, 2, 3, 4, 10}), {kNa, kNa, 2, 3, 17.0 / 3});
}

TEST(SmaTest, ResetAndClone) { ExpectResetAndCloneStartFresh(*MakeSma(20), TtrcHead(200)); }

// A long stream at a high level followed by a small window: the closes left behind must
// not leave rounding error in the running sums (drift guard for SMA, WMA and the bands).
std::vector<Bar> LevelShiftBars() {
  std::vector<double> closes(5000, 1e9);
  for (int i = 0; i < 5000; ++i) closes[i] += 0.1 * (i % 7);
  closes.insert(closes.end(), {1, 2, 3});
  return BarsFromCloses(closes);
}

TEST(SmaTest, NoDriftAfterLevelShift) {
  auto sma = MakeSma(3);
  EXPECT_NEAR(RunKernel(*sma, LevelShiftBars()).back()[0], 2.0, 1e-12);
}

TEST(EmaTest, MatchesTtrAndProperties) { ExpectKernelProperties(*MakeEma(20)); }

TEST(EmaTest, HandComputed) {
  // n = 3: ratio 0.5, seed mean(1, 2, 3) = 2, then 0.5 * 6 + 0.5 * 2 = 4, 0.5 * 0 + 2 = 2.
  auto ema = MakeEma(3);
  EXPECT_EQ(ema->output_names(), std::vector<std::string>{"ema_3"});
  ExpectNear(FirstColumn(*ema, {1, 2, 3, 6, 0}), {kNa, kNa, 2, 4, 2});
}

TEST(EmaTest, ResetAndClone) { ExpectResetAndCloneStartFresh(*MakeEma(20), TtrcHead(200)); }

TEST(WmaTest, MatchesTtrAndProperties) { ExpectKernelProperties(*MakeWma(20)); }

TEST(WmaTest, HandComputed) {
  // n = 3, weights 1, 2, 3 over 6: (1 + 4 + 9) / 6, (2 + 6 + 12) / 6, (3 + 8 + 30) / 6.
  auto wma = MakeWma(3);
  EXPECT_EQ(wma->output_names(), std::vector<std::string>{"wma_3"});
  ExpectNear(FirstColumn(*wma, {1, 2, 3, 4, 10}), {kNa, kNa, 14.0 / 6, 20.0 / 6, 41.0 / 6});
}

TEST(WmaTest, NoDriftAfterLevelShift) {
  auto wma = MakeWma(3);
  EXPECT_NEAR(RunKernel(*wma, LevelShiftBars()).back()[0], 14.0 / 6, 1e-12);
}

TEST(WmaTest, ResetAndClone) { ExpectResetAndCloneStartFresh(*MakeWma(20), TtrcHead(200)); }

TEST(RsiTest, MatchesTtrAndProperties) { ExpectKernelProperties(*MakeRsi(14)); }

TEST(RsiTest, HandComputed) {
  // n = 2: moves +2, -1, +3. Seeds up = (2 + 0) / 2 = 1, down = (0 + 1) / 2 = 0.5 at bar 2;
  // then up = 0.5 * 3 + 0.5 * 1 = 2, down = 0.25 at bar 3.
  auto rsi = MakeRsi(2);
  EXPECT_EQ(rsi->output_names(), std::vector<std::string>{"rsi_2"});
  ExpectNear(FirstColumn(*rsi, {10, 12, 11, 14}), {kNa, kNa, 100 * 1 / 1.5, 100 * 2 / 2.25});
}

TEST(RsiTest, FlatPricesHaveNoRsi) {
  auto rsi = MakeRsi(2);
  ExpectNear(FirstColumn(*rsi, {5, 5, 5, 5}), {kNa, kNa, kNa, kNa});
}

TEST(RsiTest, ResetAndClone) { ExpectResetAndCloneStartFresh(*MakeRsi(14), TtrcHead(200)); }

TEST(MacdTest, MatchesTtrAndProperties) { ExpectKernelProperties(*MakeMacd(12, 26, 9)); }

TEST(MacdTest, HandComputed) {
  // fast 1 (the close itself), slow 2 (ratio 2/3), signal 2 (ratio 2/3).
  // closes 1, 4, 7: slow = NaN, 2.5, 7 * 2/3 + 2.5 / 3 = 5.5; macd = NaN, 1.5, 1.5.
  // signal seeds with mean(1.5, 1.5) = 1.5 at bar 2; hist = 0.
  auto macd = MakeMacd(1, 2, 2);
  EXPECT_EQ(macd->output_names(),
            (std::vector<std::string>{"macd_1_2_2", "macd_signal_1_2_2", "macd_hist_1_2_2"}));
  const auto rows = RunKernel(*macd, BarsFromCloses({1, 4, 7, 1}));
  ExpectNear({rows[0][0], rows[1][0], rows[2][0]}, {kNa, 1.5, 1.5});
  ExpectNear({rows[0][1], rows[1][1], rows[2][1]}, {kNa, kNa, 1.5});
  ExpectNear({rows[1][2], rows[2][2]}, {kNa, 0});
  // bar 3: slow = 1 * 2/3 + 5.5 / 3 = 2.5, macd = -1.5, signal = -1.5 * 2/3 + 1.5 / 3 = -0.5.
  ExpectNear(rows[3], {-1.5, -0.5, -1.0});
}

TEST(MacdTest, ResetAndClone) {
  ExpectResetAndCloneStartFresh(*MakeMacd(12, 26, 9), TtrcHead(200));
}

TEST(BollingerTest, MatchesTtrAndProperties) { ExpectKernelProperties(*MakeBollinger(20, 2)); }

TEST(BollingerTest, HandComputed) {
  // n = 2, k = 2 over closes 1, 3: mean 2, population sd 1, bands 0 and 4, %B = 3 / 4.
  auto bb = MakeBollinger(2, 2);
  EXPECT_EQ(bb->output_names(), (std::vector<std::string>{"bb_lower_2_2", "bb_mid_2_2",
                                                          "bb_upper_2_2", "bb_pctb_2_2"}));
  const auto rows = RunKernel(*bb, BarsFromCloses({1, 3, 3}));
  ExpectNear(rows[0], {kNa, kNa, kNa, kNa});
  ExpectNear(rows[1], {0, 2, 4, 0.75});
  // A flat window has zero width: the bands meet the mean and %B is 0 / 0 = NaN, as in R.
  ExpectNear(rows[2], {3, 3, 3, kNa});
}

TEST(BollingerTest, NoDriftAfterLevelShift) {
  // closes 1, 2, 3: mean 2, population sd sqrt(2 / 3).
  auto bb = MakeBollinger(3, 2);
  const double sd = std::sqrt(2.0 / 3);
  const std::vector<double> last = RunKernel(*bb, LevelShiftBars()).back();
  ExpectNear(last, {2 - 2 * sd, 2, 2 + 2 * sd, (3 - (2 - 2 * sd)) / (4 * sd)});
}

TEST(BollingerTest, ResetAndClone) {
  ExpectResetAndCloneStartFresh(*MakeBollinger(20, 2), TtrcHead(200));
}

}  // namespace
}  // namespace vigil
