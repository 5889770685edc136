// Position sizing policies (src/backtest/sizing.cc), on numbers worked by hand or, for the
// volatility, with Python's statistics.stdev (the n - 1 sample deviation, numpy's ddof=1).
#include "vigil/backtest/sizing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "vigil/core/timestamp.h"

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

SizingOptions Kelly(double payoff_ratio) {
  SizingOptions options;
  options.method = SizingMethod::kKelly;
  options.payoff_ratio = payoff_ratio;
  return options;
}

double KellyFor(const SizingOptions& options, double probability, double uncertainty = 0.0) {
  return TargetFraction(options, SizingSignal{probability, uncertainty}, {}, kNanosPerHour);
}

TEST(SizingMethodTest, NamesRoundTripAndUnknownNamesListTheMethods) {
  for (const SizingMethod method :
       {SizingMethod::kFixedFraction, SizingMethod::kKelly, SizingMethod::kVolatilityTarget}) {
    Result<SizingMethod> parsed = ParseSizingMethod(SizingMethodName(method));
    ASSERT_TRUE(parsed.ok()) << SizingMethodName(method);
    EXPECT_EQ(*parsed, method);
  }
  EXPECT_EQ(SizingMethodName(SizingMethod::kVolatilityTarget), "volatility_target");
  Result<SizingMethod> unknown = ParseSizingMethod("martingale");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  const std::string& message = unknown.status().message();
  EXPECT_NE(message.find("'martingale'"), std::string::npos) << message;
  for (const char* name : {"fixed_fraction", "kelly", "volatility_target"})
    EXPECT_NE(message.find(name), std::string::npos) << message;
}

TEST(SizingOptionsTest, DefaultsAreValid) { EXPECT_TRUE(SizingOptions().Validate().ok()); }

TEST(SizingOptionsTest, RefusesEachBadFieldNamingIt) {
  struct Case {
    const char* field;
    void (*spoil)(SizingOptions&);
  };
  const Case cases[] = {
      {"fraction", [](SizingOptions& o) { o.fraction = 0.0; }},
      {"fraction", [](SizingOptions& o) { o.fraction = 1.5; }},  // above max_leverage 1
      {"kelly_multiplier", [](SizingOptions& o) { o.kelly_multiplier = 0.0; }},
      {"kelly_multiplier", [](SizingOptions& o) { o.kelly_multiplier = 1.01; }},
      {"kelly_cap", [](SizingOptions& o) { o.kelly_cap = 2.0; }},
      {"kelly_cap", [](SizingOptions& o) { o.kelly_cap = kNaN; }},
      {"payoff_ratio", [](SizingOptions& o) { o.payoff_ratio = 0.0; }},
      {"payoff_ratio", [](SizingOptions& o) { o.payoff_ratio = kInf; }},
      {"target_volatility", [](SizingOptions& o) { o.target_volatility = -0.1; }},
      {"target_volatility", [](SizingOptions& o) { o.target_volatility = kNaN; }},
      {"volatility_window", [](SizingOptions& o) { o.volatility_window = 1; }},
      {"max_leverage", [](SizingOptions& o) { o.max_leverage = 0.0; }},
      {"max_leverage", [](SizingOptions& o) { o.max_leverage = kInf; }},
  };
  for (const Case& c : cases) {
    SizingOptions options;
    c.spoil(options);
    const Status status = options.Validate();
    ASSERT_FALSE(status.ok()) << c.field;
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message().rfind(c.field, 0), 0u) << status.message();
  }
}

TEST(SizingOptionsTest, LeverageWidensTheFractionAndTheCap) {
  SizingOptions options;
  options.max_leverage = 3.0;
  options.fraction = 2.5;
  options.kelly_cap = 3.0;
  EXPECT_TRUE(options.Validate().ok());
}

TEST(FixedFractionSizingTest, HoldsTheFractionWhateverTheSignal) {
  SizingOptions options;
  options.fraction = 0.25;
  EXPECT_EQ(TargetFraction(options, SizingSignal{}, {}, 0), 0.25);  // NaN probability: ignored
  EXPECT_EQ(TargetFraction(options, SizingSignal{0.1, 0.4}, {}, kNanosPerHour), 0.25);
}

TEST(KellySizingTest, FullKellyOfABinaryBet) {
  // p = 0.6, b = 1: e = 0.6 x 2 - 1 = 0.2, f* = 0.2 / 1 = 0.2 (= p - q / b).
  EXPECT_DOUBLE_EQ(KellyFor(Kelly(1.0), 0.6), 0.2);
  // p = 0.5, b = 2: e = 0.5 x 3 - 1 = 0.5, f* = 0.5 / 2 = 0.25 (= 0.5 - 0.5 / 2).
  EXPECT_DOUBLE_EQ(KellyFor(Kelly(2.0), 0.5), 0.25);
}

TEST(KellySizingTest, HalfKellyHalvesIt) {
  SizingOptions options = Kelly(1.0);
  options.kelly_multiplier = 0.5;
  EXPECT_DOUBLE_EQ(KellyFor(options, 0.6), 0.1);
}

TEST(KellySizingTest, ShrinksByTheModelsUncertainty) {
  // p = 0.6 +- 0.1, b = 1: sigma_e = 2 x 0.1 = 0.2 = e, so e^2 / (e^2 + sigma_e^2) = 1/2.
  EXPECT_DOUBLE_EQ(KellyFor(Kelly(1.0), 0.6, 0.1), 0.1);
  // p = 0.5 +- 0.1, b = 2: e = 0.5, sigma_e = 3 x 0.1 = 0.3, f = 0.25 x 0.25 / (0.25 + 0.09)
  // = 0.25 x 0.73529... = 0.18382352941176472.
  EXPECT_DOUBLE_EQ(KellyFor(Kelly(2.0), 0.5, 0.1), 0.18382352941176472);
  // The multiplier and the shrinkage compose: half of the above.
  SizingOptions half = Kelly(2.0);
  half.kelly_multiplier = 0.5;
  EXPECT_DOUBLE_EQ(KellyFor(half, 0.5, 0.1), 0.18382352941176472 / 2.0);
  // Infinite uncertainty: the edge is unknown, nothing to bet.
  EXPECT_EQ(KellyFor(Kelly(1.0), 0.6, kInf), 0.0);
}

TEST(KellySizingTest, CapAppliesAfterTheMultiplier) {
  // p = 0.9, b = 1: f* = 0.8.
  SizingOptions options = Kelly(1.0);
  options.kelly_cap = 0.3;
  EXPECT_DOUBLE_EQ(KellyFor(options, 0.9), 0.3);
  options.kelly_multiplier = 0.5;  // 0.4, still above the cap
  EXPECT_DOUBLE_EQ(KellyFor(options, 0.9), 0.3);
  options.kelly_multiplier = 0.25;  // 0.2, below it
  EXPECT_DOUBLE_EQ(KellyFor(options, 0.9), 0.2);
}

TEST(KellySizingTest, NoEdgeOrNoProbabilityStaysFlat) {
  EXPECT_EQ(KellyFor(Kelly(1.0), 0.5), 0.0);   // e = 0: a fair coin
  EXPECT_EQ(KellyFor(Kelly(1.0), 0.4), 0.0);   // e < 0: Kelly would go short; we stay flat
  EXPECT_EQ(KellyFor(Kelly(3.0), 0.25), 0.0);  // e = 0.25 x 4 - 1 = 0 at b = 3
  EXPECT_EQ(KellyFor(Kelly(1.0), kNaN), 0.0);
  EXPECT_EQ(KellyFor(Kelly(1.0), 1.2), 0.0);  // not a probability
  EXPECT_EQ(KellyFor(Kelly(1.0), -0.1), 0.0);
  EXPECT_EQ(KellyFor(Kelly(1.0), 0.6, kNaN), 0.0);
  EXPECT_EQ(KellyFor(Kelly(1.0), 0.6, -0.1), 0.0);
}

// Hourly closes; the last five log returns are
// [-0.008862687, -0.003964326, 0.022583189, -0.007797310, 0.017459221], and
//   statistics.stdev(returns) = 0.01495387542715865
//   x sqrt(365.25 x 24)       = 1.4000852864346245 annualised.
const std::vector<double> kHourlyCloses = {100,   101,   99.5, 100.2, 102,
                                           101.1, 100.7, 103,  102.2, 104};
constexpr double kHourlyVolatility = 1.4000852864346245;

SizingOptions VolatilityTarget(double target, double max_leverage = 1.0) {
  SizingOptions options;
  options.method = SizingMethod::kVolatilityTarget;
  options.target_volatility = target;
  options.volatility_window = 5;
  options.max_leverage = max_leverage;
  return options;
}

double VolatilityFraction(const SizingOptions& options, const std::vector<double>& closes) {
  return TargetFraction(options, SizingSignal{}, closes, kNanosPerHour);
}

TEST(VolatilityTargetSizingTest, MatchesTheSampleDeviationOfLogReturns) {
  EXPECT_NEAR(RealisedVolatility(kHourlyCloses, 5, kNanosPerHour), kHourlyVolatility, 1e-13);
  // 0.5 / 1.4000852864346245 = 0.35712110172464623.
  EXPECT_NEAR(VolatilityFraction(VolatilityTarget(0.5), kHourlyCloses), 0.35712110172464623, 1e-13);
}

TEST(VolatilityTargetSizingTest, ReadsOnlyTheLastWindowOfReturns) {
  std::vector<double> with_a_crash = kHourlyCloses;
  with_a_crash.front() = 10.0;  // a return outside the window of five
  EXPECT_EQ(VolatilityFraction(VolatilityTarget(0.5), with_a_crash),
            VolatilityFraction(VolatilityTarget(0.5), kHourlyCloses));
  with_a_crash[with_a_crash.size() - 6] = 10.0;  // the first close of the window: it moves
  EXPECT_NE(VolatilityFraction(VolatilityTarget(0.5), with_a_crash),
            VolatilityFraction(VolatilityTarget(0.5), kHourlyCloses));
}

TEST(VolatilityTargetSizingTest, AnnualisesWithTheBarSpacing) {
  // Five-minute bars: 12 times as many periods a year, sqrt(12) times the volatility.
  EXPECT_NEAR(RealisedVolatility(kHourlyCloses, 5, 5 * kNanosPerMinute),
              kHourlyVolatility * std::sqrt(12.0), 1e-12);
}

TEST(VolatilityTargetSizingTest, ClampsToTheLeverage) {
  // 2 / 1.4000852864346245 = 1.428484406898585: above 1, below 3.
  EXPECT_EQ(VolatilityFraction(VolatilityTarget(2.0), kHourlyCloses), 1.0);
  EXPECT_NEAR(VolatilityFraction(VolatilityTarget(2.0, 3.0), kHourlyCloses), 1.428484406898585,
              1e-12);
}

TEST(VolatilityTargetSizingTest, StaysFlatWithoutAnEstimate) {
  const SizingOptions options = VolatilityTarget(0.5);
  const std::vector<double> five_closes(kHourlyCloses.end() - 5, kHourlyCloses.end());
  EXPECT_EQ(VolatilityFraction(options, five_closes), 0.0);  // 4 returns, the window needs 5
  const std::vector<double> six_closes(kHourlyCloses.end() - 6, kHourlyCloses.end());
  EXPECT_GT(VolatilityFraction(options, six_closes), 0.0);
  EXPECT_EQ(VolatilityFraction(options, std::vector<double>(10, 100.0)), 0.0);  // sigma = 0
  std::vector<double> broken = kHourlyCloses;
  broken.back() = 0.0;  // log(0): no finite estimate
  EXPECT_EQ(VolatilityFraction(options, broken), 0.0);
  broken.back() = kNaN;
  EXPECT_EQ(VolatilityFraction(options, broken), 0.0);
  EXPECT_EQ(TargetFraction(options, SizingSignal{}, kHourlyCloses, 0), 0.0);  // no spacing
  EXPECT_TRUE(std::isnan(RealisedVolatility(kHourlyCloses, 5, 0)));
}

}  // namespace
}  // namespace vigil
