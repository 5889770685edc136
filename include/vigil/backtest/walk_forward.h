// Walk-forward retraining inside a backtest, as FreqAI does it: train on the last `train`
// period, trade the next `step` with that model, retrain, repeat. Each model is fitted by the
// training job's own code (training_job.h: BuildTrainingSet, then FitModel with the config's
// model, seed and imbalance handling), so a backtest trades exactly what `vigil train` would
// have produced at that point in time.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::TrainingConfig config, vigil::LoadTrainingConfig("dir.yaml"));
//   vigil::WalkForwardBacktestOptions options;
//   options.train_ns = 30 * vigil::kNanosPerDay;
//   options.step_ns = 7 * vigil::kNanosPerDay;
//   options.cache_dir = "wf-cache";
//   VIGIL_ASSIGN_OR_RETURN(vigil::WalkForwardRun run, vigil::RunWalkForward(config, *store,
//   options));
//   // run.signals[i]: the out-of-sample outputs for config.instruments[i]
//
// No lookahead. Window k trades the decisions at bar closes in [T_k, T_k + step), where T_k =
// (the first feature row's close) + train + k x step. Its models are fitted on the labelled
// rows whose label was fully known by T_k (the bar holding its last price closed at or before
// T_k: purged, never merely embargoed) and, for a sliding window, that started at or after
// T_k - train. A row's signal is the window's prediction from its features, which read only
// bars closed by the row's own close. Nothing at or before a time t depends on data after t.
//
// Ensemble. The models of the last `ensemble` windows (the current one and its predecessors)
// each predict; the signal is their mean and `disagreement` their sample standard deviation,
// which the strategy's disagreement limit reads. A window with too few rows to fit (or one
// class only) fits nothing: it predicts with the members it has, or not at all (NaN).
//
// Reuse. With a cache_dir, every window's model (config.json and weights) and all signals
// (signals.csv) are written there with a manifest of what made them: the training config, the
// walk-forward options and the training set's fingerprint. `reuse` loads the signals of a
// matching manifest instead of retraining, so strategy parameters can be re-run in seconds;
// a manifest made from other data or settings is an error naming the difference.
//
// Thread-safety: a run uses the store and writes cache_dir; one run per cache at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/backtest/signals.h"
#include "vigil/core/status.h"
#include "vigil/pipeline/training_config.h"
#include "vigil/registry/registry.h"
#include "vigil/store/store.h"

namespace vigil {

struct WalkForwardBacktestOptions {
  int64_t train_ns = 30 * kNanosPerDay;  // train_days; > 0
  int64_t step_ns = 7 * kNanosPerDay;    // step_days; > 0
  bool expanding = false;           // train on everything known so far instead of the last train_ns
  int ensemble = 1;                 // the last N windows' models averaged, in [1, 10]
  int min_train_rows = 50;          // a window with fewer labelled rows fits nothing; >= 2
  std::filesystem::path cache_dir;  // "" = keep nothing
  bool reuse = false;               // needs cache_dir

  Status Validate() const;  // InvalidArgument naming the field
};

struct WalkForwardWindow {
  Timestamp train_from;  // the earliest training row's time (sliding windows)
  Timestamp trade_from;  // T_k: the model exists from here
  Timestamp trade_to;    // exclusive
  int64_t train_rows = 0;
  int64_t predicted_rows = 0;
  bool fitted = false;
  std::string note;  // why nothing was fitted, when it was not
};

struct WalkForwardRun {
  std::vector<ModelSignals> signals;  // one per config instrument, in config order
  std::vector<WalkForwardWindow> windows;
  std::string model_kind;
  bool reused = false;
  double fit_seconds = 0.0;  // time spent fitting (0 when reused)
};

Result<WalkForwardRun> RunWalkForward(const TrainingConfig& config, Store& store,
                                      const WalkForwardBacktestOptions& options);

// The signals of a registered model (`name@alias` or `name@version`) over the config's
// instruments and range, with the model's own feature set (a built-in set, recomputed). Not
// out of sample where the backtest overlaps the model's training data: `overlap_note` says
// so, naming the training range, and the caller should show it.
struct RegisteredSignals {
  std::vector<ModelSignals> signals;
  Manifest manifest;
  std::string overlap_note;  // empty when the backtest starts after the training data
};
Result<RegisteredSignals> ScoreRegisteredModel(const ModelRegistry& registry,
                                               std::string_view reference, Store& store,
                                               const std::vector<std::string>& instruments,
                                               const std::string& timeframe);

}  // namespace vigil
