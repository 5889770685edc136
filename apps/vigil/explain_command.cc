// vigil explain --model NAME[@V|@alias] --input FILE.csv --out SHAP.csv
//               [--output K] [--with-margin] [--json]
//
// Per-prediction SHAP values of a registered model: SHAP.csv has one column per model
// feature (in the model's order) plus `bias`, one line per input row, and each line sums to
// the model's raw margin (log-odds for binary classifiers) for that row. The model must be
// explainable (vigil::ExplainableModel: xgboost and random_forest by TreeSHAP, logistic by
// exact linear SHAP, calibrated and multi_horizon through their bases). The input CSV needs
// the model's feature columns by name; other columns (a timestamp, a label) are ignored.
// Models with several outputs take --output: a class index for multiclass models (default
// 1 for two outputs, required otherwise), a horizon such as 15m for multi_horizon (default
// its primary horizon). --with-margin appends a `margin` column. --json prints {"model",
// "kind", "output", "rows", "max_additivity_error", "out"}. Exit 0 on success, 2 on any
// failure (no output file is written then). docs/supervised.md.
#include <algorithm>
#include <cmath>
#include <iostream>

#include "cli.h"
#include "detect_io.h"

namespace vigil::cli {
namespace {

constexpr std::string_view kBiasColumn = "bias";
constexpr std::string_view kMarginColumn = "margin";
// Read through its configuration (include/vigil/models/multi_horizon.h), so this command
// needs no link-time tie to the kind.
constexpr std::string_view kMultiHorizonKind = "multi_horizon";

struct ExplainArgs {
  std::string model;
  std::string input;
  std::string out;
  std::string output;
  bool with_margin = false;
  bool json = false;
};

// The output of a multi-output model that SHAP.csv explains.
struct ChosenOutput {
  int index = 0;
  std::string name;  // empty for single-output models
};

std::string ModelReference(const Manifest& manifest) {
  return manifest.name + "@" + std::to_string(manifest.version);
}

Result<const ExplainableModel*> ExplainableSide(const LoadedModel& loaded) {
  const ExplainableModel* explainable = AsExplainable(loaded.model.get());
  if (explainable != nullptr) return explainable;
  return InvalidArgument("--model: " + ModelReference(loaded.manifest) + " is of kind '" +
                         loaded.manifest.kind +
                         "', which cannot explain its predictions (explainable kinds: xgboost, "
                         "random_forest, logistic, and calibrated or multi_horizon over them)");
}

std::string ChoiceList(const std::vector<std::string>& names) {
  std::string list;
  for (const std::string& name : names) list += (list.empty() ? "" : ", ") + name;
  return list;
}

Result<ChosenOutput> PickByName(const std::vector<std::string>& names, const std::string& wanted,
                                const std::string& model) {
  const auto found = std::find(names.begin(), names.end(), wanted);
  if (found == names.end()) {
    return InvalidArgument("--output: " + model + " has no output '" + wanted +
                           "' (outputs: " + ChoiceList(names) + ")");
  }
  return ChosenOutput{static_cast<int>(found - names.begin()), wanted};
}

// multi_horizon: outputs named by horizon ("15m"), in the order of its config's "horizons";
// the default is its "primary" horizon (the first when unset).
Result<ChosenOutput> PickHorizon(const Model& model, const std::string& wanted,
                                 const std::string& reference) {
  const nlohmann::json config = model.config();
  std::vector<std::string> names;
  for (const nlohmann::json& horizon : config.value("horizons", nlohmann::json::array())) {
    if (!horizon.is_string()) return Internal(reference + ": horizons are not durations");
    VIGIL_ASSIGN_OR_RETURN(int64_t duration, ParseDuration(horizon.get<std::string>()));
    names.push_back(FormatDuration(duration));
  }
  if (names.empty()) return Internal(reference + ": no horizons in the configuration");
  std::string name = wanted;
  if (name.empty() && config.contains("primary") && config["primary"].is_string()) {
    name = config["primary"].get<std::string>();
  }
  if (name.empty()) return ChosenOutput{0, names.front()};
  // "60m" and "1h" name the same horizon.
  if (Result<int64_t> duration = ParseDuration(name); duration.ok()) {
    name = FormatDuration(*duration);
  }
  return PickByName(names, name, reference);
}

// Multiclass: outputs named by class index; class 1 by default when there are two.
Result<ChosenOutput> PickClass(int outputs, const std::string& wanted,
                               const std::string& reference) {
  std::vector<std::string> names;
  for (int klass = 0; klass < outputs; ++klass) names.push_back(std::to_string(klass));
  if (!wanted.empty()) return PickByName(names, wanted, reference);
  if (outputs == 2) return ChosenOutput{1, "1"};
  return InvalidArgument(reference + " has " + std::to_string(outputs) +
                         " outputs (one per class): choose one with --output " + ChoiceList(names));
}

Result<ChosenOutput> PickOutput(const LoadedModel& loaded, int outputs, const std::string& wanted) {
  const std::string reference = ModelReference(loaded.manifest);
  if (outputs == 1) {
    if (wanted.empty()) return ChosenOutput{};
    return InvalidArgument("--output: " + reference + " has a single output");
  }
  if (loaded.model->kind() == kMultiHorizonKind) {
    return PickHorizon(*loaded.model, wanted, reference);
  }
  return PickClass(outputs, wanted, reference);
}

Status CheckColumnNames(const std::vector<std::string>& features, bool with_margin) {
  for (const std::string& feature : features) {
    if (feature == kBiasColumn || (with_margin && feature == kMarginColumn)) {
      return InvalidArgument("the model's feature '" + feature +
                             "' clashes with SHAP.csv's own column of that name");
    }
  }
  return Status::Ok();
}

// A failed explanation names the first non-finite input value, the usual cause for kinds
// that need complete rows.
Status WithFirstNonFinite(const Status& status, const DetectInput& input, const FeatureMatrix& x) {
  for (int64_t row = 0; row < x.rows; ++row) {
    for (size_t col = 0; col < x.cols(); ++col) {
      if (std::isfinite(x.at(row, col))) continue;
      return status.WithContext(input.path + ":" + std::to_string(input.lines[row]) + ": field '" +
                                x.columns[col] + "'");
    }
  }
  return status.WithContext(input.path);
}

double RowSum(const Attributions& shap, int64_t row, int output) {
  double sum = 0.0;
  for (size_t j = 0; j < shap.width(); ++j) sum += shap.at(row, output, j);
  return sum;
}

std::string ShapCsv(const Attributions& shap, int output, std::span<const double> margins,
                    bool with_margin) {
  std::string csv;
  for (const std::string& feature : shap.features) csv += feature + ",";
  csv += kBiasColumn;
  if (with_margin) csv += "," + std::string(kMarginColumn);
  csv += '\n';
  for (int64_t row = 0; row < shap.rows; ++row) {
    for (size_t j = 0; j < shap.width(); ++j) {
      csv += (j == 0 ? "" : ",") + NumberText(shap.at(row, output, j));
    }
    if (with_margin) csv += "," + NumberText(margins[row * shap.outputs + output]);
    csv += '\n';
  }
  return csv;
}

double MaxAdditivityError(const Attributions& shap, int output, std::span<const double> margins) {
  double worst = 0.0;
  for (int64_t row = 0; row < shap.rows; ++row) {
    const double margin = margins[row * shap.outputs + output];
    worst = std::max(worst, std::abs(RowSum(shap, row, output) - margin));
  }
  return worst;
}

struct Explanation {
  Attributions shap;
  std::vector<double> margins;
};

Result<Explanation> Explain(const ExplainableModel& model, const DetectInput& input,
                            const FeatureMatrix& x) {
  Explanation explanation;
  Result<Attributions> shap = model.Shap(x);
  if (!shap.ok()) return WithFirstNonFinite(shap.status(), input, x);
  Result<std::vector<double>> margins = model.RawMargin(x);
  if (!margins.ok()) return WithFirstNonFinite(margins.status(), input, x);
  if (margins->size() != static_cast<size_t>(shap->rows) * shap->outputs) {
    return Internal("raw margins and SHAP values disagree in shape");
  }
  explanation.shap = std::move(*shap);
  explanation.margins = std::move(*margins);
  return explanation;
}

void PrintSummary(bool json, const ExplainArgs& args, const LoadedModel& loaded,
                  const ChosenOutput& output, const Explanation& explanation) {
  const double error = MaxAdditivityError(explanation.shap, output.index, explanation.margins);
  const std::string reference = ModelReference(loaded.manifest);
  if (json) {
    PrintJson({{"model", reference},
               {"kind", loaded.manifest.kind},
               {"output", output.name.empty() ? nlohmann::ordered_json(nullptr)
                                              : nlohmann::ordered_json(output.name)},
               {"rows", explanation.shap.rows},
               {"max_additivity_error", error},
               {"out", args.out}});
    return;
  }
  std::cout << "explained " << explanation.shap.rows << " rows with " << reference << " ("
            << loaded.manifest.kind
            << (output.name.empty() ? std::string() : ", output " + output.name)
            << "): max |sum - margin| " << NumberText(error) << " -> " << args.out << "\n";
}

Status RunExplainSteps(const GlobalOptions& globals, const ExplainArgs& args) {
  VIGIL_ASSIGN_OR_RETURN(ModelRegistry registry, OpenHomeRegistry(globals));
  VIGIL_ASSIGN_OR_RETURN(LoadedModel loaded, registry.Load(args.model));
  VIGIL_ASSIGN_OR_RETURN(const ExplainableModel* explainable, ExplainableSide(loaded));
  VIGIL_RETURN_IF_ERROR(CheckColumnNames(loaded.model->feature_names(), args.with_margin));
  VIGIL_ASSIGN_OR_RETURN(DetectInput input, ReadDetectCsv(args.input, ""));
  VIGIL_ASSIGN_OR_RETURN(FeatureMatrix x,
                         SelectColumns(input.x, loaded.model->feature_names(), args.input));
  VIGIL_ASSIGN_OR_RETURN(Explanation explanation, Explain(*explainable, input, x));
  VIGIL_ASSIGN_OR_RETURN(ChosenOutput output,
                         PickOutput(loaded, explanation.shap.outputs, args.output));
  VIGIL_RETURN_IF_ERROR(WriteTextOutput(
      args.out, ShapCsv(explanation.shap, output.index, explanation.margins, args.with_margin)));
  if (args.out != "-") {
    PrintSummary(globals.json || args.json, args, loaded, output, explanation);
  }
  return Status::Ok();
}

}  // namespace

void AddExplainCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  auto args = std::make_shared<ExplainArgs>();
  CLI::App* explain = app.add_subcommand(
      "explain", "Per-prediction SHAP values of a registered model (rows sum to the raw margin)");
  explain->add_option("--model", args->model, "NAME, NAME@VERSION or NAME@ALIAS")->required();
  explain->add_option("--input", args->input, "Numeric CSV with the model's feature columns")
      ->required();
  explain->add_option("--out", args->out, "SHAP.csv to write (- for stdout)")->required();
  explain->add_option("--output", args->output,
                      "Multi-output models: class index, or horizon (e.g. 15m) for "
                      "multi_horizon; default class 1 of two / the primary horizon");
  explain->add_flag("--with-margin", args->with_margin,
                    "Append the raw margin as a `margin` column");
  // Also accepted after the subcommand, like `vigil classify run ... --json`.
  explain->add_flag("--json", args->json, "Print a JSON summary");
  explain->callback([&globals, args, exit_code] {
    const Status status = RunExplainSteps(globals, *args);
    *exit_code = status.ok() ? 0 : Fail(status);
  });
}

}  // namespace vigil::cli
