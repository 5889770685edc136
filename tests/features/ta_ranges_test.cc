#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "features/ta_test_util.h"
#include "vigil/features/ta.h"

namespace vigil {
namespace {

using testing_util::ExpectMatchesTtr;
using testing_util::ExpectPointInTime;
using testing_util::ExpectResetAndCloneStartFresh;
using testing_util::ExpectStreamingEqualsBatch;
using testing_util::RunKernel;
using testing_util::SharedCandles;
using testing_util::Ttrc;

// Column `column` of RunKernel's result.
std::vector<double> Column(FeatureKernel& kernel, const std::vector<Bar>& bars, int column = 0) {
  std::vector<double> values;
  for (const auto& row : RunKernel(kernel, bars)) values.push_back(row[column]);
  return values;
}

Bar Hlc(double high, double low, double close, double volume = 1) {
  return Bar{0, close, high, low, close, volume};
}

// The bars behind the hand-computed examples (checked against TTR in R).
std::vector<Bar> SmallBars() {
  return {Hlc(10, 8, 9), Hlc(12, 9, 11), Hlc(11, 10, 10.5), Hlc(9, 7, 8), Hlc(10, 8, 9.5)};
}

void ExpectValues(const std::vector<double>& actual, const std::vector<double>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t bar = 0; bar < expected.size(); ++bar) {
    if (std::isnan(expected[bar])) {
      EXPECT_TRUE(std::isnan(actual[bar])) << "bar " << bar << ": " << actual[bar];
    } else {
      EXPECT_NEAR(actual[bar], expected[bar], 1e-12) << "bar " << bar;
    }
  }
}

const double kNaN = std::nan("");

struct KernelCase {
  std::string name;
  std::function<std::unique_ptr<FeatureKernel>()> make;
};

class RangeKernelTest : public ::testing::TestWithParam<KernelCase> {};

TEST_P(RangeKernelTest, MatchesTtr) { ExpectMatchesTtr(*GetParam().make()); }

TEST_P(RangeKernelTest, StreamingEqualsBatchOnTtrc) {
  ExpectStreamingEqualsBatch(*GetParam().make(), Ttrc().bars);
}

TEST_P(RangeKernelTest, PointInTimeOnTtrc) { ExpectPointInTime(*GetParam().make(), Ttrc().bars); }

TEST_P(RangeKernelTest, StreamingEqualsBatchOnCryptoCandles) {
  ExpectStreamingEqualsBatch(*GetParam().make(), SharedCandles("candles/ETH_BTC-5m.csv"));
}

TEST_P(RangeKernelTest, PointInTimeOnCryptoCandles) {
  ExpectPointInTime(*GetParam().make(), SharedCandles("candles/ETH_BTC-5m.csv"));
}

TEST_P(RangeKernelTest, ResetForgetsAndCloneStartsFresh) {
  const std::vector<Bar>& bars = Ttrc().bars;
  std::unique_ptr<FeatureKernel> kernel = GetParam().make();
  ExpectResetAndCloneStartFresh(*kernel, std::vector<Bar>(bars.begin(), bars.begin() + 300));
}

INSTANTIATE_TEST_SUITE_P(
    Ta, RangeKernelTest,
    ::testing::Values(KernelCase{"tr", [] { return MakeTrueRange(); }},
                      KernelCase{"atr", [] { return MakeAtr(14); }},
                      KernelCase{"adx", [] { return MakeAdx(14); }},
                      KernelCase{"stoch", [] { return MakeStochastic(14, 3, 3); }},
                      KernelCase{"obv", [] { return MakeObv(); }},
                      KernelCase{"logret", [] { return MakeLogReturn(1); }},
                      KernelCase{"rv", [] { return MakeRealizedVol(20); }}),
    [](const ::testing::TestParamInfo<KernelCase>& info) { return info.param.name; });

TEST(TaRangesTest, OutputNamesEncodeParameters) {
  EXPECT_EQ(MakeTrueRange()->output_names(), std::vector<std::string>{"tr"});
  EXPECT_EQ(MakeAtr(14)->output_names(), std::vector<std::string>{"atr_14"});
  EXPECT_EQ(MakeAdx(14)->output_names(), std::vector<std::string>{"adx_14"});
  EXPECT_EQ(
      MakeStochastic(14, 3, 3)->output_names(),
      (std::vector<std::string>{"stoch_fastk_14_3_3", "stoch_fastd_14_3_3", "stoch_slowd_14_3_3"}));
  EXPECT_EQ(MakeObv()->output_names(), std::vector<std::string>{"obv"});
  EXPECT_EQ(MakeLogReturn(5)->output_names(), std::vector<std::string>{"logret_5"});
  EXPECT_EQ(MakeRealizedVol(20)->output_names(), std::vector<std::string>{"rv_20"});
}

TEST(TaRangesTest, TrueRangeCoversGapsFromThePreviousClose) {
  // Bar 3 gaps down below the previous close 10.5, so its range reaches up to it.
  ExpectValues(Column(*MakeTrueRange(), SmallBars()), {kNaN, 3, 1, 3.5, 2});
}

TEST(TaRangesTest, AtrSeedsWithTheMeanThenSmoothsByOneOverN) {
  // tr = NaN, 3, 1, 3.5, 2; seed (3 + 1) / 2, then tr / 2 + atr / 2.
  ExpectValues(Column(*MakeAtr(2), SmallBars()), {kNaN, kNaN, 2, 2.75, 2.375});
}

TEST(TaRangesTest, AdxByHand) {
  // +DM = 2, 0 (tie), 0, 1; -DM = 0, 0, 3, 0; TTR's wilderSum gives TR sums 2.5, 4.75, 4.375,
  // +DM sums 1, 0.5, 1.25, -DM sums 0, 3, 1.5, so DX = 100, 500/7, 100/11.
  ExpectValues(Column(*MakeAdx(2), SmallBars()),
               {kNaN, kNaN, kNaN, 600.0 / 7, 50.0 / 11 + 300.0 / 7});
}

TEST(TaRangesTest, AdxOfFlatCandlesIsZeroNotNaN) {
  // TTR divides 0 by 0 here; a stream must keep producing values.
  std::vector<Bar> flat(10, Hlc(5, 5, 5));
  const std::vector<double> adx = Column(*MakeAdx(2), flat);
  EXPECT_EQ(adx.back(), 0.0);
}

TEST(TaRangesTest, StochasticByHand) {
  std::unique_ptr<FeatureKernel> stoch = MakeStochastic(3, 2, 2);
  // Highest high / lowest low over 3 bars: 12/8, 12/7, 11/7.
  ExpectValues(Column(*stoch, SmallBars(), 0), {kNaN, kNaN, 0.625, 0.2, 0.625});
  stoch->Reset();
  ExpectValues(Column(*stoch, SmallBars(), 1), {kNaN, kNaN, kNaN, 0.4125, 0.4125});
  stoch->Reset();
  ExpectValues(Column(*stoch, SmallBars(), 2), {kNaN, kNaN, kNaN, kNaN, 0.4125});
}

TEST(TaRangesTest, StochasticOfAFlatWindowIsMidRange) {
  std::vector<Bar> flat(4, Hlc(5, 5, 5));
  ExpectValues(Column(*MakeStochastic(3, 1, 1), flat), {kNaN, kNaN, 0.5, 0.5});
}

TEST(TaRangesTest, ObvAddsOnUpClosesSubtractsOnDownKeepsOnEqual) {
  const std::vector<Bar> bars = {Hlc(9, 9, 9, 5), Hlc(11, 11, 11, 2), Hlc(11, 10, 10.5, 3),
                                 Hlc(11, 10, 10.5, 4), Hlc(11, 11, 11, 1)};
  ExpectValues(Column(*MakeObv(), bars), {5, 7, 4, 4, 5});
}

TEST(TaRangesTest, LogReturnOverKBars) {
  const std::vector<Bar> bars = {Hlc(1, 1, 1), Hlc(2, 2, 2), Hlc(4, 4, 4), Hlc(8, 8, 8)};
  ExpectValues(Column(*MakeLogReturn(2), bars), {kNaN, kNaN, std::log(4.0), std::log(4.0)});
  ExpectValues(Column(*MakeLogReturn(1), bars),
               {kNaN, std::log(2.0), std::log(2.0), std::log(2.0)});
}

TEST(TaRangesTest, RealizedVolIsTheSampleSdOfLogReturns) {
  // Log returns 0.1, 0.2, -0.1, 0.3: sample variances 7/300 and 13/300 over 3 returns.
  std::vector<Bar> bars;
  for (double log_close : {0.0, 0.1, 0.3, 0.2, 0.5}) {
    const double close = std::exp(log_close);
    bars.push_back(Hlc(close, close, close));
  }
  ExpectValues(Column(*MakeRealizedVol(3), bars),
               {kNaN, kNaN, kNaN, std::sqrt(7.0 / 300), std::sqrt(13.0 / 300)});
}

TEST(TaRangesTest, RealizedVolDoesNotDriftOverLongStreams) {
  // A constant +-1% alternation has a known sd; rounding in the rolling update must not
  // accumulate over many windows.
  std::vector<Bar> bars;
  double close = 1000;
  for (int bar = 0; bar < 200000; ++bar) {
    close *= bar % 2 == 0 ? 1.01 : 1 / 1.01;
    bars.push_back(Hlc(close, close, close));
  }
  const double r = std::log(1.01);
  const double want = std::sqrt(20 * r * r / 19);  // mean 0 over an even window
  EXPECT_NEAR(Column(*MakeRealizedVol(20), bars).back(), want, 1e-12 * want);
}

}  // namespace
}  // namespace vigil
