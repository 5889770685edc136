// The distance and kernel anomaly detectors on 20,000 x 20: lof (fit + in-sample scores,
// one thread and all cores; scoring one new row) and ocsvm (fit + decision values on the
// training rows; fit alone; FitScore with the contributions of the flagged rows).
// scripts/run-benchmarks.sh compares them with scikit-learn on the same rows
// (scripts/bench/sklearn_density.py): `density_benchmark --write_reference_inputs=DIR` writes the
// rows and Vigil's scores for the script to time and check.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_data.h"
#include "reference_run.h"
#include "vigil/models/anomaly/lof.h"
#include "vigil/models/anomaly/ocsvm.h"

namespace vigil::bench {
namespace {

constexpr int64_t kRows = 20'000;
constexpr int kFeatures = 20;
constexpr int kAllCores = -1;

// The first kRows rows of the models benchmark's correlated features (bench_data.h).
const FeatureMatrix& Rows() {
  static const FeatureMatrix x = [] {
    const ClassificationData data = ClassificationProblem(kRows, kFeatures);
    FeatureMatrix out;
    for (int feature = 0; feature < kFeatures; ++feature) {
      char name[8];
      std::snprintf(name, sizeof(name), "f%02d", feature);
      out.columns.emplace_back(name);
    }
    out.rows = kRows;
    out.values = data.x;
    return out;
  }();
  return x;
}

// LocalOutlierFactor().fit(X).negative_outlier_factor_: fit and in-sample scores, on
// `n_jobs` threads (a template argument, so the case name carries no "/arg" suffix and
// matches the reference script's).
template <int n_jobs>
void BM_LofFitScore(benchmark::State& state) {
  const FeatureMatrix& x = Rows();
  for (auto _ : state) {
    LocalOutlierFactor lof(LocalOutlierFactorOptions{.n_jobs = n_jobs});
    auto scores = lof.FitScore(x);
    if (!scores.ok()) {
      state.SkipWithError(scores.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(scores->raw.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}
BENCHMARK(BM_LofFitScore<1>)->Name("lof_fit_score_20k_x20")->Apply(BestOfThree);
BENCHMARK(BM_LofFitScore<kAllCores>)->Name("lof_fit_score_20k_x20_all_cores")->Apply(BestOfThree);

// Novelty scoring of one new row against the fitted 20k rows (a live tick).
void BM_LofScoreOneRow(benchmark::State& state) {
  static LocalOutlierFactor lof;
  static const bool fitted = lof.Fit(Rows()).ok();
  if (!fitted) {
    state.SkipWithError("fit failed");
    return;
  }
  FeatureMatrix row{Rows().columns, 1,
                    std::vector<double>(Rows().row(123).begin(), Rows().row(123).end())};
  row.values[3] += 0.25;
  for (auto _ : state) {
    auto scores = lof.Score(row);
    benchmark::DoNotOptimize(scores->raw.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LofScoreOneRow)
    ->Name("lof_score_one_row")
    ->Apply(BestOfThree)
    ->Unit(benchmark::kMicrosecond);

// OneClassSVM().fit(X).decision_function(X) (rbf, gamma "scale", nu 0.5).
void BM_OcsvmFitScore(benchmark::State& state) {
  const FeatureMatrix& x = Rows();
  int support_vectors = 0;
  for (auto _ : state) {
    OneClassSvm svm;
    if (!svm.Fit(x).ok()) {
      state.SkipWithError("fit failed");
      return;
    }
    auto decision = svm.DecisionFunction(x);
    benchmark::DoNotOptimize(decision->data());
    support_vectors = svm.support_vectors();
  }
  state.counters["support_vectors"] = support_vectors;
  state.SetItemsProcessed(state.iterations() * kRows);
}
BENCHMARK(BM_OcsvmFitScore)->Name("ocsvm_fit_score_20k_x20")->Apply(BestOfThree);

// The libsvm training alone (Fit also computes the training decision values for the
// calibration): where ocsvm_fit_score_20k_x20's time goes.
void BM_OcsvmFit(benchmark::State& state) {
  const FeatureMatrix& x = Rows();
  for (auto _ : state) {
    OneClassSvm svm;
    if (!svm.Fit(x).ok()) {
      state.SkipWithError("fit failed");
      return;
    }
    benchmark::DoNotOptimize(svm.support_vectors());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}
BENCHMARK(BM_OcsvmFit)->Name("ocsvm_fit_20k_x20")->Apply(BestOfThree);

// Vigil's own fit + score: FitScore, i.e. the above plus calibrated scores and the
// leave-one-feature-out contributions of every flagged row (nu 0.5: about half of them).
void BM_OcsvmFitScoreExplained(benchmark::State& state) {
  const FeatureMatrix& x = Rows();
  for (auto _ : state) {
    OneClassSvm svm;
    auto scores = svm.FitScore(x);
    if (!scores.ok()) {
      state.SkipWithError(scores.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(scores->contributions.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}
BENCHMARK(BM_OcsvmFitScoreExplained)->Name("ocsvm_fit_score_explained_20k_x20")->Apply(BestOfThree);

// The rows (x.f64) and Vigil's answers on them (lof_raw.f64, ocsvm_decision.f64).
Status WriteReferenceInputs(const std::string& dir) {
  std::filesystem::create_directories(dir);
  const FeatureMatrix& x = Rows();
  VIGIL_RETURN_IF_ERROR(WriteBinary(std::filesystem::path(dir) / "x.f64", x.values));
  LocalOutlierFactor lof(LocalOutlierFactorOptions{.n_jobs = kAllCores});
  VIGIL_ASSIGN_OR_RETURN(AnomalyScores lof_scores, lof.FitScore(x));
  VIGIL_RETURN_IF_ERROR(WriteBinary(std::filesystem::path(dir) / "lof_raw.f64", lof_scores.raw));
  OneClassSvm svm;
  VIGIL_RETURN_IF_ERROR(svm.Fit(x));
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> decision, svm.DecisionFunction(x));
  VIGIL_RETURN_IF_ERROR(WriteBinary(std::filesystem::path(dir) / "ocsvm_decision.f64", decision));
  return WriteJson(std::filesystem::path(dir) / "density.json",
                   {{"rows", kRows},
                    {"features", kFeatures},
                    {"lof_search", lof.Describe()["search"]},
                    {"ocsvm_support_vectors", svm.support_vectors()}});
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  return vigil::bench::BenchmarkMain(argc, argv, "density_benchmark",
                                     vigil::bench::WriteReferenceInputs);
}
