// vigil classify run --input FILE.csv --label-column NAME (--test-fraction F | --split-time T)
//                    --model xgboost|random_forest|logistic [--params k=v,...] [--seed S]
//                    --out PRED.csv [--json]
//
// Trains a classifier on the chronologically first part of a labelled numeric CSV and
// predicts the rest, so the reported metrics are out-of-sample and never use the future.
// Input: a header; an optional `timestamp` column (ISO-8601 or epoch, non-decreasing); the
// label column (class indices 0..k-1; 0/1 for binary); every other column a numeric feature
// (an empty cell is a missing value, accepted by xgboost and random_forest only).
// PRED.csv: `timestamp` (or `row`, the 0-based data-row index), `label`, `probability`
// (P(class 1) for binary labels; the predicted class's probability for multiclass, followed
// by p0..p{k-1}). --json prints {"roc_auc", "pr_auc", "log_loss", "brier", "n_train",
// "n_test", "fit_seconds"}; multiclass runs report roc_auc, pr_auc and brier as null.
// Exit 0 on success, 2 on any failure (no output file is written then). docs/supervised.md.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <optional>

#include "cli.h"
#include "detect_io.h"
#include "vigil/models/metrics.h"

namespace vigil::cli {
namespace {

// A label column holding larger class indices is almost surely not a class label (a
// continuous target, an id); refusing it beats fitting thousands of classes.
constexpr int kMaxClasses = 1000;
// Kinds that handle missing feature values natively (XGBoost's default directions).
constexpr std::string_view kMissingValueKinds[] = {"xgboost", "random_forest"};
// Binary-only classification kinds: multiclass labels are refused before fitting.
constexpr std::string_view kBinaryKinds[] = {"logistic", "calibrated", "multi_horizon"};

struct ClassifyArgs {
  std::string input;
  std::string label_column;
  double test_fraction = 0.0;
  std::string split_time;
  DetectorArgs model;
  std::string out;
  bool json = false;
  CLI::Option* test_fraction_option = nullptr;
  CLI::Option* split_time_option = nullptr;
};

// The rows of a labelled CSV: features without the label column, and the labels.
struct LabeledRows {
  DetectInput input;
  std::vector<int> labels;
  int num_classes = 2;
};

// The rows split in time order: train = rows [0, train_rows), test = the rest.
struct ChronologicalSplit {
  FeatureMatrix train_x;
  std::vector<int> train_labels;
  FeatureMatrix test_x;
  std::vector<int> test_labels;
  int64_t train_rows = 0;
};

bool Contains(std::span<const std::string_view> list, std::string_view kind) {
  return std::find(list.begin(), list.end(), kind) != list.end();
}

Status LabelError(const DetectInput& input, int64_t row, const std::string& label,
                  const std::string& problem) {
  return ParseError(input.path + ":" + std::to_string(input.lines[row]) + ": field '" + label +
                    "': " + problem);
}

// The class index in a label cell, or the error naming the row.
Result<int> ClassIndex(const DetectInput& input, int64_t row, const std::string& label,
                       double value) {
  if (std::isnan(value)) return LabelError(input, row, label, "missing label");
  if (!(value >= 0.0 && value < kMaxClasses) || value != std::floor(value)) {
    return LabelError(input, row, label,
                      "a label must be a class index 0, 1, ... below " +
                          std::to_string(kMaxClasses) + ", got '" + NumberText(value) + "'");
  }
  return static_cast<int>(value);
}

// Moves the label column out of the feature matrix into class indices.
Status ExtractLabels(const std::string& label, LabeledRows& rows) {
  FeatureMatrix& x = rows.input.x;
  const auto found = std::find(x.columns.begin(), x.columns.end(), label);
  if (found == x.columns.end()) {
    return InvalidArgument(rows.input.path + ": no label column '" + label + "' in the header");
  }
  const size_t label_col = static_cast<size_t>(found - x.columns.begin());
  if (x.cols() == 1) {
    return InvalidArgument(rows.input.path + ": no feature column besides the label '" + label +
                           "'");
  }
  FeatureMatrix features;
  features.columns = x.columns;
  features.columns.erase(features.columns.begin() + static_cast<std::ptrdiff_t>(label_col));
  features.rows = x.rows;
  features.values.reserve(static_cast<size_t>(x.rows) * features.cols());
  int max_class = 1;
  for (int64_t row = 0; row < x.rows; ++row) {
    VIGIL_ASSIGN_OR_RETURN(int klass, ClassIndex(rows.input, row, label, x.at(row, label_col)));
    rows.labels.push_back(klass);
    max_class = std::max(max_class, klass);
    for (size_t col = 0; col < x.cols(); ++col) {
      if (col != label_col) features.values.push_back(x.at(row, col));
    }
  }
  rows.num_classes = max_class + 1;
  x = std::move(features);
  return Status::Ok();
}

Status CheckChronological(const DetectInput& input) {
  for (size_t row = 1; row < input.times.size(); ++row) {
    if (input.times[row] < input.times[row - 1]) {
      return InvalidArgument(input.path + ":" + std::to_string(input.lines[row]) + ": timestamp '" +
                             input.keys[row] + "' is earlier than the row " + "before it ('" +
                             input.keys[row - 1] +
                             "'); a chronological split needs rows in time order");
    }
  }
  return Status::Ok();
}

Result<LabeledRows> ReadLabeledCsv(const std::string& path, const std::string& label) {
  LabeledRows rows;
  // The label is read as a feature column first, so a non-numeric label is reported by the
  // shared reader as "FILE:LINE: field 'LABEL': not a number: '...'".
  VIGIL_ASSIGN_OR_RETURN(rows.input, ReadDetectCsv(path, ""));
  VIGIL_RETURN_IF_ERROR(ExtractLabels(label, rows));
  VIGIL_RETURN_IF_ERROR(CheckChronological(rows.input));
  return rows;
}

// Kinds without native missing-value handling need every feature value finite.
Status RequireCompleteRows(const DetectInput& input, std::string_view kind) {
  if (Contains(kMissingValueKinds, kind)) return Status::Ok();
  for (int64_t row = 0; row < input.x.rows; ++row) {
    for (size_t col = 0; col < input.x.cols(); ++col) {
      const double value = input.x.at(row, col);
      if (std::isfinite(value)) continue;
      return InvalidArgument(input.path + ":" + std::to_string(input.lines[row]) + ": field '" +
                             input.x.columns[col] +
                             "': " + (std::isnan(value) ? "missing value" : "infinite value") +
                             "; kind '" + std::string(kind) +
                             "' needs every feature value (xgboost and random_forest accept "
                             "missing values)");
    }
  }
  return Status::Ok();
}

Result<int64_t> TrainRowsBefore(const DetectInput& input, const std::string& split_time) {
  Result<Timestamp> split = Timestamp::Parse(split_time);
  if (!split.ok()) return split.status().WithContext("--split-time");
  if (!input.has_timestamp) {
    return InvalidArgument("--split-time needs a 'timestamp' column, and " + input.path +
                           " has none (use --test-fraction)");
  }
  return std::lower_bound(input.times.begin(), input.times.end(), *split) - input.times.begin();
}

Result<int64_t> TrainRowsForFraction(int64_t rows, double fraction) {
  if (!(fraction > 0.0 && fraction < 1.0)) {
    return InvalidArgument("--test-fraction must lie strictly between 0 and 1, got " +
                           NumberText(fraction));
  }
  // The tolerance keeps ceil(0.3 * 10) at 3 despite 0.3 * 10 == 3.0000000000000004.
  constexpr double kRoundingSlack = 1e-9;
  const auto test_rows = static_cast<int64_t>(std::ceil(fraction * rows - kRoundingSlack));
  return rows - test_rows;
}

Result<int64_t> TrainRows(const ClassifyArgs& args, const DetectInput& input) {
  const bool by_time = args.split_time_option->count() > 0;
  if (by_time == (args.test_fraction_option->count() > 0)) {
    return InvalidArgument("give exactly one of --test-fraction F or --split-time T");
  }
  VIGIL_ASSIGN_OR_RETURN(int64_t train_rows,
                         by_time ? TrainRowsBefore(input, args.split_time)
                                 : TrainRowsForFraction(input.x.rows, args.test_fraction));
  const std::string split = by_time ? "--split-time " + args.split_time
                                    : "--test-fraction " + NumberText(args.test_fraction);
  const std::string of_rows = " of the " + std::to_string(input.x.rows) + " rows of " + input.path;
  if (train_rows == 0) return InvalidArgument(split + " leaves no training rows" + of_rows);
  if (train_rows == input.x.rows) return InvalidArgument(split + " leaves no test rows" + of_rows);
  return train_rows;
}

FeatureMatrix SliceRows(const FeatureMatrix& x, int64_t begin, int64_t end) {
  FeatureMatrix slice;
  slice.columns = x.columns;
  slice.rows = end - begin;
  slice.values.assign(x.values.begin() + static_cast<std::ptrdiff_t>(begin * x.cols()),
                      x.values.begin() + static_cast<std::ptrdiff_t>(end * x.cols()));
  return slice;
}

ChronologicalSplit SplitAt(const LabeledRows& rows, int64_t train_rows) {
  ChronologicalSplit split;
  split.train_rows = train_rows;
  split.train_x = SliceRows(rows.input.x, 0, train_rows);
  split.test_x = SliceRows(rows.input.x, train_rows, rows.input.x.rows);
  split.train_labels.assign(rows.labels.begin(), rows.labels.begin() + train_rows);
  split.test_labels.assign(rows.labels.begin() + train_rows, rows.labels.end());
  return split;
}

// "a;b;c" values become lists (each item typed like a scalar value), and a single value
// for a key whose default is a list becomes a one-item list, so kinds can take list
// parameters such as categorical=venue;side or categorical=venue.
Status ExpandListValues(const nlohmann::json& defaults, nlohmann::json& params) {
  for (auto& [key, value] : params.items()) {
    const bool list_key = defaults.contains(key) && defaults[key].is_array();
    const bool list_text =
        value.is_string() && value.get<std::string>().find(';') != std::string::npos;
    if (!list_text) {
      if (list_key) value = nlohmann::json::array({value});
      continue;
    }
    const std::string text = value.get<std::string>();
    nlohmann::json list = nlohmann::json::array();
    size_t start = 0;
    while (start <= text.size()) {
      const size_t end = std::min(text.find(';', start), text.size());
      const std::string item = text.substr(start, end - start);
      if (item.empty()) return InvalidArgument("--params: '" + key + "' has an empty list item");
      VIGIL_ASSIGN_OR_RETURN(nlohmann::json parsed, ParseDetectorParams("item=" + item));
      list.push_back(parsed["item"]);
      start = end + 1;
    }
    value = std::move(list);
  }
  return Status::Ok();
}

std::string ClassificationKindList() {
  std::string list;
  for (const auto& [kind, task] : ModelKinds()) {
    if (task == Task::kClassification) list += (list.empty() ? "" : ", ") + kind;
  }
  return list;
}

// A new, unfitted classifier for labels with `num_classes` classes. --seed becomes the
// kind's `seed` key when it has one; a kind with a `num_classes` key is told the class
// count of the whole file, so a training part that lacks the highest class still predicts
// every class.
Result<std::unique_ptr<Model>> CreateClassifier(const DetectorArgs& args, int num_classes) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> defaults,
                         CreateModel(args.kind, nlohmann::json::object()));
  if (AsClassifier(defaults.get()) == nullptr) {
    return InvalidArgument("--model: '" + args.kind + "' is not a classifier (its task: " +
                           std::string(TaskName(defaults->task())) +
                           "; classification kinds: " + ClassificationKindList() + ")");
  }
  const nlohmann::json config = defaults->config();
  VIGIL_ASSIGN_OR_RETURN(nlohmann::json params, ParseDetectorParams(args.params));
  VIGIL_RETURN_IF_ERROR(ExpandListValues(config, params));
  if (args.seed_given && config.contains("seed")) {
    VIGIL_RETURN_IF_ERROR(SetSeedParam(args.seed, &params));
  } else if (args.seed_given) {
    std::cerr << "vigil: note: kind '" << args.kind << "' has no seed; --seed ignored\n";
  }
  if (num_classes > 2 && config.contains("num_classes") && !params.contains("num_classes")) {
    params["num_classes"] = num_classes;
  }
  return CreateModel(args.kind, params);
}

Status CheckClassCount(std::string_view kind, int num_classes, const ClassifyArgs& args) {
  if (num_classes <= 2 || !Contains(kBinaryKinds, kind)) return Status::Ok();
  return InvalidArgument("kind '" + std::string(kind) + "' is binary, but label '" +
                         args.label_column + "' of " + args.input + " has " +
                         std::to_string(num_classes) + " classes (0.." +
                         std::to_string(num_classes - 1) + "); use xgboost or random_forest");
}

// One metric for the JSON: null (with a warning) when undefined, e.g. a single class.
std::vector<double> ClassColumn(const ProbabilityMatrix& proba, int klass) {
  std::vector<double> column(static_cast<size_t>(proba.rows()));
  for (int64_t row = 0; row < proba.rows(); ++row) column[row] = proba.at(row, klass);
  return column;
}

nlohmann::ordered_json TestMetrics(const ChronologicalSplit& split, const ProbabilityMatrix& proba,
                                   double fit_seconds) {
  const std::vector<int>& y = split.test_labels;
  nlohmann::ordered_json metrics;
  if (proba.num_classes == 2) {
    const std::vector<double> p = ClassColumn(proba, 1);
    metrics["roc_auc"] = MetricOrNull(RocAuc(y, p), "roc_auc");
    metrics["pr_auc"] = MetricOrNull(AveragePrecision(y, p), "pr_auc");
    metrics["log_loss"] = MetricOrNull(LogLoss(y, p), "log_loss");
    metrics["brier"] = MetricOrNull(BrierScore(y, p), "brier");
  } else {
    // Ranking and Brier metrics are binary; multiclass runs report only the log loss.
    metrics["roc_auc"] = nullptr;
    metrics["pr_auc"] = nullptr;
    metrics["log_loss"] =
        MetricOrNull(MulticlassLogLoss(y, proba.values, proba.num_classes), "log_loss");
    metrics["brier"] = nullptr;
  }
  metrics["n_train"] = split.train_rows;
  metrics["n_test"] = split.test_x.rows;
  metrics["fit_seconds"] = fit_seconds;
  return metrics;
}

int PredictedClass(const ProbabilityMatrix& proba, int64_t row) {
  int best = 0;
  for (int klass = 1; klass < proba.num_classes; ++klass) {
    if (proba.at(row, klass) > proba.at(row, best)) best = klass;
  }
  return best;
}

std::string PredictionsCsv(const DetectInput& input, const ChronologicalSplit& split,
                           const ProbabilityMatrix& proba) {
  const bool multiclass = proba.num_classes > 2;
  std::string csv =
      std::string(input.has_timestamp ? kTimestampColumn : kRowColumn) + ",label,probability";
  for (int klass = 0; multiclass && klass < proba.num_classes; ++klass) {
    csv += ",p" + std::to_string(klass);
  }
  csv += '\n';
  for (int64_t row = 0; row < proba.rows(); ++row) {
    const std::string& key = input.keys[static_cast<size_t>(split.train_rows + row)];
    csv += QuotedCsvField(key);
    csv += "," + std::to_string(split.test_labels[row]) + ",";
    csv += NumberText(proba.at(row, multiclass ? PredictedClass(proba, row) : 1));
    for (int klass = 0; multiclass && klass < proba.num_classes; ++klass) {
      csv += "," + NumberText(proba.at(row, klass));
    }
    csv += '\n';
  }
  return csv;
}

// Four significant digits for people; --json carries the full values.
std::string MetricText(const nlohmann::ordered_json& value) {
  if (!value.is_number()) return "n/a";
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value.get<double>());
  return text;
}

void PrintSummary(const ClassifyArgs& args, const nlohmann::ordered_json& metrics) {
  std::cout << "trained " << args.model.kind << " on " << metrics["n_train"].dump()
            << " rows, predicted " << metrics["n_test"].dump() << " -> " << args.out << "\n"
            << "roc_auc " << MetricText(metrics["roc_auc"]) << "  pr_auc "
            << MetricText(metrics["pr_auc"]) << "  log_loss " << MetricText(metrics["log_loss"])
            << "  brier " << MetricText(metrics["brier"]) << "  fit "
            << MetricText(metrics["fit_seconds"]) << " s\n";
}

Result<ChronologicalSplit> PrepareSplit(const ClassifyArgs& args, const LabeledRows& rows) {
  VIGIL_RETURN_IF_ERROR(RequireCompleteRows(rows.input, args.model.kind));
  VIGIL_ASSIGN_OR_RETURN(int64_t train_rows, TrainRows(args, rows.input));
  return SplitAt(rows, train_rows);
}

int RunClassify(const GlobalOptions& globals, const ClassifyArgs& args) {
  auto rows = ReadLabeledCsv(args.input, args.label_column);
  if (!rows.ok()) return Fail(rows.status());
  if (Status classes = CheckClassCount(args.model.kind, rows->num_classes, args); !classes.ok()) {
    return Fail(classes);
  }
  auto model = CreateClassifier(args.model, rows->num_classes);
  if (!model.ok()) return Fail(model.status());
  auto split = PrepareSplit(args, *rows);
  if (!split.ok()) return Fail(split.status());
  Classifier* classifier = AsClassifier(model->get());
  const auto fit_start = std::chrono::steady_clock::now();
  const Status fitted = classifier->Fit(split->train_x, split->train_labels);
  const double fit_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
  if (!fitted.ok()) return Fail(fitted.WithContext("fitting on " + args.input));
  auto proba = classifier->PredictProba(split->test_x);
  if (!proba.ok()) return Fail(proba.status().WithContext("predicting " + args.input));
  const Status written = WriteTextOutput(args.out, PredictionsCsv(rows->input, *split, *proba));
  if (!written.ok()) return Fail(written);
  const nlohmann::ordered_json metrics = TestMetrics(*split, *proba, fit_seconds);
  if (globals.json || args.json) {
    PrintJson(metrics);
  } else if (args.out != "-") {
    PrintSummary(args, metrics);
  }
  return 0;
}

void AddRunCommand(CLI::App* classify, const GlobalOptions& globals, int* exit_code) {
  auto args = std::make_shared<ClassifyArgs>();
  CLI::App* run = classify->add_subcommand(
      "run", "Train on the chronologically first rows of a labelled CSV and predict the rest");
  run->add_option("--input", args->input,
                  "Numeric CSV: optional `timestamp`, the label column, feature columns")
      ->required();
  run->add_option("--label-column", args->label_column, "Class index column (0/1, or 0..k-1)")
      ->required();
  args->test_fraction_option = run->add_option("--test-fraction", args->test_fraction,
                                               "Predict the last ceil(F * rows) rows, 0 < F < 1");
  args->split_time_option = run->add_option("--split-time", args->split_time,
                                            "Train on rows before T, predict rows at or after T");
  AddDetectorOptions(run, args->model, "Classifier kind: xgboost, random_forest or logistic");
  run->get_option("--params")
      ->description("Model config as k=v,k=v (numbers, true/false, a;b lists, else text)");
  run->add_option("--out", args->out, "PRED.csv to write (- for stdout)")->required();
  // Also accepted after the subcommand, as the command's contract writes it.
  run->add_flag("--json", args->json, "Print the test metrics as JSON");
  run->callback([&globals, args, exit_code] { *exit_code = RunClassify(globals, *args); });
}

}  // namespace

void AddClassifyCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  CLI::App* classify =
      app.add_subcommand("classify", "Supervised classification on a labelled CSV");
  classify->require_subcommand(1);
  AddRunCommand(classify, globals, exit_code);
}

}  // namespace vigil::cli
