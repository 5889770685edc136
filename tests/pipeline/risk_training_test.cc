// The supervised risk tasks of a training job: config parsing, the multi-horizon model's
// purging, imbalance inside training folds only, honest calibration, and every task
// trained end to end on simulated data and reloaded from the registry.
#include "vigil/pipeline/risk_training.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "pipeline/pipeline_fixture.h"
#include "vigil/models/imbalance.h"
#include "vigil/models/metrics.h"
#include "vigil/models/multi_horizon.h"
#include "vigil/models/probability_calibration.h"
#include "vigil/pipeline/fallback.h"

namespace vigil {
namespace {

using testing_util::Contains;

// 100x long liquidation labels: a 0.5% fall within the horizon, common enough in three
// simulated days for every fold to see both classes.
std::string LiquidationYaml(const std::string& extra = "") {
  return R"(name: liq_btc
task: liquidation
model: {kind: logistic, params: {C: 0.1, standardize: true}}
seed: 5
data: {instruments: [sim:BTC-PERP], timeframe: 1m}
features: ta
label: {leverage: 100, side: long, maintenance_margin: 0.005, horizons: [5m, 15m, 60m]}
validation: {method: walk_forward, train: 1d, test: 12h}
)" + extra;
}

std::string CrashYaml(const std::string& extra = "") {
  return R"(name: crash_btc
task: crash
model: {kind: logistic, params: {C: 0.1, standardize: true}}
seed: 2
data: {instruments: [sim:BTC-PERP], timeframe: 1m}
features: ta
label: {horizon: 30m, k: 1.5, vol_window: 60}
validation: {method: walk_forward, train: 1d, test: 12h}
)" + extra;
}

class RiskTrainingTest : public testing_util::PipelineTest {
 protected:
  TrainingConfig MustConfig(const std::string& yaml) {
    auto config = Config(yaml);
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    return config.ok() ? *config : TrainingConfig{};
  }
  // The model registered by `result`, reloaded from disk, predicts like it scored.
  void ExpectReloads(const TrainingResult& result) {
    auto loaded =
        registry_->Load(result.manifest.name + "@" + std::to_string(result.manifest.version));
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    EXPECT_EQ(loaded->manifest.details, result.manifest.details);
    EXPECT_TRUE(loaded->model->fitted());
  }
};

TEST_F(RiskTrainingTest, ConfigParsesEveryRiskTask) {
  const TrainingConfig liq =
      MustConfig(LiquidationYaml("imbalance: {method: smote, k_neighbors: 3, sampling_ratio: 0.5}\n"
                                 "calibration: {method: isotonic}\n"
                                 "risk_levels: {medium: 0.2, high: 0.4, critical: 0.8}\n"
                                 "fallback: {kind: logistic, params: {C: 1.0}}\n"));
  EXPECT_EQ(liq.risk_task, RiskTask::kLiquidation);
  EXPECT_EQ(liq.task, Task::kClassification);
  EXPECT_EQ(liq.label.kind, LabelKind::kLiquidation);
  EXPECT_EQ(liq.label.leverage, 100.0);
  EXPECT_EQ(liq.label.side, PositionSide::kLong);
  EXPECT_EQ(liq.horizons_ns, (std::vector<int64_t>{5 * kNanosPerMinute, 15 * kNanosPerMinute,
                                                   60 * kNanosPerMinute}));
  EXPECT_EQ(liq.label.horizon_ns, 60 * kNanosPerMinute);
  EXPECT_TRUE(liq.multi_horizon());
  EXPECT_EQ(liq.imbalance.method, ImbalanceMethod::kSmote);
  EXPECT_EQ(liq.imbalance.k_neighbors, 3);
  EXPECT_EQ(liq.imbalance.sampling_ratio, 0.5);
  EXPECT_EQ(liq.calibration.method, CalibrationMethod::kIsotonic);
  EXPECT_TRUE(liq.has_risk_levels);
  EXPECT_EQ(liq.risk_levels.critical, 0.8);
  EXPECT_EQ(liq.fallback.kind, "logistic");
  EXPECT_EQ(liq.fallback_name(), "liq_btc_fallback");

  std::string single = LiquidationYaml();
  single.replace(single.find("horizons: [5m, 15m, 60m]"), 24, "horizon: 15m");
  EXPECT_FALSE(MustConfig(single).multi_horizon());

  const TrainingConfig crash = MustConfig(CrashYaml());
  EXPECT_EQ(crash.label.kind, LabelKind::kCrash);
  EXPECT_EQ(crash.label.crash_k, 1.5);
  EXPECT_EQ(crash.label.vol_window, 60);

  const TrainingConfig forward = MustConfig(R"(name: ret
task: direction
model: {kind: ridge}
data: {instruments: [sim:BTC-PERP]}
features: ta
label: {kind: forward_return, horizon: 30m}
validation: {train: 1d, test: 6h}
)");
  EXPECT_EQ(forward.task, Task::kRegression);
  EXPECT_EQ(forward.risk_task, RiskTask::kDirection);
  EXPECT_EQ(forward.promotion.metric, "rmse");

  const TrainingConfig opportunity = MustConfig(R"(name: arb
task: opportunity
model: {kind: logistic}
data: {instruments: [sim:BTC-PERP]}
features: ta
label: {pair: alt:BTC-PERP, horizon: 15m, fee_bps: 1, slippage_bps: 0.5, gas_usd: 0, notional_usd: 10000, persist_rows: 2}
validation: {train: 1d, test: 6h}
)");
  EXPECT_EQ(opportunity.pair_instrument, "alt:BTC-PERP");
  EXPECT_EQ(opportunity.label.persist_rows, 2);
  EXPECT_EQ(opportunity.label.fee_bps, 1.0);

  const TrainingConfig search = MustConfig(LiquidationYaml(
      "search: {method: random, trials: 4, seed: 9, params: {C: {min: 0.01, max: 10, log: true},"
      " max_iter: {min: 50, max: 200, integer: true}}}\n"));
  EXPECT_EQ(search.search.method, SearchMethod::kRandom);
  EXPECT_EQ(search.search_metric(), "pr_auc");
  ASSERT_EQ(search.search.params.size(), 2u);
  EXPECT_TRUE(search.search.params[0].log);
  EXPECT_TRUE(search.search.params[1].integer);
}

TEST_F(RiskTrainingTest, ConfigErrorsNameTheFileLineAndKey) {
  const std::string base = LiquidationYaml();
  const std::vector<ConfigErrorCase> cases = {
      {base + "imbalance: {method: oversample}\n",
       "train.yaml:9: imbalance.method: expected none, class_weight, scale_pos_weight or smote"},
      {base + "imbalance: {method: class_weight, k_neighbors: 3}\n",
       "train.yaml:9: imbalance.k_neighbors: applies to smote only"},
      {base + "imbalance: {method: scale_pos_weight}\n",
       "imbalance.method: model kind 'logistic' has no scale_pos_weight"},
      {base + "calibration: {method: beta}\n",
       "train.yaml:9: calibration.method: expected none, platt or isotonic"},
      {base + "risk_levels: {medium: 0.6, high: 0.5}\n", "train.yaml:9: risk_levels:"},
      {base + "search: {method: grid, params: {C: {min: 0.1, max: 1}}}\n",
       "train.yaml:9: search.params.C: grid search takes lists of values"},
      {base + "search: {method: grid, params: {depth: [1, 2]}}\n",
       "train.yaml:9: search.params.depth: not a parameter of model kind 'logistic'"},
      {base + "search: {method: annealing, params: {C: [1]}}\n",
       "train.yaml:9: search.method: expected grid or random"},
      {base + "fallback: {kind: ridge}\n",
       "train.yaml:9: fallback.kind: 'ridge' is a regression model"},
      {base + "fallback: {kind: logistic, params: {C: -1}}\n", "train.yaml:9: fallback.params:"},
  };
  ExpectConfigErrors(cases);
  auto replace = [&](const std::string& from, const std::string& to) {
    return ConfigErrorWith(base, from, to);
  };
  EXPECT_TRUE(Contains(replace("horizons: [5m, 15m, 60m]", "horizons: [15m, 5m]"),
                       "train.yaml:7: label.horizons: must be distinct and increasing"));
  EXPECT_TRUE(Contains(replace("leverage: 100", "leverage: 100, k: 3"),
                       "train.yaml:7: label.k: unknown key"));
  EXPECT_TRUE(Contains(replace("side: long", "side: sideways"), "train.yaml:7: label.side:"));
  EXPECT_TRUE(Contains(replace("task: liquidation", "task: margin_call"),
                       "train.yaml:2: task: expected classification"));
  EXPECT_TRUE(Contains(replace("{leverage", "{kind: crash, leverage"),
                       "train.yaml:7: label.kind: task liquidation takes liquidation labels"));
  // Purged k-fold evaluation: the search needs walk-forward folds of its own.
  std::string purged = base + "search: {method: grid, params: {C: [0.1, 1]}}\n";
  purged.replace(purged.find("method: walk_forward, train: 1d, test: 12h"), 42,
                 "method: purged_kfold, k: 4");
  EXPECT_TRUE(Contains(Config(purged).status().message(),
                       "searched on walk-forward folds only; with validation.method "
                       "purged_kfold give search.validation"));
  // Protocol risk is multiclass: no calibration, no roc_auc.
  const std::string protocol = R"(name: lend
task: protocol_risk
model: {kind: logistic}
data: {instruments: [sim:LEND]}
features: defi
label: {horizon: 1d}
validation: {train: 5d, test: 2d}
calibration: {method: platt}
)";
  EXPECT_TRUE(Contains(Config(protocol).status().message(),
                       "train.yaml:8: calibration.method: calibrates binary classifiers only"));
}

// One job builds rows once, labels every horizon, keeps rows whose longest horizon is
// complete and builds its folds from the longest horizon's windows: no training row of any
// fold has a 60-minute label window reaching the fold's test start.
TEST_F(RiskTrainingTest, MultiHorizonFoldsPurgeTheLongestHorizon) {
  StoreSimulation(1, 3);
  const TrainingConfig config = MustConfig(LiquidationYaml());
  auto set = BuildTrainingSet(config, *store_);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_TRUE(set->multi_horizon());
  ASSERT_EQ(set->horizon_labels.size(), 3u);
  for (int64_t row = 0; row < set->rows(); ++row) {
    ASSERT_EQ(set->windows.end_ts[row] - set->windows.start_ts[row], 60 * kNanosPerMinute)
        << "row " << row << " carries a shorter window than the longest horizon";
    // A liquidation within 5 minutes is one within 60.
    ASSERT_LE(set->horizon_labels[0][row], set->horizon_labels[2][row]) << row;
  }
  auto evaluation = Evaluate(config, *set);
  ASSERT_TRUE(evaluation.ok()) << evaluation.status().ToString();
  ASSERT_EQ(evaluation->folds.size(), 3u);
  for (const Fold& fold : evaluation->folds) {
    const int64_t test_start = set->windows.start_ts[fold.test.front()];
    EXPECT_GE(fold.purged, 60);  // the hour of rows before the test window
    for (int64_t row : fold.train) {
      ASSERT_LT(set->windows.start_ts[row] + 60 * kNanosPerMinute, test_start) << row;
    }
  }
  // Metrics per horizon, and their mean under the plain name (the gate's metric).
  const auto& m = evaluation->metrics;
  for (const char* h : {"5m", "15m", "1h"}) {
    ASSERT_TRUE(m.contains(std::string("roc_auc@") + h)) << h;
  }
  EXPECT_NEAR(m.at("brier"), (m.at("brier@5m") + m.at("brier@15m") + m.at("brier@1h")) / 3, 1e-12);
  // The fold model answers every horizon from that horizon's own model.
  const auto* multi =
      dynamic_cast<const MultiHorizonClassifier*>(evaluation->last_fold_model.get());
  ASSERT_NE(multi, nullptr);
  const FoldPredictions& last = evaluation->predictions.back();
  FeatureMatrix x;
  x.columns = set->x.columns;
  x.rows = static_cast<int64_t>(last.rows.size());
  for (int64_t row : last.rows) {
    x.values.insert(x.values.end(), set->x.row(row).begin(), set->x.row(row).end());
  }
  for (size_t k = 0; k < 3; ++k) {
    auto probs = AsClassifier(&multi->horizon_model(k))->PredictProba(x);
    ASSERT_TRUE(probs.ok());
    for (int64_t row = 0; row < x.rows; ++row) {
      ASSERT_DOUBLE_EQ(last.values[row * 3 + k], probs->at(row, 1)) << "horizon " << k;
    }
  }
}

// Imbalance is applied to the rows being fitted only: flipping the labels of the last
// fold's test rows (which no fold trains on) changes no fold's predictions; SMOTE adds
// exactly what the fold's training rows imply; class weights reweight them.
TEST_F(RiskTrainingTest, ImbalanceTouchesOnlyTrainingRows) {
  StoreSimulation(1, 3);
  for (const std::string method : {"smote", "class_weight"}) {
    const TrainingConfig config = MustConfig(CrashYaml("imbalance: {method: " + method + "}\n"));
    auto set = BuildTrainingSet(config, *store_);
    ASSERT_TRUE(set.ok()) << set.status().ToString();
    auto evaluation = Evaluate(config, *set);
    ASSERT_TRUE(evaluation.ok()) << evaluation.status().ToString();
    TrainingSet flipped = *set;
    for (int64_t row : evaluation->gate_rows) flipped.labels[row] = 1.0 - flipped.labels[row];
    auto again = Evaluate(config, flipped);
    ASSERT_TRUE(again.ok());
    ASSERT_EQ(again->predictions.size(), evaluation->predictions.size());
    for (size_t f = 0; f < evaluation->predictions.size(); ++f) {
      EXPECT_EQ(again->predictions[f].values, evaluation->predictions[f].values) << method << f;
    }
    const Fold& fold = evaluation->folds.front();
    FitReport report;
    auto model = FitModel(config, *set, fold.train, &report);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    int64_t positives = 0;
    for (int64_t row : fold.train) positives += set->labels[row] == 1.0 ? 1 : 0;
    const int64_t negatives = static_cast<int64_t>(fold.train.size()) - positives;
    ASSERT_GT(positives, 1);
    ASSERT_LT(positives, negatives);
    ASSERT_EQ(report.synthetic.size(), 1u);
    if (method == "smote") {
      EXPECT_EQ(report.synthetic[0], negatives - positives);
      EXPECT_EQ(report.rows_fitted[0], 2 * negatives);
    } else {
      EXPECT_EQ(report.synthetic[0], 0);
      EXPECT_EQ(report.rows_fitted[0], static_cast<int64_t>(fold.train.size()));
    }
    // The imbalance remedy changes the fit: predictions differ from the plain model's.
    auto plain = FitModel(MustConfig(CrashYaml()), *set, fold.train);
    ASSERT_TRUE(plain.ok());
    FeatureMatrix x = set->x;
    auto a = AsClassifier(model->get())->PredictProba(x);
    auto b = AsClassifier(plain->get())->PredictProba(x);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE(a->values, b->values) << method;
  }
}

// Fold k's calibrated predictions come from a calibrator fitted on folds before k only:
// recomputed by hand here, and unchanged when a later fold's labels change.
TEST_F(RiskTrainingTest, HonestCalibrationUsesEarlierFoldsOnly) {
  StoreSimulation(1, 3);
  const TrainingConfig config = MustConfig(CrashYaml("calibration: {method: platt}\n"));
  auto set = BuildTrainingSet(config, *store_);
  ASSERT_TRUE(set.ok());
  auto evaluation = Evaluate(config, *set);
  ASSERT_TRUE(evaluation.ok());
  ASSERT_EQ(evaluation->predictions.size(), 3u);
  auto honest =
      HonestCalibratedPredictions(CalibrationMethod::kPlatt, *set, evaluation->predictions);
  ASSERT_TRUE(honest.ok()) << honest.status().ToString();
  ASSERT_EQ(honest->size(), 2u);  // folds 2 and 3
  for (size_t k = 1; k < 3; ++k) {
    std::vector<double> probs;
    std::vector<int> labels;
    for (size_t earlier = 0; earlier < k; ++earlier) {
      const auto p = PositiveProbabilities(evaluation->predictions[earlier], 0);
      const auto y = OutputLabels(*set, 0, evaluation->predictions[earlier].rows);
      probs.insert(probs.end(), p.begin(), p.end());
      labels.insert(labels.end(), y.begin(), y.end());
    }
    auto calibrator = ProbabilityCalibrator::Fit(CalibrationMethod::kPlatt, probs, labels);
    ASSERT_TRUE(calibrator.ok());
    const auto raw = PositiveProbabilities(evaluation->predictions[k], 0);
    const auto calibrated = PositiveProbabilities((*honest)[k - 1], 0);
    for (size_t row = 0; row < raw.size(); ++row) {
      ASSERT_DOUBLE_EQ(calibrated[row], calibrator->Apply(raw[row])) << k << " " << row;
    }
  }
  // The last fold's labels do not reach fold 2's calibrated predictions.
  TrainingSet flipped = *set;
  for (int64_t row : evaluation->gate_rows) flipped.labels[row] = 1.0 - flipped.labels[row];
  auto flipped_honest =
      HonestCalibratedPredictions(CalibrationMethod::kPlatt, flipped, evaluation->predictions);
  ASSERT_TRUE(flipped_honest.ok());
  EXPECT_EQ((*flipped_honest)[0].values, (*honest)[0].values);
  // The job's calibrated_* metrics are exactly these predictions pooled.
  auto fit = FitCalibration(config, *set, *evaluation);
  ASSERT_TRUE(fit.ok()) << fit.status().ToString();
  std::vector<double> probs;
  std::vector<int> labels;
  for (const FoldPredictions& fold : *honest) {
    const auto p = PositiveProbabilities(fold, 0);
    const auto y = OutputLabels(*set, 0, fold.rows);
    probs.insert(probs.end(), p.begin(), p.end());
    labels.insert(labels.end(), y.begin(), y.end());
  }
  EXPECT_DOUBLE_EQ(fit->metrics.at("calibrated_brier"), *BrierScore(labels, probs));
  EXPECT_DOUBLE_EQ(fit->metrics.at("calibrated_log_loss"), *LogLoss(labels, probs));
  EXPECT_EQ(fit->metrics.at("calibrated_test_rows"), static_cast<double>(probs.size()));
  EXPECT_FALSE(fit->gate_metrics.empty());
}

// The liquidation model end to end: several horizons in one job, SMOTE inside folds,
// isotonic calibration, risk levels, importance, a fallback; registered and reloaded.
TEST_F(RiskTrainingTest, LiquidationTrainsEndToEnd) {
  StoreSimulation(1, 3);
  const TrainingResult result =
      Train(LiquidationYaml("imbalance: {method: smote}\n"
                            "calibration: {method: isotonic}\n"
                            "risk_levels: {medium: 0.2, high: 0.4, critical: 0.7}\n"
                            "fallback: {kind: logistic, params: {C: 1.0, standardize: true}}\n"));
  const Manifest& m = result.manifest;
  ASSERT_EQ(m.version, 1);
  EXPECT_EQ(m.kind, "multi_horizon");
  EXPECT_EQ(m.parameters["base"]["kind"], "calibrated");
  EXPECT_EQ(m.details["task"], "liquidation");
  EXPECT_EQ(m.details["label"]["horizons"], nlohmann::json({"5m", "15m", "1h"}));
  EXPECT_EQ(m.details["imbalance"]["method"], "smote");
  EXPECT_EQ(m.details["calibration"]["method"], "isotonic");
  EXPECT_EQ(m.details["risk_levels"]["cutpoints"]["high"], 0.4);
  // Permutation importance per horizon, on the held-out gate rows (a horizon whose gate
  // rows hold one class is skipped with the reason).
  EXPECT_TRUE(m.details["importance"]["methods"].contains("permutation@1h"));
  EXPECT_TRUE(m.details["importance"]["methods"].contains("permutation@5m") ||
              m.details["importance"]["skipped"].contains("permutation@5m"));
  EXPECT_TRUE(m.details["importance"]["methods"].contains("mean_abs_shap"));
  for (const char* metric :
       {"pr_auc", "pr_auc@5m", "pr_auc@1h", "calibrated_brier", "calibrated_log_loss@15m"}) {
    EXPECT_TRUE(m.metrics.contains(metric)) << metric;
  }
  EXPECT_EQ(result.fallback_reference, "liq_btc_fallback@production");
  EXPECT_EQ(m.details["fallback"]["reference"], "liq_btc_fallback@production");
  ASSERT_TRUE(result.fallback_manifest.has_value());
  EXPECT_EQ(result.fallback_manifest->kind, "multi_horizon");
  EXPECT_EQ(result.fallback_manifest->details["fallback_for"], "liq_btc");
  EXPECT_TRUE(result.fallback_promoted);
  ExpectReloads(result);
  auto loaded = registry_->Load("liq_btc@production");
  ASSERT_TRUE(loaded.ok());
  const auto* multi = dynamic_cast<const MultiHorizonClassifier*>(loaded->model.get());
  ASSERT_NE(multi, nullptr);
  EXPECT_EQ(multi->horizons_ns().size(), 3u);
  EXPECT_EQ(*RecordedFallback(*registry_, "liq_btc"), "liq_btc_fallback@production");
  // A second job compares with production on the same horizons.
  const TrainingResult second = Train(LiquidationYaml("promotion: {tolerance: 1.0}\n"));
  EXPECT_TRUE(second.promoted) << second.gate.reason;
  EXPECT_TRUE(Contains(second.gate.reason, "production v1")) << second.gate.reason;
}

TEST_F(RiskTrainingTest, CrashAndForwardReturnTrainEndToEnd) {
  StoreSimulation(1, 3);
  const TrainingResult crash = Train(CrashYaml("imbalance: {method: class_weight}\n"));
  EXPECT_EQ(crash.manifest.kind, "logistic");
  EXPECT_EQ(crash.manifest.details["task"], "crash");
  EXPECT_EQ(crash.manifest.details["label"]["k"], 1.5);
  EXPECT_TRUE(crash.manifest.metrics.contains("pr_auc"));
  EXPECT_EQ(crash.manifest.details["validation_folds"].size(), 3u);
  ExpectReloads(crash);
  const TrainingResult forward = Train(R"(name: ret_btc
task: direction
model: {kind: ridge, params: {alpha: 1.0, standardize: true}}
data: {instruments: [sim:BTC-PERP]}
features: ta
label: {kind: forward_return, horizon: 30m}
validation: {train: 1d, test: 12h}
)");
  EXPECT_EQ(forward.manifest.task, Task::kRegression);
  EXPECT_EQ(forward.manifest.details["task"], "direction");
  EXPECT_TRUE(forward.manifest.metrics.contains("rmse"));
  EXPECT_TRUE(forward.manifest.details["importance"]["methods"].contains("permutation"));
  ExpectReloads(forward);
}

// The cross-venue opportunity: the pair's close as of each row (its last bar at or before
// the row's time), on a second venue simulated with slightly different volatility.
TEST_F(RiskTrainingTest, OpportunityTrainsEndToEndOnTwoVenues) {
  StoreSimulation(1, 3);
  SimulationOptions alt;
  alt.instruments = 1;
  alt.days = 3;
  alt.seed = 11;
  alt.venue = "alt";
  alt.volatility_scale = 1.1;
  auto simulation = Simulate(alt);
  ASSERT_TRUE(simulation.ok());
  WriteUnit unit;
  unit.source = "simulation";
  unit.batches = simulation->batches;
  ASSERT_TRUE(store_->Write(unit).ok());
  const std::string yaml = R"(name: arb_btc
task: opportunity
model: {kind: logistic, params: {C: 0.1, standardize: true}}
data: {instruments: [sim:BTC-PERP], timeframe: 1m}
features: ta
label: {pair: alt:BTC-PERP, horizon: 15m, fee_bps: 2, slippage_bps: 1, gas_usd: 1, notional_usd: 10000, persist_rows: 2}
validation: {train: 1d, test: 12h}
)";
  const TrainingResult result = Train(yaml);
  EXPECT_EQ(result.manifest.details["task"], "opportunity");
  EXPECT_EQ(result.manifest.details["label"]["pair"], "alt:BTC-PERP");
  ExpectReloads(result);
  auto config = Config(yaml);
  auto set = BuildTrainingSet(*config, *store_);
  ASSERT_TRUE(set.ok());
  const auto positives = std::count(set->labels.begin(), set->labels.end(), 1.0);
  EXPECT_GT(positives, 0);
  EXPECT_LT(positives, set->rows());
  std::string missing = yaml;
  missing.replace(missing.find("alt:BTC-PERP"), 12, "alt:NOPE-PERP");
  auto no_pair = BuildTrainingSet(*Config(missing), *store_);
  ASSERT_FALSE(no_pair.ok());
  EXPECT_TRUE(Contains(no_pair.status().message(), "alt:NOPE-PERP")) << no_pair.status().message();
}

// Protocol risk: three classes from the lending protocol's TVL (sim:LEND, hourly).
TEST_F(RiskTrainingTest, ProtocolRiskTrainsEndToEnd) {
  StoreSimulation(1, 14);
  const TrainingResult result = Train(R"(name: lend_risk
task: protocol_risk
model: {kind: xgboost, params: {n_estimators: 20, max_depth: 3}}
data: {instruments: [sim:LEND]}
features: defi
label: {horizon: 1d, drawdown_medium: 0.01, drawdown_high: 0.03, volatility_medium: 0.004, volatility_high: 0.008}
validation: {train: 6d, test: 2d}
)");
  EXPECT_EQ(result.manifest.details["task"], "protocol_risk");
  EXPECT_EQ(result.gate.metric, "log_loss");
  EXPECT_TRUE(result.manifest.metrics.contains("log_loss"));
  ExpectReloads(result);
  // On candles there is no TVL: the error says where TVL lives.
  auto candles = Config(R"(name: lend_risk
task: protocol_risk
model: {kind: xgboost}
data: {instruments: [sim:BTC-PERP]}
features: ta
label: {horizon: 1d}
validation: {train: 6d, test: 2d}
)");
  ASSERT_TRUE(candles.ok()) << candles.status().ToString();
  auto set = BuildTrainingSet(*candles, *store_);
  ASSERT_FALSE(set.ok());
  EXPECT_TRUE(Contains(set.status().message(), "protocol_risk labels read TVL"));
}

}  // namespace
}  // namespace vigil
