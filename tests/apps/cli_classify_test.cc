// The `vigil classify run` and `vigil explain` contracts.
//
// classify run --input FILE.csv --label-column NAME (--test-fraction F | --split-time T)
//   --model KIND [--params k=v,...] [--seed S] --out PRED.csv [--json]: fits on the
//   chronologically first rows and predicts the rest; PRED.csv is `timestamp` (or `row`),
//   `label`, `probability`; --json (before or after the subcommand) prints exactly
//   {"roc_auc","pr_auc","log_loss","brier","n_train","n_test","fit_seconds"}; bad labels
//   fail naming FILE:LINE and the field, with exit 2 and no output file.
// explain --model NAME[@V|@alias] --input FILE.csv --out SHAP.csv: one column per model
//   feature plus `bias`; each row sums to the model's raw margin.
//
// The predictions are checked against the library fitted in-process on the same rows, so
// the split (which rows train, which are predicted) is checked, not just the file shape.
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "apps/cli_runner.h"
#include "vigil/core/timestamp.h"
#include "vigil/models/metrics.h"
#include "vigil/models/model.h"
#include "vigil/models/multi_horizon.h"
#include "vigil/registry/registry.h"

namespace vigil::cli_test {
namespace {

constexpr int kExitUsage = 2;
constexpr int kRows = 400;
// 2024-01-01T00:00:00Z; rows are one minute apart.
constexpr int64_t kFirstSecond = 1704067200;

std::string Shortest(double value) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, end);
}

std::string TimestampText(int row) {
  return Timestamp::FromSeconds(kFirstSecond + 60 * row).ToIso();
}

// Three features and a 0/1 label that depends on a and b (c is noise), plus a 3-class
// label from the same score: learnable, so out-of-sample ROC-AUC is well above 0.5.
struct Dataset {
  std::vector<double> a, b, c;
  std::vector<int> y, klass;

  static Dataset Make() {
    std::mt19937_64 engine(20240101);
    std::uniform_real_distribution<double> uniform(-1.0, 1.0);
    Dataset data;
    for (int row = 0; row < kRows; ++row) {
      // Rounded to 1e-6 so the CSV text is short; the parsed doubles equal these exactly.
      auto draw = [&] { return std::round(uniform(engine) * 1e6) / 1e6; };
      data.a.push_back(draw());
      data.b.push_back(draw() * 3.0);
      data.c.push_back(draw());
      const double score = 2.0 * data.a.back() + 0.5 * data.b.back() + uniform(engine);
      data.y.push_back(score > 0.5 ? 1 : 0);
      data.klass.push_back(score < -0.7 ? 0 : (score < 0.7 ? 1 : 2));
    }
    return data;
  }

  // Header timestamp,a,b,y,c (the label between features); without_timestamp drops it.
  std::string Csv(bool with_timestamp = true) const {
    std::string csv = with_timestamp ? "timestamp,a,b,y,c\n" : "a,b,y,c\n";
    for (int row = 0; row < kRows; ++row) {
      if (with_timestamp) csv += TimestampText(row) + ",";
      csv += Shortest(a[row]) + "," + Shortest(b[row]) + "," + std::to_string(y[row]) + "," +
             Shortest(c[row]) + "\n";
    }
    return csv;
  }

  // Columns in `names` order, rows [begin, end).
  FeatureMatrix Matrix(const std::vector<std::string>& names, int begin, int end) const {
    FeatureMatrix x;
    x.columns = names;
    x.rows = end - begin;
    for (int row = begin; row < end; ++row) {
      for (const std::string& name : names) {
        x.values.push_back(name == "a" ? a[row] : (name == "b" ? b[row] : c[row]));
      }
    }
    return x;
  }
};

// A logistic model fitted in-process on the first `train_rows` rows.
std::unique_ptr<Model> FitLogistic(const Dataset& data, int train_rows,
                                   const nlohmann::json& params,
                                   const std::vector<std::string>& features) {
  auto model = CreateModel("logistic", params);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return nullptr;
  const std::vector<int> labels(data.y.begin(), data.y.begin() + train_rows);
  const Status fitted =
      AsClassifier(model->get())->Fit(data.Matrix(features, 0, train_rows), labels);
  EXPECT_TRUE(fitted.ok()) << fitted.ToString();
  return std::move(*model);
}

class CliClassifyTest : public ::testing::Test {
 protected:
  void SetUp() override { WriteText(sandbox_.dir() / "rows.csv", data_.Csv()); }

  CliRun Classify(std::vector<std::string> extra) const {
    std::vector<std::string> args = {"classify",       "run", "--input", "rows.csv",
                                     "--label-column", "y",   "--out",   "pred.csv"};
    args.insert(args.end(), extra.begin(), extra.end());
    return sandbox_.Vigil(args);
  }

  bool PredictionsWritten() const { return std::filesystem::exists(sandbox_.dir() / "pred.csv"); }

  Dataset data_ = Dataset::Make();
  CliSandbox sandbox_;
};

// The core contract: the first 300 rows train, the last ceil(0.25 * 400) = 100 are
// predicted exactly as the library predicts them, and the metrics are those of PRED.csv.
TEST_F(CliClassifyTest, RunTrainsOnTheFirstRowsAndPredictsTheRest) {
  CliRun run = Classify({"--test-fraction", "0.25", "--model", "logistic", "--params",
                         "C=0.5,standardize=true", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto json = ParseJson(run.out);
  EXPECT_EQ(JsonKeys(json), (std::vector<std::string>{"roc_auc", "pr_auc", "log_loss", "brier",
                                                      "n_train", "n_test", "fit_seconds"}));
  EXPECT_EQ(json["n_train"], 300);
  EXPECT_EQ(json["n_test"], 100);
  EXPECT_GE(json["fit_seconds"].get<double>(), 0.0);

  const std::vector<std::string> lines = SplitLines(ReadBytes(sandbox_.dir() / "pred.csv"));
  ASSERT_EQ(lines.size(), 101u);
  EXPECT_EQ(lines[0], "timestamp,label,probability");
  const auto reference =
      FitLogistic(data_, 300, {{"C", 0.5}, {"standardize", true}}, {"a", "b", "c"});
  ASSERT_NE(reference, nullptr);
  auto expected =
      AsClassifier(reference.get())->PredictProba(data_.Matrix({"a", "b", "c"}, 300, kRows));
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  std::vector<int> labels;
  std::vector<double> probabilities;
  for (int row = 0; row < 100; ++row) {
    const std::vector<std::string> fields = Split(lines[row + 1], ',');
    ASSERT_EQ(fields.size(), 3u) << lines[row + 1];
    EXPECT_EQ(fields[0], TimestampText(300 + row));
    EXPECT_EQ(fields[1], std::to_string(data_.y[300 + row]));
    labels.push_back(std::stoi(fields[1]));
    probabilities.push_back(std::stod(fields[2]));
    EXPECT_NEAR(probabilities.back(), expected->at(row, 1), 1e-12) << "test row " << row;
  }
  EXPECT_NEAR(json["roc_auc"].get<double>(), *RocAuc(labels, probabilities), 1e-12);
  EXPECT_NEAR(json["pr_auc"].get<double>(), *AveragePrecision(labels, probabilities), 1e-12);
  EXPECT_NEAR(json["log_loss"].get<double>(), *LogLoss(labels, probabilities), 1e-12);
  EXPECT_NEAR(json["brier"].get<double>(), *BrierScore(labels, probabilities), 1e-12);
  EXPECT_GT(json["roc_auc"].get<double>(), 0.8);  // the label is learnable from a and b
}

TEST_F(CliClassifyTest, GlobalJsonBeforeTheCommandAndHumanSummary) {
  CliRun global =
      sandbox_.Vigil({"--json", "classify", "run", "--input", "rows.csv", "--label-column", "y",
                      "--test-fraction", "0.3", "--model", "logistic", "--out", "pred.csv"});
  ASSERT_EQ(global.exit_code, 0) << global;
  EXPECT_EQ(ParseJson(global.out)["n_test"], 120);  // ceil(0.3 * 400), not 121

  CliRun human = Classify({"--test-fraction", "0.3", "--model", "logistic"});
  ASSERT_EQ(human.exit_code, 0) << human;
  EXPECT_TRUE(
      human.out.starts_with("trained logistic on 280 rows, predicted 120 -> pred.csv\n"
                            "roc_auc "))
      << human;
}

TEST_F(CliClassifyTest, SplitTimeTrainsBeforeAndPredictsFromTheTime) {
  CliRun run = Classify({"--split-time", TimestampText(250), "--model", "logistic", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto json = ParseJson(run.out);
  EXPECT_EQ(json["n_train"], 250);
  EXPECT_EQ(json["n_test"], 150);
  const std::vector<std::string> lines = SplitLines(ReadBytes(sandbox_.dir() / "pred.csv"));
  ASSERT_EQ(lines.size(), 151u);
  EXPECT_TRUE(lines[1].starts_with(TimestampText(250) + ",")) << lines[1];

  // Epoch seconds name the same instant.
  run = Classify(
      {"--split-time", std::to_string(kFirstSecond + 60 * 250), "--model", "logistic", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_EQ(ParseJson(run.out)["n_train"], 250);
}

TEST_F(CliClassifyTest, WithoutTimestampRowsAreKeyedByIndex) {
  WriteText(sandbox_.dir() / "rows.csv", data_.Csv(/*with_timestamp=*/false));
  CliRun run = Classify({"--test-fraction", "0.1", "--model", "logistic"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const std::vector<std::string> lines = SplitLines(ReadBytes(sandbox_.dir() / "pred.csv"));
  ASSERT_EQ(lines.size(), 41u);
  EXPECT_EQ(lines[0], "row,label,probability");
  EXPECT_TRUE(lines[1].starts_with("360,")) << lines[1];

  std::filesystem::remove(sandbox_.dir() / "pred.csv");
  run = Classify({"--split-time", "2024-01-01T03:00:00Z", "--model", "logistic"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("--split-time needs a 'timestamp' column"), std::string::npos) << run;
  EXPECT_FALSE(PredictionsWritten());
}

TEST_F(CliClassifyTest, SplitFlagsAreOneOfTwo) {
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--test-fraction", "0.2", "--split-time", TimestampText(10)},
        std::vector<std::string>{}}) {
    std::vector<std::string> extra = flags;
    extra.insert(extra.end(), {"--model", "logistic"});
    CliRun run = Classify(extra);
    EXPECT_EQ(run.exit_code, kExitUsage) << run;
    EXPECT_NE(run.err.find("give exactly one of --test-fraction F or --split-time T"),
              std::string::npos)
        << run;
    EXPECT_FALSE(PredictionsWritten());
  }
}

TEST_F(CliClassifyTest, EmptyTrainOrTestSideIsAnError) {
  CliRun run = Classify({"--split-time", "2023-12-31T00:00:00Z", "--model", "logistic"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("leaves no training rows of the 400 rows of rows.csv"), std::string::npos)
      << run;
  run = Classify({"--split-time", "2024-02-01T00:00:00Z", "--model", "logistic"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("leaves no test rows"), std::string::npos) << run;
  for (const char* fraction : {"0", "1", "-0.5", "1.5"}) {
    run = Classify({"--test-fraction", fraction, "--model", "logistic"});
    EXPECT_EQ(run.exit_code, kExitUsage) << run;
    EXPECT_NE(run.err.find("--test-fraction must lie strictly between 0 and 1"), std::string::npos)
        << run;
  }
  EXPECT_FALSE(PredictionsWritten());
}

// Line 12 of the file is data row 10; each bad label is named by file, line and field.
TEST_F(CliClassifyTest, BadLabelsNameTheRow) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"abc", "rows.csv:12: field 'y': not a number: 'abc'"},
      {"", "rows.csv:12: field 'y': missing label"},
      {"0.5",
       "rows.csv:12: field 'y': a label must be a class index 0, 1, ... below 1000, got "
       "'0.5'"},
      {"-1", "rows.csv:12: field 'y': a label must be a class index"},
  };
  for (const auto& [label, message] : cases) {
    std::vector<std::string> lines = SplitLines(data_.Csv());
    std::vector<std::string> fields = Split(lines[11], ',');
    fields[3] = label;
    lines[11] = fields[0] + "," + fields[1] + "," + fields[2] + "," + fields[3] + "," + fields[4];
    std::string csv;
    for (const std::string& line : lines) csv += line + "\n";
    WriteText(sandbox_.dir() / "rows.csv", csv);
    CliRun run = Classify({"--test-fraction", "0.25", "--model", "logistic"});
    EXPECT_EQ(run.exit_code, kExitUsage) << run;
    EXPECT_NE(run.err.find(message), std::string::npos) << "label '" << label << "': " << run;
    EXPECT_FALSE(PredictionsWritten());
  }
}

TEST_F(CliClassifyTest, InputProblemsNameTheirPlace) {
  std::vector<std::string> lines = SplitLines(data_.Csv());
  const std::string good_line_6 = lines[6];
  // A missing feature value: fine for tree kinds, an error naming the cell for logistic.
  std::vector<std::string> fields = Split(lines[6], ',');
  lines[6] = fields[0] + ",," + fields[2] + "," + fields[3] + "," + fields[4];
  std::string csv;
  for (const std::string& line : lines) csv += line + "\n";
  WriteText(sandbox_.dir() / "rows.csv", csv);
  CliRun run = Classify({"--test-fraction", "0.25", "--model", "logistic"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("rows.csv:7: field 'a': missing value; kind 'logistic' needs every "
                         "feature value"),
            std::string::npos)
      << run;

  // Out of time order: line 7 earlier than line 6.
  lines[6] = good_line_6;
  std::swap(lines[5], lines[6]);
  csv.clear();
  for (const std::string& line : lines) csv += line + "\n";
  WriteText(sandbox_.dir() / "rows.csv", csv);
  run = Classify({"--test-fraction", "0.25", "--model", "logistic"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("rows.csv:7: timestamp '" + TimestampText(4) +
                         "' is earlier than the row before it"),
            std::string::npos)
      << run;

  WriteText(sandbox_.dir() / "rows.csv", data_.Csv());
  run = sandbox_.Vigil({"classify", "run", "--input", "rows.csv", "--label-column", "z",
                        "--test-fraction", "0.25", "--model", "logistic", "--out", "pred.csv"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("rows.csv: no label column 'z' in the header"), std::string::npos) << run;
  EXPECT_FALSE(PredictionsWritten());
}

TEST_F(CliClassifyTest, ModelProblemsAreUsageErrors) {
  CliRun run = Classify({"--test-fraction", "0.25", "--model", "logistic", "--params", "bogus=1"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("bogus"), std::string::npos) << run;

  run = Classify({"--test-fraction", "0.25", "--model", "no_such_kind"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("no_such_kind"), std::string::npos) << run;

  run = Classify({"--test-fraction", "0.25", "--model", "ecod"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("'ecod' is not a classifier (its task: anomaly"), std::string::npos)
      << run;

  // Three classes for a binary kind.
  std::string csv = "timestamp,a,b,y,c\n";
  for (int row = 0; row < kRows; ++row) {
    csv += TimestampText(row) + "," + Shortest(data_.a[row]) + "," + Shortest(data_.b[row]) + "," +
           std::to_string(data_.klass[row]) + "," + Shortest(data_.c[row]) + "\n";
  }
  WriteText(sandbox_.dir() / "rows.csv", csv);
  run = Classify({"--test-fraction", "0.25", "--model", "logistic"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("kind 'logistic' is binary, but label 'y' of rows.csv has 3 classes"),
            std::string::npos)
      << run;
  EXPECT_FALSE(PredictionsWritten());
}

// Gaps in feature a (every 17th row) and, optionally, the 3-class label.
std::string CsvWithGaps(const Dataset& data, bool three_classes) {
  std::string csv = "timestamp,a,b,y,c\n";
  for (int row = 0; row < kRows; ++row) {
    const int label = three_classes ? data.klass[row] : data.y[row];
    csv += TimestampText(row) + "," + (row % 17 == 0 ? "" : Shortest(data.a[row])) + "," +
           Shortest(data.b[row]) + "," + std::to_string(label) + "," + Shortest(data.c[row]) + "\n";
  }
  return csv;
}

// The same rows as CsvWithGaps, as a matrix.
FeatureMatrix MatrixWithGaps(const Dataset& data, int begin, int end) {
  FeatureMatrix x = data.Matrix({"a", "b", "c"}, begin, end);
  for (int row = begin; row < end; ++row) {
    if (row % 17 == 0) x.values[(row - begin) * 3] = std::numeric_limits<double>::quiet_NaN();
  }
  return x;
}

// Tree kinds take missing values natively; the CLI's predictions equal the library's for
// the same parameters and seed.
TEST_F(CliClassifyTest, TreeKindsAcceptMissingValuesAndMatchTheLibrary) {
  WriteText(sandbox_.dir() / "rows.csv", CsvWithGaps(data_, false));
  for (const std::string kind : {"xgboost", "random_forest"}) {
    CliRun run = Classify({"--test-fraction", "0.25", "--model", kind, "--params",
                           "n_estimators=20,max_depth=3,nthread=1", "--seed", "7", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run;
    EXPECT_EQ(ParseJson(run.out)["n_train"], 300) << kind;
    EXPECT_GT(ParseJson(run.out)["roc_auc"].get<double>(), 0.75) << kind;

    auto model =
        CreateModel(kind, {{"n_estimators", 20}, {"max_depth", 3}, {"nthread", 1}, {"seed", 7}});
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    Classifier* classifier = AsClassifier(model->get());
    const std::vector<int> labels(data_.y.begin(), data_.y.begin() + 300);
    ASSERT_TRUE(classifier->Fit(MatrixWithGaps(data_, 0, 300), labels).ok());
    auto expected = classifier->PredictProba(MatrixWithGaps(data_, 300, kRows));
    ASSERT_TRUE(expected.ok()) << expected.status().ToString();
    const std::vector<std::string> lines = SplitLines(ReadBytes(sandbox_.dir() / "pred.csv"));
    ASSERT_EQ(lines.size(), 101u) << kind;
    for (int row = 0; row < 100; ++row) {
      EXPECT_NEAR(std::stod(Split(lines[row + 1], ',')[2]), expected->at(row, 1), 1e-12)
          << kind << " test row " << row;
    }
  }
}

// Multiclass labels: `probability` is the predicted class's, then p0..p2; the ranking and
// Brier metrics are null, the log loss is the multiclass one.
TEST_F(CliClassifyTest, MulticlassXGBoostWritesClassProbabilities) {
  WriteText(sandbox_.dir() / "rows.csv", CsvWithGaps(data_, true));
  CliRun run = Classify({"--test-fraction", "0.25", "--model", "xgboost", "--params",
                         "n_estimators=20,nthread=1", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run;
  const auto json = ParseJson(run.out);
  EXPECT_TRUE(json["roc_auc"].is_null());
  EXPECT_TRUE(json["pr_auc"].is_null());
  EXPECT_TRUE(json["brier"].is_null());
  const std::vector<std::string> lines = SplitLines(ReadBytes(sandbox_.dir() / "pred.csv"));
  ASSERT_EQ(lines.size(), 101u);
  EXPECT_EQ(lines[0], "timestamp,label,probability,p0,p1,p2");
  std::vector<int> labels;
  std::vector<double> probabilities;
  for (int row = 0; row < 100; ++row) {
    const std::vector<std::string> fields = Split(lines[row + 1], ',');
    ASSERT_EQ(fields.size(), 6u) << lines[row + 1];
    EXPECT_EQ(std::stoi(fields[1]), data_.klass[300 + row]);
    labels.push_back(std::stoi(fields[1]));
    const std::vector<double> p = {std::stod(fields[3]), std::stod(fields[4]),
                                   std::stod(fields[5])};
    probabilities.insert(probabilities.end(), p.begin(), p.end());
    EXPECT_EQ(std::stod(fields[2]), *std::max_element(p.begin(), p.end())) << lines[row + 1];
    EXPECT_NEAR(p[0] + p[1] + p[2], 1.0, 1e-6) << lines[row + 1];
  }
  EXPECT_NEAR(json["log_loss"].get<double>(), *MulticlassLogLoss(labels, probabilities, 3), 1e-9);
}

// A training part without the highest class still yields a model of every class (the
// class count comes from the whole file).
TEST_F(CliClassifyTest, MulticlassClassCountComesFromTheWholeFile) {
  std::string csv = "a,y\n";
  for (int row = 0; row < 100; ++row) {
    csv += std::to_string(row) + "," + std::to_string(row < 90 ? row % 2 : 2) + "\n";
  }
  WriteText(sandbox_.dir() / "rows.csv", csv);
  CliRun run = Classify(
      {"--test-fraction", "0.1", "--model", "xgboost", "--params", "n_estimators=5,nthread=1"});
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_EQ(SplitLines(ReadBytes(sandbox_.dir() / "pred.csv"))[0],
            "row,label,probability,p0,p1,p2");
}

// --- explain ---

class CliExplainTest : public CliClassifyTest {
 protected:
  // Fits logistic on every row with features in the order c, a, b (not the CSV's) and
  // registers it as `liq`.
  void RegisterLogistic() {
    model_ = FitLogistic(data_, kRows, {{"standardize", true}}, {"c", "a", "b"});
    ASSERT_NE(model_, nullptr);
    auto registry = ModelRegistry::Open(sandbox_.home() / "models");
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    Manifest manifest;
    manifest.name = "liq";
    manifest.kind = "logistic";
    manifest.feature_set = {"default", "0000000000000000", {"c", "a", "b"}};
    auto stored = registry->Register(*model_, manifest);
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    ASSERT_TRUE(registry->Promote("liq", stored->version).ok());
  }

  // The margins the library computes for every row of data_.
  std::vector<double> Margins() const {
    const ExplainableModel* explainable = AsExplainable(model_.get());
    EXPECT_NE(explainable, nullptr);
    if (explainable == nullptr) return {};
    auto margins = explainable->RawMargin(data_.Matrix({"c", "a", "b"}, 0, kRows));
    EXPECT_TRUE(margins.ok()) << margins.status().ToString();
    return margins.ok() ? *margins : std::vector<double>{};
  }

  std::unique_ptr<Model> model_;
};

TEST_F(CliExplainTest, RowsSumToTheRawMargin) {
  RegisterLogistic();
  const std::vector<double> margins = Margins();
  ASSERT_EQ(margins.size(), static_cast<size_t>(kRows));
  for (const std::string reference : {"liq", "liq@1", "liq@production"}) {
    std::filesystem::remove(sandbox_.dir() / "shap.csv");
    CliRun run = sandbox_.Vigil(
        {"explain", "--model", reference, "--input", "rows.csv", "--out", "shap.csv", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run;
    const auto json = ParseJson(run.out);
    EXPECT_EQ(JsonKeys(json), (std::vector<std::string>{"model", "kind", "output", "rows",
                                                        "max_additivity_error", "out"}));
    EXPECT_EQ(json["model"], "liq@1");
    EXPECT_EQ(json["kind"], "logistic");
    EXPECT_EQ(json["rows"], kRows);
    EXPECT_LT(json["max_additivity_error"].get<double>(), 1e-9);

    const std::vector<std::string> lines = SplitLines(ReadBytes(sandbox_.dir() / "shap.csv"));
    ASSERT_EQ(lines.size(), kRows + 1u) << reference;
    EXPECT_EQ(lines[0], "c,a,b,bias");  // the model's features, in its order, then bias
    for (int row = 0; row < kRows; ++row) {
      const std::vector<std::string> fields = Split(lines[row + 1], ',');
      ASSERT_EQ(fields.size(), 4u) << lines[row + 1];
      double sum = 0.0;
      for (const std::string& field : fields) sum += std::stod(field);
      EXPECT_NEAR(sum, margins[row], 1e-4) << reference << " row " << row;
    }
  }
}

TEST_F(CliExplainTest, WithMarginAppendsTheMarginColumn) {
  RegisterLogistic();
  const std::vector<double> margins = Margins();
  ASSERT_EQ(margins.size(), static_cast<size_t>(kRows));
  CliRun run = sandbox_.Vigil(
      {"explain", "--model", "liq", "--input", "rows.csv", "--out", "shap.csv", "--with-margin"});
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_TRUE(run.out.starts_with("explained 400 rows with liq@1 (logistic): max |sum - margin| "))
      << run;
  const std::vector<std::string> lines = SplitLines(ReadBytes(sandbox_.dir() / "shap.csv"));
  ASSERT_EQ(lines.size(), kRows + 1u);
  EXPECT_EQ(lines[0], "c,a,b,bias,margin");
  for (int row = 0; row < kRows; ++row) {
    EXPECT_NEAR(std::stod(Split(lines[row + 1], ',')[4]), margins[row], 1e-12) << row;
  }
}

TEST_F(CliExplainTest, ErrorsNameTheProblem) {
  RegisterLogistic();
  // A missing feature column is named.
  WriteText(sandbox_.dir() / "no_b.csv", "timestamp,a,c\n2024-01-01T00:00:00Z,0.1,0.2\n");
  CliRun run =
      sandbox_.Vigil({"explain", "--model", "liq", "--input", "no_b.csv", "--out", "shap.csv"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("no_b.csv: missing the model's feature column(s) 'b'"), std::string::npos)
      << run;

  // A missing value for a kind that needs complete rows names the cell.
  WriteText(sandbox_.dir() / "gap.csv", "a,b,c\n0.1,0.2,0.3\n0.1,,0.3\n");
  run = sandbox_.Vigil({"explain", "--model", "liq", "--input", "gap.csv", "--out", "shap.csv"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("gap.csv:3: field 'b'"), std::string::npos) << run;

  run = sandbox_.Vigil({"explain", "--model", "liq@7", "--input", "rows.csv", "--out", "shap.csv"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;

  run = sandbox_.Vigil(
      {"explain", "--model", "liq", "--input", "rows.csv", "--out", "shap.csv", "--output", "2"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("--output: liq@1 has a single output"), std::string::npos) << run;

  // A detector has no SHAP side.
  auto detector = CreateModel("ecod", nlohmann::json::object());
  ASSERT_TRUE(detector.ok()) << detector.status().ToString();
  ASSERT_TRUE(AsAnomalyDetector(detector->get())->Fit(data_.Matrix({"a", "b"}, 0, kRows)).ok());
  auto registry = ModelRegistry::Open(sandbox_.home() / "models");
  ASSERT_TRUE(registry.ok());
  Manifest manifest;
  manifest.name = "det";
  manifest.kind = "ecod";
  manifest.task = Task::kAnomaly;
  manifest.feature_set = {"default", "0000000000000000", {"a", "b"}};
  ASSERT_TRUE(registry->Register(**detector, manifest).ok());
  run = sandbox_.Vigil({"explain", "--model", "det", "--input", "rows.csv", "--out", "shap.csv"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("det@1 is of kind 'ecod', which cannot explain its predictions"),
            std::string::npos)
      << run;
  EXPECT_FALSE(std::filesystem::exists(sandbox_.dir() / "shap.csv"));
}

// xgboost explains by TreeSHAP: rows sum to the raw margin (float32 inside XGBoost, so
// within 1e-4); a 3-class model needs --output and explains the chosen class.
TEST_F(CliExplainTest, XGBoostRowsSumToTheRawMarginPerClass) {
  auto registry = ModelRegistry::Open(sandbox_.home() / "models");
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  const FeatureMatrix x = MatrixWithGaps(data_, 0, kRows);
  for (const bool three_classes : {false, true}) {
    auto model = CreateModel("xgboost", {{"n_estimators", 30}, {"max_depth", 3}, {"nthread", 1}});
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    ASSERT_TRUE(AsClassifier(model->get())->Fit(x, three_classes ? data_.klass : data_.y).ok());
    Manifest manifest;
    manifest.name = three_classes ? "risk3" : "liq_xgb";
    manifest.feature_set = {"default", "0000000000000000", {"a", "b", "c"}};
    ASSERT_TRUE(registry->Register(**model, manifest).ok());
    auto margins = AsExplainable(model->get())->RawMargin(x);
    ASSERT_TRUE(margins.ok()) << margins.status().ToString();
    WriteText(sandbox_.dir() / "gaps.csv", CsvWithGaps(data_, three_classes));

    std::vector<std::string> args = {"explain",  "--model", manifest.name, "--input",
                                     "gaps.csv", "--out",   "shap.csv"};
    const int outputs = three_classes ? 3 : 1;
    int output = 0;
    if (three_classes) {
      CliRun refused = sandbox_.Vigil(args);
      EXPECT_EQ(refused.exit_code, kExitUsage) << refused;
      EXPECT_NE(refused.err.find("risk3@1 has 3 outputs (one per class): choose one with "
                                 "--output 0, 1, 2"),
                std::string::npos)
          << refused;
      args.insert(args.end(), {"--output", "2"});
      output = 2;
    }
    CliRun run = sandbox_.Vigil(args);
    ASSERT_EQ(run.exit_code, 0) << run;
    const std::vector<std::string> lines = SplitLines(ReadBytes(sandbox_.dir() / "shap.csv"));
    ASSERT_EQ(lines.size(), kRows + 1u);
    EXPECT_EQ(lines[0], "a,b,c,bias");
    for (int row = 0; row < kRows; ++row) {
      double sum = 0.0;
      for (const std::string& field : Split(lines[row + 1], ',')) sum += std::stod(field);
      EXPECT_NEAR(sum, (*margins)[row * outputs + output], 1e-4) << manifest.name << " " << row;
    }
  }
}

// multi_horizon: one output per horizon, named like 15m; the primary one by default.
TEST_F(CliExplainTest, MultiHorizonExplainsTheChosenHorizon) {
  std::vector<std::unique_ptr<Model>> per_horizon;
  for (int h = 0; h < 2; ++h) {
    per_horizon.push_back(FitLogistic(data_, kRows - 100 * h, {{"C", 1.0}}, {"a", "b", "c"}));
    ASSERT_NE(per_horizon.back(), nullptr);
  }
  const std::vector<double> margin_5m = [&] {
    auto m =
        AsExplainable(per_horizon[0].get())->RawMargin(data_.Matrix({"a", "b", "c"}, 0, kRows));
    return m.ok() ? *m : std::vector<double>{};
  }();
  const std::vector<double> margin_15m = [&] {
    auto m =
        AsExplainable(per_horizon[1].get())->RawMargin(data_.Matrix({"a", "b", "c"}, 0, kRows));
    return m.ok() ? *m : std::vector<double>{};
  }();
  ASSERT_EQ(margin_5m.size(), static_cast<size_t>(kRows));
  auto model = MultiHorizonClassifier::FromModels({5 * kNanosPerMinute, 15 * kNanosPerMinute},
                                                  std::move(per_horizon));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto registry = ModelRegistry::Open(sandbox_.home() / "models");
  ASSERT_TRUE(registry.ok());
  Manifest manifest;
  manifest.name = "liq_mh";
  manifest.feature_set = {"default", "0000000000000000", {"a", "b", "c"}};
  ASSERT_TRUE(registry->Register(**model, manifest).ok());

  for (const auto& [flag, margins] :
       {std::pair{std::string(), &margin_5m}, std::pair{std::string("15m"), &margin_15m},
        std::pair{std::string("5m"), &margin_5m}}) {
    std::vector<std::string> args = {"--json",  "explain",  "--model", "liq_mh",
                                     "--input", "rows.csv", "--out",   "shap.csv"};
    if (!flag.empty()) args.insert(args.end(), {"--output", flag});
    CliRun run = sandbox_.Vigil(args);
    ASSERT_EQ(run.exit_code, 0) << run;
    EXPECT_EQ(ParseJson(run.out)["output"], flag.empty() ? "5m" : flag);
    const std::vector<std::string> lines = SplitLines(ReadBytes(sandbox_.dir() / "shap.csv"));
    ASSERT_EQ(lines.size(), kRows + 1u);
    for (int row = 0; row < kRows; ++row) {
      double sum = 0.0;
      for (const std::string& field : Split(lines[row + 1], ',')) sum += std::stod(field);
      EXPECT_NEAR(sum, (*margins)[row], 1e-9) << "--output '" << flag << "' row " << row;
    }
  }
  CliRun run = sandbox_.Vigil({"explain", "--model", "liq_mh", "--input", "rows.csv", "--out",
                               "shap.csv", "--output", "30m"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("liq_mh@1 has no output '30m' (outputs: 5m, 15m)"), std::string::npos)
      << run;
}

}  // namespace
}  // namespace vigil::cli_test
