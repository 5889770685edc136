// Signal gates and account-level risk controls (src/backtest/risk_controls.cc), on hand-made
// equity marks; every expected number is worked in the comments.
#include "vigil/backtest/risk_controls.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Timestamp At(std::string_view iso) { return Timestamp::ParseIso(iso).value(); }

// --- Signal gates ---

TEST(EnsembleSummaryTest, MeanAndSampleDeviation) {
  // mean 0.7; deviations -0.1, 0, 0.1: sqrt(0.02 / 2) = 0.1.
  const std::vector<double> members = {0.6, 0.7, 0.8};
  Result<EnsembleView> view = SummarizeEnsemble(members);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_DOUBLE_EQ(view->mean, 0.7);
  EXPECT_DOUBLE_EQ(view->disagreement, 0.1);
  const std::vector<double> one = {0.55};
  Result<EnsembleView> single = SummarizeEnsemble(one);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->mean, 0.55);
  EXPECT_EQ(single->disagreement, 0.0);
}

TEST(EnsembleSummaryTest, RefusesAnEmptyEnsembleAndNonProbabilities) {
  Result<EnsembleView> empty = SummarizeEnsemble({});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("member_probabilities"), std::string::npos);
  for (const double bad : {1.2, -0.1, kNaN}) {
    const std::vector<double> members = {0.5, bad};
    Result<EnsembleView> view = SummarizeEnsemble(members);
    ASSERT_FALSE(view.ok()) << bad;
    EXPECT_EQ(view.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(view.status().message().find("member_probabilities[1]"), std::string::npos)
        << view.status().message();
  }
}

TEST(SignalGateTest, PassesAtTheBoundsAndFailsBeyondThem) {
  const SignalGate gate{0.6, 0.05};
  ASSERT_TRUE(gate.Validate().ok());
  EXPECT_TRUE(PassesGate(gate, 0.6, 0.05));
  EXPECT_TRUE(PassesGate(gate, 0.9, 0.0));
  EXPECT_FALSE(PassesGate(gate, 0.59, 0.0));   // not confident enough
  EXPECT_FALSE(PassesGate(gate, 0.9, 0.051));  // the members disagree too much
  EXPECT_FALSE(PassesGate(gate, kNaN, 0.0));
  EXPECT_FALSE(PassesGate(gate, 0.9, kNaN));
  // The default gate lets everything but NaN through.
  EXPECT_TRUE(PassesGate(SignalGate(), 0.0, 1e9));
  EXPECT_FALSE(PassesGate(SignalGate(), kNaN, 0.0));
}

std::string GateError(double min_confidence, double max_disagreement) {
  const SignalGate gate{min_confidence, max_disagreement};
  return gate.Validate().message();
}

TEST(SignalGateTest, ValidateNamesTheField) {
  EXPECT_EQ(GateError(1.5, 0.1).rfind("min_confidence", 0), 0u);
  EXPECT_EQ(GateError(kNaN, 0.1).rfind("min_confidence", 0), 0u);
  EXPECT_EQ(GateError(0.5, -0.1).rfind("max_disagreement", 0), 0u);
  EXPECT_EQ(GateError(0.5, kNaN).rfind("max_disagreement", 0), 0u);
  EXPECT_EQ(GateError(1.0, kInf), "");
}

// --- Account limits ---

TEST(RiskLimitsTest, DefaultsAreValidAndOff) {
  const RiskLimits limits;
  EXPECT_TRUE(limits.Validate().ok());
  EXPECT_FALSE(limits.active());
  for (void (*set)(RiskLimits&) : {+[](RiskLimits& l) { l.max_drawdown = 0.2; },
                                   +[](RiskLimits& l) { l.daily_loss_limit = 0.05; },
                                   +[](RiskLimits& l) { l.max_gross_exposure = 2.0; },
                                   +[](RiskLimits& l) { l.max_position_fraction = 0.5; }}) {
    RiskLimits one;
    set(one);
    EXPECT_TRUE(one.active());
  }
}

TEST(RiskLimitsTest, ValidateNamesTheField) {
  struct Case {
    const char* field;
    void (*spoil)(RiskLimits&);
  };
  const Case cases[] = {
      {"max_drawdown", [](RiskLimits& l) { l.max_drawdown = 0.0; }},
      {"max_drawdown", [](RiskLimits& l) { l.max_drawdown = 1.5; }},
      {"daily_loss_limit", [](RiskLimits& l) { l.daily_loss_limit = kNaN; }},
      {"daily_loss_limit", [](RiskLimits& l) { l.daily_loss_limit = -0.05; }},
      {"max_gross_exposure", [](RiskLimits& l) { l.max_gross_exposure = 0.0; }},
      {"max_position_fraction", [](RiskLimits& l) { l.max_position_fraction = kNaN; }},
  };
  for (const Case& c : cases) {
    RiskLimits limits;
    c.spoil(limits);
    const Status status = limits.Validate();
    ASSERT_FALSE(status.ok()) << c.field;
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message().rfind(c.field, 0), 0u) << status.message();
  }
}

TEST(RiskStateTest, Names) {
  EXPECT_EQ(RiskStateName(RiskState::kNormal), "normal");
  EXPECT_EQ(RiskStateName(RiskState::kPausedForDay), "paused_for_day");
  EXPECT_EQ(RiskStateName(RiskState::kHalted), "halted");
}

RiskGuard DrawdownGuard(double max_drawdown) {
  RiskLimits limits;
  limits.max_drawdown = max_drawdown;
  return RiskGuard(limits, 10'000.0);
}

RiskGuard DailyGuard(double daily_loss_limit) {
  RiskLimits limits;
  limits.daily_loss_limit = daily_loss_limit;
  return RiskGuard(limits, 10'000.0);
}

TEST(RiskGuardTest, DrawdownTripsAtExactlyTheLimit) {
  RiskGuard guard = DrawdownGuard(0.2);
  EXPECT_FALSE(guard.OnMark(At("2024-01-03T04:00:00Z"), 10'500.0));  // the new peak
  // 8401 / 10500 - 1 = -19.99 %: not yet.
  EXPECT_FALSE(guard.OnMark(At("2024-01-03T04:01:00Z"), 8'401.0));
  EXPECT_EQ(guard.state(), RiskState::kNormal);
  EXPECT_TRUE(guard.AllowsNewRisk());
  EXPECT_EQ(guard.reason(), "");
  // 8400 = 0.8 x 10500: -20 % on paper, -0.19999999999999996 in binary.
  EXPECT_TRUE(guard.OnMark(At("2024-01-03T04:05:00Z"), 8'400.0));
  EXPECT_EQ(guard.state(), RiskState::kHalted);
  EXPECT_FALSE(guard.AllowsNewRisk());
  EXPECT_EQ(guard.trips(), 1);
  EXPECT_EQ(guard.reason(), "max drawdown -20.0% breached the -20% limit at 2024-01-03T04:05:00Z");
}

TEST(RiskGuardTest, DrawdownPeakIncludesTheInitialCapital) {
  RiskGuard guard = DrawdownGuard(0.2);
  // The first mark is already 20.3 % below the 10000 the run started with.
  EXPECT_TRUE(guard.OnMark(At("2024-01-03T04:05:00.250Z"), 7'970.0));
  EXPECT_EQ(guard.reason(),
            "max drawdown -20.3% breached the -20% limit at 2024-01-03T04:05:00.250Z");
}

TEST(RiskGuardTest, HaltIsPermanent) {
  RiskGuard guard = DrawdownGuard(0.1);
  ASSERT_TRUE(guard.OnMark(At("2024-01-03T00:00:00Z"), 8'000.0));
  // Later marks, later days, a full recovery: still halted, never tripped again.
  EXPECT_FALSE(guard.OnMark(At("2024-01-03T12:00:00Z"), 7'000.0));
  EXPECT_FALSE(guard.OnMark(At("2024-01-04T00:00:00Z"), 12'000.0));
  EXPECT_FALSE(guard.OnMark(At("2024-02-01T00:00:00Z"), 20'000.0));
  EXPECT_EQ(guard.state(), RiskState::kHalted);
  EXPECT_FALSE(guard.AllowsNewRisk());
  EXPECT_EQ(guard.trips(), 1);
}

TEST(RiskGuardTest, DailyLossIsMeasuredFromThePreviousDaysLastMark) {
  RiskGuard guard = DailyGuard(0.05);
  // Day 1 from the initial capital: 10200 then 9600 (-4 %), no trip.
  EXPECT_FALSE(guard.OnMark(At("2024-01-02T00:05:00Z"), 10'200.0));
  EXPECT_FALSE(guard.OnMark(At("2024-01-02T23:55:00Z"), 9'600.0));
  // Day 2 from 9600: 9200 is -4.17 % (it would be -8 % from the initial capital).
  EXPECT_FALSE(guard.OnMark(At("2024-01-03T00:00:00Z"), 9'200.0));
  // 9120 = 0.95 x 9600: exactly the limit.
  EXPECT_TRUE(guard.OnMark(At("2024-01-03T10:30:00Z"), 9'120.0));
  EXPECT_EQ(guard.state(), RiskState::kPausedForDay);
  EXPECT_FALSE(guard.AllowsNewRisk());
  EXPECT_EQ(guard.reason(), "daily loss -5.0% breached the -5% limit at 2024-01-03T10:30:00Z");
}

TEST(RiskGuardTest, FirstDayIsMeasuredFromTheInitialCapital) {
  RiskGuard guard = DailyGuard(0.05);
  EXPECT_FALSE(guard.OnMark(At("2024-01-02T08:00:00Z"), 9'600.0));
  EXPECT_TRUE(guard.OnMark(At("2024-01-02T09:00:00Z"), 9'500.0));  // 9500 / 10000 - 1 = -5 %
}

TEST(RiskGuardTest, DailyPauseClearsOnTheNextUtcDay) {
  RiskGuard guard = DailyGuard(0.05);
  ASSERT_TRUE(guard.OnMark(At("2024-01-02T20:00:00Z"), 9'400.0));
  // Flat while paused: the same equity, and no second trip the same day.
  EXPECT_FALSE(guard.OnMark(At("2024-01-02T22:00:00Z"), 9'400.0));
  EXPECT_FALSE(guard.OnMark(At("2024-01-02T23:59:59Z"), 9'400.0));
  EXPECT_EQ(guard.state(), RiskState::kPausedForDay);
  EXPECT_FALSE(guard.OnMark(At("2024-01-03T00:00:00Z"), 9'400.0));
  EXPECT_EQ(guard.state(), RiskState::kNormal);
  EXPECT_TRUE(guard.AllowsNewRisk());
  EXPECT_EQ(guard.trips(), 1);
  // The reason of the last trip stays for the record.
  EXPECT_EQ(guard.reason(), "daily loss -6.0% breached the -5% limit at 2024-01-02T20:00:00Z");
}

TEST(RiskGuardTest, DayBoundaryIsUtcNotTheOffsetOfTheTimestamp) {
  RiskGuard guard = DailyGuard(0.05);
  ASSERT_TRUE(guard.OnMark(At("2024-01-02T20:00:00Z"), 9'400.0));
  // 01:00 on the 3rd at UTC+2 is 23:00 on the 2nd in UTC: the same day, still paused.
  EXPECT_FALSE(guard.OnMark(At("2024-01-03T01:00:00+02:00"), 9'400.0));
  EXPECT_EQ(guard.state(), RiskState::kPausedForDay);
  // 23:30 on the 2nd at UTC-1 is 00:30 on the 3rd in UTC: a new day.
  EXPECT_FALSE(guard.OnMark(At("2024-01-02T23:30:00-01:00"), 9'400.0));
  EXPECT_EQ(guard.state(), RiskState::kNormal);
}

TEST(RiskGuardTest, DayBoundaryBeforeTheEpochFloors) {
  RiskGuard guard = DailyGuard(0.05);
  ASSERT_TRUE(guard.OnMark(At("1969-12-31T12:00:00Z"), 9'000.0));
  // Truncating division would put 1969-12-31 and 1970-01-01 both in day 0.
  EXPECT_FALSE(guard.OnMark(At("1970-01-01T06:00:00Z"), 9'000.0));
  EXPECT_EQ(guard.state(), RiskState::kNormal);
}

TEST(RiskGuardTest, CountsTripsAndHaltsWhenBothControlsTripTogether) {
  RiskLimits limits;
  limits.daily_loss_limit = 0.05;
  limits.max_drawdown = 0.15;
  RiskGuard guard(limits, 10'000.0);
  ASSERT_TRUE(guard.OnMark(At("2024-01-02T12:00:00Z"), 9'500.0));  // -5 % on day 1
  ASSERT_FALSE(guard.OnMark(At("2024-01-03T00:00:00Z"), 9'500.0));
  ASSERT_TRUE(guard.OnMark(At("2024-01-03T12:00:00Z"), 9'000.0));  // -5.3 % on day 2
  EXPECT_EQ(guard.trips(), 2);
  EXPECT_EQ(guard.state(), RiskState::kPausedForDay);
  ASSERT_FALSE(guard.OnMark(At("2024-01-04T00:00:00Z"), 9'000.0));
  // 8000: -11.1 % on the day and -20 % from the peak: one trip, a halt.
  EXPECT_TRUE(guard.OnMark(At("2024-01-04T01:00:00Z"), 8'000.0));
  EXPECT_EQ(guard.trips(), 3);
  EXPECT_EQ(guard.state(), RiskState::kHalted);
  EXPECT_EQ(guard.reason().rfind("max drawdown -20.0%", 0), 0u) << guard.reason();
}

TEST(RiskGuardTest, LimitsAtOneAreOff) {
  RiskGuard guard(RiskLimits(), 10'000.0);
  EXPECT_FALSE(guard.OnMark(At("2024-01-02T00:00:00Z"), 0.0));  // -100 %: still no control
  EXPECT_EQ(guard.state(), RiskState::kNormal);
  EXPECT_EQ(guard.trips(), 0);
}

TEST(RiskGuardTest, IgnoresANonFiniteMark) {
  RiskGuard guard = DrawdownGuard(0.2);
  EXPECT_FALSE(guard.OnMark(At("2024-01-02T00:00:00Z"), kNaN));
  EXPECT_FALSE(guard.OnMark(At("2024-01-02T01:00:00Z"), kInf));  // not a new peak
  EXPECT_TRUE(guard.OnMark(At("2024-01-02T02:00:00Z"), 8'000.0));
}

// --- Exposure caps: equity 10000, price 100, one position at most 50 % and all at most 100 %
// of equity, so 5000 and 10000 of value. ---

RiskGuard CapGuard() {
  RiskLimits limits;
  limits.max_position_fraction = 0.5;
  limits.max_gross_exposure = 1.0;
  return RiskGuard(limits, 10'000.0);
}

TEST(RiskGuardCapDeltaTest, PassesAnOrderWithinTheCaps) {
  // Long 2000, buy 10 (1000): 3000 <= 5000, gross 3000 <= 10000.
  EXPECT_EQ(CapGuard().CapDelta(10.0, 100.0, 2'000.0, 2'000.0, 10'000.0), 10.0);
  // Exactly to the position cap: 4000 + 1000 = 5000.
  EXPECT_EQ(CapGuard().CapDelta(10.0, 100.0, 4'000.0, 4'000.0, 10'000.0), 10.0);
}

TEST(RiskGuardCapDeltaTest, CutsALongAtThePositionCap) {
  // Long 4000, buy 20 (2000): room 5000 - 4000 = 1000 -> 10.
  EXPECT_DOUBLE_EQ(CapGuard().CapDelta(20.0, 100.0, 4'000.0, 4'000.0, 10'000.0), 10.0);
}

TEST(RiskGuardCapDeltaTest, CutsAShortAtThePositionCap) {
  // Short 4000, sell 20 more: the same room on the other side -> -10.
  EXPECT_DOUBLE_EQ(CapGuard().CapDelta(-20.0, 100.0, -4'000.0, 4'000.0, 10'000.0), -10.0);
}

TEST(RiskGuardCapDeltaTest, CutsAtTheGrossCap) {
  // Long 1000 and 8500 elsewhere: gross room 10000 - 9500 = 500 -> 5, tighter than the
  // position room of 4000.
  EXPECT_DOUBLE_EQ(CapGuard().CapDelta(20.0, 100.0, 1'000.0, 9'500.0, 10'000.0), 5.0);
  EXPECT_DOUBLE_EQ(CapGuard().CapDelta(-20.0, 100.0, -1'000.0, 9'500.0, 10'000.0), -5.0);
}

TEST(RiskGuardCapDeltaTest, AboveTheCapsNoNewRiskButReductionsPass) {
  // Long 8000 with gross 12000: both caps exceeded.
  const RiskGuard guard = CapGuard();
  EXPECT_EQ(guard.CapDelta(1.0, 100.0, 8'000.0, 12'000.0, 10'000.0), 0.0);
  EXPECT_EQ(guard.CapDelta(-30.0, 100.0, 8'000.0, 12'000.0, 10'000.0), -30.0);
  EXPECT_EQ(guard.CapDelta(-80.0, 100.0, 8'000.0, 12'000.0, 10'000.0), -80.0);  // to flat
  // Short 8000: buying back is a reduction.
  EXPECT_EQ(guard.CapDelta(50.0, 100.0, -8'000.0, 8'000.0, 10'000.0), 50.0);
  EXPECT_EQ(guard.CapDelta(-1.0, 100.0, -8'000.0, 8'000.0, 10'000.0), 0.0);
  // A flat instrument while the others hold the whole gross cap.
  EXPECT_EQ(guard.CapDelta(1.0, 100.0, 0.0, 10'000.0, 10'000.0), 0.0);
}

TEST(RiskGuardCapDeltaTest, CrossingZeroKeepsTheReductionAndCapsTheRest) {
  // Long 2000, sell 100 (10000): 2000 closes the long (free), then a short of 8000 is capped
  // at 5000 (gross room after the close: 10000 - 0): 7000 in all -> -70.
  EXPECT_DOUBLE_EQ(CapGuard().CapDelta(-100.0, 100.0, 2'000.0, 2'000.0, 10'000.0), -70.0);
  // Short 2000 with 9000 elsewhere: buying 100 closes it (gross 9000), then a long of 1000.
  EXPECT_DOUBLE_EQ(CapGuard().CapDelta(100.0, 100.0, -2'000.0, 11'000.0, 10'000.0), 30.0);
}

TEST(RiskGuardCapDeltaTest, NoEquityNoNewRisk) {
  const RiskGuard guard = CapGuard();
  EXPECT_EQ(guard.CapDelta(1.0, 100.0, 0.0, 0.0, 0.0), 0.0);
  EXPECT_EQ(guard.CapDelta(1.0, 100.0, 0.0, 0.0, -500.0), 0.0);
  EXPECT_EQ(guard.CapDelta(-10.0, 100.0, 1'000.0, 1'000.0, -500.0), -10.0);  // reducing
}

TEST(RiskGuardCapDeltaTest, RefusesWhatItCannotValue) {
  const RiskGuard guard = CapGuard();
  EXPECT_EQ(guard.CapDelta(1.0, 0.0, 0.0, 0.0, 10'000.0), 0.0);
  EXPECT_EQ(guard.CapDelta(1.0, kNaN, 0.0, 0.0, 10'000.0), 0.0);
  EXPECT_EQ(guard.CapDelta(kNaN, 100.0, 0.0, 0.0, 10'000.0), 0.0);
  EXPECT_EQ(guard.CapDelta(1.0, 100.0, 0.0, 0.0, kNaN), 0.0);
  EXPECT_EQ(guard.CapDelta(0.0, 100.0, 0.0, 0.0, 10'000.0), 0.0);
}

TEST(RiskGuardCapDeltaTest, WithoutCapsPassesEverything) {
  const RiskGuard guard(RiskLimits(), 10'000.0);
  EXPECT_EQ(guard.CapDelta(1e6, 100.0, 50'000.0, 90'000.0, 10'000.0), 1e6);
  EXPECT_EQ(guard.CapDelta(-1e6, 100.0, 50'000.0, 90'000.0, 10'000.0), -1e6);
}

}  // namespace
}  // namespace vigil
