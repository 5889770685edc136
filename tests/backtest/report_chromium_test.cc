// The HTML backtest report drawn by a real browser: each report is written to a temp
// directory, opened by headless Chromium with --dump-dom, and the DOM after the page's script
// ran must say every part was drawn (<body data-rendered>), give each chart's <svg> a
// data-points count > 0, and carry no script error (<body data-error>).
//
// Chromium comes from scripts/install-deps.sh; a missing browser fails the test rather than
// skipping it, so a report that no longer draws cannot pass unseen. VIGIL_CHROMIUM overrides
// the binary (default /usr/bin/chromium).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "scripted.h"
#include "vigil/backtest/report.h"
#include "vigil/backtest/strategies.h"
#include "vigil/data/reader.h"

namespace vigil {
namespace {

constexpr int kBrowserTimeoutSeconds = 60;

std::string ChromiumPath() {
  const char* override_path = std::getenv("VIGIL_CHROMIUM");
  return override_path != nullptr && *override_path != '\0' ? override_path : "/usr/bin/chromium";
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Quoted(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

// The opening tag `<name ...>` at `at`, or "".
std::string OpeningTag(const std::string& dom, size_t at) {
  const size_t end = dom.find('>', at);
  return end == std::string::npos ? "" : dom.substr(at, end - at + 1);
}

// The value of attribute `name` in an opening tag; nullopt when absent.
std::optional<std::string> Attribute(const std::string& tag, const std::string& name) {
  const std::string needle = " " + name + "=\"";
  const size_t at = tag.find(needle);
  if (at == std::string::npos) return std::nullopt;
  const size_t begin = at + needle.size();
  return tag.substr(begin, tag.find('"', begin) - begin);
}

struct Rendered {
  std::string body_tag;
  std::map<std::string, long> svg_points;  // by id; -1 without data-points
};

Rendered ParseDom(const std::string& dom) {
  Rendered rendered;
  const size_t body = dom.find("<body");
  if (body != std::string::npos) rendered.body_tag = OpeningTag(dom, body);
  for (size_t at = dom.find("<svg"); at != std::string::npos; at = dom.find("<svg", at + 1)) {
    const std::string tag = OpeningTag(dom, at);
    const std::optional<std::string> points = Attribute(tag, "data-points");
    rendered.svg_points[Attribute(tag, "id").value_or("?")] =
        points ? std::strtol(points->c_str(), nullptr, 10) : -1;
  }
  return rendered;
}

class ReportChromiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "vigil_report_chromium_XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes the report, lets Chromium load it and returns the DOM after its scripts ran.
  std::string RenderInBrowser(const ReportInput& input, const std::string& name) {
    const std::string chromium = ChromiumPath();
    if (!std::filesystem::exists(chromium)) {
      ADD_FAILURE() << "no browser at " << chromium
                    << ": run `bash scripts/install-deps.sh` (it installs the Debian package "
                       "chromium) or set VIGIL_CHROMIUM";
      return "";
    }
    const std::filesystem::path html = dir_ / (name + ".html"), dom = dir_ / (name + ".dom");
    const std::filesystem::path log = dir_ / (name + ".log");
    const Status written = WriteReport(input, html);
    if (!written.ok()) {
      ADD_FAILURE() << written.ToString();
      return "";
    }
    // Root needs --no-sandbox; a private profile keeps parallel runs apart.
    const std::string command =
        "timeout " + std::to_string(kBrowserTimeoutSeconds) + " " + chromium +
        " --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir=" +
        Quoted(dir_ / "profile") + " --dump-dom " + Quoted("file://" + html.string()) + " >" +
        Quoted(dom) + " 2>" + Quoted(log);
    const auto start = std::chrono::steady_clock::now();
    const int status = std::system(command.c_str());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "[ chromium ] " << name << ": " << seconds << " s, "
              << std::filesystem::file_size(html) << " bytes of HTML\n";
    EXPECT_EQ(status, 0) << command << "\n" << ReadFile(log);
    return ReadFile(dom);
  }

  void ExpectDrawn(const std::string& dom, int parts, const std::vector<std::string>& charts) {
    ASSERT_FALSE(dom.empty()) << "Chromium printed no DOM";
    const Rendered rendered = ParseDom(dom);
    ASSERT_FALSE(rendered.body_tag.empty()) << dom.substr(0, 2000);
    EXPECT_EQ(Attribute(rendered.body_tag, "data-error"), std::nullopt) << rendered.body_tag;
    EXPECT_EQ(Attribute(rendered.body_tag, "data-rendered"), std::to_string(parts))
        << rendered.body_tag;
    EXPECT_EQ(rendered.svg_points.size(), charts.size());
    for (const std::string& chart : charts) {
      ASSERT_TRUE(rendered.svg_points.contains(chart)) << chart;
      EXPECT_GT(rendered.svg_points.at(chart), 0) << chart;
    }
  }

  std::filesystem::path dir_;
};

BarSeries FiveMinuteWalk(size_t n, uint64_t seed) {
  return backtest_test::RandomWalk("sim:ETH/BTC", n, seed, 5 * kNanosPerMinute, 1'704'067'200,
                                   0.003);
}

BacktestResult Backtest(const BarSeries& bars, const std::string& strategy,
                        const StrategyParams& params, const BacktestOptions& options) {
  Result<std::unique_ptr<Strategy>> made = MakeStrategy(strategy, params);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  Result<BacktestResult> result = RunBacktest(std::span(&bars, 1), **made, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return std::move(*result);
}

ReportInput FullReport(const std::string& title, const BarSeries& bars,
                       const BacktestResult& result, const BacktestResult& baseline,
                       const BacktestOptions& options) {
  ReportInput input;
  input.title = title;
  input.result = &result;
  input.prices = &bars;
  input.baseline = &baseline;
  input.baseline_name = "buy_hold";
  input.initial_capital = options.initial_capital;
  input.settings = {{"strategy", "sma_cross"}, {"params", "fast=10,slow=30"}, {"fee", "10 bps"}};
  input.extra = {{"note", "</script><i>not markup</i>"}, {"bars", bars.size()}};
  return input;
}

TEST_F(ReportChromiumTest, DrawsEveryPartOfASyntheticRun) {
  // Two months of 5-minute bars: more marks than the page draws, so downsampling is exercised.
  const BarSeries bars = FiveMinuteWalk(2 * 30 * 288, 21);
  BacktestOptions options;
  options.fees = {10.0, 10.0};
  const BacktestResult result =
      Backtest(bars, "sma_cross", {{"fast", "10"}, {"slow", "30"}}, options);
  const BacktestResult baseline = Backtest(bars, "buy_hold", {}, options);
  ASSERT_GT(result.fills.size(), 10u);
  const ReportInput input = FullReport("sma_cross <on> \"sim\"", bars, result, baseline, options);
  ExpectDrawn(RenderInBrowser(input, "synthetic"), 5,
              {"chart-equity", "chart-drawdown", "chart-price"});
}

TEST_F(ReportChromiumTest, DrawsWithoutPricesOrBaseline) {
  const BarSeries bars = FiveMinuteWalk(500, 22);
  const BacktestResult result = Backtest(bars, "buy_hold", {}, BacktestOptions());
  ReportInput input;
  input.title = "buy_hold, no trades closed";  // NaN metrics reach the page as null
  input.result = &result;
  ExpectDrawn(RenderInBrowser(input, "minimal"), 4, {"chart-equity", "chart-drawdown"});
}

TEST_F(ReportChromiumTest, DrawsARunOnRealCandles) {
  const char* shared = std::getenv("VIGIL_SHARED_DATA");
  const std::string data_dir = shared != nullptr && *shared != '\0' ? shared : VIGIL_SHARED_DATA;
  const std::string path = data_dir + "/candles/ETH_BTC-5m.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no real candles at " << path;
  ReadOptions read;
  read.kind = DataKind::kCandles;
  read.venue = "file";
  MarketFileReader reader(read);
  Result<ParsedFile> parsed = reader.Read(path);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->batches.size(), 1u);
  Result<BarSeries> bars = BarSeriesFromBatch(parsed->batches[0]);
  ASSERT_TRUE(bars.ok()) << bars.status().ToString();
  BacktestOptions options;
  options.fees = {10.0, 10.0};
  options.slippage = {SlippageKind::kFixed, 5.0};
  const BacktestResult result =
      Backtest(*bars, "sma_cross", {{"fast", "10"}, {"slow", "30"}}, options);
  const BacktestResult baseline = Backtest(*bars, "buy_hold", {}, options);
  const ReportInput input =
      FullReport("sma_cross on " + bars->instrument, *bars, result, baseline, options);
  ExpectDrawn(RenderInBrowser(input, "eth_btc"), 5,
              {"chart-equity", "chart-drawdown", "chart-price"});
}

}  // namespace
}  // namespace vigil
