// The `vigil backtest` contract: the --json object (keys and their order exactly, after the
// subcommand as the issue writes it), the text summary, and errors that name their cause (a
// bad candle row by file, line and field; an unknown strategy or slippage form).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "apps/cli_runner.h"

namespace vigil::cli_test {
namespace {

constexpr int kExitUsage = 2;
const std::vector<std::string> kKeys = {"total_return",  "cagr",   "volatility",       "sharpe",
                                        "sortino",       "calmar", "max_drawdown",     "win_rate",
                                        "profit_factor", "trades", "exposure",         "turnover",
                                        "fees_paid",     "events", "events_per_second"};

class CliBacktestTest : public ::testing::Test {
 protected:
  // A 5-minute candle file of `bars` bars (a deterministic zigzag with a trend, so that
  // sma_cross trades); `bad_line` (1-based, 0 = none) gets a non-numeric close.
  std::string Candles(size_t bars, size_t bad_line = 0) const {
    const std::string name = "TEST_USDT-5m.csv";
    std::ofstream out(sandbox_.dir() / name);
    out << "date,open,high,low,close,volume\n";
    double price = 100.0;
    for (size_t t = 0; t < bars; ++t) {
      const double open = price;
      price *= 1.0 + 0.01 * std::sin(static_cast<double>(t) / 7.0) + 0.0005;
      const int64_t seconds = 1'704'067'200 + static_cast<int64_t>(t) * 300;
      out << seconds << "," << open << "," << std::max(open, price) * 1.001 << ","
          << std::min(open, price) * 0.999 << ",";
      if (t + 2 == bad_line) {
        out << "oops";
      } else {
        out << price;
      }
      out << ",1000\n";
    }
    return name;
  }
  CliSandbox sandbox_;
};

TEST_F(CliBacktestTest, JsonHasTheContractKeysInOrder) {
  const std::string input = Candles(400);
  CliRun run = sandbox_.Vigil({"backtest", "--input", input, "--strategy", "sma_cross", "--params",
                               "fast=5,slow=20", "--fee-bps", "10", "--slippage", "fixed:5",
                               "--initial-capital", "5000", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto json = ParseJson(run.out);
  EXPECT_EQ(JsonKeys(json), kKeys);
  EXPECT_EQ(json["events"], 400);
  EXPECT_TRUE(json["trades"].is_number_integer());
  EXPECT_GT(json["trades"].get<int>(), 2);
  EXPECT_GT(json["fees_paid"].get<double>(), 0.0);
  EXPECT_GT(json["events_per_second"].get<double>(), 0.0);
}

TEST_F(CliBacktestTest, TextSummaryNamesTheRun) {
  const std::string input = Candles(200);
  CliRun run = sandbox_.Vigil({"backtest", "--input", input, "--strategy", "buy_hold"});
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_NE(run.out.find("buy_hold on file:TEST/USDT: 200 bars"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("max drawdown"), std::string::npos);
}

TEST_F(CliBacktestTest, BadCandleRowFailsNamingLineAndField) {
  const std::string input = Candles(100, 51);
  CliRun run = sandbox_.Vigil({"backtest", "--input", input, "--strategy", "sma_cross"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("TEST_USDT-5m.csv:51"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("close"), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty());
}

TEST_F(CliBacktestTest, UnknownStrategyAndSlippageAreNamed) {
  const std::string input = Candles(100);
  CliRun run = sandbox_.Vigil({"backtest", "--input", input, "--strategy", "momentum"});
  EXPECT_EQ(run.exit_code, kExitUsage);
  EXPECT_NE(
      run.err.find("unknown strategy 'momentum' (buy_hold, sma_cross, ml_threshold or arbitrage)"),
      std::string::npos)
      << run.err;
  run = sandbox_.Vigil(
      {"backtest", "--input", input, "--strategy", "sma_cross", "--slippage", "cubic:2"});
  EXPECT_EQ(run.exit_code, kExitUsage);
  EXPECT_NE(run.err.find("fixed:BPS, linear:K or sqrt:K"), std::string::npos) << run.err;
}

TEST_F(CliBacktestTest, ConfigFileRunsAndFlagsOverrideIt) {
  const std::string input = Candles(400);
  std::ofstream(sandbox_.dir() / "bt.yaml") << "strategy: sma_cross\n"
                                               "params: {fast: 5, slow: 20}\n"
                                               "data: {inputs: ["
                                            << input
                                            << "]}\n"
                                               "costs: {fee_bps: 10, slippage: \"fixed:5\"}\n"
                                               "baseline: buy_hold\n";
  CliRun from_flags =
      sandbox_.Vigil({"backtest", "--input", input, "--strategy", "sma_cross", "--params",
                      "fast=5,slow=20", "--fee-bps", "10", "--slippage", "fixed:5", "--json"});
  CliRun from_file = sandbox_.Vigil({"backtest", "--config", "bt.yaml", "--json"});
  ASSERT_EQ(from_file.exit_code, 0) << from_file;
  const auto file_json = ParseJson(from_file.out);
  EXPECT_EQ(JsonKeys(file_json), kKeys);
  EXPECT_EQ(file_json["total_return"], ParseJson(from_flags.out)["total_return"]);
  CliRun cheaper = sandbox_.Vigil({"backtest", "--config", "bt.yaml", "--fee-bps", "0", "--json"});
  ASSERT_EQ(cheaper.exit_code, 0) << cheaper;
  EXPECT_GT(ParseJson(cheaper.out)["total_return"].get<double>(),
            file_json["total_return"].get<double>());
  CliRun text = sandbox_.Vigil({"backtest", "--config", "bt.yaml"});
  EXPECT_NE(text.out.find("vs buy_hold: Sharpe"), std::string::npos) << text.out;
}

TEST_F(CliBacktestTest, ConfigAndInputAreExclusiveAndConfigErrorsNameTheLine) {
  const std::string input = Candles(100);
  std::ofstream(sandbox_.dir() / "bad.yaml") << "strategy: sma_cross\n"
                                                "data: {inputs: ["
                                             << input
                                             << "]}\n"
                                                "account: {initial_capitol: 5}\n";
  CliRun run = sandbox_.Vigil({"backtest", "--config", "bad.yaml"});
  EXPECT_EQ(run.exit_code, kExitUsage);
  EXPECT_NE(run.err.find("bad.yaml:3: account.initial_capitol"), std::string::npos) << run.err;
  run = sandbox_.Vigil({"backtest", "--config", "bad.yaml", "--input", input});
  EXPECT_EQ(run.exit_code, kExitUsage);
  EXPECT_NE(run.err.find("either --config or --input"), std::string::npos) << run.err;
}

TEST_F(CliBacktestTest, ReportWritesTheHtmlPageAndItsJson) {
  const std::string input = Candles(300);
  CliRun run = sandbox_.Vigil({"backtest", "--input", input, "--strategy", "sma_cross", "--params",
                               "fast=5,slow=20", "--report", "out.html"});
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_TRUE(std::filesystem::exists(sandbox_.dir() / "out.html"));
  std::ifstream json_file(sandbox_.dir() / "out.json");
  const std::string text((std::istreambuf_iterator<char>(json_file)),
                         std::istreambuf_iterator<char>());
  const auto json = ParseJson(text);
  EXPECT_TRUE(json.contains("metrics"));
  EXPECT_TRUE(json.contains("monthly"));
}

TEST_F(CliBacktestTest, MlThresholdRetrainsWalkForwardAndReusesItsCache) {
  const std::string input = Candles(900);
  std::ofstream(sandbox_.dir() / "train.yaml")
      << "name: cli_direction\ntask: classification\n"
         "model: {kind: logistic, params: {C: 1.0, standardize: true}}\nseed: 7\n"
         "data: {instruments: [file:TEST/USDT]}\nfeatures: ta\n"
         "label: {kind: direction, horizon: 30m, threshold: 0.0}\n"
         "validation: {method: walk_forward, train: 1d, test: 12h}\n";
  const std::vector<std::string> args = {"backtest",     "--input",      input,       "--strategy",
                                         "ml_threshold", "--params",     "enter=0.5", "--train",
                                         "train.yaml",   "--train-days", "1",         "--step-days",
                                         "0.5",          "--cache",      "wf",        "--baseline",
                                         "buy_hold"};
  CliRun run = sandbox_.Vigil(args);
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_NE(run.out.find("walk-forward windows"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("vs buy_hold"), std::string::npos) << run.out;
  std::vector<std::string> reuse = args;
  reuse.push_back("--reuse");
  CliRun again = sandbox_.Vigil(reuse);
  ASSERT_EQ(again.exit_code, 0) << again;
  EXPECT_NE(again.out.find("reused from the cache"), std::string::npos) << again.out;
  // The same signals and strategy: the same result.
  const auto first_line = [](const std::string& out, const char* key) {
    const size_t at = out.find(key);
    return at == std::string::npos ? std::string() : out.substr(at, out.find('\n', at) - at);
  };
  EXPECT_EQ(first_line(run.out, "total return"), first_line(again.out, "total return"));
}

TEST_F(CliBacktestTest, MlThresholdNeedsAModel) {
  const std::string input = Candles(100);
  CliRun run = sandbox_.Vigil({"backtest", "--input", input, "--strategy", "ml_threshold"});
  EXPECT_EQ(run.exit_code, kExitUsage);
  EXPECT_NE(run.err.find("needs either model.train or model.registered"), std::string::npos)
      << run.err;
}

}  // namespace
}  // namespace vigil::cli_test
