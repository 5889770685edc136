// vigil features compute | list | show
//
// compute: (--input FILE [--format F] | --instrument venue:symbol [--from T --to T])
//          (--set NAME | --config FILE) --out FILE.csv
// Writes a CSV whose first column is `timestamp` (ISO-8601 UTC) followed by one column per
// feature, `NaN` where a value is undefined. Exit 0 on success, 3 when the input file had
// rejected rows (features are computed from the valid rest), 2 on usage errors and
// failures (nothing written).
#include <charconv>
#include <cmath>
#include <iostream>
#include <optional>

#include "cli.h"
#include "vigil/core/clock.h"
#include "vigil/core/text_file.h"
#include "vigil/core/timestamp.h"
#include "vigil/data/reader.h"
#include "vigil/features/catalogue.h"
#include "vigil/features/engine.h"
#include "vigil/features/feature_store.h"
#include "vigil/features/spec.h"

namespace vigil::cli {
namespace {

struct ComputeArgs {
  std::string input;
  std::string format = "auto";
  std::string kind;
  std::string venue;
  std::string symbol;
  std::string instrument;
  std::string timeframe;
  std::string from;
  std::string to;
  std::string set;
  std::string spec_file;
  std::string out;
  bool save = false;
};

// The streams to compute over, with the instrument they belong to.
struct Inputs {
  std::string instrument;
  LoadedStreams loaded;
  int64_t rejected = 0;
};

void AppendNumber(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "Inf" : "-Inf";
  } else {
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, end);
  }
}

std::string FeatureCsv(const Frame& table) {
  std::string out = "timestamp";
  for (const ColumnSpec& column : table.columns()) out += "," + column.name;
  out += "\n";
  out.reserve(out.size() + static_cast<size_t>(table.rows()) * (26 + 12 * table.num_columns()));
  for (int64_t row = 0; row < table.rows(); ++row) {
    out += table.time(row).ToIso();
    for (size_t c = 0; c < table.num_columns(); ++c) {
      out += ',';
      AppendNumber(out, table.DoublesAt(c)[row]);
    }
    out += '\n';
  }
  return out;
}

Result<FeatureSetSpec> ResolveSpec(const ComputeArgs& args) {
  if (args.set.empty() == args.spec_file.empty()) {
    return InvalidArgument("give exactly one of --set NAME or --config FILE");
  }
  if (!args.set.empty()) return BuiltinFeatureSet(args.set);
  return LoadFeatureSetSpec(args.spec_file);
}

void ReportRejects(const ParsedFile& parsed) {
  constexpr size_t kShown = 20;
  for (size_t i = 0; i < parsed.rejects.size() && i < kShown; ++i) {
    std::cerr << "vigil: rejected " << parsed.rejects[i].ToString() << "\n";
  }
  if (parsed.rejects.size() > kShown) {
    std::cerr << "vigil: ... " << parsed.rejects.size() - kShown << " more rejected rows\n";
  }
}

// --input: the file's rows of the set's driver kind (one instrument) feed the driver
// stream; the set's other streams stay empty.
Result<Inputs> ReadInputFile(const ComputeArgs& args, const FeatureEngine& engine,
                             DataKind driver) {
  ReadOptions options;
  if (!args.kind.empty()) {
    VIGIL_ASSIGN_OR_RETURN(options.kind, ParseDataKind(args.kind));
  } else {
    options.kind = driver;
  }
  if (options.kind != driver) {
    return InvalidArgument("feature set '" + engine.set_name() + "' is computed over " +
                           std::string(KindName(driver)) + ", not " +
                           std::string(KindName(options.kind)));
  }
  VIGIL_ASSIGN_OR_RETURN(options.format, ParseFileFormat(args.format));
  options.venue = args.venue;
  options.symbol = args.symbol;
  options.timeframe = args.timeframe;
  VIGIL_RETURN_IF_ERROR(ValidateReadOptions(options));
  MarketFileReader reader(options);
  VIGIL_ASSIGN_OR_RETURN(ParsedFile parsed, reader.Read(args.input));
  ReportRejects(parsed);
  std::vector<const RecordBatch*> batches;
  for (const RecordBatch& batch : parsed.batches) {
    if (batch.series.kind == driver && batch.frame.rows() > 0) batches.push_back(&batch);
  }
  if (batches.empty()) {
    return DataError(args.input + ": no valid " + std::string(KindName(driver)) + " rows");
  }
  if (batches.size() > 1) {
    std::string names;
    for (const RecordBatch* b : batches)
      names += (names.empty() ? "" : ", ") + b->series.ToString();
    return InvalidArgument(args.input + " holds several series (" + names +
                           "); features are computed per series: pass --symbol, or ingest the "
                           "file and use --instrument");
  }
  Inputs inputs;
  inputs.instrument = batches[0]->series.instrument.ToString();
  inputs.rejected = static_cast<int64_t>(parsed.rejects.size());
  if (!batches[0]->series.timeframe.empty()) {
    inputs.loaded.candle_timeframe = batches[0]->series.timeframe;
    VIGIL_ASSIGN_OR_RETURN(inputs.loaded.candle_step_ns,
                           ParseDuration(inputs.loaded.candle_timeframe));
  }
  Frame frame = batches[0]->frame;
  frame.SortByTime();
  VIGIL_ASSIGN_OR_RETURN(EventStream driver_stream, EventStream::FromFrame(driver, frame));
  inputs.loaded.streams.push_back(std::move(driver_stream));
  for (size_t i = 1; i < engine.streams().size(); ++i) {
    const StreamKey& key = engine.streams()[i];
    std::cerr << "vigil: warning: --input gives no " << KindName(key.kind) << " data"
              << (key.instrument.empty() ? "" : " for " + key.instrument)
              << "; the features reading it are NaN (ingest it and use --instrument)\n";
    inputs.loaded.streams.emplace_back();
  }
  return inputs;
}

// A computed feature table and where it came from.
struct Computed {
  std::string instrument;
  int64_t rejected = 0;  // rows of --input quarantined while reading
  Frame table;
};

Result<Computed> ComputeFromFile(const ComputeArgs& args, const FeatureSetSpec& spec,
                                 Timestamp from, Timestamp to) {
  // The engine's streams do not depend on the base step; build once to learn them.
  VIGIL_ASSIGN_OR_RETURN(FeatureEngine probe, FeatureEngine::Create(spec, {.base_step_ns = 1}));
  VIGIL_ASSIGN_OR_RETURN(Inputs inputs, ReadInputFile(args, probe, spec.driver));
  VIGIL_ASSIGN_OR_RETURN(
      FeatureEngine engine,
      FeatureEngine::Create(spec, {.base_step_ns = inputs.loaded.candle_step_ns}));
  VIGIL_ASSIGN_OR_RETURN(Frame all, ComputeFeatures(engine, inputs.loaded.pointers()));
  // Rows before --from were computed for warm-up only.
  return Computed{inputs.instrument, inputs.rejected, all.Slice(from, to).ToFrame()};
}

int RunCompute(const GlobalOptions& globals, const ComputeArgs& args) {
  if (args.input.empty() == args.instrument.empty()) {
    return Fail(InvalidArgument("give exactly one of --input FILE or --instrument venue:symbol"));
  }
  auto spec = ResolveSpec(args);
  if (!spec.ok()) return Fail(spec.status());
  auto from = ParseTimeBound(args.from, Timestamp::Min());
  if (!from.ok()) return Fail(from.status().WithContext("--from"));
  auto to = ParseTimeBound(args.to, Timestamp::Max());
  if (!to.ok()) return Fail(to.status().WithContext("--to"));
  std::unique_ptr<Store> store;
  Result<Computed> computed = InvalidArgument("no input");
  if (!args.input.empty()) {
    computed = ComputeFromFile(args, *spec, *from, *to);
  } else {
    auto opened = OpenHomeStore(globals);
    if (!opened.ok()) return Fail(opened.status());
    store = std::move(*opened);
    auto stored = ComputeStoredFeatures(*store, args.instrument, *spec, args.timeframe, *from, *to);
    if (stored.ok()) computed = Computed{args.instrument, 0, std::move(stored->table)};
    if (!stored.ok()) computed = stored.status();
  }
  if (!computed.ok()) return Fail(computed.status());
  const Computed* inputs = &*computed;
  const std::optional<Frame> table = std::move(computed->table);
  const std::string csv = FeatureCsv(*table);
  const bool to_stdout = args.out == "-";
  if (to_stdout) {
    std::cout << csv << std::flush;
  } else {
    const Status written = WriteFileAtomically(args.out, csv);
    if (!written.ok()) return Fail(written);
  }
  int64_t saved = 0;
  if (args.save) {
    if (!store) {
      auto opened = OpenHomeStore(globals);
      if (!opened.ok()) return Fail(opened.status());
      store = std::move(*opened);
    }
    auto count = SaveFeatures(*store, inputs->instrument, *spec, *table, SystemClock().Now());
    if (!count.ok()) return Fail(count.status());
    saved = *count;
  }
  const int code = inputs->rejected > 0 ? kExitPartial : 0;
  if (to_stdout) return code;
  if (globals.json) {
    nlohmann::ordered_json summary = {{"set", spec->name},
                                      {"spec_hash", spec->SpecHashHex()},
                                      {"instrument", inputs->instrument},
                                      {"rows", table->rows()},
                                      {"features", table->num_columns()},
                                      {"rejected", inputs->rejected},
                                      {"saved_values", saved},
                                      {"out", args.out}};
    PrintJson(summary);
  } else {
    std::cout << "computed " << table->num_columns() << " features of set '" << spec->name
              << "' (spec " << spec->SpecHashHex() << ") over " << table->rows() << " rows of "
              << inputs->instrument << " -> " << args.out << "\n";
    if (args.save) std::cout << "saved " << saved << " values to feature_store\n";
  }
  return code;
}

std::string ParamText(const FeatureInfo& info) {
  std::string text;
  for (const ParamInfo& p : info.params) {
    text +=
        (text.empty() ? "" : " ") + p.name + "=" + (p.required ? "<required>" : p.default_value);
  }
  return text.empty() ? "-" : text;
}

std::string KindsText(const FeatureInfo& info) {
  std::string text;
  for (DataKind kind : info.kinds) text += (text.empty() ? "" : "+") + std::string(KindName(kind));
  return text;
}

int RunList(const GlobalOptions& globals) {
  const auto& catalogue = FeatureCatalogue();
  if (globals.json) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const FeatureInfo& info : catalogue) {
      nlohmann::ordered_json params = nlohmann::ordered_json::array();
      for (const ParamInfo& p : info.params) {
        params.push_back({{"name", p.name},
                          {"default", p.required ? nlohmann::ordered_json(nullptr)
                                                 : nlohmann::ordered_json(p.default_value)},
                          {"description", p.description}});
      }
      list.push_back({{"feature", info.name},
                      {"group", info.group},
                      {"inputs", KindsText(info)},
                      {"params", params},
                      {"description", info.description}});
    }
    PrintJson({{"features", list}, {"sets", BuiltinFeatureSetNames()}});
    return 0;
  }
  std::printf("%-20s %-12s %-22s %-34s %s\n", "FEATURE", "GROUP", "INPUTS", "PARAMETERS",
              "DESCRIPTION");
  for (const FeatureInfo& info : catalogue) {
    std::printf("%-20s %-12s %-22s %-34s %s\n", info.name.c_str(), info.group.c_str(),
                KindsText(info).c_str(), ParamText(info).c_str(), info.description.c_str());
  }
  std::string sets;
  for (const std::string& name : BuiltinFeatureSetNames())
    sets += (sets.empty() ? "" : ", ") + name;
  std::printf("\nbuilt-in sets: %s (see `vigil features show --set NAME`)\n", sets.c_str());
  return 0;
}

int RunShow(const GlobalOptions& globals, const ComputeArgs& args) {
  auto spec = ResolveSpec(args);
  if (!spec.ok()) return Fail(spec.status());
  const std::vector<std::string> columns = spec->Columns();
  if (globals.json) {
    PrintJson({{"set", spec->name},
               {"spec_hash", spec->SpecHashHex()},
               {"driver", std::string(KindName(spec->driver))},
               {"columns", columns}});
    return 0;
  }
  std::cout << "set " << spec->name << "  spec " << spec->SpecHashHex() << "  rows: one per "
            << KindName(spec->driver) << " event\n";
  for (const std::string& column : columns) std::cout << "  " << column << "\n";
  return 0;
}

}  // namespace

void AddFeaturesCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  CLI::App* features = app.add_subcommand("features", "Compute and list features");
  features->require_subcommand(1);

  auto args = std::make_shared<ComputeArgs>();
  CLI::App* compute = features->add_subcommand(
      "compute", "Compute a feature set over a file or a stored instrument into a CSV");
  auto* input = compute->add_option("--input", args->input, "Market-data file to compute over");
  compute->add_option("--format", args->format, "Input format (see `vigil ingest --help`)")
      ->capture_default_str();
  compute->add_option("--kind", args->kind, "Kind of the input file (default: the set's driver)");
  compute->add_option("--venue", args->venue, "Venue of the input file when it does not say");
  compute->add_option("--symbol", args->symbol, "Symbol of the input file when it does not say");
  auto* instrument =
      compute->add_option("--instrument", args->instrument, "Stored instrument venue:symbol");
  input->excludes(instrument);
  compute->add_option("--timeframe", args->timeframe,
                      "Candle timeframe (default: the file's, or the smallest stored)");
  compute->add_option("--from", args->from, "First output timestamp (inclusive)");
  compute->add_option("--to", args->to, "End of output (exclusive); later data is never read");
  auto* set = compute->add_option("--set", args->set, "Built-in feature set");
  auto* config = compute->add_option("--config", args->spec_file, "Feature-set YAML file");
  set->excludes(config);
  compute->add_option("--out", args->out, "Output CSV (- for stdout)")->required();
  compute->add_flag("--save", args->save,
                    "Also store the values in feature_store under the set's spec hash");
  compute->callback([&globals, args, exit_code] { *exit_code = RunCompute(globals, *args); });

  CLI::App* list = features->add_subcommand(
      "list", "Every feature with its inputs, parameters and a one-line description");
  list->callback([&globals, exit_code] { *exit_code = RunList(globals); });

  auto show_args = std::make_shared<ComputeArgs>();
  CLI::App* show = features->add_subcommand("show", "A feature set's columns and spec hash");
  auto* show_set = show->add_option("--set", show_args->set, "Built-in feature set");
  auto* show_config = show->add_option("--config", show_args->spec_file, "Feature-set YAML file");
  show_set->excludes(show_config);
  show->callback([&globals, show_args, exit_code] { *exit_code = RunShow(globals, *show_args); });
}

}  // namespace vigil::cli
