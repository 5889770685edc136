// The price/volume kernels of price.h: reference values from R's TTR, hand-computed small
// cases and degenerate windows, bad input, streaming = batch and point in time on TTR's data
// and real crypto candles, finiteness on every shared candle file, and the "price" group of
// the feature catalogue.
#include "vigil/features/price.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <numbers>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "features/ta_test_util.h"
#include "vigil/core/timestamp.h"
#include "vigil/features/catalogue.h"
#include "vigil/features/event.h"
#include "vigil/features/ta.h"

namespace vigil {
namespace {

using testing_util::ExpectMatchesTtr;
using testing_util::ExpectPointInTime;
using testing_util::ExpectResetAndCloneStartFresh;
using testing_util::ExpectStreamingEqualsBatch;
using testing_util::RunKernel;
using testing_util::SharedCandles;
using testing_util::TtrcPrice;

constexpr double kNa = std::numeric_limits<double>::quiet_NaN();

Bar Ohlcv(double open, double high, double low, double close, double volume = 1) {
  return Bar{0, open, high, low, close, volume};
}

Bar Close(double close, double volume = 1) { return Ohlcv(close, close, close, close, volume); }

std::vector<Bar> Closes(const std::vector<double>& closes) {
  std::vector<Bar> bars;
  for (double close : closes) bars.push_back(Close(close));
  return bars;
}

// Column `column` of RunKernel's result over a fresh clone.
std::vector<double> Column(const FeatureKernel& kernel, const std::vector<Bar>& bars,
                           int column = 0) {
  std::unique_ptr<FeatureKernel> fresh = kernel.Clone();
  std::vector<double> values;
  for (const auto& row : RunKernel(*fresh, bars)) values.push_back(row[column]);
  return values;
}

void ExpectValues(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t bar = 0; bar < expected.size(); ++bar) {
    if (std::isnan(expected[bar])) {
      EXPECT_TRUE(std::isnan(actual[bar])) << "bar " << bar << ": " << actual[bar];
    } else {
      EXPECT_NEAR(actual[bar], expected[bar], 1e-12 * std::max(1.0, std::fabs(expected[bar])))
          << "bar " << bar;
    }
  }
}

const std::vector<Bar>& EthBtc() {
  static const std::vector<Bar> bars = SharedCandles("candles/ETH_BTC-5m.csv");
  return bars;
}

const std::vector<Bar>& XrpFutures() {
  static const std::vector<Bar> bars = SharedCandles("candles/XRP_USDT_USDT-5m-futures.csv");
  return bars;
}

struct KernelCase {
  std::string name;
  std::function<std::unique_ptr<FeatureKernel>()> make;
};

// Every price.h kernel with the parameters of the TTR fixture.
std::vector<KernelCase> TtrCases() {
  return {
      {"ret_1", [] { return MakeSimpleReturn(1); }},
      {"ret_5", [] { return MakeSimpleReturn(5); }},
      {"mom_10", [] { return MakeMomentum(10); }},
      {"rv_parkinson_20", [] { return MakeParkinsonVol(20); }},
      {"rv_gk_20", [] { return MakeGarmanKlassVol(20); }},
      {"zscore_20", [] { return MakeZScore(20); }},
      {"min_20", [] { return MakeRollingMin(20); }},
      {"max_20", [] { return MakeRollingMax(20); }},
      {"drawdown_20", [] { return MakeDrawdown(20); }},
      {"sharpe_20", [] { return MakeRollingSharpe(20); }},
      {"vwap_10", [] { return MakeVwap(10); }},
      {"mfi_14", [] { return MakeMfi(14); }},
      {"vol_ma_20", [] { return MakeVolumeMa(20); }},
      {"vol_ratio_20", [] { return MakeVolumeRatio(20); }},
      {"bb_width_20_2", [] { return MakeBollingerWidth(20, 2); }},
      {"dmi_14", [] { return MakeDmi(14); }},
  };
}

std::vector<KernelCase> AllCases() {
  std::vector<KernelCase> cases = TtrCases();
  cases.push_back({"time_of_day", [] { return MakeTimeOfDay(); }});
  cases.push_back({"day_of_week", [] { return MakeDayOfWeek(); }});
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<KernelCase>& info) { return info.param.name; }

class PriceTtrTest : public ::testing::TestWithParam<KernelCase> {};

TEST_P(PriceTtrTest, MatchesTtr) { ExpectMatchesTtr(*GetParam().make(), TtrcPrice()); }

INSTANTIATE_TEST_SUITE_P(Price, PriceTtrTest, ::testing::ValuesIn(TtrCases()), CaseName);

class PriceKernelTest : public ::testing::TestWithParam<KernelCase> {};

TEST_P(PriceKernelTest, StreamingEqualsBatchAndPointInTimeOnTtrc) {
  ExpectStreamingEqualsBatch(*GetParam().make(), TtrcPrice().bars);
  ExpectPointInTime(*GetParam().make(), TtrcPrice().bars);
}

TEST_P(PriceKernelTest, StreamingEqualsBatchAndPointInTimeOnCryptoCandles) {
  for (const std::vector<Bar>* bars : {&EthBtc(), &XrpFutures()}) {
    ASSERT_FALSE(bars->empty());
    ExpectStreamingEqualsBatch(*GetParam().make(), *bars);
    ExpectPointInTime(*GetParam().make(), *bars);
  }
}

TEST_P(PriceKernelTest, ResetForgetsAndCloneStartsFresh) {
  std::unique_ptr<FeatureKernel> kernel = GetParam().make();
  ExpectResetAndCloneStartFresh(*kernel,
                                std::vector<Bar>(EthBtc().begin(), EthBtc().begin() + 300));
}

// A bar with a NaN (or, for the log-based kernels, zero or negative) price is skipped: NaN
// outputs, and every later value is as if the bar had never come.
TEST_P(PriceKernelTest, BadBarsAreSkipped) {
  std::vector<Bar> clean(EthBtc().begin(), EthBtc().begin() + 200);
  std::vector<Bar> dirty = clean;
  const Bar nan_bar = Ohlcv(kNa, kNa, kNa, kNa, kNa);
  const Bar zero_bar = Ohlcv(0, 0, 0, 0, 0);
  const Bar negative_bar = Ohlcv(-1, -1, -1, -1, -1);
  dirty.insert(dirty.begin() + 150, {nan_bar, nan_bar});
  dirty.insert(dirty.begin() + 100, nan_bar);
  std::unique_ptr<FeatureKernel> kernel = GetParam().make();
  const auto want = RunKernel(*kernel, clean);
  kernel->Reset();
  const auto got = RunKernel(*kernel, dirty);
  size_t clean_row = 0;
  for (size_t row = 0; row < got.size(); ++row) {
    if (std::isnan(dirty[row].close)) continue;  // skipped (the calendar has no NaN input)
    for (size_t column = 0; column < got[row].size(); ++column) {
      const double expected = want[clean_row][column];
      if (std::isnan(expected)) {
        EXPECT_TRUE(std::isnan(got[row][column])) << "row " << row;
      } else {
        EXPECT_EQ(got[row][column], expected) << "row " << row;
      }
    }
    ++clean_row;
  }
  // Zero and negative prices never crash.
  kernel->Reset();
  for (const Bar& bar : {zero_bar, negative_bar, zero_bar}) {
    std::vector<double> out(kernel->output_names().size());
    kernel->Update(bar, out);
  }
}

INSTANTIATE_TEST_SUITE_P(Price, PriceKernelTest, ::testing::ValuesIn(AllCases()), CaseName);

TEST(PriceKernelsTest, OutputNamesEncodeParameters) {
  EXPECT_EQ(MakeSimpleReturn(3)->output_names(), std::vector<std::string>{"ret_3"});
  EXPECT_EQ(MakeMomentum(4)->output_names(), std::vector<std::string>{"mom_4"});
  EXPECT_EQ(MakeParkinsonVol(5)->output_names(), std::vector<std::string>{"rv_parkinson_5"});
  EXPECT_EQ(MakeGarmanKlassVol(6)->output_names(), std::vector<std::string>{"rv_gk_6"});
  EXPECT_EQ(MakeZScore(7)->output_names(), std::vector<std::string>{"zscore_7"});
  EXPECT_EQ(MakeRollingMin(8)->output_names(), std::vector<std::string>{"min_8"});
  EXPECT_EQ(MakeRollingMax(9)->output_names(), std::vector<std::string>{"max_9"});
  EXPECT_EQ(MakeDrawdown(10)->output_names(), std::vector<std::string>{"drawdown_10"});
  EXPECT_EQ(MakeRollingSharpe(11)->output_names(), std::vector<std::string>{"sharpe_11"});
  EXPECT_EQ(MakeVwap(12)->output_names(), std::vector<std::string>{"vwap_12"});
  EXPECT_EQ(MakeMfi(13)->output_names(), std::vector<std::string>{"mfi_13"});
  EXPECT_EQ(MakeVolumeMa(14)->output_names(), std::vector<std::string>{"vol_ma_14"});
  EXPECT_EQ(MakeVolumeRatio(15)->output_names(), std::vector<std::string>{"vol_ratio_15"});
  EXPECT_EQ(MakeBollingerWidth(16, 3)->output_names(), std::vector<std::string>{"bb_width_16_3"});
  EXPECT_EQ(MakeDmi(17)->output_names(), (std::vector<std::string>{"plus_di_17", "minus_di_17"}));
  EXPECT_EQ(MakeTimeOfDay()->output_names(), (std::vector<std::string>{"tod_sin", "tod_cos"}));
  EXPECT_EQ(MakeDayOfWeek()->output_names(), (std::vector<std::string>{"dow_sin", "dow_cos"}));
}

// --- hand-computed values ---

TEST(PriceKernelsTest, ReturnsAndMomentumByHand) {
  const std::vector<Bar> bars = Closes({10, 11, 9.9, 12});
  ExpectValues(Column(*MakeSimpleReturn(1), bars), {kNa, 0.1, -0.1, 12 / 9.9 - 1});
  ExpectValues(Column(*MakeSimpleReturn(2), bars), {kNa, kNa, -0.01, 12.0 / 11 - 1});
  ExpectValues(Column(*MakeMomentum(2), bars), {kNa, kNa, -0.1, 1});
}

TEST(PriceKernelsTest, ExtremesAndDrawdownByHand) {
  const std::vector<Bar> bars = Closes({5, 3, 4, 8, 2, 2, 7});
  ExpectValues(Column(*MakeRollingMin(3), bars), {kNa, kNa, 3, 3, 2, 2, 2});
  ExpectValues(Column(*MakeRollingMax(3), bars), {kNa, kNa, 5, 8, 8, 8, 7});
  ExpectValues(Column(*MakeDrawdown(3), bars), {kNa, kNa, -0.2, 0, -0.75, -0.75, 0});
  ExpectValues(Column(*MakeRollingMax(1), bars), {5, 3, 4, 8, 2, 2, 7});
}

TEST(PriceKernelsTest, RollingExtremesMatchABruteForceScan) {
  // Long monotone runs and ties exercise the deque's ring buffer wrapping.
  std::vector<double> closes;
  for (int bar = 0; bar < 3000; ++bar) closes.push_back(std::floor(50 * std::sin(bar / 37.0)));
  const std::vector<double> lowest = Column(*MakeRollingMin(25), Closes(closes));
  const std::vector<double> highest = Column(*MakeRollingMax(25), Closes(closes));
  for (size_t bar = 24; bar < closes.size(); ++bar) {
    const auto first = closes.begin() + static_cast<std::ptrdiff_t>(bar) - 24;
    const auto last = closes.begin() + static_cast<std::ptrdiff_t>(bar) + 1;
    ASSERT_EQ(lowest[bar], *std::min_element(first, last)) << "bar " << bar;
    ASSERT_EQ(highest[bar], *std::max_element(first, last)) << "bar " << bar;
  }
}

TEST(PriceKernelsTest, RangeVolatilityByHand) {
  // ln(H/L) = ln 2 and ln 4 = 2 ln 2; ln(C/O) = 0 and ln 2.
  const double l2 = std::numbers::ln2;
  const std::vector<Bar> bars = {Ohlcv(1, 2, 1, 1), Ohlcv(1, 4, 1, 2)};
  ExpectValues(Column(*MakeParkinsonVol(2), bars),
               {kNa, std::sqrt((l2 * l2 + 4 * l2 * l2) / (8 * l2))});
  const double gk_sum = 0.5 * l2 * l2 + 0.5 * 4 * l2 * l2 - (2 * l2 - 1) * l2 * l2;
  ExpectValues(Column(*MakeGarmanKlassVol(2), bars), {kNa, std::sqrt(gk_sum / 2)});
  // A flat candle has no range: zero volatility, not NaN.
  ExpectValues(Column(*MakeGarmanKlassVol(1), Closes({3, 3})), {0, 0});
}

TEST(PriceKernelsTest, ZScoreAndSharpeByHand) {
  // closes 1, 2, 6: mean 3, sample sd sqrt(7), z = 3 / sqrt(7).
  ExpectValues(Column(*MakeZScore(3), Closes({1, 2, 6})), {kNa, kNa, 3 / std::sqrt(7.0)});
  // Log returns ln 2, ln 2, ln 0.5 ... via closes 1, 2, 4, 2: mean ln2 / 3, sample sd
  // sqrt(((2/3)^2 * 2 + (4/3)^2) / 2) ln 2 = sqrt(4/3) ln 2.
  ExpectValues(Column(*MakeRollingSharpe(3), Closes({1, 2, 4, 2})),
               {kNa, kNa, kNa, (1.0 / 3) / std::sqrt(4.0 / 3)});
}

TEST(PriceKernelsTest, FlatWindowsGiveNeutralValuesNotNaN) {
  // Thin crypto markets print runs of identical candles without volume.
  std::vector<Bar> bars = Closes({1, 2, 3});
  for (int bar = 0; bar < 40; ++bar) bars.push_back(Close(0.1 + 0.2, 0));
  const size_t last = bars.size() - 1;
  EXPECT_EQ(Column(*MakeZScore(5), bars)[last], 0);
  EXPECT_EQ(Column(*MakeRollingSharpe(5), bars)[last], 0);
  EXPECT_EQ(Column(*MakeVolumeRatio(5), bars)[last], 1);
  EXPECT_EQ(Column(*MakeMfi(5), bars)[last], 50);
  EXPECT_DOUBLE_EQ(Column(*MakeVwap(5), bars)[last], 0.1 + 0.2);
  EXPECT_NEAR(Column(*MakeBollingerWidth(5, 2), bars)[last], 0, 1e-15);
  EXPECT_EQ(Column(*MakeParkinsonVol(5), bars)[last], 0);
  EXPECT_EQ(Column(*MakeGarmanKlassVol(5), bars)[last], 0);
}

TEST(PriceKernelsTest, DmiWithoutAnyRangeIsZero) {
  // Wilder sums never forget a range once seen, so only a stream flat from the start has
  // TTR's 0 / 0.
  const std::vector<Bar> flat(10, Close(5));
  ExpectValues(Column(*MakeDmi(3), flat, 0), {kNa, kNa, kNa, 0, 0, 0, 0, 0, 0, 0});
  ExpectValues(Column(*MakeDmi(3), flat, 1), {kNa, kNa, kNa, 0, 0, 0, 0, 0, 0, 0});
}

TEST(PriceKernelsTest, NonPositivePricesGiveNaNWhereALogIsUndefined) {
  const std::vector<Bar> bars = {Ohlcv(1, 2, 1, 1.5), Ohlcv(1, 2, 0, 1), Ohlcv(-1, 2, 1, 1),
                                 Ohlcv(1, 4, 1, 2)};
  // Parkinson skips the bar with a zero low but not the one with a negative open, which it
  // does not read; Garman-Klass skips both.
  const double l2 = std::numbers::ln2;
  ExpectValues(Column(*MakeParkinsonVol(2), bars),
               {kNa, kNa, std::sqrt(2 * l2 * l2 / (8 * l2)), std::sqrt(5 * l2 * l2 / (8 * l2))});
  EXPECT_TRUE(std::isnan(Column(*MakeGarmanKlassVol(1), bars)[1]));
  EXPECT_TRUE(std::isnan(Column(*MakeGarmanKlassVol(1), bars)[2]));
  // Returns ln 2, then (skipping 0 and -3) -ln 2 and ln 2: mean 0 over each window.
  ExpectValues(Column(*MakeRollingSharpe(2), Closes({1, 2, 0, -3, 1, 2})),
               {kNa, kNa, kNa, kNa, 0, 0});
}

TEST(PriceKernelsTest, ConstantNonZeroReturnHasNoSharpe) {
  std::vector<double> closes = {1};
  for (int bar = 0; bar < 10; ++bar) closes.push_back(closes.back() * 2);
  EXPECT_TRUE(std::isnan(Column(*MakeRollingSharpe(3), Closes(closes)).back()));
}

TEST(PriceKernelsTest, VwapAndVolumeByHand) {
  const std::vector<Bar> bars = {Close(10, 1), Close(20, 3), Close(30, 0), Close(40, 0)};
  ExpectValues(Column(*MakeVwap(2), bars), {kNa, 17.5, 20, 35});  // last: no volume, mean
  ExpectValues(Column(*MakeVolumeMa(2), bars), {kNa, 2, 1.5, 0});
  ExpectValues(Column(*MakeVolumeRatio(2), bars), {kNa, 1.5, 0, 1});
}

TEST(PriceKernelsTest, MfiByHand) {
  // Typical prices 10, 11, 10.5, 10.5, 12 with volumes 1, 2, 4, 8, 1: flows +22, -42, 0, +12.
  const std::vector<Bar> bars = {Ohlcv(10, 11, 9, 10, 1), Ohlcv(11, 12, 10, 11, 2),
                                 Ohlcv(10, 11, 10, 10.5, 4), Ohlcv(10, 11, 10, 10.5, 8),
                                 Ohlcv(12, 13, 11, 12, 1)};
  ExpectValues(Column(*MakeMfi(2), bars), {kNa, kNa, 100 - 100 / (1 + 22.0 / 42), 0, 100});
}

TEST(PriceKernelsTest, DmiByHand) {
  // The ADX example of ta_ranges_test: TR sums 2.5, 4.75, 4.375, +DM sums 1, 0.5, 1.25,
  // -DM sums 0, 3, 1.5.
  const std::vector<Bar> bars = {Ohlcv(9, 10, 8, 9), Ohlcv(11, 12, 9, 11),
                                 Ohlcv(10.5, 11, 10, 10.5), Ohlcv(8, 9, 7, 8),
                                 Ohlcv(9.5, 10, 8, 9.5)};
  ExpectValues(Column(*MakeDmi(2), bars, 0), {kNa, kNa, 40, 100 * 0.5 / 4.75, 100 * 1.25 / 4.375});
  ExpectValues(Column(*MakeDmi(2), bars, 1), {kNa, kNa, 0, 100 * 3 / 4.75, 100 * 1.5 / 4.375});
}

TEST(PriceKernelsTest, BollingerWidthIsTheBandsSpreadOverTheMid) {
  const std::vector<Bar>& bars = TtrcPrice().bars;
  auto bands = MakeBollinger(20, 2);
  auto width = MakeBollingerWidth(20, 2);
  const auto band_rows = RunKernel(*bands, bars);
  const auto width_rows = RunKernel(*width, bars);
  for (size_t bar = 19; bar < bars.size(); ++bar) {
    const double want = (band_rows[bar][2] - band_rows[bar][0]) / band_rows[bar][1];
    ASSERT_EQ(width_rows[bar][0], want) << "bar " << bar;
  }
}

// A long stream at a high level then a short window: the values left behind must not leave
// rounding residue in the rolling sums.
TEST(PriceKernelsTest, NoDriftAfterLevelShift) {
  std::vector<Bar> bars;
  for (int bar = 0; bar < 5000; ++bar) bars.push_back(Close(1e9 + 0.1 * (bar % 7), 1e9));
  for (double close : {1.0, 2.0, 3.0}) bars.push_back(Close(close, close));
  EXPECT_NEAR(Column(*MakeVwap(3), bars).back(), 14.0 / 6, 1e-12);
  EXPECT_NEAR(Column(*MakeVolumeMa(3), bars).back(), 2, 1e-12);
  EXPECT_NEAR(Column(*MakeZScore(3), bars).back(), 1, 1e-12);
  EXPECT_NEAR(Column(*MakeRollingMin(3), bars).back(), 1, 0);
}

TEST(PriceKernelsTest, RangeVolatilityDoesNotDriftOverLongStreams) {
  // Alternating wide and narrow candles: the rolling sum over an even window is constant.
  std::vector<Bar> bars;
  for (int bar = 0; bar < 200000; ++bar) {
    bars.push_back(bar % 2 == 0 ? Ohlcv(100, 101, 99, 100.5) : Ohlcv(100, 100.2, 99.9, 100));
  }
  const double wide = std::log(101.0 / 99);
  const double narrow = std::log(100.2 / 99.9);
  const double want =
      std::sqrt(10 * (wide * wide + narrow * narrow) / (4 * 20 * std::numbers::ln2));
  EXPECT_NEAR(Column(*MakeParkinsonVol(20), bars).back(), want, 1e-13 * want);
}

// --- calendar ---

int64_t Nanos(const std::string& iso) {
  auto ts = Timestamp::Parse(iso);
  EXPECT_TRUE(ts.ok()) << iso;
  return ts.ok() ? ts->nanos() : 0;
}

std::vector<double> CalendarAt(const FeatureKernel& kernel, const std::string& iso) {
  std::unique_ptr<FeatureKernel> fresh = kernel.Clone();
  std::vector<double> out(2);
  Bar bar = Close(1);
  bar.ts = Nanos(iso);
  fresh->Update(bar, out);
  return out;
}

TEST(PriceKernelsTest, TimeOfDayByHand) {
  const auto tod = MakeTimeOfDay();
  const double pi = std::numbers::pi;
  ExpectValues(CalendarAt(*tod, "2024-03-05T00:00:00Z"), {0, 1});
  ExpectValues(CalendarAt(*tod, "2024-03-05T06:00:00Z"), {1, std::cos(pi / 2)});
  ExpectValues(CalendarAt(*tod, "2024-03-05T12:00:00Z"), {std::sin(pi), -1});
  // 21:30:45 = 77,445 s into the day.
  const double angle = 2 * pi * 77445 / 86400;
  ExpectValues(CalendarAt(*tod, "2024-03-05T21:30:45Z"), {std::sin(angle), std::cos(angle)});
  // Before 1970 the time of day still counts from midnight: 18:00 is 3/4 of the day.
  ExpectValues(CalendarAt(*tod, "1969-12-31T18:00:00Z"), {-1, std::cos(1.5 * pi)});
}

TEST(PriceKernelsTest, DayOfWeekByHand) {
  const auto dow = MakeDayOfWeek();
  const auto at = [](int weekday) {
    const double angle = 2 * std::numbers::pi * weekday / 7;
    return std::vector<double>{std::sin(angle), std::cos(angle)};
  };
  ExpectValues(CalendarAt(*dow, "2024-03-04T00:00:00Z"), at(0));  // Monday
  ExpectValues(CalendarAt(*dow, "2024-03-06T23:59:59Z"), at(2));  // Wednesday
  ExpectValues(CalendarAt(*dow, "2024-03-10T12:00:00Z"), at(6));  // Sunday
  ExpectValues(CalendarAt(*dow, "1970-01-01T00:00:00Z"), at(3));  // Thursday
  ExpectValues(CalendarAt(*dow, "1969-12-29T08:00:00Z"), at(0));  // Monday, before 1970
}

// --- every shared candle file ---

// Every kernel of the "price" group (ta.h and price.h) with its catalogue defaults.
std::vector<std::unique_ptr<FeatureKernel>> AllPriceKernels() {
  std::vector<std::unique_ptr<FeatureKernel>> kernels;
  for (const KernelCase& kernel_case : AllCases()) kernels.push_back(kernel_case.make());
  kernels.push_back(MakeSma(20));
  kernels.push_back(MakeEma(20));
  kernels.push_back(MakeWma(20));
  kernels.push_back(MakeMacd(12, 26, 9));
  kernels.push_back(MakeTrueRange());
  kernels.push_back(MakeAtr(14));
  kernels.push_back(MakeAdx(14));
  kernels.push_back(MakeStochastic(14, 3, 3));
  kernels.push_back(MakeObv());
  kernels.push_back(MakeLogReturn(1));
  kernels.push_back(MakeRealizedVol(20));
  // rsi and bbands are left out: TTR defines RSI of a window without moves and %B of a flat
  // window as 0 / 0 (NaN), and ta_averages.cc keeps that.
  return kernels;
}

TEST(PriceKernelsTest, EverySharedCandleFileGivesFiniteValuesAfterWarmUp) {
  // Longest default warm-up: MACD's signal (26 + 9 - 2 bars) and ADX (2 * 14 bars).
  constexpr size_t kWarmUp = 40;
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(VIGIL_SHARED_DATA) + "/candles")) {
    const std::string extension = entry.path().extension().string();
    if (extension == ".csv" || extension == ".json") files.push_back(entry.path().filename());
  }
  ASSERT_GE(files.size(), 10u);
  int files_checked = 0;
  for (const std::string& file : files) {
    const std::optional<std::vector<Bar>> bars = testing_util::TrySharedCandles("candles/" + file);
    if (!bars) continue;  // not a candle layout the readers know (e.g. raw exchange CSV)
    ++files_checked;
    for (const auto& kernel : AllPriceKernels()) {
      const auto rows = RunKernel(*kernel, *bars);
      for (size_t row = kWarmUp; row < rows.size(); ++row) {
        for (size_t column = 0; column < rows[row].size(); ++column) {
          ASSERT_TRUE(std::isfinite(rows[row][column]))
              << file << " " << kernel->output_names()[column] << " row " << row << ": "
              << rows[row][column];
        }
      }
    }
  }
  EXPECT_GE(files_checked, 19);  // every .csv and .json there in the current snapshot
}

// --- the catalogue ---

// The output names of every "price" entry with its defaults.
const std::map<std::string, std::vector<std::string>>& DefaultOutputs() {
  static const std::map<std::string, std::vector<std::string>> outputs = {
      {"sma", {"sma_20"}},
      {"ema", {"ema_20"}},
      {"wma", {"wma_20"}},
      {"rsi", {"rsi_14"}},
      {"macd", {"macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9"}},
      {"bbands", {"bb_lower_20_2", "bb_mid_20_2", "bb_upper_20_2", "bb_pctb_20_2"}},
      {"bb_width", {"bb_width_20_2"}},
      {"tr", {"tr"}},
      {"atr", {"atr_14"}},
      {"adx", {"adx_14"}},
      {"dmi", {"plus_di_14", "minus_di_14"}},
      {"stoch", {"stoch_fastk_14_3_3", "stoch_fastd_14_3_3", "stoch_slowd_14_3_3"}},
      {"obv", {"obv"}},
      {"logret", {"logret_1"}},
      {"ret", {"ret_1"}},
      {"rv", {"rv_20"}},
      {"rv_parkinson", {"rv_parkinson_20"}},
      {"rv_gk", {"rv_gk_20"}},
      {"zscore", {"zscore_20"}},
      {"min", {"min_20"}},
      {"max", {"max_20"}},
      {"drawdown", {"drawdown_20"}},
      {"sharpe", {"sharpe_20"}},
      {"vwap", {"vwap_10"}},
      {"mfi", {"mfi_14"}},
      {"mom", {"mom_10"}},
      {"vol_ma", {"vol_ma_20"}},
      {"vol_ratio", {"vol_ratio_20"}},
      {"time_of_day", {"tod_sin", "tod_cos"}},
      {"day_of_week", {"dow_sin", "dow_cos"}},
  };
  return outputs;
}

TEST(PriceCatalogueTest, EveryEntryBuildsWithItsDefaults) {
  std::set<std::string> seen;
  for (const FeatureInfo& info : FeatureCatalogue()) {
    if (info.group != "price") continue;
    SCOPED_TRACE(info.name);
    seen.insert(info.name);
    ASSERT_EQ(FindFeature(info.name), &info);
    EXPECT_EQ(info.kinds, std::vector<DataKind>{DataKind::kCandles});
    EXPECT_FALSE(info.description.empty());
    for (const ParamInfo& param : info.params) {
      EXPECT_EQ(param.type, ParamType::kInt) << param.name;
      EXPECT_GE(param.min, 1) << param.name;
      EXPECT_FALSE(param.default_value.empty()) << param.name;
      EXPECT_FALSE(param.description.empty()) << param.name;
    }
    Result<ParamValues> values = info.Resolve({});
    ASSERT_TRUE(values.ok()) << values.status().ToString();
    Result<std::unique_ptr<EventKernel>> kernel = info.make(*values);
    ASSERT_TRUE(kernel.ok()) << kernel.status().ToString();
    const auto expected = DefaultOutputs().find(info.name);
    ASSERT_NE(expected, DefaultOutputs().end()) << "undocumented price feature";
    EXPECT_EQ((*kernel)->output_names(), expected->second);
    ASSERT_EQ((*kernel)->inputs().size(), 1u);
    EXPECT_EQ((*kernel)->inputs()[0].kind, DataKind::kCandles);
  }
  std::set<std::string> documented;
  for (const auto& [name, outputs] : DefaultOutputs()) documented.insert(name);
  EXPECT_EQ(seen, documented);
}

TEST(PriceCatalogueTest, DefaultsAreTtrs) {
  const auto params = [](const std::string& name) {
    const FeatureInfo* info = FindFeature(name);
    EXPECT_NE(info, nullptr) << name;
    if (info == nullptr) return std::vector<std::string>{};
    Result<ParamValues> values = info->Resolve({});
    EXPECT_TRUE(values.ok()) << name;
    return values.ok() ? values->canonical() : std::vector<std::string>{};
  };
  EXPECT_EQ(params("macd"), (std::vector<std::string>{"fast=12", "slow=26", "signal=9"}));
  EXPECT_EQ(params("bbands"), (std::vector<std::string>{"n=20", "k=2"}));
  EXPECT_EQ(params("stoch"), (std::vector<std::string>{"fast_k=14", "fast_d=3", "slow_d=3"}));
  EXPECT_EQ(params("logret"), std::vector<std::string>{"k=1"});
  EXPECT_EQ(params("ret"), std::vector<std::string>{"k=1"});
  EXPECT_EQ(params("vwap"), std::vector<std::string>{"n=10"});
  EXPECT_EQ(params("mfi"), std::vector<std::string>{"n=14"});
  EXPECT_TRUE(params("tr").empty());
}

TEST(PriceCatalogueTest, RejectsBadParameters) {
  const FeatureInfo* macd = FindFeature("macd");
  ASSERT_NE(macd, nullptr);
  Result<ParamValues> inverted = macd->Resolve({{"fast", "26"}, {"slow", "12"}});
  ASSERT_TRUE(inverted.ok());
  Result<std::unique_ptr<EventKernel>> kernel = macd->make(*inverted);
  ASSERT_FALSE(kernel.ok());
  EXPECT_NE(kernel.status().message().find("macd"), std::string::npos);
  for (const std::string name : {"zscore", "sharpe", "rv"}) {
    EXPECT_FALSE(FindFeature(name)->Resolve({{"n", "1"}}).ok()) << name;
    EXPECT_TRUE(FindFeature(name)->Resolve({{"n", "2"}}).ok()) << name;
  }
  EXPECT_FALSE(FindFeature("sma")->Resolve({{"n", "0"}}).ok());
  EXPECT_FALSE(FindFeature("sma")->Resolve({{"n", "1000000"}}).ok());
  EXPECT_FALSE(FindFeature("vwap")->Resolve({{"n", "2.5"}}).ok());
}

TEST(PriceCatalogueTest, CatalogueKernelsComputeWhatTheBarKernelsCompute) {
  const std::vector<Bar> bars(EthBtc().begin(), EthBtc().begin() + 500);
  const EventStream stream = EventStream::FromBars(bars);
  Result<ParamValues> values = FindFeature("mfi")->Resolve({{"n", "7"}});
  ASSERT_TRUE(values.ok());
  Result<std::unique_ptr<EventKernel>> kernel = FindFeature("mfi")->make(*values);
  ASSERT_TRUE(kernel.ok());
  const auto rows = RunOverStream(**kernel, stream);
  ExpectValues(
      [&] {
        std::vector<double> column;
        for (const auto& row : rows) column.push_back(row[0]);
        return column;
      }(),
      Column(*MakeMfi(7), bars));
}

}  // namespace
}  // namespace vigil
