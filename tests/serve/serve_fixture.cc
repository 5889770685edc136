#include "serve/serve_fixture.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>

#include "vigil/core/text_file.h"
#include "vigil/features/feature_store.h"
#include "vigil/features/spec.h"
#include "vigil/pipeline/training_config.h"
#include "vigil/pipeline/training_job.h"
#include "vigil/registry/registry.h"
#include "vigil/store/store.h"

namespace vigil::testing {
namespace {

// Small, fast jobs: two walk-forward folds over four days. The crash label (a fall of 1.5
// sigma of the recent volatility within 30 minutes) is common enough for every fold to
// see both classes.
constexpr const char* kValidation =
    "validation: {method: walk_forward, train: 2d, test: 1d, max_folds: 2}\n";
constexpr const char* kData = "data: {instruments: [sim:BTC-PERP, sim:ETH-PERP], timeframe: 1m}\n";
constexpr const char* kRiskLevels = "risk_levels: {medium: 0.25, high: 0.5, critical: 0.75}\n";

constexpr const char* kCopiesDir = "copies";

struct WorldModel {
  std::string name;
  std::string yaml;
};

std::vector<WorldModel> WorldModels() {
  const std::string crash_label = "label: {horizon: 30m, k: 1.5, vol_window: 60}\n";
  return {
      {"liq_long", std::string("name: liq_long\ntask: liquidation\n") +
                       "model: {kind: logistic, params: {C: 0.1, standardize: true}}\nseed: 7\n" +
                       kData + "features: ta\n" +
                       "label: {leverage: 20, side: long, horizons: [5m, 15m, 30m, 1h]}\n" +
                       kValidation + kRiskLevels},
      {"oracle_anom", std::string("name: oracle_anom\ntask: anomaly\nmodel: {kind: zscore}\n") +
                          kData + "features: oracle\nlabel: {kind: none, field: price}\n" +
                          kValidation},
      {"risk_clf", std::string("name: risk_clf\ntask: crash\n") +
                       "model: {kind: logistic, params: {C: 0.1, standardize: true}}\nseed: 7\n" +
                       kData + "features: ta\n" + crash_label + kValidation +
                       "calibration: {method: platt}\n" + kRiskLevels},
      {"risk_xgb", std::string("name: risk_xgb\ntask: crash\n") +
                       "model: {kind: xgboost, params: {n_estimators: 20, max_depth: 3}}\n"
                       "seed: 7\n" +
                       kData + "features: ta\n" + crash_label + kValidation + kRiskLevels},
  };
}

// The shared home while it is being built, removed by Die so that a failed build leaves
// nothing behind.
std::filesystem::path building_home;

[[noreturn]] void Die(const std::string& what, const Status& status) {
  std::cerr << "serve_fixture: " << what << ": " << status.ToString() << std::endl;
  std::error_code ignored;
  if (!building_home.empty()) std::filesystem::remove_all(building_home, ignored);
  std::abort();
}

void StoreSimulation(Store& store, ServeWorld& world) {
  SimulationOptions options;
  options.instruments = 2;
  options.days = 4;
  options.seed = 7;
  options.flash_crashes_per_week = 10;
  Result<SimulatedMarket> market = Simulate(options);
  if (!market.ok()) Die("simulate", market.status());
  WriteUnit unit;
  unit.source = "simulation";
  unit.batches = market->batches;
  Result<WriteStats> written = store.Write(unit);
  if (!written.ok()) Die("store the simulation", written.status());
  world.instruments = {"sim:BTC-PERP", "sim:ETH-PERP"};
  world.incidents = market->events;
}

void TrainModel(const WorldModel& spec, Store& store, ModelRegistry& registry,
                const ServeWorld& world) {
  const std::filesystem::path path = world.home / "configs" / (spec.name + ".yaml");
  Status saved = WriteFileAtomically(path.string(), spec.yaml);
  if (!saved.ok()) Die("write " + path.string(), saved);
  Result<TrainingConfig> config = LoadTrainingConfig(path);
  if (!config.ok()) Die("config " + spec.name, config.status());
  Result<TrainingResult> result = RunTrainingJob(*config, store, registry, {});
  if (!result.ok()) Die("train " + spec.name, result.status());
  if (!result->promoted) {
    Status promoted = registry.Promote(spec.name, result->manifest.version, "production");
    if (!promoted.ok()) Die("promote " + spec.name, promoted);
  }
}

ServeWorld BuildWorld() {
  ServeWorld world;
  world.home =
      std::filesystem::temp_directory_path() / ("vigil-serve-world-" + std::to_string(::getpid()));
  std::filesystem::remove_all(world.home);
  std::filesystem::create_directories(world.home / "configs");
  building_home = world.home;
  world.models_dir = world.home / "models";
  world.store_url = "sqlite:" + (world.home / "vigil.db").string();
  Result<std::unique_ptr<Store>> store = OpenStore(world.store_url);
  if (!store.ok()) Die("open " + world.store_url, store.status());
  Result<ModelRegistry> registry = ModelRegistry::Open(world.models_dir);
  if (!registry.ok()) Die("open the registry", registry.status());
  StoreSimulation(**store, world);
  for (const WorldModel& model : WorldModels()) {
    TrainModel(model, **store, *registry, world);
    world.model_names.push_back(model.name);
  }
  std::sort(world.model_names.begin(), world.model_names.end());
  building_home.clear();
  return world;
}

// Owns the shared world and removes its directory when the test binary exits.
struct WorldHolder {
  ServeWorld world;
  ~WorldHolder() {
    std::error_code ignored;
    std::filesystem::remove_all(world.home, ignored);
  }
};

}  // namespace

const ServeWorld& SharedWorld() {
  static WorldHolder holder{BuildWorld()};
  return holder.world;
}

ServeWorld CopyWorld(const ServeWorld& world, const std::filesystem::path& dest) {
  std::filesystem::remove_all(dest);
  std::filesystem::create_directories(dest);
  for (const auto& entry : std::filesystem::directory_iterator(world.home)) {
    // Copies made inside the shared home are not part of the world.
    if (entry.path().filename() == kCopiesDir) continue;
    std::filesystem::copy(entry.path(), dest / entry.path().filename(),
                          std::filesystem::copy_options::recursive);
  }
  ServeWorld copy = world;
  copy.home = dest;
  copy.models_dir = dest / "models";
  copy.store_url = "sqlite:" + (dest / "vigil.db").string();
  return copy;
}

const ServeWorld& SharedWorldWithVariant() {
  static const ServeWorld world = [] {
    ServeWorld copy = CopyWorld(SharedWorld(), CopyPath("with-variant"));
    TrainVariant(copy, "risk_clf", "C: 0.1", "C: 10.0");
    return copy;
  }();
  return world;
}

std::filesystem::path CopyPath(const std::string& name) {
  return SharedWorld().home / kCopiesDir / name;
}

int64_t TrainVariant(const ServeWorld& world, const std::string& name, const std::string& from,
                     const std::string& to) {
  const std::filesystem::path path = world.home / "configs" / (name + ".yaml");
  Result<std::string> yaml = ReadFileToString(path.string());
  if (!yaml.ok()) Die("read " + path.string(), yaml.status());
  const size_t at = yaml->find(from);
  if (at == std::string::npos) Die("variant of " + name, NotFound("'" + from + "' in the config"));
  yaml->replace(at, from.size(), to);
  *yaml += "promotion: {enabled: false}\n";
  Result<TrainingConfig> config = ParseTrainingConfig(*yaml, path.string(), path.parent_path());
  if (!config.ok()) Die("variant config of " + name, config.status());
  Result<std::unique_ptr<Store>> store = OpenStore(world.store_url);
  if (!store.ok()) Die("open " + world.store_url, store.status());
  Result<ModelRegistry> registry = ModelRegistry::Open(world.models_dir);
  if (!registry.ok()) Die("open the registry", registry.status());
  Result<TrainingResult> result = RunTrainingJob(*config, **store, *registry, {});
  if (!result.ok()) Die("train a variant of " + name, result.status());
  return result->manifest.version;
}

FeatureMatrix WorldFeatureRows(const ServeWorld& world, const std::string& feature_set,
                               const std::string& instrument, int64_t count) {
  Result<FeatureSetSpec> spec = BuiltinFeatureSet(feature_set);
  if (!spec.ok()) Die("feature set " + feature_set, spec.status());
  Result<std::unique_ptr<Store>> store = OpenStore(world.store_url);
  if (!store.ok()) Die("open " + world.store_url, store.status());
  Result<StoredFeatures> stored =
      ComputeStoredFeatures(**store, instrument, *spec, "1m", Timestamp::Min(), Timestamp::Max());
  if (!stored.ok()) Die("features of " + instrument, stored.status());
  Result<FeatureMatrix> matrix = FeatureMatrix::FromFrame(stored->table, spec->Columns());
  if (!matrix.ok()) Die("feature matrix of " + instrument, matrix.status());
  FeatureMatrix out;
  out.columns = matrix->columns;
  // Newest first while collecting, then back to time order.
  std::vector<int64_t> rows;
  for (int64_t row = matrix->rows - 1; row >= 0 && static_cast<int64_t>(rows.size()) < count;
       --row) {
    const std::span<const double> values = matrix->row(row);
    if (std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); })) {
      rows.push_back(row);
    }
  }
  std::reverse(rows.begin(), rows.end());
  for (int64_t row : rows) {
    const std::span<const double> values = matrix->row(row);
    out.values.insert(out.values.end(), values.begin(), values.end());
  }
  out.rows = static_cast<int64_t>(rows.size());
  return out;
}

}  // namespace vigil::testing
