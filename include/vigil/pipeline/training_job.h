// One training job, as `vigil train` and the scheduler run it:
//   load the config's instruments from the store -> compute the feature set -> labels ->
//   walk-forward or purged k-fold evaluation (out-of-fold metrics) -> fit on every
//   usable row -> register a new version -> promote it if it passes the gate -> purge old
//   versions by the retention policy.
// Each job is recorded in the store's training_jobs table: queued, then running, then
// succeeded (with the version and metrics) or failed (with the error). The record names
// the host and process; a job that finds an earlier row of its model still "running" from
// a process of this host that no longer exists marks it failed ("abandoned: ...").
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::TrainingConfig config, vigil::LoadTrainingConfig(path));
//   VIGIL_ASSIGN_OR_RETURN(vigil::TrainingResult result,
//                          vigil::RunTrainingJob(config, *store, registry, {}));
//   std::cout << result.manifest.version << (result.promoted ? " promoted" : "") << "\n";
//
// Promotion gate. The candidate is compared with the current version behind
// config.promotion.alias on the gate window: the test rows of the last (most recent)
// fold. The candidate's value is that fold's out-of-sample metric (its fold model never
// saw the window); the production model is scored on the same rows. The candidate passes
// when its value is at least production's minus the tolerance (at most plus it, for
// metrics where lower is better), when there is no production version yet, when the
// metric is "none", or when the production version cannot be loaded (a broken production
// model is worth replacing; the reason says so). It does not pass when production was
// fitted on a different feature set or task, since the two cannot be scored on the same
// rows; promote by hand then. When production was trained on data reaching into the gate
// window, its score there is in-sample and the comparison favours it; the decision
// records this (production_in_sample).
//
// Thread-safety: jobs for different names may run at once; two jobs of one name also may
// (the registry gives them distinct versions), though their promotions then race.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "vigil/core/clock.h"
#include "vigil/core/status.h"
#include "vigil/models/model.h"
#include "vigil/models/splitters.h"
#include "vigil/pipeline/training_config.h"
#include "vigil/registry/registry.h"
#include "vigil/store/store.h"

namespace vigil {

// The rows a model is fitted and evaluated on: every instrument's feature rows with all
// features defined and a complete label, merged in time order (ties: config order).
struct TrainingSet {
  FeatureMatrix x;
  std::vector<double> labels;      // one per row (class index as a double, or a return)
  LabelWindows windows;            // the span each label reads, for purging
  std::vector<int> instrument;     // per row, an index into config.instruments
  int64_t dropped_warmup = 0;      // rows with an undefined feature (indicator warm-up)
  int64_t dropped_incomplete = 0;  // rows whose label horizon ran past the data
  std::string fingerprint;         // "sha256:<hex>" of columns, timestamps, values, labels

  int64_t rows() const { return x.rows; }
  std::vector<int> ClassLabels() const;  // labels as ints (classification)
};

// Builds the training set. NotFound naming the instrument when it has no stored driver
// data; FailedPrecondition when no usable row is left (say why: warm-up, labels).
Result<TrainingSet> BuildTrainingSet(const TrainingConfig& config, Store& store);

// A new, unfitted model of the config's kind fitted on `rows` of the set (all rows when
// `rows` is empty).
Result<std::unique_ptr<Model>> FitModel(const TrainingConfig& config, const TrainingSet& set,
                                        std::span<const int64_t> rows);

// Validation metrics of a fitted model on `rows` of the set, by name:
//   classification: roc_auc, pr_auc (binary, when both classes occur), log_loss, brier
//     (binary), accuracy, precision, recall, f1 (binary, threshold 0.5);
//   regression: mae, rmse, mape (when no actual is 0);
//   anomaly: flag_rate, mean_score, and roc_auc / pr_auc of the raw score when labeled.
// A metric that is undefined on these rows (one class only) is left out.
Result<std::map<std::string, double>> ScoreModel(const Model& model, const TrainingConfig& config,
                                                 const TrainingSet& set,
                                                 std::span<const int64_t> rows);

struct Evaluation {
  std::vector<Fold> folds;  // after dropping rows with incomplete labels
  // Out-of-fold metrics: every fold's test predictions pooled, then scored; plus "folds"
  // and "test_rows".
  std::map<std::string, double> metrics;
  std::vector<int64_t> gate_rows;              // the last fold's test rows
  std::map<std::string, double> gate_metrics;  // the last fold model on gate_rows
};

// Runs the configured splitter and fits one model per fold.
Result<Evaluation> Evaluate(const TrainingConfig& config, const TrainingSet& set);

struct GateDecision {
  bool promote = false;
  std::string metric;
  std::optional<double> candidate;   // the candidate's value on the gate window
  std::optional<double> production;  // production's value there, when it was scored
  std::optional<int64_t> production_version;
  bool production_in_sample = false;
  std::string reason;  // one sentence, for logs and the job record
};

// The gate described above.
Result<GateDecision> DecidePromotion(const TrainingConfig& config, const TrainingSet& set,
                                     const Evaluation& evaluation, const ModelRegistry& registry);

struct TrainingJobOptions {
  const Clock* clock = nullptr;  // nullptr = the system clock; stamps the job and manifest
  std::string trigger_reason = "manual";
  // Overrides config.name when non-empty (`vigil train --name`).
  std::string name_override;
};

struct TrainingResult {
  int64_t job_id = 0;
  Manifest manifest;  // as registered (version, metrics, ...)
  bool promoted = false;
  GateDecision gate;
  std::vector<int64_t> purged_versions;  // removed by the retention policy
  int64_t folds = 0;
};

// Runs the whole job and records it. On failure the job row says "failed" with the error
// and nothing is registered (or, if registration already happened, the version stays and
// the error says what did not complete). The returned error carries the job id.
Result<TrainingResult> RunTrainingJob(const TrainingConfig& config, Store& store,
                                      ModelRegistry& registry, const TrainingJobOptions& options);

}  // namespace vigil
