// vigil detect run   --input FILE.csv --model KIND [--params k=v,...] [--seed S]
//                    [--label-column NAME] --out SCORES.csv
// vigil detect fit   ...                                         (detect_fit.cc)
// vigil detect score --model NAME[@V|@alias] --input FILE --out SCORES.csv
// vigil detect scan  --model NAME[@V|@alias] [--set S]          (detect_scan.cc)
//
// `run` fits a detector on every row of a numeric CSV and scores the same rows in-sample
// (AnomalyDetector::FitScore); `fit` registers a fitted detector in the registry; `score`
// scores new rows with a registered one (novelty mode). SCORES.csv and the input format are
// described in detect_io.h and docs/anomaly.md. Exit 0 on success, 2 on any failure (no
// output file is written then).
#include <chrono>
#include <iostream>

#include "cli.h"
#include "detect_io.h"
#include "vigil/models/metrics.h"

namespace vigil::cli {
namespace {

struct RunArgs {
  std::string input;
  DetectorArgs detector;
  std::string label_column;
  std::string out;
};

struct ScoreArgs {
  std::string model;
  std::string input;
  std::string out;
};

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void PrintRunSummary(const GlobalOptions& globals, const RunArgs& args, const AnomalyScores& scores,
                     double fit_seconds) {
  const int64_t flagged = CountFlagged(scores);
  if (globals.json) {
    PrintJson({{"n", scores.raw.size()},
               {"flagged", flagged},
               {"fit_seconds", fit_seconds},
               {"out", args.out}});
  } else {
    std::cout << "scored " << scores.raw.size() << " rows with " << args.detector.kind << ": "
              << flagged << " flagged -> " << args.out << "\n";
  }
}

void PrintLabelMetrics(const GlobalOptions& globals, const DetectInput& input,
                       const AnomalyScores& scores, double fit_seconds, double score_seconds) {
  const nlohmann::ordered_json roc = MetricOrNull(RocAuc(input.labels, scores.raw), "roc_auc");
  const nlohmann::ordered_json pr =
      MetricOrNull(AveragePrecision(input.labels, scores.raw), "pr_auc");
  const nlohmann::ordered_json metrics = {{"roc_auc", roc},
                                          {"pr_auc", pr},
                                          {"n", input.x.rows},
                                          {"fit_seconds", fit_seconds},
                                          {"score_seconds", score_seconds}};
  if (globals.json) {
    PrintJson(metrics);
    return;
  }
  std::cout << "roc_auc " << roc.dump() << "  pr_auc " << pr.dump() << "  n " << input.x.rows
            << "  flagged " << CountFlagged(scores) << "  fit " << fit_seconds << " s  score "
            << score_seconds << " s\n";
}

int RunDetect(const GlobalOptions& globals, const RunArgs& args) {
  auto input = ReadDetectCsv(args.input, args.label_column);
  if (!input.ok()) return Fail(input.status());
  auto model = CreateDetector(args.detector);
  if (!model.ok()) return Fail(model.status());
  if (Status prepared = PrepareRowsFor(args.detector.kind, *input); !prepared.ok()) {
    return Fail(prepared);
  }
  AnomalyDetector* detector = AsAnomalyDetector(model->get());
  const auto fit_start = std::chrono::steady_clock::now();
  auto scores = detector->FitScore(input->x);
  const double fit_seconds = SecondsSince(fit_start);
  if (!scores.ok()) return Fail(scores.status().WithContext(args.input));
  // score_seconds times a novelty pass over the same rows: what scoring new rows costs.
  double score_seconds = 0.0;
  if (input->label) {
    const auto score_start = std::chrono::steady_clock::now();
    const Status scored = detector->Score(input->x).status();
    score_seconds = SecondsSince(score_start);
    if (!scored.ok()) return Fail(scored.WithContext(args.input));
  }
  const Status written = WriteTextOutput(
      args.out, ScoresCsv(input->keys, input->has_timestamp, *scores, input->x.columns));
  if (!written.ok()) return Fail(written);
  if (args.out == "-") return 0;
  if (input->label) {
    PrintLabelMetrics(globals, *input, *scores, fit_seconds, score_seconds);
  } else {
    PrintRunSummary(globals, args, *scores, fit_seconds);
  }
  return 0;
}

// --- score ---

int RunScore(const GlobalOptions& globals, const ScoreArgs& args) {
  auto registry = OpenHomeRegistry(globals);
  if (!registry.ok()) return Fail(registry.status());
  auto loaded = LoadStoredDetector(*registry, args.model);
  if (!loaded.ok()) return Fail(loaded.status());
  auto input = ReadDetectCsv(args.input, "");
  if (!input.ok()) return Fail(input.status());
  const AnomalyDetector* detector = AsAnomalyDetector(loaded->model.get());
  auto x = SelectColumns(input->x, detector->feature_names(), args.input);
  if (!x.ok()) return Fail(x.status());
  input->x = std::move(*x);
  if (Status prepared = PrepareRowsFor(detector->kind(), *input); !prepared.ok()) {
    return Fail(prepared);
  }
  auto scores = detector->Score(input->x);
  if (!scores.ok()) return Fail(scores.status().WithContext(args.input));
  const Status written = WriteTextOutput(
      args.out, ScoresCsv(input->keys, input->has_timestamp, *scores, input->x.columns));
  if (!written.ok()) return Fail(written);
  if (args.out == "-") return 0;
  const std::string model = loaded->manifest.name + "@" + std::to_string(loaded->manifest.version);
  if (globals.json) {
    PrintJson({{"model", model},
               {"n", scores->raw.size()},
               {"flagged", CountFlagged(*scores)},
               {"out", args.out}});
  } else {
    std::cout << "scored " << scores->raw.size() << " rows with " << model << ": "
              << CountFlagged(*scores) << " flagged -> " << args.out << "\n";
  }
  return 0;
}

void AddRunCommand(CLI::App* detect, const GlobalOptions& globals, int* exit_code) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* run = detect->add_subcommand(
      "run", "Fit a detector on every row of a numeric CSV and score the same rows");
  run->add_option("--input", args->input, "Numeric CSV (optional `timestamp` column)")->required();
  AddDetectorOptions(run, args->detector, "Detector kind (see docs/anomaly.md)");
  run->add_option("--label-column", args->label_column,
                  "0/1 column left out of the features; prints ROC-AUC and PR-AUC");
  run->add_option("--out", args->out, "SCORES.csv to write (- for stdout)")->required();
  run->callback([&globals, args, exit_code] { *exit_code = RunDetect(globals, *args); });
}

void AddScoreCommand(CLI::App* detect, const GlobalOptions& globals, int* exit_code) {
  auto args = std::make_shared<ScoreArgs>();
  CLI::App* score =
      detect->add_subcommand("score", "Score the rows of a CSV with a registered detector");
  score->add_option("--model", args->model, "NAME, NAME@VERSION or NAME@ALIAS")->required();
  score->add_option("--input", args->input, "Numeric CSV with the model's feature columns")
      ->required();
  score->add_option("--out", args->out, "SCORES.csv to write (- for stdout)")->required();
  score->callback([&globals, args, exit_code] { *exit_code = RunScore(globals, *args); });
}

}  // namespace

Result<LoadedModel> LoadStoredDetector(const ModelRegistry& registry,
                                       const std::string& reference) {
  VIGIL_ASSIGN_OR_RETURN(LoadedModel loaded, registry.Load(reference));
  if (AsAnomalyDetector(loaded.model.get()) == nullptr) {
    return InvalidArgument(
        "--model: " + loaded.manifest.name + "@" + std::to_string(loaded.manifest.version) +
        " is a " + std::string(TaskName(loaded.manifest.task)) + " model, not an anomaly detector");
  }
  return loaded;
}

void AddDetectCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  CLI::App* detect =
      app.add_subcommand("detect", "Anomaly detection: run, fit, score and scan markets");
  detect->require_subcommand(1);
  AddRunCommand(detect, globals, exit_code);
  AddDetectFitCommand(detect, globals, exit_code);
  AddScoreCommand(detect, globals, exit_code);
  AddDetectScanCommand(detect, globals, exit_code);
}

}  // namespace vigil::cli
