// The isolation forests (vigil/models/anomaly/isolation_forest.h, extended_iforest.h) at the
// sizes of issue 5's performance targets: fit + score of 100,000 x 40 and scoring 1,000,000 x
// 40 on one thread and on all cores, scoring one new row (the streaming case), and the
// extended forest's fit + score. scripts/bench/sklearn_iforest.py times scikit-learn's
// IsolationForest on the same rows: `iforest_benchmark --write_reference_inputs=DIR` writes
// them (DIR/x.f64, 1,000,000 x 40 row-major doubles; the 100,000-row cases use the first
// rows) and Vigil's mean raw scores (DIR/vigil.json) for the script to read.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "reference_run.h"
#include "vigil/core/rng.h"
#include "vigil/models/anomaly/extended_iforest.h"
#include "vigil/models/anomaly/isolation_forest.h"

namespace vigil::bench {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMillion = 1'000'000;
constexpr int64_t kHundredThousand = 100'000;
constexpr int kFeatures = 40;
constexpr uint64_t kDataSeed = 2024;
constexpr int kAllCores = -1;

// 1,000,000 x 40 standard normal values from one seeded stream, built once.
const std::vector<double>& Values() {
  static const std::vector<double> values = [] {
    Rng rng(kDataSeed);
    std::vector<double> out(kMillion * kFeatures);
    for (double& value : out) value = rng.Normal();
    return out;
  }();
  return values;
}

FeatureMatrix Rows(int64_t rows) {
  FeatureMatrix x;
  for (int feature = 0; feature < kFeatures; ++feature) {
    x.columns.push_back("f" + std::to_string(feature));
  }
  x.rows = rows;
  x.values.assign(Values().begin(), Values().begin() + rows * kFeatures);
  return x;
}

const FeatureMatrix& TrainingRows() {
  static const FeatureMatrix x = Rows(kHundredThousand);
  return x;
}

IsolationForestOptions ForestOptions(int n_jobs) {
  IsolationForestOptions options;  // scikit-learn's defaults: 100 trees of 256 rows
  options.n_jobs = n_jobs;
  return options;
}

// The forest the scoring cases use, fitted once on the 100,000 training rows.
const IsolationForest& FittedForest(int n_jobs) {
  static std::unique_ptr<IsolationForest> forests[2];
  std::unique_ptr<IsolationForest>& forest = forests[n_jobs == kAllCores ? 1 : 0];
  if (!forest) {
    forest = std::make_unique<IsolationForest>(ForestOptions(n_jobs));
    if (!forest->Fit(TrainingRows()).ok()) std::abort();
  }
  return *forest;
}

template <typename Forest, typename Options>
void FitScore(benchmark::State& state, const Options& options) {
  const FeatureMatrix& x = TrainingRows();
  for (auto _ : state) {
    Forest forest(options);
    auto scores = forest.FitScore(x);
    if (!scores.ok()) {
      state.SkipWithError(scores.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(scores->raw.data());
  }
  state.SetItemsProcessed(state.iterations() * x.rows);
}

void BM_IsolationForestFitScore(benchmark::State& state, int n_jobs) {
  FitScore<IsolationForest>(state, ForestOptions(n_jobs));
}

void BM_ExtendedForestFitScore(benchmark::State& state) {
  ExtendedIsolationForestOptions options;
  options.forest = ForestOptions(1);
  FitScore<ExtendedIsolationForest>(state, options);
}

void BM_IsolationForestScore(benchmark::State& state, int n_jobs) {
  static const FeatureMatrix x = Rows(kMillion);
  const IsolationForest& forest = FittedForest(n_jobs);
  for (auto _ : state) {
    auto scores = forest.Score(x);
    if (!scores.ok()) {
      state.SkipWithError(scores.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(scores->raw.data());
  }
  state.SetItemsProcessed(state.iterations() * x.rows);
}

// A live feed: one new row at a time, each a different row of the data.
void BM_IsolationForestScoreOneRow(benchmark::State& state) {
  const IsolationForest& forest = FittedForest(1);
  FeatureMatrix one = Rows(1);
  int64_t next = 0;
  for (auto _ : state) {
    std::copy_n(Values().begin() + (next++ % kHundredThousand) * kFeatures, kFeatures,
                one.values.begin());
    auto scores = forest.Score(one);
    if (!scores.ok()) {
      state.SkipWithError(scores.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(scores->raw.data());
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_IsolationForestFitScore, one_thread, 1)
    ->Name("iforest_fit_score_100k_x40")
    ->Apply(BestOfThree);
BENCHMARK_CAPTURE(BM_IsolationForestScore, one_thread, 1)
    ->Name("iforest_score_1m_x40")
    ->Apply(BestOfThree);
BENCHMARK_CAPTURE(BM_IsolationForestFitScore, all_cores, kAllCores)
    ->Name("iforest_fit_score_100k_x40_allcores")
    ->Apply(BestOfThree);
BENCHMARK_CAPTURE(BM_IsolationForestScore, all_cores, kAllCores)
    ->Name("iforest_score_1m_x40_allcores")
    ->Apply(BestOfThree);
BENCHMARK(BM_IsolationForestScoreOneRow)
    ->Name("iforest_score_one_row")
    ->Apply(BestOfThree)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ExtendedForestFitScore)
    ->Name("extended_iforest_fit_score_100k_x40")
    ->Apply(BestOfThree);

double Mean(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

Status WriteReferenceInputs(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return IoError(dir.string() + ": " + error.message());
  VIGIL_RETURN_IF_ERROR(WriteBinary(dir / "x.f64", Values()));
  IsolationForest forest(ForestOptions(kAllCores));
  VIGIL_ASSIGN_OR_RETURN(AnomalyScores training, forest.FitScore(TrainingRows()));
  VIGIL_ASSIGN_OR_RETURN(AnomalyScores all, forest.Score(Rows(kMillion)));
  return WriteJson(dir / "vigil.json", {{"rows", kMillion},
                                        {"training_rows", kHundredThousand},
                                        {"features", kFeatures},
                                        {"fit_score_mean_raw", Mean(training.raw)},
                                        {"score_1m_mean_raw", Mean(all.raw)}});
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  return vigil::bench::BenchmarkMain(argc, argv, "iforest_benchmark",
                                     vigil::bench::WriteReferenceInputs);
}
