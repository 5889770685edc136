// The supervised risk models (vigil/models/xgboost.h) at the sizes of issue 6's performance
// targets: a 200-tree, depth-6 "xgboost" classifier on 50,000 x 30 rows of the synthetic
// event-prediction problem (bench_data.h), then
//   - one row through the Classifier interface (PredictProba on a 1-row FeatureMatrix), with
//     the per-call median as the counter median_us (target < 20 us);
//   - batches of 1,000 rows (items/s = rows/s; target >= 1M rows/s);
//   - one row through a 100-tree "random_forest";
//   all with the model's defaults (nthread 0 = all cores; Vigil's compiled predictor), and
//   the same one-row and 1,000-row cases with {"predictor": "xgboost"} (the same trees
//   through XGBoost's own predictor, the fallback path), and one row straight through the
//   C API's XGBoosterPredictFromDense;
//   - training: a bare XGBoost C-API call (DMatrix from the same doubles + 200
//     XGBoosterUpdateOneIter) against CreateModel("xgboost") + Fit and the training job's
//     vigil::FitModel on the same rows and parameters (target: Vigil's overhead < 20%).
// scripts/bench/xgboost_reference.py times python3-xgboost (inplace_predict, xgboost.train)
// and scikit-learn's RandomForestClassifier.predict_proba on one row on the same rows:
// `xgboost_benchmark --write_reference_inputs=DIR` writes DIR/x.f64 (50,000 x 30 row-major
// doubles), DIR/labels.u8 and DIR/vigil.json (parameters and Vigil's mean probability).
#include <benchmark/benchmark.h>
#include <unistd.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "bench_data.h"
#include "reference_run.h"
#include "vigil/models/model.h"
#include "vigil/pipeline/training_job.h"

namespace vigil::bench {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kRows = 50'000;
constexpr int kFeatures = 30;
constexpr int64_t kBatchRows = 1'000;
constexpr int kTrees = 200;
constexpr int kDepth = 6;
constexpr int kForestTrees = 100;
constexpr uint64_t kDataSeed = 7;
constexpr uint64_t kModelSeed = 1;

// The model of the issue's targets; nthread 0 = all cores, as python3-xgboost's default.
const nlohmann::json& BoostingParams() {
  static const nlohmann::json params = {{"n_estimators", kTrees},
                                        {"max_depth", kDepth},
                                        {"learning_rate", 0.1},
                                        {"seed", kModelSeed}};
  return params;
}
const nlohmann::json& ForestParams() {
  static const nlohmann::json params = {
      {"n_estimators", kForestTrees}, {"max_depth", kDepth}, {"seed", kModelSeed}};
  return params;
}

const ClassificationData& Data() {
  static const ClassificationData data = ClassificationProblem(kRows, kFeatures, kDataSeed);
  return data;
}

const FeatureMatrix& Matrix() {
  static const FeatureMatrix x = [] {
    FeatureMatrix out;
    for (int feature = 0; feature < kFeatures; ++feature) {
      out.columns.push_back("f" + std::to_string(feature));
    }
    out.rows = kRows;
    out.values = Data().x;
    return out;
  }();
  return x;
}

std::unique_ptr<Model> FitOrDie(const std::string& kind, const nlohmann::json& params) {
  Result<std::unique_ptr<Model>> model = CreateModel(kind, params);
  if (!model.ok()) std::abort();
  if (!AsClassifier(model->get())->Fit(Matrix(), Data().labels).ok()) std::abort();
  return std::move(model).value();
}

// Never destroyed: a booster must not be freed after XGBoost's per-thread state is gone at
// exit (see the lifetime note in vigil/models/xgboost.h).
const Classifier& FittedBooster() {
  static const Model* model = FitOrDie("xgboost", BoostingParams()).release();
  return *AsClassifier(model);
}
const Classifier& FittedForest() {
  static const Model* model = FitOrDie("random_forest", ForestParams()).release();
  return *AsClassifier(model);
}
// FittedBooster's trees behind XGBoost's predictor (saved, then loaded with
// {"predictor": "xgboost"}).
const Classifier& FittedBoosterXGBoostPredictor() {
  static const Model* model = [] {
    const fs::path dir =
        fs::temp_directory_path() / ("vigil_xgboost_bench_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    nlohmann::json params = BoostingParams();
    params["predictor"] = "xgboost";
    Result<std::unique_ptr<Model>> copy = CreateModel("xgboost", params);
    if (!copy.ok() || !FittedBooster().SaveWeights(dir).ok() || !(*copy)->LoadWeights(dir).ok()) {
      std::abort();
    }
    fs::remove_all(dir);
    return std::move(copy).value().release();
  }();
  return *AsClassifier(model);
}

FeatureMatrix Rows(int64_t first, int64_t count) {
  FeatureMatrix x;
  x.columns = Matrix().columns;
  x.rows = count;
  x.values.assign(Matrix().values.begin() + first * kFeatures,
                  Matrix().values.begin() + (first + count) * kFeatures);
  return x;
}

double Median(std::vector<double> values) {
  std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
  return values[values.size() / 2];
}

// A live feed: one new row per call, each a different row of the data. The per-call
// median (the issue's target statistic) is reported beside the mean.
void PredictOneRow(benchmark::State& state, const Classifier& classifier) {
  FeatureMatrix one = Rows(0, 1);
  std::vector<double> micros;
  int64_t next = 0;
  for (auto _ : state) {
    std::copy_n(Matrix().values.begin() + (next++ % kRows) * kFeatures, kFeatures,
                one.values.begin());
    const auto start = std::chrono::steady_clock::now();
    Result<ProbabilityMatrix> p = classifier.PredictProba(one);
    micros.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count());
    if (!p.ok()) {
      state.SkipWithError(p.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(p->values.data());
  }
  state.counters["median_us"] = Median(std::move(micros));
  state.SetItemsProcessed(state.iterations());
}

void BM_XGBoostPredictOneRow(benchmark::State& state) { PredictOneRow(state, FittedBooster()); }
void BM_XGBoostPredictOneRowXGBoostPredictor(benchmark::State& state) {
  PredictOneRow(state, FittedBoosterXGBoostPredictor());
}
void BM_RandomForestPredictOneRow(benchmark::State& state) { PredictOneRow(state, FittedForest()); }

void PredictBatch(benchmark::State& state, const Classifier& classifier) {
  constexpr int64_t kBatches = kRows / kBatchRows;
  std::vector<FeatureMatrix> batches;
  for (int64_t batch = 0; batch < kBatches; ++batch) {
    batches.push_back(Rows(batch * kBatchRows, kBatchRows));
  }
  int64_t next = 0;
  for (auto _ : state) {
    Result<ProbabilityMatrix> p = classifier.PredictProba(batches[next++ % kBatches]);
    if (!p.ok()) {
      state.SkipWithError(p.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(p->values.data());
  }
  state.SetItemsProcessed(state.iterations() * kBatchRows);
}

void BM_XGBoostPredictBatch(benchmark::State& state) { PredictBatch(state, FittedBooster()); }
void BM_XGBoostPredictBatchXGBoostPredictor(benchmark::State& state) {
  PredictBatch(state, FittedBoosterXGBoostPredictor());
}

// --- training ---

bool Ok(int return_code, benchmark::State& state) {
  if (return_code == 0) return true;
  state.SkipWithError(XGBGetLastError());
  return false;
}

// base_score "auto": the positive rate of the labels.
double PositiveRate() {
  const std::vector<int>& labels = Data().labels;
  return std::accumulate(labels.begin(), labels.end(), 0.0) / static_cast<double>(labels.size());
}

std::string Number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

// What Vigil's "xgboost" kind sets for BoostingParams (src/models/xgboost/xgb_booster.cc),
// base_score included, so both train the same trees.
const std::vector<std::pair<std::string, std::string>>& BareParams() {
  static const std::vector<std::pair<std::string, std::string>> params = {
      {"base_score", Number(PositiveRate())},
      {"tree_method", "hist"},
      {"objective", "binary:logistic"},
      {"eval_metric", "logloss"},
      {"eta", "0.1"},
      {"max_depth", std::to_string(kDepth)},
      {"nthread", "0"},
      {"seed", std::to_string(kModelSeed)},
      {"verbosity", "0"}};
  return params;
}

// The bare C API: DMatrix from the same row-major doubles, labels, 200 rounds.
void BM_XGBoostTrainBareCApi(benchmark::State& state) {
  const FeatureMatrix& x = Matrix();
  const std::vector<float> labels(Data().labels.begin(), Data().labels.end());
  const std::string array = R"({"data":[)" +
                            std::to_string(reinterpret_cast<uintptr_t>(x.values.data())) +
                            R"(,true],"shape":[)" + std::to_string(x.rows) + "," +
                            std::to_string(x.cols()) + R"(],"typestr":"<f8","version":3})";
  for (auto _ : state) {
    DMatrixHandle matrix = nullptr;
    BoosterHandle booster = nullptr;
    bool ok = Ok(XGDMatrixCreateFromDense(array.c_str(), R"({"missing":NaN,"nthread":0})", &matrix),
                 state) &&
              Ok(XGDMatrixSetFloatInfo(matrix, "label", labels.data(), labels.size()), state) &&
              Ok(XGBoosterCreate(&matrix, 1, &booster), state);
    for (const auto& [name, value] : BareParams()) {
      ok = ok && Ok(XGBoosterSetParam(booster, name.c_str(), value.c_str()), state);
    }
    for (int round = 0; ok && round < kTrees; ++round) {
      ok = Ok(XGBoosterUpdateOneIter(booster, round, matrix), state);
    }
    if (booster != nullptr) XGBoosterFree(booster);
    if (matrix != nullptr) XGDMatrixFree(matrix);
    if (!ok) return;
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

// One row straight through XGBoosterPredictFromDense on a booster trained by the bare C API
// with the same parameters: what XGBoost itself costs, so that the Vigil case's overhead
// (input checks, shape handling, the ProbabilityMatrix) can be read off.
void BM_XGBoostPredictOneRowBareCApi(benchmark::State& state) {
  static BoosterHandle booster = [] {  // never freed: see FittedBooster
    const std::vector<float> labels(Data().labels.begin(), Data().labels.end());
    DMatrixHandle matrix = nullptr;
    BoosterHandle handle = nullptr;
    const std::string array = R"({"data":[)" +
                              std::to_string(reinterpret_cast<uintptr_t>(Matrix().values.data())) +
                              R"(,true],"shape":[)" + std::to_string(kRows) + "," +
                              std::to_string(kFeatures) + R"(],"typestr":"<f8","version":3})";
    if (XGDMatrixCreateFromDense(array.c_str(), R"({"missing":NaN,"nthread":0})", &matrix) != 0 ||
        XGDMatrixSetFloatInfo(matrix, "label", labels.data(), labels.size()) != 0 ||
        XGBoosterCreate(&matrix, 1, &handle) != 0) {
      std::abort();
    }
    for (const auto& [name, value] : BareParams()) {
      if (XGBoosterSetParam(handle, name.c_str(), value.c_str()) != 0) std::abort();
    }
    for (int round = 0; round < kTrees; ++round) {
      if (XGBoosterUpdateOneIter(handle, round, matrix) != 0) std::abort();
    }
    XGDMatrixFree(matrix);
    return handle;
  }();
  const char* config = R"({"type":0,"training":false,"iteration_begin":0,"iteration_end":0,)"
                       R"("strict_shape":true,"missing":NaN,"cache_id":0})";
  std::vector<double> row(kFeatures);
  int64_t next = 0;
  for (auto _ : state) {
    std::copy_n(Matrix().values.begin() + (next++ % kRows) * kFeatures, kFeatures, row.begin());
    const std::string array =
        R"({"data":[)" + std::to_string(reinterpret_cast<uintptr_t>(row.data())) +
        R"(,true],"shape":[1,)" + std::to_string(kFeatures) + R"(],"typestr":"<f8","version":3})";
    const bst_ulong* shape = nullptr;
    bst_ulong dims = 0;
    const float* out = nullptr;
    if (!Ok(XGBoosterPredictFromDense(booster, array.c_str(), config, nullptr, &shape, &dims, &out),
            state)) {
      return;
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}

// The model interface: CreateModel + Fit.
void BM_XGBoostTrainVigilFit(benchmark::State& state) {
  for (auto _ : state) {
    Result<std::unique_ptr<Model>> model = CreateModel("xgboost", BoostingParams());
    const Status status =
        model.ok() ? AsClassifier(model->get())->Fit(Matrix(), Data().labels) : model.status();
    if (!status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(model->get());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

// The training job's fit step (vigil::FitModel) on a TrainingSet of the same rows.
void BM_XGBoostTrainFitModel(benchmark::State& state) {
  TrainingConfig config;
  config.name = "bench";
  config.model_kind = "xgboost";
  config.model_params = BoostingParams();
  config.seed = kModelSeed;
  TrainingSet set;
  set.x = Matrix();
  set.labels.assign(Data().labels.begin(), Data().labels.end());
  for (auto _ : state) {
    Result<std::unique_ptr<Model>> model = FitModel(config, set, {});
    if (!model.ok()) {
      state.SkipWithError(model.status().ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(model->get());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
}

void OneRowCase(benchmark::internal::Benchmark* bench) {
  BestOfThree(bench);
  bench->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_XGBoostPredictOneRow)->Name("xgboost_predict_one_row")->Apply(OneRowCase);
BENCHMARK(BM_XGBoostPredictOneRowXGBoostPredictor)
    ->Name("xgboost_predict_one_row_xgboost_predictor")
    ->Apply(OneRowCase);
BENCHMARK(BM_XGBoostPredictOneRowBareCApi)->Name("xgboost_predict_one_row_capi")->Apply(OneRowCase);
BENCHMARK(BM_XGBoostPredictBatch)->Name("xgboost_predict_1000_rows")->Apply(BestOfThree);
BENCHMARK(BM_XGBoostPredictBatchXGBoostPredictor)
    ->Name("xgboost_predict_1000_rows_xgboost_predictor")
    ->Apply(BestOfThree);
BENCHMARK(BM_RandomForestPredictOneRow)->Name("random_forest_predict_one_row")->Apply(OneRowCase);
BENCHMARK(BM_XGBoostTrainBareCApi)->Name("xgboost_train_50k_x30_capi")->Apply(BestOfThree);
BENCHMARK(BM_XGBoostTrainVigilFit)->Name("xgboost_train_50k_x30")->Apply(BestOfThree);
BENCHMARK(BM_XGBoostTrainFitModel)->Name("xgboost_train_50k_x30_fitmodel")->Apply(BestOfThree);

Status WriteReferenceInputs(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return IoError(dir.string() + ": " + error.message());
  VIGIL_RETURN_IF_ERROR(WriteBinary(dir / "x.f64", Data().x));
  const std::vector<uint8_t> labels(Data().labels.begin(), Data().labels.end());
  VIGIL_RETURN_IF_ERROR(WriteBinary(dir / "labels.u8", labels));
  VIGIL_ASSIGN_OR_RETURN(ProbabilityMatrix p, FittedBooster().PredictProba(Matrix()));
  double mean = 0;
  for (int64_t row = 0; row < p.rows(); ++row) mean += p.at(row, 1);
  return WriteJson(dir / "vigil.json", {{"rows", kRows},
                                        {"features", kFeatures},
                                        {"batch_rows", kBatchRows},
                                        {"trees", kTrees},
                                        {"max_depth", kDepth},
                                        {"learning_rate", 0.1},
                                        {"forest_trees", kForestTrees},
                                        {"seed", kModelSeed},
                                        {"base_score", PositiveRate()},
                                        {"mean_probability", mean / static_cast<double>(kRows)}});
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  return vigil::bench::BenchmarkMain(argc, argv, "xgboost_benchmark",
                                     vigil::bench::WriteReferenceInputs);
}
