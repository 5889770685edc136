// The `vigil detect` contract: run (SCORES.csv with exactly timestamp|row, score, raw,
// is_anomaly, top_features; --label-column --json prints exactly {"roc_auc", "pr_auc", "n",
// "fit_seconds", "score_seconds"}), fit -> score through the registry, scan over a simulated
// store, and the errors: a bad CSV cell named by file:line:field with no output written,
// unknown kinds and config keys, a model missing a column.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "apps/cli_runner.h"

namespace vigil::cli_test {
namespace {

constexpr int kExitUsage = 2;
constexpr int kRows = 300;
// Rows where features `b` and `c` jump far out of their ranges; labelled 1.
constexpr int kSpikeRows[] = {40, 97, 150, 211, 280};

bool IsSpike(int row) {
  for (int spike : kSpikeRows) {
    if (spike == row) return true;
  }
  return false;
}

// Three noisy features (a, b, c) with spikes in b and c, an hourly timestamp and a 0/1
// label.
std::string LabelledCsv(bool with_timestamp) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::string csv = with_timestamp ? "timestamp,a,b,c,is_attack\n" : "a,b,c,is_attack\n";
  for (int row = 0; row < kRows; ++row) {
    const double a = noise(rng);
    const double b = IsSpike(row) ? 12.0 + 0.1 * (row % 7) : noise(rng);
    const double c = IsSpike(row) ? 9.0 + 0.1 * (row % 5) : 5.0 + 0.5 * noise(rng);
    char line[160];
    if (with_timestamp) {
      std::snprintf(line, sizeof line, "2024-03-%02dT%02d:00:00Z,", 1 + row / 24, row % 24);
      csv += line;
    }
    std::snprintf(line, sizeof line, "%.6f,%.6f,%.6f,%d\n", a, b, c, IsSpike(row) ? 1 : 0);
    csv += line;
  }
  return csv;
}

class CliDetectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteText(sandbox_.dir() / "rows.csv", LabelledCsv(true));
    WriteText(sandbox_.dir() / "plain.csv", LabelledCsv(false));
  }
  CliSandbox sandbox_;
};

// Checks a SCORES.csv: the header, one line per input row keyed like the input, valid
// fields, and every spike flagged and explained by `b` or `c`.
void ExpectScores(const std::string& csv, const std::string& key_column, const std::string& kind) {
  const std::vector<std::string> lines = SplitLines(csv);
  ASSERT_EQ(lines.size(), kRows + 1u) << kind;
  EXPECT_EQ(lines[0], key_column + ",score,raw,is_anomaly,top_features") << kind;
  for (int row = 0; row < kRows; ++row) {
    const std::vector<std::string> fields = Split(lines[row + 1], ',');
    ASSERT_EQ(fields.size(), 5u) << kind << " line " << row + 2 << ": " << lines[row + 1];
    if (key_column == "row") {
      EXPECT_EQ(fields[0], std::to_string(row)) << kind;
    } else {
      EXPECT_EQ(fields[0].substr(0, 8), "2024-03-") << kind;
    }
    const double score = std::stod(fields[1]);
    EXPECT_TRUE(score >= 0.0 && score <= 100.0) << kind << " row " << row << ": " << score;
    EXPECT_TRUE(std::isfinite(std::stod(fields[2]))) << kind << " row " << row;
    ASSERT_TRUE(fields[3] == "0" || fields[3] == "1") << kind << " row " << row;
    EXPECT_EQ(fields[3] == "1", score >= 80.0) << kind << " row " << row;
    const std::vector<std::string> top =
        fields[4].empty() ? std::vector<std::string>{} : Split(fields[4], ';');
    EXPECT_LE(top.size(), 3u) << kind << " row " << row;
    for (const std::string& entry : top) {
      const size_t colon = entry.rfind(':');
      ASSERT_NE(colon, std::string::npos) << entry;
      EXPECT_GT(std::stod(entry.substr(colon + 1)), 0.0) << kind << " row " << row << ": " << entry;
    }
    if (IsSpike(row)) {
      EXPECT_EQ(fields[3], "1") << kind << " spike row " << row << " not flagged";
      ASSERT_FALSE(top.empty()) << kind << " spike row " << row;
      EXPECT_TRUE(top[0].starts_with("b:") || top[0].starts_with("c:"))
          << kind << " spike row " << row << ": " << fields[4];
    }
  }
}

// Rows with a missing value (indicator warm-up in a features CSV) are left out, named on
// stderr, for kinds that need complete rows; the remaining rows keep their own keys.
TEST_F(CliDetectTest, RunLeavesOutIncompleteRowsForKindsThatNeedThem) {
  std::string csv = "a,b\n,1\n";  // row 0: a missing
  for (int row = 1; row < 60; ++row)
    csv += std::to_string(row % 7) + "," + std::to_string(row % 5) + "\n";
  csv += "3,nan\n";  // row 60, line 62
  WriteText(sandbox_.dir() / "gaps.csv", csv);
  CliRun run = sandbox_.Vigil(
      {"detect", "run", "--input", "gaps.csv", "--model", "ecod", "--out", "gaps_scores.csv"});
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_NE(run.err.find("2 row(s) of gaps.csv with a missing or infinite feature value left "
                         "out (first: line 2)"),
            std::string::npos)
      << run;
  const std::vector<std::string> lines = SplitLines(ReadBytes(sandbox_.dir() / "gaps_scores.csv"));
  ASSERT_EQ(lines.size(), 60u);  // header + rows 1..59
  EXPECT_TRUE(lines[1].starts_with("1,")) << lines[1];
  EXPECT_TRUE(lines[59].starts_with("59,")) << lines[59];

  // zscore skips a missing feature itself: every row is scored.
  run = sandbox_.Vigil(
      {"detect", "run", "--input", "gaps.csv", "--model", "zscore", "--out", "gaps_z.csv"});
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_EQ(SplitLines(ReadBytes(sandbox_.dir() / "gaps_z.csv")).size(), 62u);

  // Nothing complete left: an error, no output.
  WriteText(sandbox_.dir() / "empty_rows.csv", "a,b\n,1\n2,\n");
  run = sandbox_.Vigil(
      {"detect", "run", "--input", "empty_rows.csv", "--model", "ecod", "--out", "none.csv"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("no row has every feature value"), std::string::npos) << run;
  EXPECT_FALSE(std::filesystem::exists(sandbox_.dir() / "none.csv"));
}

TEST_F(CliDetectTest, RunWritesExactScoresAndLabelMetricsForEachKind) {
  for (const std::string kind : {"zscore", "ecod", "isolation_forest"}) {
    std::vector<std::string> args = {"--json",    "detect",  "run",        "--input",
                                     "rows.csv",  "--model", kind,         "--label-column",
                                     "is_attack", "--out",   kind + ".csv"};
    // zscore's default contamination flags 1% (3 of 300 rows); the spikes are 5.
    if (kind == "zscore") args.insert(args.end(), {"--params", "contamination=0.02"});
    if (kind == "isolation_forest") args.insert(args.end(), {"--seed", "3"});
    CliRun run = sandbox_.Vigil(args);
    ASSERT_EQ(run.exit_code, 0) << kind << "\n" << run;
    const auto metrics = ParseJson(run.out);
    EXPECT_EQ(JsonKeys(metrics),
              (std::vector<std::string>{"roc_auc", "pr_auc", "n", "fit_seconds", "score_seconds"}))
        << kind;
    EXPECT_EQ(metrics["n"], kRows) << kind;
    EXPECT_GT(metrics["roc_auc"].get<double>(), 0.99) << kind;
    EXPECT_GT(metrics["pr_auc"].get<double>(), 0.9) << kind;
    EXPECT_GE(metrics["fit_seconds"].get<double>(), 0.0) << kind;
    EXPECT_GE(metrics["score_seconds"].get<double>(), 0.0) << kind;
    ExpectScores(ReadBytes(sandbox_.dir() / (kind + ".csv")), "timestamp", kind);
  }
}

TEST_F(CliDetectTest, RunWithoutTimestampKeysRowsByIndex) {
  CliRun run = sandbox_.Vigil({"detect", "run", "--input", "plain.csv", "--model", "ecod",
                               "--label-column", "is_attack", "--out", "scores.csv"});
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_NE(run.out.find("roc_auc"), std::string::npos) << run;
  ExpectScores(ReadBytes(sandbox_.dir() / "scores.csv"), "row", "ecod");
  // Without --label-column the label is a feature like any other; the summary says so.
  CliRun unlabelled = sandbox_.Vigil(
      {"--json", "detect", "run", "--input", "plain.csv", "--model", "ecod", "--out", "all.csv"});
  ASSERT_EQ(unlabelled.exit_code, 0) << unlabelled;
  const auto summary = ParseJson(unlabelled.out);
  EXPECT_EQ(summary["n"], kRows);
  EXPECT_EQ(summary["out"], "all.csv");
}

TEST_F(CliDetectTest, BadCellIsNamedByFileLineAndFieldAndNothingIsWritten) {
  std::string csv = LabelledCsv(true);
  std::vector<std::string> lines = SplitLines(csv);
  std::vector<std::string> fields = Split(lines[4], ',');
  fields[2] = "oops";  // line 5 (the header is line 1), field b
  std::string bad;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i == 4) {
      lines[i] = fields[0] + "," + fields[1] + "," + fields[2] + "," + fields[3] + "," + fields[4];
    }
    bad += lines[i] + "\n";
  }
  WriteText(sandbox_.dir() / "bad.csv", bad);
  CliRun run = sandbox_.Vigil(
      {"detect", "run", "--input", "bad.csv", "--model", "zscore", "--out", "scores.csv"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("bad.csv:5: field 'b': not a number: 'oops'"), std::string::npos) << run;
  EXPECT_FALSE(std::filesystem::exists(sandbox_.dir() / "scores.csv"));

  WriteText(sandbox_.dir() / "short.csv", "a,b\n1,2\n3\n");
  CliRun short_row = sandbox_.Vigil(
      {"detect", "run", "--input", "short.csv", "--model", "zscore", "--out", "scores.csv"});
  EXPECT_EQ(short_row.exit_code, kExitUsage) << short_row;
  EXPECT_NE(short_row.err.find("short.csv:3: 1 fields, the header has 2"), std::string::npos)
      << short_row;

  WriteText(sandbox_.dir() / "label.csv", "a,y\n1,0\n2,2\n");
  CliRun bad_label = sandbox_.Vigil({"detect", "run", "--input", "label.csv", "--model", "zscore",
                                     "--label-column", "y", "--out", "scores.csv"});
  EXPECT_EQ(bad_label.exit_code, kExitUsage) << bad_label;
  EXPECT_NE(bad_label.err.find("label.csv:3: field 'y': a label must be 0 or 1"), std::string::npos)
      << bad_label;
  CliRun no_label = sandbox_.Vigil({"detect", "run", "--input", "rows.csv", "--model", "zscore",
                                    "--label-column", "nope", "--out", "scores.csv"});
  EXPECT_EQ(no_label.exit_code, kExitUsage) << no_label;
  EXPECT_NE(no_label.err.find("no label column 'nope'"), std::string::npos) << no_label;
  EXPECT_FALSE(std::filesystem::exists(sandbox_.dir() / "scores.csv"));
}

TEST_F(CliDetectTest, UnknownKindsKeysAndNonDetectorsAreRefused) {
  const auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"detect", "run", "--input", "rows.csv", "--out", "s.csv"};
    args.insert(args.end(), extra.begin(), extra.end());
    return sandbox_.Vigil(args);
  };
  CliRun unknown = run({"--model", "nope"});
  EXPECT_EQ(unknown.exit_code, kExitUsage) << unknown;
  EXPECT_NE(unknown.err.find("unknown model kind 'nope'"), std::string::npos) << unknown;
  CliRun bad_key = run({"--model", "ecod", "--params", "bogus=1"});
  EXPECT_EQ(bad_key.exit_code, kExitUsage) << bad_key;
  EXPECT_NE(bad_key.err.find("config key 'bogus'"), std::string::npos) << bad_key;
  CliRun bad_value = run({"--model", "ecod", "--params", "contamination=0.9"});
  EXPECT_EQ(bad_value.exit_code, kExitUsage) << bad_value;
  EXPECT_NE(bad_value.err.find("'contamination'"), std::string::npos) << bad_value;
  CliRun unseeded = run({"--model", "zscore", "--seed", "4"});
  EXPECT_EQ(unseeded.exit_code, kExitUsage) << unseeded;
  EXPECT_NE(unseeded.err.find("config key 'seed'"), std::string::npos) << unseeded;
  CliRun malformed = run({"--model", "ecod", "--params", "contamination"});
  EXPECT_EQ(malformed.exit_code, kExitUsage) << malformed;
  EXPECT_NE(malformed.err.find("--params: expected KEY=VALUE, got 'contamination'"),
            std::string::npos)
      << malformed;
  CliRun classifier = run({"--model", "logistic"});
  EXPECT_EQ(classifier.exit_code, kExitUsage) << classifier;
  EXPECT_NE(classifier.err.find("'logistic' is a classification model, not an anomaly detector"),
            std::string::npos)
      << classifier;
  EXPECT_FALSE(std::filesystem::exists(sandbox_.dir() / "s.csv"));
}

// A detector fitted and registered, then loaded back by `score`: on its own training rows it
// gives exactly `run`'s scores (ecod's in-sample scores are its novelty scores), whatever the
// order of the columns in the scored file.
TEST_F(CliDetectTest, FitThenScoreRoundTripsThroughTheRegistry) {
  CliRun fit = sandbox_.Vigil({"--json", "detect", "fit", "--input", "rows.csv", "--model", "ecod",
                               "--params", "contamination=0.02", "--label-column", "is_attack",
                               "--name", "det"});
  ASSERT_EQ(fit.exit_code, 0) << fit;
  const auto registered = ParseJson(fit.out);
  EXPECT_EQ(registered["name"], "det");
  EXPECT_EQ(registered["version"], 1);
  EXPECT_EQ(registered["kind"], "ecod");
  EXPECT_EQ(registered["rows"], kRows);
  EXPECT_EQ(registered["features"], 3);
  EXPECT_GT(registered["metrics"]["roc_auc"].get<double>(), 0.99);

  CliRun show = sandbox_.Vigil({"--json", "models", "show", "det@1"});
  ASSERT_EQ(show.exit_code, 0) << show;
  const auto manifest = ParseJson(show.out);
  EXPECT_EQ(manifest["task"], "anomaly");
  EXPECT_EQ(manifest["feature_set"]["features"], nlohmann::ordered_json::parse(R"(["a","b","c"])"));
  EXPECT_EQ(manifest["parameters"]["contamination"], 0.02);
  EXPECT_EQ(manifest["training_data"]["from"], "2024-03-01T00:00:00.000Z");

  CliRun run =
      sandbox_.Vigil({"detect", "run", "--input", "rows.csv", "--model", "ecod", "--params",
                      "contamination=0.02", "--label-column", "is_attack", "--out", "run.csv"});
  ASSERT_EQ(run.exit_code, 0) << run;
  // The scored file: columns reordered, the label kept as an ignored extra column.
  std::string reordered = "c,is_attack,timestamp,b,a\n";
  const std::vector<std::string> lines = SplitLines(LabelledCsv(true));
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> f = Split(lines[i], ',');
    reordered += f[3] + "," + f[4] + "," + f[0] + "," + f[2] + "," + f[1] + "\n";
  }
  WriteText(sandbox_.dir() / "reordered.csv", reordered);
  CliRun score = sandbox_.Vigil({"--json", "detect", "score", "--model", "det", "--input",
                                 "reordered.csv", "--out", "scored.csv"});
  ASSERT_EQ(score.exit_code, 0) << score;
  EXPECT_EQ(ParseJson(score.out)["model"], "det@1");
  EXPECT_EQ(ReadBytes(sandbox_.dir() / "scored.csv"), ReadBytes(sandbox_.dir() / "run.csv"));

  WriteText(sandbox_.dir() / "partial.csv", "timestamp,a,x\n2024-03-01T00:00:00Z,1,2\n");
  CliRun missing = sandbox_.Vigil(
      {"detect", "score", "--model", "det@latest", "--input", "partial.csv", "--out", "never.csv"});
  EXPECT_EQ(missing.exit_code, kExitUsage) << missing;
  EXPECT_NE(missing.err.find("partial.csv: missing the model's feature column(s) 'b', 'c'"),
            std::string::npos)
      << missing;
  EXPECT_FALSE(std::filesystem::exists(sandbox_.dir() / "never.csv"));
  CliRun unknown = sandbox_.Vigil(
      {"detect", "score", "--model", "nobody", "--input", "rows.csv", "--out", "never.csv"});
  EXPECT_EQ(unknown.exit_code, kExitUsage) << unknown;
  EXPECT_NE(unknown.err.find("nobody"), std::string::npos) << unknown;

  CliRun second = sandbox_.Vigil(
      {"--json", "detect", "fit", "--input", "rows.csv", "--model", "zscore", "--name", "det"});
  ASSERT_EQ(second.exit_code, 0) << second;
  EXPECT_EQ(ParseJson(second.out)["version"], 2);
  // --model auto with labels ranks the candidates by PR-AUC on the last 30% of the rows.
  CliRun automatic =
      sandbox_.Vigil({"--json", "detect", "fit", "--input", "rows.csv", "--model", "auto",
                      "--label-column", "is_attack", "--seed", "1", "--name", "picked"});
  ASSERT_EQ(automatic.exit_code, 0) << automatic;
  const auto picked = ParseJson(automatic.out);
  EXPECT_EQ(picked["selection"]["method"], "pr_auc");
  EXPECT_EQ(picked["kind"], picked["selection"]["kind"]);
  EXPECT_EQ(picked["features"], 3);
  CliRun bad_name = sandbox_.Vigil(
      {"detect", "fit", "--input", "rows.csv", "--model", "zscore", "--name", "a b"});
  EXPECT_EQ(bad_name.exit_code, kExitUsage) << bad_name;
  EXPECT_NE(bad_name.err.find("--name"), std::string::npos) << bad_name;
}

// A simulated store of two instruments plus one with too few candles for the `ta` set: the
// model fitted on one instrument scans all, most anomalous first, and names the skipped one.
TEST_F(CliDetectTest, ScanScoresEveryInstrumentsLatestRow) {
  CliRun simulated = sandbox_.Vigil({"simulate", "--instruments", "2", "--days", "2", "--ingest"});
  ASSERT_EQ(simulated.exit_code, 0) << simulated;
  const std::string few = sandbox_.CopyInput("good_candles.csv");
  ASSERT_EQ(
      sandbox_
          .Vigil({"ingest", "--kind", "candles", "--venue", "testex", "--symbol", "ABC/USD", few})
          .exit_code,
      0);
  CliRun fit = sandbox_.Vigil({"--json", "detect", "fit", "--instrument", "sim:BTC-PERP", "--set",
                               "ta", "--model", "zscore", "--name", "mon"});
  ASSERT_EQ(fit.exit_code, 0) << fit;
  EXPECT_GT(ParseJson(fit.out)["rows"].get<int64_t>(), 1000);
  EXPECT_NE(fit.err.find("indicator warm-up"), std::string::npos) << fit;

  CliRun scan = sandbox_.Vigil({"--json", "detect", "scan", "--model", "mon"});
  ASSERT_EQ(scan.exit_code, 0) << scan;
  const auto list = ParseJson(scan.out);
  ASSERT_TRUE(list.is_array()) << scan;
  ASSERT_EQ(list.size(), 2u) << scan;
  std::vector<std::string> instruments;
  for (const auto& entry : list) {
    EXPECT_EQ(JsonKeys(entry), (std::vector<std::string>{"instrument", "timestamp", "score",
                                                         "is_anomaly", "top_features"}));
    instruments.push_back(entry["instrument"]);
    EXPECT_TRUE(entry["score"].get<double>() >= 0.0 && entry["score"].get<double>() <= 100.0);
    EXPECT_EQ(entry["is_anomaly"].get<bool>(), entry["score"].get<double>() >= 80.0);
    EXPECT_LE(entry["top_features"].size(), 3u);
    for (const auto& share : entry["top_features"]) {
      EXPECT_EQ(JsonKeys(share), (std::vector<std::string>{"feature", "contribution"}));
      EXPECT_GT(share["contribution"].get<double>(), 0.0);
    }
  }
  EXPECT_GE(list[0]["score"].get<double>(), list[1]["score"].get<double>());
  EXPECT_NE(std::find(instruments.begin(), instruments.end(), "sim:BTC-PERP"), instruments.end());
  EXPECT_NE(scan.err.find("skipped testex:ABC/USD"), std::string::npos) << scan;

  CliRun table = sandbox_.Vigil({"detect", "scan", "--model", "mon@1"});
  ASSERT_EQ(table.exit_code, 0) << table;
  EXPECT_EQ(table.out.rfind("INSTRUMENT", 0), 0u) << table;
  EXPECT_EQ(SplitLines(table.out).size(), 3u) << table;

  CliRun wrong_set = sandbox_.Vigil({"detect", "scan", "--model", "mon", "--set", "funding"});
  EXPECT_EQ(wrong_set.exit_code, kExitUsage) << wrong_set;
  EXPECT_NE(wrong_set.err.find("lacks the model's feature"), std::string::npos) << wrong_set;
}

}  // namespace
}  // namespace vigil::cli_test
