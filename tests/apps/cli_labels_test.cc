// The `vigil labels compute` contract: the CSV columns of each kind, labels equal to the
// pandas reference (tests/testdata/labels/risk_labels.json, scripts/fixtures/risk_labels.py)
// on the real files it was made from, the summary (text and --json, before or after the
// subcommand), --instrument over the store, and the errors: a bad option named, a horizon
// that is not a whole number of bars, a rejected input row named by file:line, no output
// file written on failure.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "apps/cli_runner.h"

namespace vigil::cli_test {
namespace {

constexpr int kExitUsage = 2;

std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  std::string cell;
  while (std::getline(in, cell, ',')) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.push_back("");
  return cells;
}

// The rows of a CSV as cells, header first.
std::vector<std::vector<std::string>> ReadCsv(const std::filesystem::path& path) {
  std::vector<std::vector<std::string>> rows;
  for (const std::string& line : SplitLines(ReadBytes(path))) rows.push_back(Cells(line));
  return rows;
}

nlohmann::json Fixture() {
  std::ifstream in(std::string(VIGIL_TEST_DATA) + "/labels/risk_labels.json");
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str(), nullptr, false);
}

// The label character of the fixture for a written cell ("" = no label, else 0/1/2).
void ExpectLabelsMatch(const std::vector<std::vector<std::string>>& csv, size_t column,
                       const std::string& expected, size_t first_row = 0) {
  ASSERT_GE(csv.size(), first_row + 1);
  int64_t compared = 0;
  for (size_t i = 0; i < expected.size() && first_row + i + 1 < csv.size(); ++i) {
    const char want = expected[i];
    if (want == '-') continue;  // the reference ran out of data; the full file did not
    const std::string& cell = csv[first_row + i + 1][column];
    EXPECT_EQ(cell, want == 'n' ? "" : std::string(1, want)) << "row " << first_row + i;
    ++compared;
  }
  EXPECT_GT(compared, 100);
}

class CliLabelsTest : public ::testing::Test {
 protected:
  CliRun Labels(std::vector<std::string> args) {
    args.insert(args.begin(), {"labels", "compute"});
    return sandbox_.Vigil(args);
  }
  std::filesystem::path Out(const std::string& name) const { return sandbox_.dir() / name; }
  CliSandbox sandbox_;
  nlohmann::json fixture_ = Fixture();
};

TEST_F(CliLabelsTest, LiquidationColumnsAndReferenceLabels) {
  CliRun run = Labels({"--kind", "liquidation", "--input",
                       SharedDataPath("candles/UNITTEST_BTC-1m.json"), "--leverage", "20", "--side",
                       "long", "--maintenance-margin", "0.005", "--out", "liq.csv", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto csv = ReadCsv(Out("liq.csv"));
  ASSERT_EQ(csv.size(), 13681u + 1);
  EXPECT_EQ(csv[0], (std::vector<std::string>{"timestamp", "close", "liquidation_price",
                                              "liquidated_5m", "liquidated_15m", "liquidated_30m",
                                              "liquidated_60m", "time_to_liquidation_min"}));
  const nlohmann::json& reference = fixture_["liquidation"][0];
  ASSERT_EQ(reference["side"], "long");
  const char* keys[] = {"5m", "15m", "30m", "60m"};
  for (size_t h = 0; h < 4; ++h) {
    ExpectLabelsMatch(csv, 3 + h, reference["labels"][keys[h]].get<std::string>());
  }
  // Time to liquidation within the longest horizon, in minutes; empty when censored.
  for (const auto& hit : reference["time_to_event_ns"]["60m"]) {
    const size_t row = hit[0].get<size_t>() + 1;
    EXPECT_DOUBLE_EQ(std::stod(csv[row][7]), hit[1].get<double>() / 60e9) << row;
  }
  EXPECT_EQ(csv[1][7], "");
  EXPECT_DOUBLE_EQ(std::stod(csv[1][2]), reference["liquidation_price"][0].get<double>());
  const nlohmann::ordered_json summary = ParseJson(run.out);
  EXPECT_EQ(summary["kind"], "liquidation");
  EXPECT_EQ(summary["rows"], 13681);
  EXPECT_EQ(summary["columns"]["liquidated_60m"]["incomplete"], 60);  // the last hour
  EXPECT_GT(summary["columns"]["liquidated_60m"]["positives"].get<int>(),
            summary["columns"]["liquidated_5m"]["positives"].get<int>());
}

TEST_F(CliLabelsTest, LiquidationHorizonsNameTheColumnsAndTheTextSummaryCounts) {
  CliRun run = Labels({"--kind", "liquidation", "--input",
                       SharedDataPath("candles/UNITTEST_BTC-1m.json"), "--side", "short",
                       "--horizons", "2m,10m", "--to", "2017-11-06T00:00:00Z", "--out", "s.csv"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto csv = ReadCsv(Out("s.csv"));
  EXPECT_EQ(csv[0][3], "liquidated_2m");
  EXPECT_EQ(csv[0][4], "liquidated_10m");
  EXPECT_NE(run.out.find("liquidated_10m: "), std::string::npos) << run;
  EXPECT_NE(run.out.find("(0 incomplete, 0 undefined)"), std::string::npos) << run;
}

TEST_F(CliLabelsTest, CrashMatchesTheReference) {
  const nlohmann::json& reference = fixture_["crash"][0];
  CliRun run = Labels({"--kind", "crash", "--input", SharedDataPath("candles/UNITTEST_BTC-1m.json"),
                       "--horizon", "15m", "--k", "3", "--vol-window", "60", "--out", "c.csv"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto csv = ReadCsv(Out("c.csv"));
  EXPECT_EQ(csv[0],
            (std::vector<std::string>{"timestamp", "label", "forward_return", "threshold"}));
  ExpectLabelsMatch(csv, 1, reference["labels"].get<std::string>());
  EXPECT_DOUBLE_EQ(std::stod(csv[101][3]), reference["threshold"][100].get<double>());
}

TEST_F(CliLabelsTest, ProtocolRiskOnDefiLlamaTvl) {
  const nlohmann::json& reference = fixture_["protocol_risk"];
  CliRun run =
      sandbox_.Vigil({"--json", "labels", "compute", "--kind", "protocol_risk", "--input",
                      SharedDataPath("tvl/defillama_HLP.json"), "--horizon", "7d",
                      "--drawdown-medium", "0.05", "--drawdown-high", "0.15", "--volatility-medium",
                      "0.02", "--volatility-high", "0.05", "--out", "p.csv"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto csv = ReadCsv(Out("p.csv"));
  EXPECT_EQ(csv[0], (std::vector<std::string>{"timestamp", "label", "drawdown", "volatility"}));
  ASSERT_EQ(csv.size(), reference["rows"].get<size_t>() + 1);
  ExpectLabelsMatch(csv, 1, reference["labels"].get<std::string>());
  const nlohmann::ordered_json summary = ParseJson(run.out);
  const std::string labels = reference["labels"];
  EXPECT_EQ(summary["columns"]["label"]["high"], std::count(labels.begin(), labels.end(), '2'));
  EXPECT_EQ(summary["columns"]["label"]["incomplete"], 8);
}

TEST_F(CliLabelsTest, OpportunityAlignsThePairAsOfBarCloses) {
  const nlohmann::json& reference = fixture_["opportunity"];
  CliRun run = Labels({"--kind",         "opportunity",
                       "--input",        SharedDataPath("candles/XRP_USDT_USDT-5m-futures.csv"),
                       "--pair",         SharedDataPath("funding/XRP_USDT_USDT-1h-mark.csv"),
                       "--horizon",      "1h",
                       "--persist-rows", "3",
                       "--fee-bps",      "10",
                       "--slippage-bps", "3",
                       "--gas-usd",      "2",
                       "--from",         "2021-11-15T05:00:00Z",
                       "--to",           "2021-11-19T10:00:01Z",
                       "--out",          "o.csv"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto csv = ReadCsv(Out("o.csv"));
  EXPECT_EQ(csv[0], (std::vector<std::string>{"timestamp", "label", "spread_bps", "cost_bps"}));
  ASSERT_EQ(csv.size(), reference["rows"].get<size_t>() + 1);
  EXPECT_EQ(csv[1][0], "2021-11-15T05:00:00.000Z");
  ExpectLabelsMatch(csv, 1, reference["labels"].get<std::string>());
  for (size_t row = 0; row < reference["spread_bps"].size(); ++row) {
    const nlohmann::json& want = reference["spread_bps"][row];
    if (want.is_null()) {
      EXPECT_EQ(csv[row + 1][2], "") << row;
    } else {
      EXPECT_NEAR(std::stod(csv[row + 1][2]), want.get<double>(), 1e-9) << row;
    }
  }
}

TEST_F(CliLabelsTest, DirectionOverStoredCandles) {
  const std::string file = sandbox_.CopyInput("good_candles.csv");
  CliRun ingest = sandbox_.Vigil(
      {"ingest", "--kind", "candles", "--venue", "testex", "--symbol", "BTC/USDT", file});
  ASSERT_EQ(ingest.exit_code, 0) << ingest;
  CliRun run = Labels({"--kind", "direction", "--instrument", "testex:BTC/USDT", "--horizon", "2h",
                       "--out", "d.csv"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto csv = ReadCsv(Out("d.csv"));
  ASSERT_EQ(csv.size(), 11u);
  EXPECT_EQ(csv[0], (std::vector<std::string>{"timestamp", "label"}));
  // 101.0 -> 103.0 two hours later is up; the last two rows have no 2h horizon.
  EXPECT_EQ(csv[1], (std::vector<std::string>{"2024-03-01T00:00:00.000Z", "1"}));
  EXPECT_EQ(csv[9][1], "");
  EXPECT_EQ(csv[10][1], "");
  EXPECT_NE(run.out.find("(2 incomplete, 0 undefined)"), std::string::npos) << run;
  // The same file through --input gives the same labels.
  CliRun direct =
      Labels({"--kind", "direction", "--input", file, "--horizon", "2h", "--out", "d2.csv"});
  ASSERT_EQ(direct.exit_code, 0) << direct;
  EXPECT_EQ(ReadBytes(Out("d2.csv")), ReadBytes(Out("d.csv")));
}

TEST_F(CliLabelsTest, Errors) {
  const std::string candles = sandbox_.CopyInput("good_candles.csv");  // hourly bars
  struct Case {
    std::string what;
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"leverage",
       {"--kind", "liquidation", "--horizons", "1h", "--input", candles, "--leverage", "1"},
       "--leverage"},
      {"margin",
       {"--kind", "liquidation", "--horizons", "1h", "--input", candles, "--maintenance-margin",
        "0.06"},
       "--maintenance-margin"},
      {"side",
       {"--kind", "liquidation", "--horizons", "1h", "--input", candles, "--side", "flat"},
       "--side"},
      {"k", {"--kind", "crash", "--input", candles, "--horizon", "1h", "--k", "0"}, "--k"},
      {"no horizon", {"--kind", "crash", "--input", candles}, "--horizon"},
      {"bad horizon", {"--kind", "crash", "--input", candles, "--horizon", "soon"}, "--horizon"},
      {"not whole bars",
       {"--kind", "crash", "--input", SharedDataPath("candles/UNITTEST_BTC-30m.csv"), "--horizon",
        "5m"},
       "horizon 5m is not a whole number of 30m bars"},
      {"persist",
       {"--kind", "opportunity", "--input", candles, "--pair", candles, "--horizon", "1h",
        "--persist-rows", "0"},
       "--persist-rows"},
      {"no pair", {"--kind", "opportunity", "--input", candles, "--horizon", "1h"}, "--pair"},
      {"kind", {"--kind", "moon", "--input", candles, "--horizon", "1h"}, "--kind"},
      {"no input", {"--kind", "crash", "--horizon", "1h"}, "--input"},
      {"rejected row",
       {"--kind", "crash", "--input", sandbox_.CopyInput("bad_candles.csv"), "--horizon", "1h"},
       "bad_candles.csv:3: field 'close'"},
      {"missing file", {"--kind", "crash", "--input", "nope.csv", "--horizon", "1h"}, "nope.csv"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--out", "never.csv"});
    CliRun run = Labels(args);
    EXPECT_EQ(run.exit_code, kExitUsage) << c.what << "\n" << run;
    EXPECT_NE(run.err.find(c.message), std::string::npos) << c.what << "\n" << run;
    EXPECT_FALSE(std::filesystem::exists(Out("never.csv"))) << c.what;
  }
}

}  // namespace
}  // namespace vigil::cli_test
