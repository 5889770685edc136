// AutoArima, KpssStatistic and KpssDifferences against R's forecast 8.20 and urca
// (tests/testdata/forecast/auto_arima_reference.json, made by
// scripts/fixtures/auto_arima_reference.R) on R's classic series and real crypto log returns
// and log prices from VIGIL_SHARED_DATA.
//
// Expectations (issue 8): the same order and the same constant (intercept / drift) as
// forecast::auto.arima(x, seasonal = FALSE, stepwise = TRUE); when the model matches, its
// AICc within 1e-4 relative (the chosen model is refitted by exact ML, so the AICc carries
// the optimiser's precision). KPSS: urca::ur.kpss(type = "mu", use.lag = trunc(3 sqrt(n)/13))
// statistic within 1e-8 relative (a closed-form computation: only rounding differs), and
// forecast::ndiffs(test = "kpss") exactly.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "models/forecast/forecast_fixture.h"
#include "vigil/models/forecast/auto_arima.h"

namespace vigil {
namespace {

namespace ff = forecast_fixture;

constexpr double kAiccTolerance = 1e-4;
constexpr double kKpssTolerance = 1e-8;

std::string OrderText(const ArimaOrder& order) {
  return "(" + std::to_string(order.p) + "," + std::to_string(order.d) + "," +
         std::to_string(order.q) + ")";
}

ArimaOrder OrderOf(const nlohmann::json& item) {
  const std::vector<double> order = ff::Numbers(item.at("order"));
  return {static_cast<int>(order.at(0)), static_cast<int>(order.at(1)),
          static_cast<int>(order.at(2))};
}

class AutoArimaRFixtureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fixture_ = new nlohmann::json(ff::Load("auto_arima_reference.json"));
    series_ = new std::map<std::string, std::vector<double>>(ff::BuildSeries(*fixture_));
  }
  static void TearDownTestSuite() {
    delete fixture_;
    delete series_;
  }
  static bool Loaded() {
    return fixture_->is_object() && series_->size() == fixture_->at("series").size();
  }
  static const nlohmann::json& Cases() { return fixture_->at("cases"); }
  static const std::vector<double>& SeriesOf(const nlohmann::json& item) {
    return series_->at(item.at("series").get<std::string>());
  }

  static nlohmann::json* fixture_;
  static std::map<std::string, std::vector<double>>* series_;
};

nlohmann::json* AutoArimaRFixtureTest::fixture_ = nullptr;
std::map<std::string, std::vector<double>>* AutoArimaRFixtureTest::series_ = nullptr;

TEST_F(AutoArimaRFixtureTest, KpssStatisticMatchesUrca) {
  ASSERT_TRUE(Loaded());
  for (const auto& item : Cases()) {
    SCOPED_TRACE(item.at("series").get<std::string>());
    const std::vector<double>& y = SeriesOf(item);
    Result<double> level = KpssStatistic(y);
    ASSERT_TRUE(level.ok()) << level.status().ToString();
    EXPECT_TRUE(ff::Near(*level, ff::Number(item.at("kpss_statistic")), kKpssTolerance));
    std::vector<double> differenced;
    for (size_t t = 1; t < y.size(); ++t) differenced.push_back(y[t] - y[t - 1]);
    Result<double> diff = KpssStatistic(differenced);
    ASSERT_TRUE(diff.ok()) << diff.status().ToString();
    EXPECT_TRUE(ff::Near(*diff, ff::Number(item.at("kpss_statistic_diff")), kKpssTolerance))
        << "on diff(x)";
  }
}

TEST_F(AutoArimaRFixtureTest, KpssDifferencesMatchNdiffs) {
  ASSERT_TRUE(Loaded());
  for (const auto& item : Cases()) {
    SCOPED_TRACE(item.at("series").get<std::string>());
    Result<int> differences = KpssDifferences(SeriesOf(item));
    ASSERT_TRUE(differences.ok()) << differences.status().ToString();
    EXPECT_EQ(*differences, item.at("ndiffs_kpss").get<int>());
  }
}

TEST_F(AutoArimaRFixtureTest, ChoosesTheSameModelAsForecastAutoArima) {
  ASSERT_TRUE(Loaded());
  for (const auto& item : Cases()) {
    const ArimaOrder expected_order = OrderOf(item);
    const bool expected_constant = item.at("constant");
    SCOPED_TRACE(item.at("series").get<std::string>() + " R: ARIMA" + OrderText(expected_order) +
                 (expected_constant ? " with" : " without") + " constant");
    Result<AutoArimaResult> chosen = AutoArima(SeriesOf(item), AutoArimaOptions{});
    ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
    EXPECT_EQ(OrderText(chosen->order), OrderText(expected_order));
    EXPECT_EQ(chosen->constant, expected_constant);
    if (!(chosen->order == expected_order) || chosen->constant != expected_constant) {
      std::string trace;  // Vigil's search, to set against auto.arima(trace = TRUE)
      for (const AutoArimaCandidate& candidate : chosen->trace)
        trace += " ARIMA" + OrderText(candidate.order) + (candidate.constant ? "+c " : " ") +
                 std::to_string(candidate.ic) + "\n";
      ADD_FAILURE() << "Vigil's search:\n" << trace;
      continue;
    }
    const double aicc = ff::Number(item.at("aicc"));
    EXPECT_TRUE(ff::Near(chosen->ic, aicc, kAiccTolerance)) << "AutoArimaResult::ic";
    EXPECT_TRUE(ff::Near(chosen->model.fit().aicc, aicc, kAiccTolerance)) << "fit().aicc";
    EXPECT_EQ(chosen->model.fit().names, ff::Strings(item.at("names")));
  }
}

}  // namespace
}  // namespace vigil
