// The HTML backtest report (src/backtest/report.cc): monthly returns by hand across a year
// boundary, downsampling that keeps the extremes, a page that needs no network and escapes
// what it shows, and WriteReport's errors. Results come from the real engine on synthetic
// bars. report_chromium_test.cc checks that a browser actually draws the page.
#include "vigil/backtest/report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "scripted.h"
#include "vigil/backtest/strategies.h"

namespace vigil {
namespace {

constexpr int64_t kDec1st2023 = 1'701'388'800;  // 2023-12-01T00:00:00Z, seconds

// Hourly bars of a seeded random walk from 2023-12-01, so a run spans a year boundary.
BarSeries HourlyWalk(const std::string& instrument, size_t n, uint64_t seed) {
  return backtest_test::RandomWalk(instrument, n, seed, kNanosPerHour, kDec1st2023, 0.01);
}

BacktestResult Backtest(const BarSeries& bars, const std::string& strategy,
                        const StrategyParams& params) {
  Result<std::unique_ptr<Strategy>> made = MakeStrategy(strategy, params);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  BacktestOptions options;
  options.fees = {5.0, 5.0};
  Result<BacktestResult> result = RunBacktest(std::span(&bars, 1), **made, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return std::move(*result);
}

Timestamp At(const char* iso) { return *Timestamp::ParseIso(iso); }

TEST(MonthlyReturnsTest, HandComputedAcrossAYearBoundary) {
  const std::vector<Timestamp> times = {At("2023-11-15T00:00:00Z"), At("2023-11-30T23:59:59Z"),
                                        At("2023-12-31T23:59:59Z"), At("2024-01-01T00:00:00Z"),
                                        At("2024-01-31T12:00:00Z"), At("2024-03-05T00:00:00Z")};
  const std::vector<double> equity = {110.0, 105.0, 126.0, 120.0, 132.0, 99.0};
  const std::vector<MonthlyReturn> months = MonthlyReturns(times, equity, 100.0);
  ASSERT_EQ(months.size(), 4u);  // no mark in February: no row for it
  const struct {
    int year, month;
    double value;
  } expected[] = {{2023, 11, 105.0 / 100.0 - 1.0},
                  {2023, 12, 126.0 / 105.0 - 1.0},
                  {2024, 1, 132.0 / 126.0 - 1.0},
                  {2024, 3, 99.0 / 132.0 - 1.0}};  // measured from January's last mark
  for (size_t row = 0; row < months.size(); ++row) {
    EXPECT_EQ(months[row].year, expected[row].year) << "row " << row;
    EXPECT_EQ(months[row].month, expected[row].month) << "row " << row;
    EXPECT_DOUBLE_EQ(months[row].value, expected[row].value) << "row " << row;
  }
  EXPECT_TRUE(MonthlyReturns({}, {}, 100.0).empty());
}

TEST(MonthlyReturnsTest, CompoundToTheTotalReturnOfARealRun) {
  const BarSeries bars = HourlyWalk("sim:A", 24 * 75, 3);
  const BacktestResult result = Backtest(bars, "sma_cross", {{"fast", "3"}, {"slow", "8"}});
  const std::vector<MonthlyReturn> months =
      MonthlyReturns(result.mark_times, result.equity, 10'000.0);
  ASSERT_EQ(months.size(), 3u);  // December, January, February
  EXPECT_EQ(months[0].year, 2023);
  EXPECT_EQ(months[2].month, 2);
  double growth = 1.0;
  for (const MonthlyReturn& month : months) growth *= 1.0 + month.value;
  EXPECT_NEAR(growth - 1.0, result.metrics.total_return, 1e-12);
}

TEST(ReportJsonTest, DownsamplingKeepsFirstLastAndTheDeepestDrawdown) {
  const BarSeries bars = HourlyWalk("sim:A", 20'000, 5);
  const BacktestResult result = Backtest(bars, "sma_cross", {{"fast", "3"}, {"slow", "8"}});
  ReportInput input;
  input.result = &result;
  input.prices = &bars;
  input.initial_capital = 10'000.0;
  const nlohmann::json json = ReportJson(input, 500);

  const nlohmann::json& equity = json["equity"];
  ASSERT_LE(equity["t"].size(), 500u);
  EXPECT_GE(equity["t"].size(), 400u);  // the budget is used, not wasted
  ASSERT_EQ(equity["equity"].size(), equity["t"].size());
  ASSERT_EQ(equity["drawdown"].size(), equity["t"].size());
  EXPECT_EQ(equity["marks"], result.equity.size());
  EXPECT_EQ(equity["t"].front(), result.mark_times.front().millis());
  EXPECT_EQ(equity["t"].back(), result.mark_times.back().millis());
  EXPECT_EQ(equity["equity"].back(), result.equity.back());
  const std::vector<double> drawdown = equity["drawdown"].get<std::vector<double>>();
  EXPECT_DOUBLE_EQ(*std::min_element(drawdown.begin(), drawdown.end()),
                   result.metrics.max_drawdown);
  const std::vector<double> equity_drawn = equity["equity"].get<std::vector<double>>();
  EXPECT_EQ(*std::max_element(equity_drawn.begin(), equity_drawn.end()),
            *std::max_element(result.equity.begin(), result.equity.end()));

  const nlohmann::json& price = json["price"];
  ASSERT_LE(price["t"].size(), 500u);
  const std::vector<double> close = price["close"].get<std::vector<double>>();
  EXPECT_EQ(*std::min_element(close.begin(), close.end()),
            *std::min_element(bars.close.begin(), bars.close.end()));
  EXPECT_EQ(*std::max_element(close.begin(), close.end()),
            *std::max_element(bars.close.begin(), bars.close.end()));
  EXPECT_EQ(price["t"].front(), bars.close_time(0).millis());
  EXPECT_EQ(json["fills"].size(), result.fills.size());  // fills and trades stay whole
  EXPECT_EQ(json["trades"].size(), result.trades.size());
}

TEST(ReportJsonTest, ShortRunsAreNotDownsampledAndNaNIsNull) {
  const BarSeries bars = HourlyWalk("sim:A", 300, 6);
  const BacktestResult result = Backtest(bars, "buy_hold", {});  // never closes: no trades
  ReportInput input;
  input.result = &result;  // initial capital derived from the total return
  const nlohmann::json json = ReportJson(input);
  EXPECT_EQ(json["equity"]["t"].size(), result.equity.size());
  EXPECT_TRUE(std::isnan(result.metrics.win_rate));
  EXPECT_TRUE(json["metrics"]["win_rate"].is_null());
  EXPECT_NEAR(json["metrics"]["initial_capital"].get<double>(), 10'000.0, 1e-9);
  EXPECT_FALSE(json.contains("price"));
  EXPECT_FALSE(json.contains("baseline"));
  EXPECT_EQ(json["monthly"].size(), 1u);
}

// The text of the <script id="vigil-data"> element.
std::string EmbeddedJson(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"vigil-data\">";
  const size_t begin = html.find(open);
  if (begin == std::string::npos) return "";
  const size_t end = html.find("</script>", begin);
  return html.substr(begin + open.size(), end - begin - open.size());
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

TEST(ReportHtmlTest, SelfContainedAndEscaped) {
  BarSeries bars = HourlyWalk("sim:A<B>", 400, 7);
  const BacktestResult result = Backtest(bars, "sma_cross", {{"fast", "3"}, {"slow", "8"}});
  const BacktestResult baseline = Backtest(bars, "buy_hold", {});
  ReportInput input;
  input.title = "<script>alert(1)</script> & co";
  input.result = &result;
  input.prices = &bars;
  input.baseline = &baseline;
  input.baseline_name = "buy_hold";
  input.settings = {{"strategy", "sma_cross"}, {"note", "</script><b>bold</b>"}};
  input.extra = {{"comparison", "a </script> inside"}};
  const std::string html = RenderHtmlReport(input);

  EXPECT_NE(html.find("<script type=\"application/json\" id=\"vigil-data\">"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("<h1>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</h1>"),
            std::string::npos);
  EXPECT_NE(html.find("sim:A&lt;B&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<b>bold"), std::string::npos);
  // Only the two script elements end: the data's own "</script>" strings cannot.
  EXPECT_EQ(Count(html, "</script"), 2u);
  for (const char* id : {"chart-equity", "chart-drawdown", "chart-price"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;

  const nlohmann::json embedded = nlohmann::json::parse(EmbeddedJson(html), nullptr, false);
  ASSERT_FALSE(embedded.is_discarded());
  EXPECT_EQ(embedded, ReportJson(input));
  EXPECT_EQ(embedded["settings"][1][1], "</script><b>bold</b>");
  EXPECT_EQ(embedded["baseline"]["name"], "buy_hold");
}

TEST(ReportHtmlTest, NoPriceChartWithoutPrices) {
  const BarSeries bars = HourlyWalk("sim:A", 200, 8);
  const BacktestResult result = Backtest(bars, "buy_hold", {});
  ReportInput input;
  input.result = &result;
  const std::string html = RenderHtmlReport(input);
  EXPECT_EQ(html.find("id=\"chart-price\""), std::string::npos);
  EXPECT_NE(html.find("id=\"chart-equity\""), std::string::npos);
}

class ReportWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "vigil_report_test_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_F(ReportWriteTest, WritesTheHtmlAndTheJson) {
  const BarSeries bars = HourlyWalk("sim:A", 300, 9);
  const BacktestResult result = Backtest(bars, "sma_cross", {{"fast", "3"}, {"slow", "8"}});
  ReportInput input;
  input.title = "sma_cross on sim:A";
  input.result = &result;
  ASSERT_TRUE(WriteReport(input, dir_ / "report.html", dir_ / "report.json").ok());
  EXPECT_EQ(ReadFile(dir_ / "report.html"), RenderHtmlReport(input));
  const nlohmann::json json = nlohmann::json::parse(ReadFile(dir_ / "report.json"), nullptr, false);
  EXPECT_EQ(json, ReportJson(input));
}

TEST_F(ReportWriteTest, AnUnwritablePathIsAnErrorNamingIt) {
  const BarSeries bars = HourlyWalk("sim:A", 100, 10);
  const BacktestResult result = Backtest(bars, "buy_hold", {});
  ReportInput input;
  input.result = &result;
  // A missing directory is made; one that cannot be (a file is in the way) fails the write.
  EXPECT_TRUE(WriteReport(input, dir_ / "new_dir" / "report.html").ok());
  std::ofstream(dir_ / "a_file") << "not a directory";
  const std::filesystem::path blocked = dir_ / "a_file" / "report.html";
  const Status html = WriteReport(input, blocked);
  EXPECT_EQ(html.code(), StatusCode::kIoError);
  EXPECT_NE(html.message().find(blocked.string()), std::string::npos) << html.ToString();

  const std::filesystem::path bad_json = dir_ / "a_file" / "report.json";
  const Status json = WriteReport(input, dir_ / "report.html", bad_json);
  EXPECT_EQ(json.code(), StatusCode::kIoError);
  EXPECT_NE(json.message().find(bad_json.string()), std::string::npos) << json.ToString();

  input.result = nullptr;
  EXPECT_EQ(WriteReport(input, dir_ / "report.html").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil
