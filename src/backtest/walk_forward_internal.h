// Shared by walk_forward.cc (the windows), walk_forward_cache.cc (the saved runs of --reuse)
// and registered_signals.cc (a registry model's signals).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "vigil/backtest/walk_forward.h"
#include "vigil/pipeline/training_job.h"

namespace vigil::backtest_internal {

// An instrument's feature rows with every feature defined, in time order.
struct FeatureRows {
  std::vector<int64_t> ts;  // bar open times
  FeatureMatrix x;
  int64_t bar_ns = 0;  // the bar spacing (0 with fewer than two rows)
};

Result<FeatureRows> ComputeFeatureRows(const TrainingConfig& config, Store& store,
                                       const std::string& instrument);

// P(class 1) of a binary classifier, or a regressor's prediction, per row.
Result<std::vector<double>> PredictSignal(const Model& model, const FeatureMatrix& x);

// What made a run: the training settings, the walk-forward options and the data.
nlohmann::json RunIdentity(const TrainingConfig& config, const WalkForwardBacktestOptions& options,
                           const TrainingSet& set);

// Writes manifest.json, signals.csv and models/window_<k>/ under `dir`.
Status SaveRun(const std::filesystem::path& dir, const nlohmann::json& identity,
               const WalkForwardRun& run, const std::vector<std::pair<int, const Model*>>& models);

// The saved run of `identity`; NotFound when there is none, FailedPrecondition naming the
// first difference when the saved one was made otherwise.
Result<WalkForwardRun> LoadCachedRun(const std::filesystem::path& dir,
                                     const nlohmann::json& identity);

}  // namespace vigil::backtest_internal
