// The supervised risk evaluation harness (risk_evaluation.h): panels of real candles with
// causal features, liquidation / crash task rows, walk-forward folds, per-fold fits of the
// classifiers and baselines. The reports are in risk_report.cc.
#include "vigil/pipeline/risk_evaluation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <utility>

#include "vigil/core/timestamp.h"
#include "vigil/features/engine.h"
#include "vigil/features/event.h"
#include "vigil/features/spec.h"
#include "vigil/models/imbalance.h"
#include "vigil/models/metrics.h"

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The evaluation's own features rather than the built-in `default` set: that set adds
// features in price units (macd, bbands, atr, mom), calendar features and the liquidation
// and funding state, which candle files do not hold, and its multi-bar returns are simple
// returns. Every feature here is a ratio, a log return, an oscillator or a volatility of log
// returns: nothing in price units, so pairs quoted at 1e-5 BTC and at 0.1 BTC can share one
// model. Its own text also keeps the published evaluation fixed when `default` changes.
constexpr std::string_view kDefaultSpec = R"(name: risk_eval
description: scale-free causal candle features for the liquidation and crash evaluation
driver: candles
features:
  - {feature: logret, params: {k: 1}}
  - {feature: logret, params: {k: 5}}
  - {feature: logret, params: {k: 15}}
  - {feature: logret, params: {k: 60}}
  - {feature: rv, params: {n: 20}}
  - {feature: rv, params: {n: 60}}
  - {feature: rv_parkinson}
  - {feature: rv_gk}
  - {feature: zscore}
  - {feature: drawdown, params: {n: 60}}
  - {feature: sharpe, params: {n: 60}}
  - {feature: rsi}
  - {feature: bb_width}
  - {feature: adx}
  - {feature: stoch}
  - {feature: mfi}
  - {feature: vol_ratio}
)";

// ---------------------------------------------------------------------------------------
// Panels and task rows

bool AllFinite(std::span<const double> values) {
  return std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); });
}

// One row per bar of `candles`, the engine's columns (NaN in warm-up).
Result<FeatureMatrix> SeriesFeatures(const CandleSeries& candles, FeatureEngine& engine) {
  const EventStream stream = EventStream::FromBars(BarsOf(candles));
  engine.Reset();
  const EventStream* streams[] = {&stream};
  VIGIL_ASSIGN_OR_RETURN(Frame frame, ComputeFeatures(engine, streams));
  if (frame.rows() != candles.size()) {
    return Internal("feature engine returned " + std::to_string(frame.rows()) + " rows for " +
                    std::to_string(candles.size()) + " bars");
  }
  FeatureMatrix x;
  x.columns = engine.columns();
  x.rows = frame.rows();
  x.values.resize(x.rows * x.cols());
  for (size_t col = 0; col < x.cols(); ++col) {
    std::span<const double> column = frame.DoublesAt(col);
    for (int64_t row = 0; row < x.rows; ++row) x.values[row * x.cols() + col] = column[row];
  }
  return x;
}

bool IsBinaryKind(LabelKind kind) {
  return kind == LabelKind::kLiquidation || kind == LabelKind::kCrash ||
         kind == LabelKind::kDirection;
}

// A task row before the merge across series.
struct PendingRow {
  int64_t ts;
  int64_t end_ts;
  int series;
  int64_t bar;
  int label;
};

Status CollectSeriesRows(const RiskPanel& panel, int s, const RiskTask& task,
                         std::vector<PendingRow>& rows, RiskTaskData& data) {
  const CandleSeries& candles = panel.series[s].candles;
  LabelInputs inputs;
  inputs.ts = candles.ts;
  inputs.close = candles.close;
  inputs.high = candles.high;
  inputs.low = candles.low;
  Result<Labels> labels = ComputeLabels(task.label, inputs);
  if (!labels.ok()) return labels.status().WithContext("series " + panel.series[s].name + ": ");
  const FeatureMatrix& features = panel.features[s];
  for (int64_t bar = 0; bar < candles.size(); ++bar) {
    if (!AllFinite(features.row(bar))) {
      ++data.dropped_warmup;
    } else if (!labels->windows.label_complete(bar) || std::isnan(labels->values[bar])) {
      ++data.dropped_unlabelled;
    } else {
      rows.push_back({candles.ts[bar], labels->windows.end_ts[bar], s, bar,
                      labels->values[bar] > 0.5 ? 1 : 0});
    }
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------
// Fitting and scoring one fold

// The rows of `x` listed in `rows`; only column `only_column` when it is >= 0.
FeatureMatrix SelectRows(const FeatureMatrix& x, std::span<const int64_t> rows, int only_column) {
  FeatureMatrix out;
  out.columns = only_column >= 0 ? std::vector<std::string>{x.columns[only_column]} : x.columns;
  out.rows = static_cast<int64_t>(rows.size());
  out.values.reserve(out.rows * out.cols());
  for (int64_t row : rows) {
    if (only_column >= 0) {
      out.values.push_back(x.at(row, only_column));
    } else {
      std::span<const double> values = x.row(row);
      out.values.insert(out.values.end(), values.begin(), values.end());
    }
  }
  return out;
}

std::vector<int> Gather(const std::vector<int>& values, std::span<const int64_t> rows) {
  std::vector<int> out;
  out.reserve(rows.size());
  for (int64_t row : rows) out.push_back(values[row]);
  return out;
}

int64_t CountPositives(std::span<const int> labels) {
  return std::count(labels.begin(), labels.end(), 1);
}

// P(label = 1) for the fold's test rows from a model fitted on its training rows.
Result<std::vector<double>> PredictFold(const RiskModelSpec& spec, const RiskTaskData& data,
                                        const Fold& fold, int volatility_column) {
  const std::vector<int> train_labels = Gather(data.labels, fold.train);
  if (spec.role == RiskModelRole::kBaseRate) {
    const double rate = static_cast<double>(CountPositives(train_labels)) / train_labels.size();
    return std::vector<double>(fold.test.size(), rate);
  }
  const int column = spec.role == RiskModelRole::kVolatilityLogistic ? volatility_column : -1;
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, CreateModel(spec.kind, spec.params));
  Classifier* classifier = AsClassifier(model.get());
  if (classifier == nullptr) return InvalidArgument("kind '" + spec.kind + "' is no classifier");
  const std::vector<double> weights =
      spec.balanced_class_weights ? BalancedSampleWeights(train_labels, 2) : std::vector<double>{};
  VIGIL_RETURN_IF_ERROR(
      classifier->Fit(SelectRows(data.x, fold.train, column), train_labels, weights));
  VIGIL_ASSIGN_OR_RETURN(ProbabilityMatrix p,
                         classifier->PredictProba(SelectRows(data.x, fold.test, column)));
  if (p.num_classes != 2 || p.rows() != static_cast<int64_t>(fold.test.size())) {
    return Internal("kind '" + spec.kind + "' returned " + std::to_string(p.rows()) + " x " +
                    std::to_string(p.num_classes) + " probabilities for " +
                    std::to_string(fold.test.size()) + " binary rows");
  }
  std::vector<double> positive(fold.test.size());
  for (size_t i = 0; i < positive.size(); ++i) positive[i] = p.at(static_cast<int64_t>(i), 1);
  return positive;
}

// Mean and sample standard deviation of one metric over the scored folds.
void Summarize(RiskModelResult& result, double RiskMetrics::*field) {
  std::vector<double> values;
  for (const std::optional<RiskMetrics>& fold : result.per_fold) {
    if (fold) values.push_back((*fold).*field);
  }
  const double n = static_cast<double>(values.size());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  double squares = 0.0;
  for (double v : values) squares += (v - mean) * (v - mean);
  result.mean.*field = mean;
  result.sd.*field = values.size() > 1 ? std::sqrt(squares / (n - 1)) : kNaN;
}

RiskModelResult EvaluateModel(const RiskModelSpec& spec, const RiskTaskData& data,
                              const std::vector<Fold>& folds,
                              const std::vector<RiskFoldSummary>& summaries,
                              int volatility_column) {
  RiskModelResult result;
  result.spec = spec;
  result.per_fold.resize(folds.size());
  std::vector<int> pooled_labels;
  const auto start = std::chrono::steady_clock::now();
  for (size_t f = 0; f < folds.size(); ++f) {
    if (!summaries[f].used) continue;
    Result<std::vector<double>> p = PredictFold(spec, data, folds[f], volatility_column);
    if (!p.ok()) {
      result.error = "fold " + std::to_string(f) + ": " + p.status().ToString();
      return result;
    }
    const std::vector<int> labels = Gather(data.labels, folds[f].test);
    if (summaries[f].scored) {
      Result<RiskMetrics> metrics = ScoreRiskPredictions(labels, *p);
      if (!metrics.ok()) {
        result.error = "fold " + std::to_string(f) + ": " + metrics.status().ToString();
        return result;
      }
      result.per_fold[f] = *metrics;
      ++result.scored_folds;
    }
    result.predictions.insert(result.predictions.end(), p->begin(), p->end());
    pooled_labels.insert(pooled_labels.end(), labels.begin(), labels.end());
  }
  result.fit_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  Result<RiskMetrics> pooled = ScoreRiskPredictions(pooled_labels, result.predictions);
  if (!pooled.ok()) {
    result.error = "pooled: " + pooled.status().ToString();
    return result;
  }
  result.pooled = *pooled;
  for (double RiskMetrics::*field :
       {&RiskMetrics::pr_auc, &RiskMetrics::roc_auc, &RiskMetrics::brier, &RiskMetrics::log_loss}) {
    Summarize(result, field);
  }
  result.ok = true;
  return result;
}

RiskCellResult NewCell(const std::string& dataset, const RiskTask& task, const RiskTaskData& data) {
  RiskCellResult cell;
  cell.dataset = dataset;
  cell.task = task;
  cell.rows = data.x.rows;
  cell.positives = data.positives();
  cell.dropped_warmup = data.dropped_warmup;
  cell.dropped_unlabelled = data.dropped_unlabelled;
  return cell;
}

RiskFoldSummary SummarizeFold(const RiskTaskData& data, const Fold& fold,
                              int64_t min_fold_positives) {
  RiskFoldSummary summary;
  summary.train_rows = static_cast<int64_t>(fold.train.size());
  summary.test_rows = static_cast<int64_t>(fold.test.size());
  summary.train_positives = CountPositives(Gather(data.labels, fold.train));
  summary.test_positives = CountPositives(Gather(data.labels, fold.test));
  summary.purged = fold.purged;
  if (!fold.test.empty()) {
    summary.test_start_ts = data.windows.start_ts[fold.test.front()];
    summary.test_end_ts = data.windows.start_ts[fold.test.back()];
  }
  summary.used = summary.train_positives > 0 && summary.train_positives < summary.train_rows;
  summary.scored = summary.used && summary.test_positives >= min_fold_positives &&
                   summary.test_positives < summary.test_rows;
  return summary;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Public API

std::string_view DefaultRiskFeatureSpec() { return kDefaultSpec; }

Result<RiskPanel> BuildRiskPanel(std::string name, std::vector<RiskSeries> series,
                                 const RiskFeatureOptions& options) {
  if (series.empty()) return InvalidArgument("panel " + name + ": no series");
  VIGIL_ASSIGN_OR_RETURN(FeatureSetSpec spec,
                         ParseFeatureSetSpec(options.spec_yaml, "risk feature spec"));
  VIGIL_ASSIGN_OR_RETURN(FeatureEngine engine, FeatureEngine::Create(spec, {}));
  if (engine.streams().size() != 1) {
    return InvalidArgument("risk feature spec: must read the candles only");
  }
  RiskPanel panel;
  panel.name = std::move(name);
  panel.columns = engine.columns();
  const auto vol = std::find(panel.columns.begin(), panel.columns.end(), options.volatility_column);
  if (vol == panel.columns.end()) {
    return InvalidArgument("risk feature spec: no column '" + options.volatility_column +
                           "' (volatility_column)");
  }
  panel.volatility_column = static_cast<int>(vol - panel.columns.begin());
  for (RiskSeries& one : series) {
    const std::string where = "panel " + panel.name + ", series " + one.name + ": ";
    VIGIL_RETURN_IF_ERROR(one.candles.Validate().WithContext(where));
    Result<int64_t> spacing = InferBarSpacing(one.candles.ts);
    if (!spacing.ok()) return spacing.status().WithContext(where);
    if (panel.bar_ns != 0 && *spacing != panel.bar_ns) {
      return InvalidArgument(where + "bar spacing " + FormatDuration(*spacing) + " differs from " +
                             FormatDuration(panel.bar_ns));
    }
    panel.bar_ns = *spacing;
    Result<FeatureMatrix> features = SeriesFeatures(one.candles, engine);
    if (!features.ok()) return features.status().WithContext(where);
    panel.features.push_back(std::move(*features));
    panel.series.push_back(std::move(one));
  }
  return panel;
}

std::vector<RiskTask> StandardRiskTasks(std::span<const int64_t> horizons_ns, double leverage,
                                        double maintenance_margin, double crash_k,
                                        int64_t vol_window) {
  std::vector<RiskTask> tasks;
  for (int64_t horizon : horizons_ns) {
    for (PositionSide side : {PositionSide::kLong, PositionSide::kShort}) {
      RiskTask task;
      task.label.kind = LabelKind::kLiquidation;
      task.label.horizon_ns = horizon;
      task.label.leverage = leverage;
      task.label.maintenance_margin = maintenance_margin;
      task.label.side = side;
      tasks.push_back(task);
    }
    RiskTask crash;
    crash.label.kind = LabelKind::kCrash;
    crash.label.horizon_ns = horizon;
    crash.label.crash_k = crash_k;
    crash.label.vol_window = vol_window;
    tasks.push_back(crash);
  }
  return tasks;
}

int64_t RiskTaskData::positives() const { return CountPositives(labels); }

Result<RiskTaskData> BuildRiskTaskData(const RiskPanel& panel, const RiskTask& task) {
  if (!IsBinaryKind(task.label.kind)) {
    return InvalidArgument("task " + task.Id() + ": label kind must be binary");
  }
  if (task.label.horizon_ns <= 0 || task.label.horizon_bars != 0) {
    return InvalidArgument("task " + task.Id() + ": set horizon_ns (> 0), not horizon_bars");
  }
  Result<int64_t> bars = HorizonBars(task.label.horizon_ns, panel.bar_ns);
  if (!bars.ok()) return bars.status().WithContext("task " + task.Id() + ": ");
  RiskTaskData data;
  std::vector<PendingRow> rows;
  for (int s = 0; s < static_cast<int>(panel.series.size()); ++s) {
    VIGIL_RETURN_IF_ERROR(CollectSeriesRows(panel, s, task, rows, data));
  }
  if (rows.empty()) return InvalidArgument("task " + task.Id() + ": no usable row");
  // Stable: rows of one timestamp keep the series order.
  std::stable_sort(rows.begin(), rows.end(),
                   [](const PendingRow& a, const PendingRow& b) { return a.ts < b.ts; });
  data.x.columns = panel.columns;
  data.x.rows = static_cast<int64_t>(rows.size());
  data.x.values.reserve(data.x.rows * data.x.cols());
  for (const PendingRow& row : rows) {
    std::span<const double> values = panel.features[row.series].row(row.bar);
    data.x.values.insert(data.x.values.end(), values.begin(), values.end());
    data.labels.push_back(row.label);
    data.windows.start_ts.push_back(row.ts);
    data.windows.end_ts.push_back(row.end_ts);
    data.series.push_back(row.series);
    data.bar.push_back(row.bar);
  }
  return data;
}

std::vector<RiskModelSpec> StandardRiskModels(int threads, uint64_t seed) {
  std::vector<RiskModelSpec> models;
  models.push_back({"xgboost",
                    RiskModelRole::kModel,
                    "xgboost",
                    {{"n_estimators", 200},
                     {"max_depth", 4},
                     {"learning_rate", 0.05},
                     {"subsample", 0.8},
                     {"colsample_bytree", 0.8},
                     {"nthread", threads},
                     {"seed", seed}},
                    false});
  models.push_back({"random_forest",
                    RiskModelRole::kModel,
                    "random_forest",
                    {{"n_estimators", 200}, {"max_depth", 6}, {"nthread", threads}, {"seed", seed}},
                    false});
  models.push_back({"logistic", RiskModelRole::kModel, "logistic", {{"standardize", true}}, false});
  models.push_back({"base_rate", RiskModelRole::kBaseRate, "", nlohmann::json::object(), false});
  models.push_back({"vol_logistic",
                    RiskModelRole::kVolatilityLogistic,
                    "logistic",
                    {{"standardize", true}},
                    false});
  return models;
}

Status RiskWalkForward::Validate() const {
  if (!(initial_train_fraction > 0 && initial_train_fraction < 1)) {
    return InvalidArgument("RiskWalkForward: initial_train_fraction must be in (0, 1)");
  }
  if (folds < 1) return InvalidArgument("RiskWalkForward: folds must be >= 1");
  if (min_test_positives < 0) {
    return InvalidArgument("RiskWalkForward: min_test_positives must be >= 0");
  }
  if (min_scored_folds < 1) {
    return InvalidArgument("RiskWalkForward: min_scored_folds must be >= 1");
  }
  if (min_fold_positives < 1) {
    return InvalidArgument("RiskWalkForward: min_fold_positives must be >= 1");
  }
  return Status::Ok();
}

Result<WalkForwardTimeOptions> RiskWalkForward::TimeOptions(std::span<const int64_t> ts) const {
  VIGIL_RETURN_IF_ERROR(Validate());
  if (ts.empty()) return InvalidArgument("RiskWalkForward: no rows");
  const int64_t span = ts.back() - ts.front();
  WalkForwardTimeOptions options;
  options.mode = mode;
  options.train_ns = static_cast<int64_t>(initial_train_fraction * static_cast<double>(span));
  options.test_ns = (span - options.train_ns) / folds;
  if (options.train_ns <= 0 || options.test_ns <= 0) {
    return InvalidArgument("RiskWalkForward: a span of " + std::to_string(span) +
                           " ns is too short for " + std::to_string(folds) + " folds");
  }
  return options;
}

Result<RiskMetrics> ScoreRiskPredictions(std::span<const int> labels,
                                         std::span<const double> probabilities) {
  RiskMetrics m;
  VIGIL_ASSIGN_OR_RETURN(m.pr_auc, AveragePrecision(labels, probabilities));
  VIGIL_ASSIGN_OR_RETURN(m.roc_auc, RocAuc(labels, probabilities));
  VIGIL_ASSIGN_OR_RETURN(m.brier, BrierScore(labels, probabilities));
  VIGIL_ASSIGN_OR_RETURN(m.log_loss, LogLoss(labels, probabilities));
  return m;
}

RiskCellResult EvaluateRiskModels(const std::string& dataset, const RiskTask& task,
                                  const RiskTaskData& data, std::vector<Fold> folds,
                                  int volatility_column, std::span<const RiskModelSpec> models,
                                  const RiskWalkForward& options) {
  RiskCellResult cell = NewCell(dataset, task, data);
  int scored = 0;
  for (const Fold& fold : folds) {
    cell.folds.push_back(SummarizeFold(data, fold, options.min_fold_positives));
    const RiskFoldSummary& summary = cell.folds.back();
    if (!summary.used) continue;
    scored += summary.scored;
    cell.test_rows += summary.test_rows;
    cell.test_positives += summary.test_positives;
    cell.predicted_rows.insert(cell.predicted_rows.end(), fold.test.begin(), fold.test.end());
  }
  if (cell.test_positives < options.min_test_positives) {
    cell.skipped = true;
    cell.skip_reason = std::to_string(cell.test_positives) +
                       " positives in the test windows (fewer than " +
                       std::to_string(options.min_test_positives) + ")";
  } else if (scored < options.min_scored_folds) {
    cell.skipped = true;
    cell.skip_reason = std::to_string(scored) + " scored folds (fewer than " +
                       std::to_string(options.min_scored_folds) + ")";
  }
  if (cell.skipped) return cell;
  for (const RiskModelSpec& spec : models) {
    cell.models.push_back(EvaluateModel(spec, data, folds, cell.folds, volatility_column));
  }
  return cell;
}

Result<RiskCellResult> EvaluateRiskTask(const RiskPanel& panel, const RiskTask& task,
                                        std::span<const RiskModelSpec> models,
                                        const RiskWalkForward& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_ASSIGN_OR_RETURN(RiskTaskData data, BuildRiskTaskData(panel, task));
  Result<WalkForwardTimeOptions> time_options = options.TimeOptions(data.windows.start_ts);
  Result<std::vector<Fold>> folds = time_options.ok()
                                        ? WalkForwardTimeSplit(*time_options, data.windows)
                                        : Result<std::vector<Fold>>(time_options.status());
  if (!folds.ok()) {
    RiskCellResult cell = NewCell(panel.name, task, data);
    cell.skipped = true;
    cell.skip_reason = "no walk-forward split: " + folds.status().ToString();
    return cell;
  }
  RiskCellResult cell = EvaluateRiskModels(panel.name, task, data, std::move(*folds),
                                           panel.volatility_column, models, options);
  cell.walk_forward = *time_options;
  return cell;
}

}  // namespace vigil
