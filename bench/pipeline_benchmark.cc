// One training job end to end (`vigil train`), and its three compute stages alone: the
// `ta` feature set over two simulated perpetuals read from a SQLite store, 15-minute
// direction labels, expanding walk-forward validation with purging, a standardized
// logistic regression per fold, pooled out-of-fold metrics, the final fit on every row,
// the registry and the job record. scripts/run-benchmarks.sh compares it with the same job
// written with pandas and scikit-learn (scripts/bench/sklearn_training.py):
// `pipeline_benchmark --write_reference_inputs=DIR` writes the simulated candles as CSV,
// and what Vigil computed from them, for the script to read and check against.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bench_data.h"
#include "reference_run.h"
#include "vigil/data/simulator.h"
#include "vigil/models/logistic_regression.h"
#include "vigil/pipeline/training_config.h"
#include "vigil/pipeline/training_job.h"
#include "vigil/registry/registry.h"
#include "vigil/store/store.h"

namespace vigil::bench {
namespace {

namespace fs = std::filesystem;

// Two instruments x 61 days = 175,680 one-minute candles. 61 rather than 60 days so that,
// after the first 20 days of training and the rows still warming up the features,
// exactly eight whole 5-day test windows fit.
constexpr int kInstruments = 2;
constexpr int kDays = 61;
constexpr uint64_t kSimulationSeed = 42;  // the simulator's default

// The job, as a user would write it for `vigil train --config`. The reference script
// hard-codes the same settings and checks them against vigil.json.
constexpr std::string_view kConfigYaml = R"(name: bench_direction
task: classification
model:
  kind: logistic
  params: {C: 0.1, standardize: true}
seed: 7
data:
  instruments: [sim:BTC-PERP, sim:ETH-PERP]
  timeframe: 1m
features: ta
label: {kind: direction, horizon: 15m, threshold: 0.0}
validation:
  method: walk_forward
  window: expanding
  train: 20d
  test: 5d
promotion: {metric: roc_auc, tolerance: 0.005}
retention: {keep: 10}
)";

Result<SimulatedMarket> SimulateMarket() {
  SimulationOptions options;
  options.instruments = kInstruments;
  options.days = kDays;
  options.seed = kSimulationSeed;
  return Simulate(options);
}

// A temporary Vigil home: a SQLite store holding the simulated market (every series
// `vigil simulate --ingest` would store), a models directory and the parsed config.
// Removed with everything in it on destruction.
class TrainingHome {
 public:
  static Result<std::unique_ptr<TrainingHome>> Create(const SimulatedMarket& market) {
    const fs::path dir =
        fs::temp_directory_path() / ("vigil-bench-training-" + std::to_string(::getpid()));
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    std::error_code error;
    fs::create_directories(dir, error);
    if (error) return IoError(dir.string() + ": " + error.message());
    auto home = std::unique_ptr<TrainingHome>(new TrainingHome(dir));
    VIGIL_ASSIGN_OR_RETURN(home->store_, OpenStore("sqlite:" + (dir / "vigil.db").string()));
    WriteUnit unit;
    unit.source = "simulation";
    unit.batches = market.batches;
    VIGIL_RETURN_IF_ERROR(home->store_->Write(unit).status());
    VIGIL_ASSIGN_OR_RETURN(home->config_, ParseTrainingConfig(kConfigYaml, "bench.yaml", dir));
    return home;
  }
  ~TrainingHome() {
    store_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  TrainingHome(const TrainingHome&) = delete;
  TrainingHome& operator=(const TrainingHome&) = delete;

  Store& store() { return *store_; }
  const TrainingConfig& config() const { return config_; }
  fs::path models_dir() const { return dir_ / "models"; }

 private:
  explicit TrainingHome(fs::path dir) : dir_(std::move(dir)) {}

  fs::path dir_;
  std::unique_ptr<Store> store_;
  TrainingConfig config_;
};

// The home every case uses, built once, outside the timed loops; nullptr (after printing
// why) when the set-up failed.
TrainingHome* Home() {
  static const std::unique_ptr<TrainingHome> home = []() -> std::unique_ptr<TrainingHome> {
    Result<SimulatedMarket> market = SimulateMarket();
    if (!market.ok()) {
      std::fprintf(stderr, "simulate: %s\n", market.status().ToString().c_str());
      return nullptr;
    }
    Result<std::unique_ptr<TrainingHome>> created = TrainingHome::Create(*market);
    if (!created.ok()) {
      std::fprintf(stderr, "set-up: %s\n", created.status().ToString().c_str());
      return nullptr;
    }
    return std::move(*created);
  }();
  return home.get();
}

// The training set the Evaluate and FitModel cases start from, built once.
const TrainingSet* Set() {
  static const std::unique_ptr<TrainingSet> set = []() -> std::unique_ptr<TrainingSet> {
    TrainingHome* home = Home();
    if (home == nullptr) return nullptr;
    Result<TrainingSet> built = BuildTrainingSet(home->config(), home->store());
    if (!built.ok()) {
      std::fprintf(stderr, "BuildTrainingSet: %s\n", built.status().ToString().c_str());
      return nullptr;
    }
    return std::make_unique<TrainingSet>(std::move(*built));
  }();
  return set.get();
}

// Everything `vigil train --config` does after parsing the config, on a registry with no
// versions (the first job of a name: no production model to gate against, so it is
// promoted). Each iteration starts from an empty models directory, made untimed.
void BM_TrainingJob(benchmark::State& state) {
  TrainingHome* home = Home();
  if (home == nullptr) {
    state.SkipWithError("set-up failed");
    return;
  }
  int64_t rows = 0;
  int64_t folds = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::error_code ignored;
    fs::remove_all(home->models_dir(), ignored);
    auto registry = ModelRegistry::Open(home->models_dir());
    if (!registry.ok()) {
      state.SkipWithError(registry.status().ToString().c_str());
      return;
    }
    state.ResumeTiming();
    auto result = RunTrainingJob(home->config(), home->store(), *registry, {});
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      return;
    }
    rows = result->manifest.training_data.rows;
    folds = result->folds;
    benchmark::DoNotOptimize(result->manifest.version);
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.counters["folds"] = static_cast<double>(folds);
}
BENCHMARK(BM_TrainingJob)->Apply(BestOfThree);

// Load both instruments' candles from the store, compute the ta set, label, drop the
// warm-up and incomplete-label rows, merge in time order and fingerprint the result.
void BM_BuildTrainingSet(benchmark::State& state) {
  TrainingHome* home = Home();
  if (home == nullptr) {
    state.SkipWithError("set-up failed");
    return;
  }
  int64_t rows = 0;
  for (auto _ : state) {
    auto set = BuildTrainingSet(home->config(), home->store());
    if (!set.ok()) {
      state.SkipWithError(set.status().ToString().c_str());
      return;
    }
    rows = set->rows();
    benchmark::DoNotOptimize(set->x.values.data());
  }
  state.counters["rows"] = static_cast<double>(rows);
}
BENCHMARK(BM_BuildTrainingSet)->Apply(BestOfThree);

// The walk-forward folds, one fit and prediction per fold, and the pooled metrics.
void BM_Evaluate(benchmark::State& state) {
  const TrainingSet* set = Set();
  if (set == nullptr) {
    state.SkipWithError("set-up failed");
    return;
  }
  int64_t folds = 0;
  for (auto _ : state) {
    auto evaluation = Evaluate(Home()->config(), *set);
    if (!evaluation.ok()) {
      state.SkipWithError(evaluation.status().ToString().c_str());
      return;
    }
    folds = static_cast<int64_t>(evaluation->folds.size());
    benchmark::DoNotOptimize(evaluation->metrics.size());
  }
  state.counters["folds"] = static_cast<double>(folds);
}
BENCHMARK(BM_Evaluate)->Apply(BestOfThree);

// The final model: one fit on every row of the set.
void BM_FitModel(benchmark::State& state) {
  const TrainingSet* set = Set();
  if (set == nullptr) {
    state.SkipWithError("set-up failed");
    return;
  }
  for (auto _ : state) {
    auto model = FitModel(Home()->config(), *set, {});
    if (!model.ok()) {
      state.SkipWithError(model.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(model->get());
  }
  state.counters["rows"] = static_cast<double>(set->rows());
}
BENCHMARK(BM_FitModel)->Apply(BestOfThree);

// --- inputs and results for the reference script ---

nlohmann::json FoldsJson(const std::vector<Fold>& folds) {
  nlohmann::json out = nlohmann::json::array();
  for (const Fold& fold : folds) {
    out.push_back({{"train", fold.train.size()},
                   {"purged", fold.purged},
                   {"test_first", fold.test.front()},
                   {"test", fold.test.size()}});
  }
  return out;
}

nlohmann::json ConfigJson(const TrainingConfig& config) {
  const WalkForwardTimeOptions& wf = config.validation.walk_forward;
  return {{"instruments", config.instruments},
          {"horizon_ns", config.label.horizon_ns},
          {"threshold", config.label.threshold},
          {"train_ns", wf.train_ns},
          {"test_ns", wf.test_ns},
          {"expanding", wf.mode == WindowMode::kExpanding},
          {"model", config.model_params}};
}

// What Vigil computes from the candles: the training set's counts and fingerprint, the
// folds, the pooled out-of-fold metrics, the final model, and the job's own metrics.
Result<nlohmann::json> VigilResults(TrainingHome& home, const TrainingSet& set) {
  const TrainingConfig& config = home.config();
  nlohmann::json out = {{"config", ConfigJson(config)},
                        {"columns", set.x.columns},
                        {"rows", set.rows()},
                        {"dropped_warmup", set.dropped_warmup},
                        {"dropped_incomplete", set.dropped_incomplete},
                        {"fingerprint", set.fingerprint}};
  VIGIL_ASSIGN_OR_RETURN(Evaluation evaluation, Evaluate(config, set));
  out["folds"] = FoldsJson(evaluation.folds);
  out["metrics"] = evaluation.metrics;
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, FitModel(config, set, {}));
  const auto* logistic = dynamic_cast<const LogisticRegression*>(model.get());
  if (logistic == nullptr) return InvalidArgument("the benchmark's model is not 'logistic'");
  out["final"] = {{"coefficients", logistic->coefficients()},
                  {"intercept", logistic->intercept()},
                  {"iterations", logistic->iterations()}};
  VIGIL_ASSIGN_OR_RETURN(ModelRegistry registry, ModelRegistry::Open(home.models_dir()));
  VIGIL_ASSIGN_OR_RETURN(TrainingResult job, RunTrainingJob(config, home.store(), registry, {}));
  out["job"] = {{"version", job.manifest.version},
                {"rows", job.manifest.training_data.rows},
                {"fingerprint", job.manifest.training_data.fingerprint},
                {"metrics", job.manifest.metrics}};
  return out;
}

// DIR/candles.csv (and the simulator's other CSV files), DIR/vigil.json, and the training
// set row by row: DIR/set_ts.i64 (row timestamps, ns), DIR/set_instrument.i32 (index into
// config.instruments), DIR/set_labels.f64 and DIR/set_x.f64 (rows x 20, row-major), all
// little-endian.
Status WriteReferenceInputs(const fs::path& dir) {
  VIGIL_ASSIGN_OR_RETURN(SimulatedMarket market, SimulateMarket());
  VIGIL_RETURN_IF_ERROR(WriteSimulationCsv(market, dir.string(), nullptr));
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<TrainingHome> home, TrainingHome::Create(market));
  VIGIL_ASSIGN_OR_RETURN(TrainingSet set, BuildTrainingSet(home->config(), home->store()));
  VIGIL_RETURN_IF_ERROR(WriteBinary(dir / "set_ts.i64", set.windows.start_ts));
  VIGIL_RETURN_IF_ERROR(WriteBinary(dir / "set_instrument.i32", set.instrument));
  VIGIL_RETURN_IF_ERROR(WriteBinary(dir / "set_labels.f64", set.labels));
  VIGIL_RETURN_IF_ERROR(WriteBinary(dir / "set_x.f64", set.x.values));
  VIGIL_ASSIGN_OR_RETURN(nlohmann::json results, VigilResults(*home, set));
  return WriteJson(dir / "vigil.json", results);
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  return vigil::bench::BenchmarkMain(argc, argv, "pipeline_benchmark",
                                     vigil::bench::WriteReferenceInputs);
}
