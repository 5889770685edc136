// Backtest performance metrics (src/backtest/metrics.cc) against an independent pandas/numpy
// computation of the same definitions (scripts/fixtures/backtest_metrics_reference.py), and
// the edge cases the header promises.
#include "vigil/backtest/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace vigil {
namespace {

nlohmann::json LoadReference() {
  std::ifstream in(std::string(VIGIL_TEST_DATA) + "/backtest/metrics_reference.json");
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

PerformanceInput InputFrom(const nlohmann::json& json) {
  PerformanceInput input;
  input.initial_capital = json.at("initial_capital").get<double>();
  for (int64_t t : json.at("times")) input.times.emplace_back(t);
  input.equity = json.at("equity").get<std::vector<double>>();
  input.exposure = json.at("exposure").get<std::vector<double>>();
  for (const auto& trade : json.at("trades")) {
    input.trades.push_back({Timestamp(trade.at("entry_time").get<int64_t>()),
                            Timestamp(trade.at("exit_time").get<int64_t>()),
                            trade.at("pnl").get<double>(),
                            trade.at("return_fraction").get<double>()});
  }
  input.traded_notional = json.at("traded_notional").get<double>();
  input.fees_paid = json.at("fees_paid").get<double>();
  input.slippage_paid = json.at("slippage_paid").get<double>();
  input.risk_free_rate = json.at("risk_free_rate").get<double>();
  return input;
}

double Expected(const nlohmann::json& expected, const char* name) {
  const nlohmann::json& value = expected.at(name);
  if (value.is_string() && value.get<std::string>() == "inf")
    return std::numeric_limits<double>::infinity();
  return value.get<double>();
}

void ExpectClose(double actual, double expected, const std::string& what) {
  if (std::isinf(expected)) {
    EXPECT_EQ(actual, expected) << what;
    return;
  }
  EXPECT_NEAR(actual, expected, 1e-11 * std::max(1.0, std::abs(expected))) << what;
}

TEST(PerformanceMetricsTest, MatchesPandasReference) {
  const nlohmann::json reference = LoadReference();
  ASSERT_EQ(reference.at("cases").size(), 3u);
  for (const auto& item : reference.at("cases")) {
    const std::string name = item.at("name").get<std::string>();
    SCOPED_TRACE(name);
    Result<PerformanceMetrics> result = ComputePerformance(InputFrom(item.at("input")));
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    const PerformanceMetrics& m = *result;
    const nlohmann::json& e = item.at("expected");
    ExpectClose(m.total_return, Expected(e, "total_return"), "total_return");
    ExpectClose(m.cagr, Expected(e, "cagr"), "cagr");
    ExpectClose(m.volatility, Expected(e, "volatility"), "volatility");
    ExpectClose(m.sharpe, Expected(e, "sharpe"), "sharpe");
    ExpectClose(m.sortino, Expected(e, "sortino"), "sortino");
    ExpectClose(m.calmar, Expected(e, "calmar"), "calmar");
    ExpectClose(m.max_drawdown, Expected(e, "max_drawdown"), "max_drawdown");
    EXPECT_EQ(m.max_drawdown_duration_ns, e.at("max_drawdown_duration_ns").get<int64_t>());
    ExpectClose(m.win_rate, Expected(e, "win_rate"), "win_rate");
    ExpectClose(m.profit_factor, Expected(e, "profit_factor"), "profit_factor");
    ExpectClose(m.average_trade, Expected(e, "average_trade"), "average_trade");
    ExpectClose(m.exposure, Expected(e, "exposure"), "exposure");
    ExpectClose(m.turnover, Expected(e, "turnover"), "turnover");
    EXPECT_EQ(m.trades, e.at("trades").get<int64_t>());
    ExpectClose(m.fees_paid, Expected(e, "fees_paid"), "fees_paid");
    ExpectClose(m.slippage_paid, Expected(e, "slippage_paid"), "slippage_paid");
    ExpectClose(m.periods_per_year, Expected(e, "periods_per_year"), "periods_per_year");
  }
}

PerformanceInput HourlyCurve(std::vector<double> equity) {
  PerformanceInput input;
  input.initial_capital = 100.0;
  for (size_t t = 0; t < equity.size(); ++t)
    input.times.push_back(Timestamp(static_cast<int64_t>(t + 1) * kNanosPerHour));
  input.exposure.assign(equity.size(), 0.0);
  input.equity = std::move(equity);
  return input;
}

TEST(PerformanceMetricsTest, DrawdownAndItsDurationByHand) {
  // Peak 110 at hour 1, trough 88 (-20 %) at hour 3, back above 110 at hour 5; then a new
  // peak 120 at hour 5 and 119 until the end (hour 8): the first drawdown lasted 4 hours.
  const PerformanceInput input = HourlyCurve({110, 99, 88, 105, 120, 119, 119, 119});
  Result<PerformanceMetrics> m = ComputePerformance(input);
  ASSERT_TRUE(m.ok());
  EXPECT_DOUBLE_EQ(m->max_drawdown, 88.0 / 110.0 - 1.0);
  EXPECT_EQ(m->max_drawdown_duration_ns, 4 * kNanosPerHour);
  EXPECT_DOUBLE_EQ(m->total_return, 0.19);
  EXPECT_DOUBLE_EQ(m->periods_per_year, 365.25 * 24);
}

TEST(PerformanceMetricsTest, DrawdownFromTheInitialCapitalCountsFromOnePeriodBefore) {
  // Below the initial 100 from the first mark and never back: 3 marks, 3 hours under water.
  Result<PerformanceMetrics> m = ComputePerformance(HourlyCurve({95, 90, 99}));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->max_drawdown_duration_ns, 3 * kNanosPerHour);
  EXPECT_DOUBLE_EQ(m->max_drawdown, -0.1);
}

TEST(PerformanceMetricsTest, StatisticsWithoutEnoughDataAreNaN) {
  PerformanceInput flat = HourlyCurve({100, 100, 100});
  Result<PerformanceMetrics> m = ComputePerformance(flat);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(std::isnan(m->sharpe));
  EXPECT_TRUE(std::isnan(m->sortino));
  EXPECT_TRUE(std::isnan(m->calmar));
  EXPECT_TRUE(std::isnan(m->win_rate));
  EXPECT_TRUE(std::isnan(m->profit_factor));
  EXPECT_EQ(m->max_drawdown, 0.0);
  EXPECT_EQ(m->trades, 0);
}

TEST(PerformanceMetricsTest, BadInputNamesTheField) {
  PerformanceInput input = HourlyCurve({100, 101, 102});
  input.times[2] = input.times[1];
  Result<PerformanceMetrics> m = ComputePerformance(input);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("times: not strictly increasing at mark 2"),
            std::string::npos);
  input = HourlyCurve({100, 101, 102});
  input.equity[1] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(ComputePerformance(input).status().message().find("equity: not finite at mark 1"),
            std::string::npos);
  input = HourlyCurve({100, 101});
  input.initial_capital = 0.0;
  EXPECT_NE(ComputePerformance(input).status().message().find("initial_capital"),
            std::string::npos);
  EXPECT_FALSE(ComputePerformance(HourlyCurve({100})).ok());
}

}  // namespace
}  // namespace vigil
