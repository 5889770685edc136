// vigil detect fit (--input FILE [--set S] | --instrument I --set S [--timeframe TF])
//                  --model KIND|auto [--params k=v,...] [--seed S] [--label-column NAME]
//                  --name NAME
//
// Fits a detector on a numeric CSV or on a feature set computed from the store, registers
// it as the next version of NAME (manifest: kind, config, feature names, data, in-sample
// metrics) and prints the version. --model auto chooses the kind with SelectDetector
// (vigil/models/anomaly/selection.h). Exit 0 on success, 2 on any failure.
#include <algorithm>
#include <cmath>
#include <iostream>

#include "cli.h"
#include "detect_io.h"
#include "vigil/core/clock.h"
#include "vigil/features/feature_store.h"
#include "vigil/features/spec.h"
#include "vigil/models/anomaly/selection.h"
#include "vigil/models/metrics.h"

namespace vigil::cli {
namespace {
// `--model auto` for fit: the kind chosen by SelectDetector.
constexpr std::string_view kAutoKind = "auto";
// The most recent fraction of labelled rows --model auto ranks the candidates on.
constexpr double kAutoHoldout = 0.3;

struct FitArgs {
  std::string input;
  std::string instrument;
  std::string set;
  std::string timeframe;
  DetectorArgs detector;
  std::string label_column;
  std::string name;
};

// The rows a detector is fitted on and what the manifest records about them.
struct TrainingRows {
  DetectInput input;
  std::string set_name;  // "" when fitted on a file without --set
  std::string spec_hash;
  std::vector<std::string> instruments;
  int64_t dropped_undefined = 0;  // --instrument rows with an undefined feature (warm-up)
};

Result<TrainingRows> RowsFromFile(const FitArgs& args) {
  TrainingRows rows;
  VIGIL_ASSIGN_OR_RETURN(rows.input, ReadDetectCsv(args.input, args.label_column));
  if (args.set.empty()) return rows;
  VIGIL_ASSIGN_OR_RETURN(FeatureSetSpec spec, BuiltinFeatureSet(args.set));
  VIGIL_ASSIGN_OR_RETURN(rows.input.x, SelectColumns(rows.input.x, spec.Columns(), args.input));
  rows.set_name = spec.name;
  rows.spec_hash = spec.SpecHashHex();
  return rows;
}

// Keeps the table's rows whose features are all finite (indicators are undefined while
// they warm up).
DetectInput DefinedRows(const Frame& table, const FeatureMatrix& all, int64_t* dropped) {
  DetectInput input;
  input.has_timestamp = true;
  input.x.columns = all.columns;
  for (int64_t row = 0; row < all.rows; ++row) {
    const std::span<const double> values = all.row(row);
    if (!std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); })) {
      ++*dropped;
      continue;
    }
    input.x.values.insert(input.x.values.end(), values.begin(), values.end());
    ++input.x.rows;
    input.times.push_back(table.time(row));
    input.keys.push_back(table.time(row).ToIso());
  }
  return input;
}

Result<TrainingRows> RowsFromStore(const GlobalOptions& globals, const FitArgs& args) {
  if (args.set.empty()) return InvalidArgument("--instrument needs --set (the feature set)");
  if (!args.label_column.empty()) {
    return InvalidArgument(
        "--label-column reads a column of --input; it does not apply to "
        "--instrument");
  }
  VIGIL_ASSIGN_OR_RETURN(FeatureSetSpec spec, BuiltinFeatureSet(args.set));
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenHomeStore(globals));
  VIGIL_ASSIGN_OR_RETURN(StoredFeatures stored,
                         ComputeStoredFeatures(*store, args.instrument, spec, args.timeframe,
                                               Timestamp::Min(), Timestamp::Max()));
  VIGIL_ASSIGN_OR_RETURN(FeatureMatrix all, FeatureMatrix::FromFrame(stored.table, spec.Columns()));
  TrainingRows rows;
  rows.input = DefinedRows(stored.table, all, &rows.dropped_undefined);
  rows.input.path = args.instrument;
  if (rows.input.x.rows < 2) {
    return FailedPrecondition(args.instrument + ": " + std::to_string(rows.input.x.rows) +
                              " row(s) of feature set '" + spec.name +
                              "' with every feature "
                              "defined (of " +
                              std::to_string(all.rows) + "); a detector needs at least 2");
  }
  rows.set_name = spec.name;
  rows.spec_hash = spec.SpecHashHex();
  rows.instruments = {args.instrument};
  return rows;
}

nlohmann::json FitMetrics(const AnomalyScores& scores, const DetectInput& input) {
  double score_sum = 0.0;
  for (double s : scores.score) score_sum += s;
  const double n = static_cast<double>(scores.raw.size());
  nlohmann::json metrics = {{"flag_rate", static_cast<double>(CountFlagged(scores)) / n},
                            {"mean_score", score_sum / n}};
  if (input.label) {
    // In-sample: the detector never saw the labels, but it did see these rows.
    if (Result<double> roc = RocAuc(input.labels, scores.raw); roc.ok()) metrics["roc_auc"] = *roc;
    if (Result<double> pr = AveragePrecision(input.labels, scores.raw); pr.ok()) {
      metrics["pr_auc"] = *pr;
    }
  }
  return metrics;
}

Manifest BuildManifest(const FitArgs& args, const TrainingRows& rows, const Model& model,
                       const AnomalyScores& scores) {
  const DetectInput& input = rows.input;
  Manifest manifest;
  manifest.name = args.name;
  manifest.kind = std::string(model.kind());
  manifest.task = Task::kAnomaly;
  manifest.created_at = SystemClock().Now();
  manifest.feature_set = {rows.set_name, rows.spec_hash, input.x.columns};
  manifest.training_data.instruments = rows.instruments;
  if (!input.times.empty()) {
    const auto [first, last] = std::minmax_element(input.times.begin(), input.times.end());
    manifest.training_data.from = *first;
    manifest.training_data.to = *last;
  }
  manifest.training_data.rows = input.x.rows;
  manifest.training_data.fingerprint = MatrixFingerprint(input.x, input.keys);
  manifest.parameters = model.config();
  const auto seed = manifest.parameters.find("seed");
  if (seed != manifest.parameters.end() && seed->is_number_integer() && seed->get<int64_t>() >= 0) {
    manifest.seed = seed->get<uint64_t>();
  }
  manifest.metrics = FitMetrics(scores, input);
  return manifest;
}

// Brings the store's model_versions rows in line with the files; the files are the source
// of truth, so a failure is only a warning (fixed by `vigil models sync`).
void MirrorBestEffort(const GlobalOptions& globals, const ModelRegistry& registry,
                      const std::string& name) {
  auto store = OpenHomeStore(globals);
  const Status status = store.ok() ? registry.MirrorModel(**store, name) : store.status();
  if (!status.ok()) {
    std::cerr << "vigil: warning: model_versions not updated (" << status.ToString()
              << "); run `vigil models sync`\n";
  }
}

// The fitted detector, its in-sample scores and, for --model auto, how it was chosen.
struct FittedDetector {
  std::unique_ptr<Model> model;
  AnomalyScores scores;
  std::optional<SelectionResult> selection;
};

// Rows [begin, end) of `x`.
FeatureMatrix RowRange(const FeatureMatrix& x, int64_t begin, int64_t end) {
  FeatureMatrix out;
  out.columns = x.columns;
  out.rows = end - begin;
  out.values.assign(x.values.begin() + begin * static_cast<int64_t>(x.cols()),
                    x.values.begin() + end * static_cast<int64_t>(x.cols()));
  return out;
}

// --model auto (selection.h): with labels, the candidates are fitted on the first rows and
// ranked by PR-AUC on the last kAutoHoldout of them (time order: the holdout is the most
// recent data); without labels, an ensemble of the candidates. The chosen configuration is
// then fitted on every row.
Result<FittedDetector> FitAutoDetector(const DetectorArgs& args, const DetectInput& input) {
  if (!args.params.empty()) {
    return InvalidArgument(
        "--params does not apply to --model auto (each candidate takes its "
        "defaults)");
  }
  SelectionOptions options;
  if (args.seed_given) options.seed = args.seed;
  FittedDetector fitted;
  if (input.label) {
    const int64_t holdout = static_cast<int64_t>(std::ceil(input.x.rows * kAutoHoldout));
    const int64_t train_rows = input.x.rows - holdout;
    if (train_rows < 2 || holdout < 2) {
      return InvalidArgument(input.path + ": too few rows to hold out a validation part");
    }
    const FeatureMatrix train = RowRange(input.x, 0, train_rows);
    const FeatureMatrix validation = RowRange(input.x, train_rows, input.x.rows);
    const std::span<const int> labels = std::span<const int>(input.labels).subspan(train_rows);
    VIGIL_ASSIGN_OR_RETURN(fitted.selection, SelectDetector(train, {&validation, labels}, options));
  } else {
    VIGIL_ASSIGN_OR_RETURN(fitted.selection, SelectDetector(input.x, {}, options));
  }
  VIGIL_ASSIGN_OR_RETURN(fitted.model,
                         CreateModel(fitted.selection->kind, fitted.selection->config));
  VIGIL_ASSIGN_OR_RETURN(fitted.scores, AsAnomalyDetector(fitted.model.get())->FitScore(input.x));
  return fitted;
}

Result<FittedDetector> FitDetector(std::unique_ptr<Model> model, const DetectInput& input) {
  FittedDetector fitted;
  VIGIL_ASSIGN_OR_RETURN(fitted.scores, AsAnomalyDetector(model.get())->FitScore(input.x));
  fitted.model = std::move(model);
  return fitted;
}

Result<std::pair<Manifest, std::optional<SelectionResult>>> FitAndRegister(
    const GlobalOptions& globals, const FitArgs& args) {
  VIGIL_RETURN_IF_ERROR(ValidateModelName(args.name).WithContext("--name"));
  if (args.input.empty() == args.instrument.empty()) {
    return InvalidArgument("give exactly one of --input FILE or --instrument venue:symbol");
  }
  const bool automatic = args.detector.kind == kAutoKind;
  std::unique_ptr<Model> model;
  if (!automatic) {
    VIGIL_ASSIGN_OR_RETURN(model, CreateDetector(args.detector));
  }
  VIGIL_ASSIGN_OR_RETURN(TrainingRows rows,
                         args.input.empty() ? RowsFromStore(globals, args) : RowsFromFile(args));
  if (!args.input.empty()) VIGIL_RETURN_IF_ERROR(PrepareRowsFor(args.detector.kind, rows.input));
  if (rows.dropped_undefined > 0) {
    std::cerr << "vigil: " << rows.dropped_undefined
              << " row(s) with an undefined feature (indicator warm-up) left out\n";
  }
  Result<FittedDetector> fitted = automatic ? FitAutoDetector(args.detector, rows.input)
                                            : FitDetector(std::move(model), rows.input);
  if (!fitted.ok()) return fitted.status().WithContext(rows.input.path);
  Manifest manifest = BuildManifest(args, rows, *fitted->model, fitted->scores);
  VIGIL_ASSIGN_OR_RETURN(ModelRegistry registry, OpenHomeRegistry(globals));
  if (Result<int64_t> latest = registry.Resolve(args.name + "@latest"); latest.ok()) {
    manifest.parent_version = *latest;
  }
  VIGIL_ASSIGN_OR_RETURN(Manifest stored, registry.Register(*fitted->model, std::move(manifest)));
  MirrorBestEffort(globals, registry, args.name);
  return std::make_pair(std::move(stored), std::move(fitted->selection));
}

void PrintSelection(const SelectionResult& selection) {
  std::cout << "--model auto (" << SelectionMethodName(selection.method) << "): chose "
            << selection.kind << "\n";
  for (const CandidateOutcome& candidate : selection.candidates) {
    std::cout << "  " << candidate.kind << ": "
              << (!candidate.ok()    ? "failed: " + candidate.error
                  : candidate.metric ? std::to_string(*candidate.metric)
                                     : std::string("fitted"))
              << "\n";
  }
}

int RunFit(const GlobalOptions& globals, const FitArgs& args) {
  auto result = FitAndRegister(globals, args);
  if (!result.ok()) return Fail(result.status());
  const Manifest* stored = &result->first;
  const std::optional<SelectionResult>& selection = result->second;
  if (globals.json) {
    nlohmann::ordered_json out = {{"name", stored->name},
                                  {"version", stored->version},
                                  {"kind", stored->kind},
                                  {"rows", stored->training_data.rows},
                                  {"features", stored->feature_set.features.size()},
                                  {"metrics", stored->metrics}};
    if (selection) out["selection"] = selection->ToJson();
    PrintJson(out);
  } else {
    if (selection) PrintSelection(*selection);
    std::cout << "registered " << stored->name << " v" << stored->version << " (" << stored->kind
              << ") on " << stored->training_data.rows << " rows x "
              << stored->feature_set.features.size() << " features; flag rate "
              << stored->metrics.value("flag_rate", 0.0) << "\n";
  }
  return 0;
}

}  // namespace

void AddDetectFitCommand(CLI::App* detect, const GlobalOptions& globals, int* exit_code) {
  auto args = std::make_shared<FitArgs>();
  CLI::App* fit = detect->add_subcommand("fit", "Fit a detector and register it as a new version");
  auto* input = fit->add_option("--input", args->input, "Numeric CSV to fit on");
  auto* instrument =
      fit->add_option("--instrument", args->instrument, "Stored instrument venue:symbol");
  input->excludes(instrument);
  fit->add_option("--set", args->set,
                  "Built-in feature set (with --instrument: computed from the store; with "
                  "--input: the file's columns, recorded in the manifest)");
  fit->add_option("--timeframe", args->timeframe,
                  "Candle timeframe for --instrument (default: the smallest stored)");
  AddDetectorOptions(fit, args->detector,
                     "Detector kind, or auto: chosen by PR-AUC on the last 30% of labelled "
                     "rows (--label-column), else an ensemble (see docs/anomaly.md)");
  fit->add_option("--label-column", args->label_column,
                  "0/1 column of --input left out of the features (in-sample metrics)");
  fit->add_option("--name", args->name, "Model name in the registry")->required();
  fit->callback([&globals, args, exit_code] { *exit_code = RunFit(globals, *args); });
}

}  // namespace vigil::cli
