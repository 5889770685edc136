// One training job, as `vigil train` and the scheduler run it:
//   load the config's instruments from the store -> compute the feature set -> labels ->
//   [hyperparameter search on walk-forward folds] -> walk-forward or purged k-fold
//   evaluation (out-of-fold metrics; class imbalance handled inside each training fold) ->
//   [probability calibration on the pooled out-of-fold predictions] -> fit on every usable
//   row -> [global importance] -> [the fallback model: evaluated, registered as
//   <name>_fallback, gated] -> register a new version -> promote it if it passes the
//   gate -> purge old versions by the retention policy. The bracketed stages run when the
//   config asks for them (risk_training.h, hyperparameter_search.h); what they found goes
//   into the manifest's `details`.
// A `task: forecast` config runs the stages of forecast_training.h instead (one stored
// series, rolling-origin validation, the same registration, promotion and record).
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
// fitted on a different feature set, task, risk task or horizons, since the two cannot be scored on
// the same rows; promote by hand then. When production was trained on data reaching into the gate
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
// Multi-horizon sets (config.horizons_ns) keep the rows whose LONGEST horizon's label is
// complete and carry one label vector per horizon; `labels` and `windows` are the longest
// horizon's, so folds built from `windows` purge every horizon.
struct TrainingSet {
  FeatureMatrix x;
  std::vector<double> labels;        // one per row (class index as a double, or a return)
  LabelWindows windows;              // the span each label reads, for purging
  std::vector<int64_t> horizons_ns;  // multi-horizon sets only (increasing)
  std::vector<std::vector<double>> horizon_labels;  // [horizon][row], multi-horizon only
  std::vector<int> instrument;                      // per row, an index into config.instruments
  int64_t dropped_warmup = 0;      // rows with an undefined feature (indicator warm-up)
  int64_t dropped_incomplete = 0;  // rows whose label horizon ran past the data
  std::string fingerprint;         // "sha256:<hex>" of columns, timestamps, values, labels

  int64_t rows() const { return x.rows; }
  bool multi_horizon() const { return !horizons_ns.empty(); }
  std::vector<int> ClassLabels() const;  // labels as ints (classification)
};

// Copies feature row `row` of a computed feature table into `values` (one per column);
// false when a value is not finite (the features are still warming up), so the row is
// neither trained on nor scored.
bool ReadDefinedFeatureRow(const Frame& table, int64_t row, std::span<double> values);

// Builds the training set. NotFound naming the instrument when it has no stored driver
// data; FailedPrecondition when no usable row is left (say why: warm-up, labels).
Result<TrainingSet> BuildTrainingSet(const TrainingConfig& config, Store& store);

// What FitModel did to the rows it fitted (per horizon for multi-horizon sets).
struct FitReport {
  std::vector<int64_t> rows_fitted;      // rows passed to Fit, synthetic SMOTE rows included
  std::vector<int64_t> synthetic;        // SMOTE rows added
  std::vector<double> scale_pos_weight;  // set by imbalance.method scale_pos_weight
};

// A new, unfitted model of the config's kind fitted on `rows` of the set (all rows when
// `rows` is empty). Classifiers get config.imbalance applied to exactly these rows: class
// weights (BalancedSampleWeights of their labels) passed to Fit, scale_pos_weight set from
// their labels, or SMOTE over them (seeded by config.seed); rows outside `rows` are never
// read. A multi-horizon set gives a MultiHorizonClassifier: one model per horizon, each
// fitted on the same rows with its horizon's labels. `report` (may be null) says what
// was done.
Result<std::unique_ptr<Model>> FitModel(const TrainingConfig& config, const TrainingSet& set,
                                        std::span<const int64_t> rows, FitReport* report = nullptr);

// Validation metrics of a fitted model on `rows` of the set, by name:
//   classification: roc_auc, pr_auc (binary, when both classes occur), log_loss, brier
//     (binary), accuracy, precision, recall, f1 (binary, threshold 0.5); multiclass:
//     accuracy and log_loss;
//   multi-horizon: each binary metric per horizon as "<metric>@<horizon>" ("pr_auc@5m"),
//     and under the plain name the mean over the horizons where it is defined;
//   regression: mae, rmse, mape (when no actual is 0);
//   anomaly: flag_rate, mean_score, and roc_auc / pr_auc of the raw score when labeled.
// A metric that is undefined on these rows (one class only) is left out.
Result<std::map<std::string, double>> ScoreModel(const Model& model, const TrainingConfig& config,
                                                 const TrainingSet& set,
                                                 std::span<const int64_t> rows);

// A fold model's outputs on its test rows: class probabilities (rows x classes), P(event)
// per horizon (rows x horizons, multi-horizon), or predictions / raw anomaly scores
// (rows x 1).
struct FoldPredictions {
  std::vector<int64_t> rows;  // the fold's test rows
  std::vector<double> values;
  int width = 1;               // values per row
  bool per_horizon = false;    // values are P(event) per horizon (multi-horizon models)
  std::vector<double> scores;  // anomaly detectors: 0-100 scores
  std::vector<bool> flags;     // anomaly detectors
};

struct Evaluation {
  std::vector<Fold> folds;                   // after dropping rows with incomplete labels
  std::vector<FoldPredictions> predictions;  // per fold, in fold order (empty folds skipped)
  // Out-of-fold metrics: every fold's test predictions pooled, then scored; plus "folds"
  // and "test_rows".
  std::map<std::string, double> metrics;
  std::vector<int64_t> gate_rows;              // the last fold's test rows
  std::map<std::string, double> gate_metrics;  // the last fold model on gate_rows
  // Per fold, the metrics of its own test rows (the fold-to-fold spread).
  std::vector<std::map<std::string, double>> fold_metrics;
  std::shared_ptr<const Model> last_fold_model;  // fitted without the gate rows
};

// The configured splitter's folds (walk-forward over time, or purged k-fold), with rows
// of incomplete labels removed. FailedPrecondition when not one test window fits.
Result<std::vector<Fold>> ValidationFolds(const TrainingConfig& config, const TrainingSet& set);

// Runs the configured splitter and fits one model per fold.
Result<Evaluation> Evaluate(const TrainingConfig& config, const TrainingSet& set);
// The same on given folds (the hyperparameter search's walk-forward folds).
Result<Evaluation> EvaluateOnFolds(const TrainingConfig& config, const TrainingSet& set,
                                   std::vector<Fold> folds);
// The metrics of predictions pooled over several folds (as Evaluate computes them).
std::map<std::string, double> PooledMetrics(const TrainingConfig& config, const TrainingSet& set,
                                            std::span<const FoldPredictions> predictions);

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
  // config.fallback: the fallback model's registration, gate and reference
  // ("<name>_fallback@<promotion alias>"), also recorded in manifest.details["fallback"].
  std::optional<Manifest> fallback_manifest;
  bool fallback_promoted = false;
  std::string fallback_reference;
};

// Runs the whole job and records it. On failure the job row says "failed" with the error
// and nothing is registered (or, if registration already happened, the version stays and
// the error says what did not complete). The returned error carries the job id.
Result<TrainingResult> RunTrainingJob(const TrainingConfig& config, Store& store,
                                      ModelRegistry& registry, const TrainingJobOptions& options);

}  // namespace vigil
