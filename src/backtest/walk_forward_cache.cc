// The saved walk-forward runs behind --reuse: manifest.json (what made the run, its
// windows), signals.csv (every out-of-sample signal, at full precision) and the models of
// every window (models/window_<k>/: model.json with the kind and config, and the weights).
#include <cinttypes>
#include <cstdio>
#include <map>
#include <sstream>
#include <system_error>

#include "vigil/core/text_file.h"
#include "vigil/pipeline/risk_training.h"
#include "walk_forward_internal.h"

namespace vigil::backtest_internal {
namespace {

constexpr const char* kSignalsHeader = "instrument,time_ns,value,disagreement,window";

nlohmann::json WindowJson(const WalkForwardWindow& window) {
  return {{"train_from", window.train_from.ToIso()},
          {"trade_from", window.trade_from.ToIso()},
          {"trade_to", window.trade_to.ToIso()},
          {"train_rows", window.train_rows},
          {"predicted_rows", window.predicted_rows},
          {"fitted", window.fitted},
          {"note", window.note}};
}

Result<WalkForwardWindow> WindowFromJson(const nlohmann::json& json) {
  WalkForwardWindow window;
  VIGIL_ASSIGN_OR_RETURN(window.train_from,
                         Timestamp::ParseIso(json.at("train_from").get<std::string>()));
  VIGIL_ASSIGN_OR_RETURN(window.trade_from,
                         Timestamp::ParseIso(json.at("trade_from").get<std::string>()));
  VIGIL_ASSIGN_OR_RETURN(window.trade_to,
                         Timestamp::ParseIso(json.at("trade_to").get<std::string>()));
  window.train_rows = json.at("train_rows").get<int64_t>();
  window.predicted_rows = json.at("predicted_rows").get<int64_t>();
  window.fitted = json.at("fitted").get<bool>();
  window.note = json.at("note").get<std::string>();
  return window;
}

std::string SignalsCsv(const WalkForwardRun& run) {
  std::string out = std::string(kSignalsHeader) + "\n";
  char line[256];
  for (const ModelSignals& signals : run.signals) {
    for (size_t r = 0; r < signals.size(); ++r) {
      std::snprintf(line, sizeof(line), ",%" PRId64 ",%.17g,%.17g,%d\n", signals.time[r].nanos(),
                    signals.value[r], signals.disagreement[r], signals.window[r]);
      out += signals.instrument + line;
    }
  }
  return out;
}

// One signals.csv row into the run's signals of its instrument.
Status ParseSignalRow(const std::string& line, std::map<std::string, size_t>& index,
                      WalkForwardRun& run) {
  std::stringstream fields(line);
  std::string instrument, time, value, disagreement, window;
  if (!std::getline(fields, instrument, ',') || !std::getline(fields, time, ',') ||
      !std::getline(fields, value, ',') || !std::getline(fields, disagreement, ',') ||
      !std::getline(fields, window))
    return DataError("expected " + std::string(kSignalsHeader));
  const auto [it, added] = index.emplace(instrument, run.signals.size());
  if (added) run.signals.push_back(ModelSignals{instrument, {}, {}, {}, {}});
  ModelSignals& signals = run.signals[it->second];
  try {
    signals.time.emplace_back(std::stoll(time));
    signals.value.push_back(value == "nan" || value == "-nan" ? std::nan("") : std::stod(value));
    signals.disagreement.push_back(std::stod(disagreement));
    signals.window.push_back(std::stoi(window));
  } catch (const std::exception&) {
    return DataError("a field is not a number");
  }
  return Status::Ok();
}

Result<std::vector<ModelSignals>> ParseSignals(const std::string& path,
                                               const std::vector<std::string>& instruments) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  std::stringstream lines(text);
  std::string line;
  std::getline(lines, line);
  if (line != kSignalsHeader) return DataError(path + ":1: expected the header " + kSignalsHeader);
  WalkForwardRun run;
  std::map<std::string, size_t> index;
  for (int number = 2; std::getline(lines, line); ++number) {
    if (line.empty()) continue;
    VIGIL_RETURN_IF_ERROR(
        ParseSignalRow(line, index, run).WithContext(path + ":" + std::to_string(number)));
  }
  // In the config's instrument order, an instrument without signals keeping an empty series.
  std::vector<ModelSignals> ordered;
  for (const std::string& instrument : instruments) {
    const auto it = index.find(instrument);
    ordered.push_back(it == index.end() ? ModelSignals{instrument, {}, {}, {}, {}}
                                        : std::move(run.signals[it->second]));
  }
  return ordered;
}

// The first key path where two JSON documents differ, e.g. "walk_forward.step_ns".
std::string FirstDifference(const nlohmann::json& a, const nlohmann::json& b,
                            const std::string& path = "") {
  if (a.is_object() && b.is_object()) {
    for (const auto& [key, value] : a.items()) {
      const std::string at = path.empty() ? key : path + "." + key;
      if (!b.contains(key)) return at;
      if (value != b.at(key)) return FirstDifference(value, b.at(key), at);
    }
    for (const auto& [key, value] : b.items())
      if (!a.contains(key)) return path.empty() ? key : path + "." + key;
  }
  return path.empty() ? "(the whole manifest)" : path;
}

}  // namespace

nlohmann::json RunIdentity(const TrainingConfig& config, const WalkForwardBacktestOptions& options,
                           const TrainingSet& set) {
  nlohmann::json training = {{"model_kind", config.model_kind},
                             {"model_params", config.model_params},
                             {"seed", config.seed},
                             {"instruments", config.instruments},
                             {"pair", config.pair_instrument},
                             {"timeframe", config.timeframe},
                             {"from", config.from.nanos()},
                             {"to", config.to.nanos()},
                             {"features", config.features.SpecHashHex()},
                             {"details", ConfigDetails(config)}};
  nlohmann::json walk = {{"train_ns", options.train_ns},
                         {"step_ns", options.step_ns},
                         {"expanding", options.expanding},
                         {"ensemble", options.ensemble},
                         {"min_train_rows", options.min_train_rows}};
  return {{"training", training}, {"walk_forward", walk}, {"data", set.fingerprint}};
}

Status SaveRun(const std::filesystem::path& dir, const nlohmann::json& identity,
               const WalkForwardRun& run, const std::vector<std::pair<int, const Model*>>& models) {
  std::error_code error;
  std::filesystem::create_directories(dir / "models", error);
  if (error) return IoError(dir.string() + ": cannot create: " + error.message());
  for (const auto& [window, model] : models) {
    const std::filesystem::path model_dir = dir / "models" / ("window_" + std::to_string(window));
    std::filesystem::create_directories(model_dir, error);
    if (error) return IoError(model_dir.string() + ": cannot create: " + error.message());
    const nlohmann::json described = {{"kind", model->kind()}, {"config", model->config()}};
    VIGIL_RETURN_IF_ERROR(
        WriteFileAtomically((model_dir / "model.json").string(), described.dump(2) + "\n"));
    VIGIL_RETURN_IF_ERROR(model->SaveWeights(model_dir));
  }
  VIGIL_RETURN_IF_ERROR(WriteFileAtomically((dir / "signals.csv").string(), SignalsCsv(run)));
  nlohmann::json manifest = {{"identity", identity},
                             {"model_kind", run.model_kind},
                             {"fit_seconds", run.fit_seconds},
                             {"windows", nlohmann::json::array()}};
  for (const WalkForwardWindow& window : run.windows)
    manifest["windows"].push_back(WindowJson(window));
  return WriteFileAtomically((dir / "manifest.json").string(), manifest.dump(2) + "\n");
}

Result<WalkForwardRun> LoadCachedRun(const std::filesystem::path& dir,
                                     const nlohmann::json& identity) {
  const std::string manifest_path = (dir / "manifest.json").string();
  if (!std::filesystem::exists(manifest_path))
    return NotFound(manifest_path + ": no saved walk-forward run (run once without --reuse)");
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(manifest_path));
  const nlohmann::json manifest = nlohmann::json::parse(text, nullptr, false);
  if (manifest.is_discarded() || !manifest.contains("identity") || !manifest.contains("windows"))
    return DataError(manifest_path + ": not a walk-forward manifest");
  if (manifest["identity"] != identity)
    return FailedPrecondition(
        manifest_path + ": saved from other data or settings (first difference: " +
        FirstDifference(manifest["identity"], identity) + "); run without --reuse to retrain");
  WalkForwardRun run;
  run.reused = true;
  run.model_kind = manifest.value("model_kind", "");
  try {
    for (const nlohmann::json& window : manifest["windows"]) {
      VIGIL_ASSIGN_OR_RETURN(WalkForwardWindow parsed, WindowFromJson(window));
      run.windows.push_back(std::move(parsed));
    }
  } catch (const nlohmann::json::exception& e) {
    return DataError(manifest_path + ": windows: " + e.what());
  }
  VIGIL_ASSIGN_OR_RETURN(
      run.signals,
      ParseSignals((dir / "signals.csv").string(),
                   identity["training"]["instruments"].get<std::vector<std::string>>()));
  return run;
}

}  // namespace vigil::backtest_internal
