// The supervised risk evaluation harness: how well the risk classifiers predict liquidation
// and crash labels on real candles, against two naive baselines, under walk-forward
// validation that never lets a training label read into its test window.
// bench/risk_evaluation.cc runs it on ../shared/data; docs/results.md holds the tables
// (scripts/risk-eval.sh).
//
//   std::vector<vigil::RiskSeries> series;
//   VIGIL_ASSIGN_OR_RETURN(vigil::CandleSeries eth, vigil::ReadCandleSeries(path, "bittrex"));
//   series.push_back({"ETH_BTC", std::move(eth)});
//   VIGIL_ASSIGN_OR_RETURN(vigil::RiskPanel panel,
//                          vigil::BuildRiskPanel("altcoin/BTC 5m", std::move(series)));
//   const int64_t horizons[] = {15 * vigil::kNanosPerMinute};
//   for (const vigil::RiskTask& task : vigil::StandardRiskTasks(horizons)) {
//     VIGIL_ASSIGN_OR_RETURN(vigil::RiskCellResult cell,
//                            vigil::EvaluateRiskTask(panel, task, vigil::StandardRiskModels(),
//                                                    vigil::RiskWalkForward{}));
//     std::cout << vigil::RiskCellTable(cell);
//   }
//
// Protocol.
// - Panel: one or more candle series sharing a bar spacing (a "dataset group"), each with
//   causal features from the feature engine (RiskFeatureOptions::spec_yaml; row t reads
//   bars <= t only). Missing bars are not filled: consecutive rows are consecutive bars.
// - Task: a binary label (labels.h, kLiquidation or kCrash) with a horizon in time
//   (LabelOptions::horizon_ns), which must be a whole number of the panel's bars
//   (HorizonBars). Rows with an undefined feature (warm-up) or a NaN / incomplete label
//   are dropped; the series' rows are merged in time order (ties: series order).
// - Folds: time-based walk-forward (WalkForwardTimeSplit) over the task rows' time span:
//   the first initial_train_fraction of the span trains fold 0, the rest is cut into
//   `folds` equal test windows; expanding (or sliding) training windows; training rows
//   whose label window reaches the test window's first timestamp are purged.
// - A fold is used when its training rows hold both classes; it is "scored" (enters the
//   per-fold mean and standard deviation) when its test rows hold at least
//   min_fold_positives positives and a negative (a fold with one positive has an average
//   precision of 1 or of nearly 0, which says nothing about the model). Every used fold's
//   test predictions are also pooled into one out-of-fold set (pooled metrics).
// - Models: registered classifier kinds (CreateModel: "xgboost", "random_forest",
//   "logistic"), fitted on the training rows of each fold (optionally with balanced class
//   weights computed from those rows only), and two baselines: base_rate (the training
//   rows' positive rate as a constant probability: ROC-AUC 0.5 and PR-AUC equal to the test
//   positive rate by construction) and vol_logistic (logistic regression on the trailing
//   realized volatility column alone).
// - Metrics per fold (metrics.h): PR-AUC (AveragePrecision), ROC-AUC, Brier, log loss.
//   "vs best baseline": the baseline with the highest mean PR-AUC, the model's mean PR-AUC
//   minus it, and the scored folds where the model's PR-AUC is higher.
// - A cell (dataset x task) is skipped, with the reason, when fewer than
//   min_test_positives positives fall in the test windows or fewer than min_scored_folds
//   folds can be scored. A model that fails (kind not registered, a fit error) gets a
//   result with its error; it never stops the other models.
//
// Thread-safety: pure functions over their arguments; models are built per call. The tree
// kinds use their own threads (nthread).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"
#include "vigil/models/splitters.h"
#include "vigil/pipeline/anomaly_evaluation.h"
#include "vigil/pipeline/labels.h"

namespace vigil {

// One instrument's candles in a dataset group.
struct RiskSeries {
  std::string name;  // e.g. "ETH_BTC"
  CandleSeries candles;
};

// The default feature set (feature-engine YAML): scale-free price, range and volume
// features, so series of very different price levels can be pooled and an old fold's
// values mean the same in a later one. Columns: logret_1 logret_5 logret_15 logret_60 rv_20
// rv_60 rv_parkinson_20 rv_gk_20 zscore_20 drawdown_60 sharpe_60 rsi_14 bb_width
// adx_14 stoch (3) mfi_14 vol_ratio_20 (names as the engine gives them).
std::string_view DefaultRiskFeatureSpec();

struct RiskFeatureOptions {
  std::string spec_yaml = std::string(DefaultRiskFeatureSpec());
  // The trailing realized volatility column the vol_logistic baseline reads (the sample sd
  // of the last 60 one-bar log returns in the default spec). Must be a column of the spec.
  std::string volatility_column = "rv_60";
};

// A dataset group: series with one bar spacing and their feature rows.
struct RiskPanel {
  std::string name;
  int64_t bar_ns = 0;  // the common bar spacing (InferBarSpacing of every series)
  std::vector<RiskSeries> series;
  std::vector<std::string> columns;     // feature names
  std::vector<FeatureMatrix> features;  // per series: one row per bar, NaN in warm-up
  int volatility_column = -1;           // index of RiskFeatureOptions::volatility_column
};

// Computes each series' features. InvalidArgument when `series` is empty, a series does not
// validate or has fewer than two bars, the series' bar spacings differ, the spec does not
// parse or lacks the volatility column.
Result<RiskPanel> BuildRiskPanel(std::string name, std::vector<RiskSeries> series,
                                 const RiskFeatureOptions& options = {});

// A binary label to predict.
struct RiskTask {
  LabelOptions label;  // kind kLiquidation or kCrash; horizon_ns > 0, horizon_bars 0
  // "liquidation_long_20x_15m", "crash_3sd_60m": stable, for JSON and --tasks filters.
  std::string Id() const;
  // "liquidation long 20x, 15 min", "crash (3 sd), 60 min".
  std::string Title() const;
};

// For each horizon: liquidation long and short at `leverage` (maintenance margin
// `maintenance_margin`), then crash (crash_k, vol_window), in that order.
std::vector<RiskTask> StandardRiskTasks(std::span<const int64_t> horizons_ns,
                                        double leverage = 20.0, double maintenance_margin = 0.005,
                                        double crash_k = 3.0, int64_t vol_window = 60);

// The rows of one task: features, 0/1 labels and label windows, merged in time order.
struct RiskTaskData {
  FeatureMatrix x;
  std::vector<int> labels;
  LabelWindows windows;            // complete for every kept row
  std::vector<int> series;         // per row: index into RiskPanel::series
  std::vector<int64_t> bar;        // per row: bar index within its series
  int64_t dropped_warmup = 0;      // rows with an undefined feature
  int64_t dropped_unlabelled = 0;  // rows whose label is NaN or its horizon ran off the data
  int64_t positives() const;
};

// InvalidArgument when the task's kind is not binary (liquidation, crash or direction), its
// horizon is not a whole number of the panel's bars, or no row is left; label errors are
// passed on naming the series.
Result<RiskTaskData> BuildRiskTaskData(const RiskPanel& panel, const RiskTask& task);

enum class RiskModelRole {
  kModel,               // a registered classifier kind on every feature
  kBaseRate,            // the training positive rate, constant
  kVolatilityLogistic,  // `kind` (logistic) on the volatility column alone
};

struct RiskModelSpec {
  std::string name;  // the table's row label
  RiskModelRole role = RiskModelRole::kModel;
  std::string kind;  // CreateModel kind (kModel, kVolatilityLogistic)
  nlohmann::json params = nlohmann::json::object();
  // Fit with BalancedSampleWeights of the training fold's labels (never test rows).
  bool balanced_class_weights = false;
  bool is_baseline() const { return role != RiskModelRole::kModel; }
};

// xgboost (200 trees, depth 4, eta 0.05, subsample and colsample 0.8), random_forest (200
// trees, depth 6), logistic (standardized, C = 1), base_rate, vol_logistic (standardized).
// `threads` goes to the tree kinds' nthread (0 = every core), `seed` to their sampling.
std::vector<RiskModelSpec> StandardRiskModels(int threads = 0, uint64_t seed = 1);

struct RiskWalkForward {
  WindowMode mode = WindowMode::kExpanding;
  double initial_train_fraction = 0.4;  // (0, 1): fold 0's training share of the span
  int folds = 6;                        // >= 1 test windows over the rest of the span
  int64_t min_test_positives = 20;      // >= 0: fewer positives in the test windows: skip
  int min_scored_folds = 2;             // >= 1
  int64_t min_fold_positives = 5;       // >= 1: test positives for a fold to be scored
  Status Validate() const;              // InvalidArgument naming the field
  // The time options for rows stamped `ts` (non-decreasing, >= 2 distinct): train_ns =
  // floor(fraction x span), test_ns = (span - train_ns) / folds. InvalidArgument when the
  // span is too short for that.
  Result<WalkForwardTimeOptions> TimeOptions(std::span<const int64_t> ts) const;
};

struct RiskMetrics {
  double pr_auc = 0.0;
  double roc_auc = 0.0;
  double brier = 0.0;
  double log_loss = 0.0;
};

// The four metrics of metrics.h on one set of predictions. InvalidArgument unless both
// classes occur.
Result<RiskMetrics> ScoreRiskPredictions(std::span<const int> labels,
                                         std::span<const double> probabilities);

struct RiskFoldSummary {
  int64_t train_rows = 0;
  int64_t train_positives = 0;
  int64_t test_rows = 0;
  int64_t test_positives = 0;
  int64_t purged = 0;
  int64_t test_start_ts = 0;  // first and last test row timestamps
  int64_t test_end_ts = 0;
  bool used = false;    // training rows hold both classes
  bool scored = false;  // used, and the test rows hold min_fold_positives and a negative
};

struct RiskModelResult {
  RiskModelSpec spec;
  bool ok = false;
  std::string error;  // when !ok: e.g. "unimplemented: model kind 'xgboost' ..."
  std::vector<std::optional<RiskMetrics>> per_fold;  // one per fold; set where scored
  int scored_folds = 0;
  RiskMetrics mean;                 // over the scored folds
  RiskMetrics sd;                   // sample standard deviation over them (NaN with one fold)
  RiskMetrics pooled;               // on every used fold's test predictions together
  std::vector<double> predictions;  // aligned with RiskCellResult::predicted_rows
  double fit_seconds = 0.0;         // fit + predict, all folds
};

struct RiskCellResult {
  std::string dataset;
  RiskTask task;
  int64_t rows = 0;
  int64_t positives = 0;
  int64_t dropped_warmup = 0;
  int64_t dropped_unlabelled = 0;
  WalkForwardTimeOptions walk_forward;
  std::vector<RiskFoldSummary> folds;
  std::vector<int64_t> predicted_rows;  // task rows of the used folds' tests, fold by fold
  int64_t test_rows = 0;                // over the used folds
  int64_t test_positives = 0;
  bool skipped = false;
  std::string skip_reason;              // e.g. "3 positives in the test windows (fewer than 20)"
  std::vector<RiskModelResult> models;  // in spec order; empty when skipped

  double base_rate() const { return rows > 0 ? static_cast<double>(positives) / rows : 0.0; }
};

// BuildRiskTaskData, the walk-forward split, then EvaluateRiskModels. Fails only when the
// task data cannot be built (a skipped cell or a failed model is a result, not an error).
Result<RiskCellResult> EvaluateRiskTask(const RiskPanel& panel, const RiskTask& task,
                                        std::span<const RiskModelSpec> models,
                                        const RiskWalkForward& options);

// Runs `models` over given folds (e.g. from WalkForwardTimeSplit on data.windows).
// `volatility_column` indexes data.x's columns. Never fails: skips and model errors are
// recorded.
RiskCellResult EvaluateRiskModels(const std::string& dataset, const RiskTask& task,
                                  const RiskTaskData& data, std::vector<Fold> folds,
                                  int volatility_column, std::span<const RiskModelSpec> models,
                                  const RiskWalkForward& options);

struct BaselineComparison {
  std::string baseline;       // the best baseline's name (highest mean PR-AUC)
  double delta_pr_auc = 0.0;  // model mean PR-AUC - baseline mean PR-AUC
  int folds_won = 0;          // scored folds with model PR-AUC > baseline PR-AUC
  int folds_compared = 0;
};

// nullopt when `model` is a baseline, failed, or no baseline has a result.
std::optional<BaselineComparison> CompareWithBestBaseline(const RiskCellResult& cell,
                                                          const RiskModelResult& model);

// Markdown: a bold title line with rows, positives, base rate and folds, then
// | model | PR-AUC | ROC-AUC | Brier | log loss | pooled PR-AUC | pooled ROC-AUC |
// vs best baseline |, each metric "mean ± sd" over the scored folds, one row per model (a
// failed one says why); a skipped cell is one line saying why.
std::string RiskCellTable(const RiskCellResult& cell);

// Markdown: one row per cell, | dataset | label | horizon | test positives | test base
// rate | best model | its PR-AUC | best baseline | its PR-AUC | ΔPR-AUC | folds won |.
std::string RiskSummaryTable(std::span<const RiskCellResult> cells);

// Everything above as JSON (no predictions): dataset, task, counts, folds, per model its
// per-fold, mean, sd and pooled metrics, fit_seconds and the comparison.
nlohmann::json RiskCellJson(const RiskCellResult& cell);

}  // namespace vigil
