// Hot paths of the models module and the registry: fitting and applying the two baselines,
// the ranking metrics and the validation splitters over a long history, and a registry round
// trip. scripts/run-benchmarks.sh compares them with scikit-learn and numpy on the same data
// (scripts/bench/sklearn_models.py): `models_benchmark --write_reference_inputs=DIR` writes
// the rows every case below uses, and Vigil's results on them, for the script to read.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bench_data.h"
#include "reference_run.h"
#include "vigil/core/timestamp.h"
#include "vigil/models/logistic_regression.h"
#include "vigil/models/metrics.h"
#include "vigil/models/robust_zscore.h"
#include "vigil/models/splitters.h"
#include "vigil/registry/registry.h"

namespace vigil::bench {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMillion = 1'000'000;
constexpr int64_t kHundredThousand = 100'000;
constexpr int kFeatures = 20;
// The splitters' label windows: each row's label reads the next 12 one-minute bars, as a
// "does price fall 5% within 12 bars?" label would.
constexpr int64_t kLabelHorizonBars = 12;
// Five folds, scikit-learn's default n_splits for TimeSeriesSplit and KFold.
constexpr int64_t kFolds = 5;
constexpr double kEmbargoFraction = 0.01;
constexpr int64_t kStart = 1704067200LL * kNanosPerSecond;  // 2024-01-01T00:00:00Z
// Versions already registered under the benchmark's model name, so Register lists a
// directory of realistic size rather than an empty one.
constexpr int kExistingVersions = 10;
constexpr std::string_view kModelName = "bench_logistic";

// The 1M-row problem, built once; the smaller cases use its first rows.
const ClassificationData& Problem() {
  static const ClassificationData data = ClassificationProblem(kMillion, kFeatures);
  return data;
}

FeatureMatrix Matrix(int64_t rows) {
  const ClassificationData& data = Problem();
  FeatureMatrix x;
  for (int feature = 0; feature < kFeatures; ++feature) {
    char name[8];
    std::snprintf(name, sizeof(name), "f%02d", feature);
    x.columns.emplace_back(name);
  }
  x.rows = rows;
  x.values.assign(data.x.begin(), data.x.begin() + rows * kFeatures);
  return x;
}

std::span<const int> Labels(int64_t rows) { return std::span(Problem().labels).first(rows); }

std::vector<int64_t> MinuteTimestamps(int64_t rows) {
  std::vector<int64_t> timestamps(rows);
  for (int64_t row = 0; row < rows; ++row) timestamps[row] = kStart + row * kNanosPerMinute;
  return timestamps;
}

// Every case reports the best of three repetitions (BestOfThree, reference_run.h), as the
// Python reference does.

// scikit-learn's LogisticRegression(C=1.0) objective, solved by Newton to the default tol.
void BM_LogisticFit(benchmark::State& state) {
  const FeatureMatrix x = Matrix(state.range(0));
  const std::span<const int> labels = Labels(state.range(0));
  int iterations = 0;
  for (auto _ : state) {
    LogisticRegression model;
    if (!model.Fit(x, labels).ok() || !model.converged()) {
      state.SkipWithError("fit failed or did not converge");
      return;
    }
    iterations = model.iterations();
    benchmark::DoNotOptimize(model.coefficients().data());
  }
  state.counters["newton_iterations"] = iterations;
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LogisticFit)->Arg(kHundredThousand)->Arg(kMillion)->Apply(BestOfThree);

// The model the apply-side cases use, fitted once on all rows.
const LogisticRegression* FittedLogistic() {
  static LogisticRegression model;
  static const bool fitted = model.Fit(Matrix(kMillion), Labels(kMillion)).ok();
  return fitted ? &model : nullptr;
}

void BM_LogisticPredictProba(benchmark::State& state) {
  const FeatureMatrix x = Matrix(state.range(0));
  const LogisticRegression* model = FittedLogistic();
  if (model == nullptr) {
    state.SkipWithError("fit failed");
    return;
  }
  for (auto _ : state) {
    auto probabilities = model->PredictProba(x);
    if (!probabilities.ok()) {
      state.SkipWithError("predict failed");
      return;
    }
    benchmark::DoNotOptimize(probabilities->values.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LogisticPredictProba)->Arg(kMillion)->Apply(BestOfThree);

// Ranking metrics over the true event probabilities (continuous: almost no tied scores).
template <Result<double> (*Metric)(std::span<const int>, std::span<const double>,
                                   std::span<const double>)>
void RankingMetric(benchmark::State& state) {
  const std::span<const int> labels = Labels(state.range(0));
  const std::span<const double> scores = std::span(Problem().probability).first(state.range(0));
  for (auto _ : state) {
    Result<double> value = Metric(labels, scores, {});
    if (!value.ok()) {
      state.SkipWithError("metric failed");
      return;
    }
    benchmark::DoNotOptimize(*value);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_RocAuc(benchmark::State& state) { RankingMetric<RocAuc>(state); }
BENCHMARK(BM_RocAuc)->Arg(kMillion)->Apply(BestOfThree);

void BM_AveragePrecision(benchmark::State& state) { RankingMetric<AveragePrecision>(state); }
BENCHMARK(BM_AveragePrecision)->Arg(kMillion)->Apply(BestOfThree);

void BM_RobustZscoreFit(benchmark::State& state) {
  const FeatureMatrix x = Matrix(state.range(0));
  for (auto _ : state) {
    RobustZscore model;
    if (!model.Fit(x).ok()) {
      state.SkipWithError("fit failed");
      return;
    }
    benchmark::DoNotOptimize(model.threshold_raw());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RobustZscoreFit)->Arg(kMillion)->Apply(BestOfThree);

// Raw score, 0..100 score, flag and per-feature contributions of every row.
void BM_RobustZscoreScore(benchmark::State& state) {
  const FeatureMatrix x = Matrix(state.range(0));
  RobustZscore model;
  if (!model.Fit(x).ok()) {
    state.SkipWithError("fit failed");
    return;
  }
  for (auto _ : state) {
    auto scores = model.Score(x);
    if (!scores.ok()) {
      state.SkipWithError("score failed");
      return;
    }
    benchmark::DoNotOptimize(scores->raw.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RobustZscoreScore)->Arg(kMillion)->Apply(BestOfThree);

void BM_LabelWindowsFromHorizonBars(benchmark::State& state) {
  const std::vector<int64_t> timestamps = MinuteTimestamps(state.range(0));
  for (auto _ : state) {
    auto windows = LabelWindows::FromHorizonBars(timestamps, kLabelHorizonBars);
    if (!windows.ok()) {
      state.SkipWithError("windows failed");
      return;
    }
    benchmark::DoNotOptimize(windows->end_ts.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LabelWindowsFromHorizonBars)->Arg(kMillion)->Apply(BestOfThree);

// Laid out as scikit-learn's TimeSeriesSplit(n_splits=5) on n rows lays out its folds:
// test folds of n / 6 rows at the end, an expanding training set before each. Purging the
// 12-bar label windows drops the 12 training rows before each test fold, so the folds equal
// TimeSeriesSplit(n_splits=5, gap=12)'s (the reference script checks this).
WalkForwardOptions TimeSeriesSplitLayout(int64_t rows) {
  WalkForwardOptions options;
  options.mode = WindowMode::kExpanding;
  options.test_size = rows / (kFolds + 1);
  options.train_size = rows - kFolds * options.test_size;
  return options;
}

PurgedKFoldOptions KFoldLayout() {
  PurgedKFoldOptions options;
  options.k = kFolds;
  options.embargo_fraction = kEmbargoFraction;
  return options;
}

// Folds of row indices, materialised (every train and test index), from prebuilt windows.
template <typename Split>
void SplitRows(benchmark::State& state, Split split) {
  auto windows = LabelWindows::FromHorizonBars(MinuteTimestamps(state.range(0)), kLabelHorizonBars);
  if (!windows.ok()) {
    state.SkipWithError("windows failed");
    return;
  }
  for (auto _ : state) {
    auto folds = split(*windows);
    if (!folds.ok() || static_cast<int64_t>(folds->size()) != kFolds) {
      state.SkipWithError("split failed");
      return;
    }
    benchmark::DoNotOptimize(folds->data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_WalkForwardSplit(benchmark::State& state) {
  SplitRows(state, [&state](const LabelWindows& windows) {
    return WalkForwardSplit(TimeSeriesSplitLayout(state.range(0)), windows);
  });
}
BENCHMARK(BM_WalkForwardSplit)->Arg(kMillion)->Apply(BestOfThree);

void BM_PurgedKFoldSplit(benchmark::State& state) {
  SplitRows(state,
            [](const LabelWindows& windows) { return PurgedKFoldSplit(KFoldLayout(), windows); });
}
BENCHMARK(BM_PurgedKFoldSplit)->Arg(kMillion)->Apply(BestOfThree);

// --- the registry: a file round trip of the fitted logistic model ---

Manifest BenchManifest(const LogisticRegression& model) {
  Manifest manifest;
  manifest.name = std::string(kModelName);
  manifest.feature_set = {"bench", "0123456789abcdef", model.feature_names()};
  manifest.training_data.instruments = {"bench:BTC/USDT"};
  manifest.training_data.from = Timestamp(kStart);
  manifest.training_data.to = Timestamp(kStart + (kMillion - 1) * kNanosPerMinute);
  manifest.training_data.rows = kMillion;
  return manifest;
}

// A registry in a fresh temp dir holding kExistingVersions versions of the model.
Result<ModelRegistry> FreshRegistry(const LogisticRegression& model) {
  const fs::path dir = fs::temp_directory_path() / "vigil-bench-models";
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  VIGIL_ASSIGN_OR_RETURN(ModelRegistry registry, ModelRegistry::Open(dir));
  for (int version = 0; version < kExistingVersions; ++version) {
    VIGIL_RETURN_IF_ERROR(registry.Register(model, BenchManifest(model)).status());
  }
  return registry;
}

// Removes a version registered by the benchmark. Not ModelRegistry::Delete: that leaves a
// tombstone file per deleted version, and thousands of them would make later Registers
// list an ever larger directory.
void DropVersion(const ModelRegistry& registry, int64_t version) {
  std::error_code ignored;
  fs::remove_all(registry.dir() / kModelName / std::to_string(version), ignored);
}

enum class RegistryStep { kRegister, kLoad, kRegisterLoad };

// Register a new version, Load the newest existing one, or Register then Load the new one.
void BM_RegistryLogistic(benchmark::State& state, RegistryStep step) {
  const bool do_register = step != RegistryStep::kLoad;
  const bool do_load = step != RegistryStep::kRegister;
  const LogisticRegression* model = FittedLogistic();
  if (model == nullptr) {
    state.SkipWithError("fit failed");
    return;
  }
  auto registry = FreshRegistry(*model);
  if (!registry.ok()) {
    state.SkipWithError(registry.status().ToString().c_str());
    return;
  }
  const std::string latest = std::string(kModelName) + "@" + std::to_string(kExistingVersions);
  for (auto _ : state) {
    std::string reference = latest;
    int64_t version = 0;
    if (do_register) {
      auto stored = registry->Register(*model, BenchManifest(*model));
      if (!stored.ok()) {
        state.SkipWithError(stored.status().ToString().c_str());
        return;
      }
      version = stored->version;
      reference = std::string(kModelName) + "@" + std::to_string(version);
    }
    if (do_load) {
      auto loaded = registry->Load(reference);
      if (!loaded.ok()) {
        state.SkipWithError(loaded.status().ToString().c_str());
        return;
      }
      benchmark::DoNotOptimize(loaded->model.get());
    }
    if (do_register) {
      state.PauseTiming();
      DropVersion(*registry, version);
      state.ResumeTiming();
    }
  }
  std::error_code ignored;
  fs::remove_all(registry->dir(), ignored);
}
void RegistryRepetitions(benchmark::internal::Benchmark* bench) {
  BestOfThree(bench);
  bench->Unit(benchmark::kMicrosecond);
}
BENCHMARK_CAPTURE(BM_RegistryLogistic, register, RegistryStep::kRegister)
    ->Apply(RegistryRepetitions);
BENCHMARK_CAPTURE(BM_RegistryLogistic, load, RegistryStep::kLoad)->Apply(RegistryRepetitions);
BENCHMARK_CAPTURE(BM_RegistryLogistic, register_load, RegistryStep::kRegisterLoad)
    ->Apply(RegistryRepetitions);

// --- inputs and results for the reference script ---

nlohmann::json FoldSizes(const std::vector<Fold>& folds) {
  nlohmann::json out = nlohmann::json::array();
  for (const Fold& fold : folds) {
    out.push_back({{"train", fold.train.size()},
                   {"test_first", fold.test.front()},
                   {"test", fold.test.size()},
                   {"purged", fold.purged},
                   {"embargoed", fold.embargoed}});
  }
  return out;
}

Result<nlohmann::json> LogisticResult(int64_t rows) {
  LogisticRegression model;
  VIGIL_RETURN_IF_ERROR(model.Fit(Matrix(rows), Labels(rows)));
  return nlohmann::json{{"coefficients", model.coefficients()},
                        {"intercept", model.intercept()},
                        {"iterations", model.iterations()},
                        {"converged", model.converged()},
                        {"objective", model.objective()}};
}

// What Vigil computes on the benchmark data, for the script to compare with its own.
Result<nlohmann::json> VigilResults() {
  const ClassificationData& data = Problem();
  nlohmann::json out = {{"rows", data.rows}, {"features", data.features}};
  for (int64_t rows : {kHundredThousand, kMillion}) {
    VIGIL_ASSIGN_OR_RETURN(out["logistic"][std::to_string(rows)], LogisticResult(rows));
  }
  VIGIL_ASSIGN_OR_RETURN(out["roc_auc"], RocAuc(data.labels, data.probability));
  VIGIL_ASSIGN_OR_RETURN(out["average_precision"], AveragePrecision(data.labels, data.probability));
  RobustZscore zscore;
  VIGIL_RETURN_IF_ERROR(zscore.Fit(Matrix(kMillion)));
  VIGIL_ASSIGN_OR_RETURN(AnomalyScores scores, zscore.Score(Matrix(kMillion)));
  double score_sum = 0;
  for (double score : scores.score) score_sum += score;
  out["zscore"] = {{"medians", zscore.medians()},
                   {"scales", zscore.scales()},
                   {"median_raw", zscore.median_raw()},
                   {"threshold_raw", zscore.threshold_raw()},
                   {"flagged", std::count(scores.flag.begin(), scores.flag.end(), true)},
                   {"score_sum", score_sum}};
  VIGIL_ASSIGN_OR_RETURN(LabelWindows windows, LabelWindows::FromHorizonBars(
                                                   MinuteTimestamps(kMillion), kLabelHorizonBars));
  VIGIL_ASSIGN_OR_RETURN(std::vector<Fold> walk_forward,
                         WalkForwardSplit(TimeSeriesSplitLayout(kMillion), windows));
  VIGIL_ASSIGN_OR_RETURN(std::vector<Fold> purged, PurgedKFoldSplit(KFoldLayout(), windows));
  out["walk_forward"] = FoldSizes(walk_forward);
  out["purged_kfold"] = FoldSizes(purged);
  return out;
}

// DIR/x.f64 (rows x 20 float64, row-major, little-endian), DIR/labels.u8, DIR/scores.f64
// (the true probabilities, the ranking metrics' scores) and DIR/vigil.json.
Status WriteReferenceInputs(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return IoError(dir.string() + ": " + error.message());
  const ClassificationData& data = Problem();
  VIGIL_RETURN_IF_ERROR(WriteBinary(dir / "x.f64", data.x));
  VIGIL_RETURN_IF_ERROR(
      WriteBinary(dir / "labels.u8", std::vector<uint8_t>(data.labels.begin(), data.labels.end())));
  VIGIL_RETURN_IF_ERROR(WriteBinary(dir / "scores.f64", data.probability));
  VIGIL_ASSIGN_OR_RETURN(nlohmann::json results, VigilResults());
  return WriteJson(dir / "vigil.json", results);
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  return vigil::bench::BenchmarkMain(argc, argv, "models_benchmark",
                                     vigil::bench::WriteReferenceInputs);
}
