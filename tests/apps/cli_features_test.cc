// The `vigil features` contract: compute (--input FILE | --instrument I) (--set NAME |
// --config FILE) --out FILE.csv with `timestamp` (ISO-8601 UTC) first and `NaN` where
// undefined; list; show. Values are checked against hand computations on
// tests/testdata/cli/good_candles.csv.
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "apps/cli_runner.h"

namespace vigil::cli_test {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitPartial = 3;

struct Csv {
  std::vector<std::string> header;
  std::vector<std::string> timestamps;
  std::vector<std::vector<std::string>> cells;  // without the timestamp
};

Csv ParseCsv(const std::string& text) {
  Csv csv;
  std::vector<std::string> lines = SplitLines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::vector<std::string> fields;
    std::stringstream line(lines[i]);
    for (std::string field; std::getline(line, field, ',');) fields.push_back(field);
    if (i == 0) {
      csv.header = fields;
      continue;
    }
    csv.timestamps.push_back(fields.at(0));
    csv.cells.emplace_back(fields.begin() + 1, fields.end());
  }
  return csv;
}

// Column `name` as numbers ("NaN" -> NaN).
std::vector<double> Column(const Csv& csv, const std::string& name) {
  std::vector<double> values;
  for (size_t c = 1; c < csv.header.size(); ++c) {
    if (csv.header[c] != name) continue;
    for (const auto& row : csv.cells) {
      values.push_back(row.at(c - 1) == "NaN" ? std::nan("") : std::stod(row.at(c - 1)));
    }
  }
  EXPECT_FALSE(values.empty()) << "no column " << name;
  return values;
}

void ExpectColumn(const Csv& csv, const std::string& name, const std::vector<double>& want) {
  const std::vector<double> got = Column(csv, name);
  ASSERT_EQ(got.size(), want.size()) << name;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(got[i])) << name << " row " << i << ": " << got[i];
    } else {
      EXPECT_NEAR(got[i], want[i], 1e-12 * std::fabs(want[i])) << name << " row " << i;
    }
  }
}

const double kNaN = std::nan("");
// Closes of good_candles.csv.
const std::vector<double> kCloses = {101.0,  102.0, 101.5, 102.75, 103.5,
                                     102.25, 101.0, 101.5, 101.75, 102.25};

TEST(CliFeaturesTest, ComputeTaOverAFileWritesTheContractColumns) {
  CliSandbox sandbox;
  const std::string file = sandbox.CopyInput("good_candles.csv");
  CliRun run = sandbox.Vigil({"features", "compute", "--input", file, "--venue", "testex",
                              "--symbol", "ABC/USD", "--set", "ta", "--out", "ta.csv"});
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_EQ(run.err, "");
  EXPECT_NE(run.out.find("20 features of set 'ta'"), std::string::npos) << run;
  const Csv csv = ParseCsv(ReadBytes(sandbox.dir() / "ta.csv"));
  const std::vector<std::string> header = {"timestamp",
                                           "sma_20",
                                           "ema_20",
                                           "wma_20",
                                           "rsi_14",
                                           "macd_12_26_9",
                                           "macd_signal_12_26_9",
                                           "macd_hist_12_26_9",
                                           "bb_lower_20_2",
                                           "bb_mid_20_2",
                                           "bb_upper_20_2",
                                           "bb_pctb_20_2",
                                           "tr",
                                           "atr_14",
                                           "adx_14",
                                           "stoch_fastk_14_3_3",
                                           "stoch_fastd_14_3_3",
                                           "stoch_slowd_14_3_3",
                                           "obv",
                                           "logret_1",
                                           "rv_20"};
  EXPECT_EQ(csv.header, header);
  ASSERT_EQ(csv.timestamps.size(), 10u);
  EXPECT_EQ(csv.timestamps[0], "2024-03-01T00:00:00.000Z");
  EXPECT_EQ(csv.timestamps[9], "2024-03-01T11:00:00.000Z");
  // Ten bars: every 20-bar window is still warming up; OBV and returns are defined.
  for (double v : Column(csv, "sma_20")) EXPECT_TRUE(std::isnan(v));
  std::vector<double> logret = {kNaN};
  for (size_t i = 1; i < kCloses.size(); ++i)
    logret.push_back(std::log(kCloses[i] / kCloses[i - 1]));
  ExpectColumn(csv, "logret_1", logret);
  ExpectColumn(csv, "obv", {12.5, 20.5, 10.75, 25.75, 46.0, 35.0, 17.5, 24.0, 28.0, 33.25});
}

TEST(CliFeaturesTest, ComputeAYamlSetWithShiftsAndWindows) {
  CliSandbox sandbox;
  const std::string file = sandbox.CopyInput("good_candles.csv");
  const std::string spec = sandbox.CopyInput("small_set.yaml");
  CliRun run = sandbox.Vigil({"features", "compute", "--input", file, "--venue", "testex",
                              "--symbol", "ABC/USD", "--config", spec, "--out", "-"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const Csv csv = ParseCsv(run.out);
  EXPECT_EQ(csv.header,
            (std::vector<std::string>{"timestamp", "sma_3", "logret_1", "logret_1_lag1", "max_2"}));
  std::vector<double> sma = {kNaN, kNaN};
  for (size_t i = 2; i < kCloses.size(); ++i) {
    sma.push_back((kCloses[i - 2] + kCloses[i - 1] + kCloses[i]) / 3);
  }
  ExpectColumn(csv, "sma_3", sma);
  std::vector<double> logret = {kNaN}, lagged = {kNaN, kNaN};
  for (size_t i = 1; i < kCloses.size(); ++i)
    logret.push_back(std::log(kCloses[i] / kCloses[i - 1]));
  for (size_t i = 2; i < kCloses.size(); ++i) lagged.push_back(logret[i - 1]);
  ExpectColumn(csv, "logret_1", logret);
  ExpectColumn(csv, "logret_1_lag1", lagged);
  std::vector<double> max = {kNaN};
  for (size_t i = 1; i < kCloses.size(); ++i) max.push_back(std::max(kCloses[i - 1], kCloses[i]));
  ExpectColumn(csv, "max_2", max);
}

TEST(CliFeaturesTest, StoredInstrumentGivesTheFileValuesInsideTheRange) {
  CliSandbox sandbox;
  const std::string file = sandbox.CopyInput("good_candles.csv");
  const std::string spec = sandbox.CopyInput("small_set.yaml");
  ASSERT_EQ(
      sandbox
          .Vigil({"ingest", "--kind", "candles", "--venue", "testex", "--symbol", "ABC/USD", file})
          .exit_code,
      0);
  CliRun whole = sandbox.Vigil({"features", "compute", "--input", file, "--venue", "testex",
                                "--symbol", "ABC/USD", "--config", spec, "--out", "-"});
  ASSERT_EQ(whole.exit_code, 0) << whole;
  CliRun stored = sandbox.Vigil({"--json", "features", "compute", "--instrument", "testex:ABC/USD",
                                 "--from", "2024-03-01T03:00:00Z", "--to", "2024-03-01T09:00:00Z",
                                 "--config", spec, "--out", "range.csv", "--save"});
  ASSERT_EQ(stored.exit_code, 0) << stored;
  const auto summary = ParseJson(stored.out);
  EXPECT_EQ(summary["set"], "small");
  EXPECT_EQ(summary["instrument"], "testex:ABC/USD");
  EXPECT_EQ(summary["rows"], 4);
  EXPECT_EQ(summary["saved_values"], 16);  // the 4 rows in range x 4 columns
  // Rows 03:00, 04:00, 07:00, 08:00: warm-up comes from data before --from, so they equal
  // the whole-file rows; nothing at or after --to.
  const Csv all = ParseCsv(whole.out);
  const Csv range = ParseCsv(ReadBytes(sandbox.dir() / "range.csv"));
  ASSERT_EQ(range.timestamps.size(), 4u);
  EXPECT_EQ(range.header, all.header);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(range.timestamps[i], all.timestamps[i + 3]);
    EXPECT_EQ(range.cells[i], all.cells[i + 3]);
  }
}

TEST(CliFeaturesTest, RejectedInputRowsAreNamedAndTheRestComputed) {
  CliSandbox sandbox;
  const std::string file = sandbox.CopyInput("bad_candles.csv");
  CliRun run =
      sandbox.Vigil({"features", "compute", "--input", file, "--venue", "testex", "--symbol",
                     "BAD/USD", "--timeframe", "1h", "--set", "ta", "--out", "bad.csv"});
  EXPECT_EQ(run.exit_code, kExitPartial) << run;
  EXPECT_NE(run.err.find("bad_candles.csv:3"), std::string::npos) << run;
  EXPECT_NE(run.err.find("close"), std::string::npos) << run;
  const Csv csv = ParseCsv(ReadBytes(sandbox.dir() / "bad.csv"));
  EXPECT_EQ(csv.timestamps.size(), 4u);  // lines 2, 5, 9, 10 are valid
}

TEST(CliFeaturesTest, ListNamesEveryFeatureWithParametersAndDescription) {
  CliSandbox sandbox;
  CliRun run = sandbox.Vigil({"features", "list"});
  ASSERT_EQ(run.exit_code, 0) << run;
  CliRun json = sandbox.Vigil({"--json", "features", "list"});
  ASSERT_EQ(json.exit_code, 0) << json;
  const auto parsed = ParseJson(json.out);
  ASSERT_TRUE(parsed["features"].is_array());
  EXPECT_GE(parsed["features"].size(), 60u);
  for (const auto& feature : parsed["features"]) {
    const std::string name = feature["feature"];
    EXPECT_NE(run.out.find("\n" + name + " "), std::string::npos) << name;
    EXPECT_FALSE(feature["description"].get<std::string>().empty()) << name;
  }
  EXPECT_NE(run.out.find("n=20"), std::string::npos);
  EXPECT_EQ(parsed["sets"], nlohmann::ordered_json({"ta", "micro", "liquidation", "oracle", "vault",
                                                    "funding", "defi", "default"}));
}

TEST(CliFeaturesTest, ShowPrintsColumnsAndTheSpecHash) {
  CliSandbox sandbox;
  const std::string spec = sandbox.CopyInput("small_set.yaml");
  CliRun run = sandbox.Vigil({"--json", "features", "show", "--config", spec});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto parsed = ParseJson(run.out);
  EXPECT_EQ(parsed["columns"],
            nlohmann::ordered_json({"sma_3", "logret_1", "logret_1_lag1", "max_2"}));
  EXPECT_EQ(parsed["spec_hash"].get<std::string>().size(), 16u);
}

struct UsageCase {
  std::string what;
  std::vector<std::string> args;
  std::string stderr_mentions;
};

TEST(CliFeaturesTest, UsageErrorsExitTwoAndWriteNothing) {
  CliSandbox sandbox;
  const std::string file = sandbox.CopyInput("good_candles.csv");
  const std::string bad = sandbox.CopyInput("bad_set.yaml");
  const std::vector<UsageCase> cases = {
      {"no source", {"features", "compute", "--set", "ta", "--out", "x.csv"}, "--input"},
      {"two sources",
       {"features", "compute", "--input", file, "--instrument", "a:B", "--set", "ta", "--out",
        "x.csv"},
       "--instrument"},
      {"no set", {"features", "compute", "--input", file, "--out", "x.csv"}, "--set"},
      {"unknown set",
       {"features", "compute", "--input", file, "--venue", "t", "--set", "nope", "--out", "x.csv"},
       "available: ta, micro"},
      {"bad spec",
       {"features", "compute", "--input", file, "--venue", "t", "--config", bad, "--out", "x.csv"},
       "bad_set.yaml:3"},
      {"missing --out", {"features", "compute", "--input", file, "--set", "ta"}, "--out"},
      {"missing input file",
       {"features", "compute", "--input", "nope.csv", "--set", "ta", "--out", "x.csv"},
       "nope.csv"},
      {"wrong kind for the set",
       {"features", "compute", "--input", file, "--venue", "t", "--kind", "trades", "--set", "ta",
        "--out", "x.csv"},
       "candles"},
      {"unknown stored instrument",
       {"features", "compute", "--instrument", "nowhere:X", "--set", "ta", "--out", "x.csv"},
       "nowhere:X"},
  };
  for (const UsageCase& c : cases) {
    CliRun run = sandbox.Vigil(c.args);
    EXPECT_EQ(run.exit_code, kExitUsage) << c.what << "\n" << run;
    EXPECT_NE(run.err.find(c.stderr_mentions), std::string::npos) << c.what << "\n" << run;
    EXPECT_FALSE(std::filesystem::exists(sandbox.dir() / "x.csv")) << c.what;
  }
}

}  // namespace
}  // namespace vigil::cli_test
