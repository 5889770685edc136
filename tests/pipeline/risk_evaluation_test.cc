// The supervised risk evaluation harness on slices of real candle files (VIGIL_SHARED_DATA):
// causal features, task rows that carry ComputeLabels' values, purged folds, the baselines,
// metrics that are metrics.h's on the same predictions, determinism and the markdown.
#include "vigil/pipeline/risk_evaluation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "vigil/core/timestamp.h"
#include "vigil/models/metrics.h"
#include "vigil/models/model.h"

namespace vigil {
namespace {

constexpr int64_t kSliceBars = 6000;  // about four days of 1m bars

std::string SharedData(const std::string& relative) {
  return std::string(VIGIL_SHARED_DATA) + "/" + relative;
}

CandleSeries FirstBars(const CandleSeries& all, int64_t n) {
  CandleSeries out;
  auto head = [n](const auto& v) { return std::vector(v.begin(), v.begin() + n); };
  out.ts = head(all.ts);
  out.open = head(all.open);
  out.high = head(all.high);
  out.low = head(all.low);
  out.close = head(all.close);
  out.volume = head(all.volume);
  return out;
}

CandleSeries ReadSlice(const std::string& relative, const std::string& venue, int64_t bars) {
  Result<CandleSeries> all = ReadCandleSeries(SharedData(relative), venue);
  EXPECT_TRUE(all.ok()) << all.status().ToString();
  return all.ok() ? FirstBars(*all, std::min(bars, all->size())) : CandleSeries{};
}

// 50x long positions (a 1.5 % fall liquidates them) over 15 minutes of a volatile 1m
// altcoin/BTC series: frequent enough that every fold of a small slice has positives.
RiskTask LiquidationTask() {
  RiskTask task;
  task.label.kind = LabelKind::kLiquidation;
  task.label.side = PositionSide::kLong;
  task.label.leverage = 50.0;
  task.label.horizon_ns = 15 * kNanosPerMinute;
  return task;
}

std::vector<RiskModelSpec> FastModels() {
  std::vector<RiskModelSpec> fast;
  for (const RiskModelSpec& spec : StandardRiskModels(1, 1)) {
    if (spec.kind != "xgboost" && spec.kind != "random_forest") fast.push_back(spec);
  }
  return fast;
}

RiskWalkForward FourFolds() {
  RiskWalkForward options;
  options.folds = 4;
  options.min_test_positives = 5;
  return options;
}

class RiskEvaluationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::vector<RiskSeries> series;
    series.push_back(
        {"UNITTEST_BTC", ReadSlice("candles/UNITTEST_BTC-1m.json", "bittrex", kSliceBars)});
    Result<RiskPanel> built = BuildRiskPanel("unittest 1m", std::move(series));
    ASSERT_TRUE(built.ok()) << built.status().ToString();
    panel_ = new RiskPanel(std::move(*built));
  }
  static void TearDownTestSuite() {
    delete panel_;
    panel_ = nullptr;
  }

  static const RiskModelResult& ModelNamed(const RiskCellResult& cell, const std::string& name) {
    for (const RiskModelResult& model : cell.models) {
      if (model.spec.name == name) return model;
    }
    ADD_FAILURE() << "no model " << name;
    return cell.models.front();
  }

  // The folds the harness splits `data` into, computed here through the splitter's API.
  static std::vector<Fold> FoldsOf(const RiskTaskData& data, const RiskWalkForward& options) {
    Result<WalkForwardTimeOptions> time = options.TimeOptions(data.windows.start_ts);
    EXPECT_TRUE(time.ok()) << time.status().ToString();
    Result<std::vector<Fold>> folds = WalkForwardTimeSplit(*time, data.windows);
    EXPECT_TRUE(folds.ok()) << folds.status().ToString();
    return folds.ok() ? *folds : std::vector<Fold>{};
  }

  static RiskPanel* panel_;
};

RiskPanel* RiskEvaluationTest::panel_ = nullptr;

bool SameValue(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

TEST_F(RiskEvaluationTest, PanelHasTheDefaultFeaturesAndOneRowPerBar) {
  EXPECT_EQ(panel_->bar_ns, kNanosPerMinute);
  ASSERT_EQ(panel_->features.size(), 1u);
  EXPECT_EQ(panel_->features[0].rows, kSliceBars);
  ASSERT_GE(panel_->volatility_column, 0);
  EXPECT_EQ(panel_->columns[panel_->volatility_column], "rv_60");
  // Scale-free columns only: nothing in price units.
  for (const char* price_level : {"sma_20", "ema_20", "atr_14", "obv"}) {
    EXPECT_EQ(std::count(panel_->columns.begin(), panel_->columns.end(), price_level), 0)
        << price_level;
  }
}

TEST_F(RiskEvaluationTest, FeaturesAtABarDoNotChangeWhenLaterBarsDo) {
  const int64_t cut = 3000;
  CandleSeries changed = panel_->series[0].candles;
  for (int64_t bar = cut + 1; bar < changed.size(); ++bar) {
    for (std::vector<double>* prices :
         {&changed.open, &changed.high, &changed.low, &changed.close}) {
      (*prices)[bar] *= 1.7;
    }
    changed.volume[bar] *= 3.0;
  }
  std::vector<RiskSeries> series;
  series.push_back({"changed", changed});
  Result<RiskPanel> other = BuildRiskPanel("changed", std::move(series));
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  const FeatureMatrix& a = panel_->features[0];
  const FeatureMatrix& b = other->features[0];
  for (int64_t row = 0; row <= cut; ++row) {
    for (size_t col = 0; col < a.cols(); ++col) {
      ASSERT_TRUE(SameValue(a.at(row, col), b.at(row, col)))
          << "row " << row << " " << a.columns[col];
    }
  }
  bool later_differs = false;
  for (size_t col = 0; col < a.cols(); ++col) {
    later_differs = later_differs || !SameValue(a.at(cut + 1, col), b.at(cut + 1, col));
  }
  EXPECT_TRUE(later_differs);
}

TEST_F(RiskEvaluationTest, TaskRowsCarryComputeLabelsValuesInTimeOrder) {
  const RiskTask task = LiquidationTask();
  Result<RiskTaskData> data = BuildRiskTaskData(*panel_, task);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  const CandleSeries& candles = panel_->series[0].candles;
  LabelInputs inputs{candles.ts, candles.close, candles.high, candles.low, {}, {}};
  Result<Labels> labels = ComputeLabels(task.label, inputs);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  ASSERT_GT(data->x.rows, 0);
  EXPECT_EQ(data->x.rows + data->dropped_warmup + data->dropped_unlabelled, candles.size());
  EXPECT_GT(data->dropped_warmup, 0);
  EXPECT_GT(data->dropped_unlabelled, 0);
  for (int64_t row = 0; row < data->x.rows; ++row) {
    const int64_t bar = data->bar[row];
    ASSERT_EQ(data->labels[row], static_cast<int>(labels->values[bar])) << "bar " << bar;
    ASSERT_EQ(data->windows.end_ts[row], labels->windows.end_ts[bar]);
    ASSERT_EQ(data->windows.start_ts[row], candles.ts[bar]);
    if (row > 0) {
      ASSERT_GT(data->bar[row], data->bar[row - 1]);
    }
    for (size_t col = 0; col < data->x.cols(); ++col) {
      ASSERT_EQ(data->x.at(row, col), panel_->features[0].at(bar, col));
    }
  }
  EXPECT_GT(data->positives(), 50);
  EXPECT_LT(data->positives(), data->x.rows / 2);
}

TEST_F(RiskEvaluationTest, PooledSeriesAreMergedInTimeWithTiesInSeriesOrder) {
  std::vector<RiskSeries> series;
  series.push_back({"ETH_BTC", ReadSlice("candles/ETH_BTC-5m.csv", "bittrex", 1500)});
  series.push_back({"LTC_BTC", ReadSlice("candles/LTC_BTC-5m.csv", "bittrex", 1500)});
  Result<RiskPanel> panel = BuildRiskPanel("two 5m pairs", std::move(series));
  ASSERT_TRUE(panel.ok()) << panel.status().ToString();
  RiskTask task = LiquidationTask();
  task.label.horizon_ns = 30 * kNanosPerMinute;
  Result<RiskTaskData> data = BuildRiskTaskData(*panel, task);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  int64_t from_second = 0;
  for (int64_t row = 1; row < data->x.rows; ++row) {
    ASSERT_LE(data->windows.start_ts[row - 1], data->windows.start_ts[row]);
    if (data->windows.start_ts[row - 1] == data->windows.start_ts[row]) {
      ASSERT_LT(data->series[row - 1], data->series[row]);
    }
    from_second += data->series[row] == 1;
  }
  EXPECT_GT(from_second, 1000);
}

TEST_F(RiskEvaluationTest, HorizonMustBeAWholeNumberOfBars) {
  RiskTask task = LiquidationTask();
  task.label.horizon_ns = 90 * kNanosPerSecond;
  Result<RiskTaskData> data = BuildRiskTaskData(*panel_, task);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RiskEvaluationTest, FoldsArePurgedOfTrainingLabelsThatReachTheTestWindow) {
  const RiskTask task = LiquidationTask();
  Result<RiskTaskData> data = BuildRiskTaskData(*panel_, task);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  const std::vector<Fold> folds = FoldsOf(*data, FourFolds());
  ASSERT_EQ(folds.size(), 4u);
  int64_t purged = 0;
  for (const Fold& fold : folds) {
    ASSERT_FALSE(fold.test.empty());
    const int64_t test_start = data->windows.start_ts[fold.test.front()];
    for (int64_t row : fold.train) {
      ASSERT_LT(data->windows.end_ts[row], test_start) << "training row " << row;
    }
    purged += fold.purged;
  }
  EXPECT_GT(purged, 0);  // 15-minute labels just before each test window were dropped

  Result<RiskCellResult> cell = EvaluateRiskTask(*panel_, task, FastModels(), FourFolds());
  ASSERT_TRUE(cell.ok()) << cell.status().ToString();
  ASSERT_FALSE(cell->skipped) << cell->skip_reason;
  ASSERT_EQ(cell->folds.size(), folds.size());
  std::vector<int64_t> predicted;
  for (size_t f = 0; f < folds.size(); ++f) {
    EXPECT_EQ(cell->folds[f].train_rows, static_cast<int64_t>(folds[f].train.size()));
    EXPECT_EQ(cell->folds[f].test_rows, static_cast<int64_t>(folds[f].test.size()));
    EXPECT_EQ(cell->folds[f].purged, folds[f].purged);
    if (cell->folds[f].used) {
      predicted.insert(predicted.end(), folds[f].test.begin(), folds[f].test.end());
    }
  }
  EXPECT_EQ(cell->predicted_rows, predicted);
}

TEST_F(RiskEvaluationTest, BaseRateIsTheTrainingPositiveRate) {
  const RiskTask task = LiquidationTask();
  Result<RiskTaskData> data = BuildRiskTaskData(*panel_, task);
  ASSERT_TRUE(data.ok());
  const std::vector<Fold> folds = FoldsOf(*data, FourFolds());
  Result<RiskCellResult> cell = EvaluateRiskTask(*panel_, task, FastModels(), FourFolds());
  ASSERT_TRUE(cell.ok());
  ASSERT_FALSE(cell->skipped) << cell->skip_reason;
  const RiskModelResult& base = ModelNamed(*cell, "base_rate");
  ASSERT_TRUE(base.ok) << base.error;
  size_t offset = 0;
  for (size_t f = 0; f < folds.size(); ++f) {
    if (!cell->folds[f].used) continue;
    double positives = 0;
    for (int64_t row : folds[f].train) positives += data->labels[row];
    const double rate = positives / static_cast<double>(folds[f].train.size());
    double test_positives = 0;
    for (size_t i = 0; i < folds[f].test.size(); ++i) {
      ASSERT_DOUBLE_EQ(base.predictions[offset + i], rate) << "fold " << f;
      test_positives += data->labels[folds[f].test[i]];
    }
    offset += folds[f].test.size();
    ASSERT_TRUE(base.per_fold[f].has_value());
    EXPECT_DOUBLE_EQ(base.per_fold[f]->roc_auc, 0.5);
    // A constant ranks nothing: average precision is the test positive rate.
    EXPECT_NEAR(base.per_fold[f]->pr_auc, test_positives / folds[f].test.size(), 1e-12);
  }
  EXPECT_EQ(offset, base.predictions.size());
}

TEST_F(RiskEvaluationTest, MetricsAreMetricsHOnTheSamePredictions) {
  const RiskTask task = LiquidationTask();
  Result<RiskTaskData> data = BuildRiskTaskData(*panel_, task);
  ASSERT_TRUE(data.ok());
  Result<RiskCellResult> cell = EvaluateRiskTask(*panel_, task, FastModels(), FourFolds());
  ASSERT_TRUE(cell.ok());
  ASSERT_FALSE(cell->skipped) << cell->skip_reason;
  std::vector<int> labels;
  for (int64_t row : cell->predicted_rows) labels.push_back(data->labels[row]);
  for (const char* name : {"logistic", "vol_logistic"}) {
    const RiskModelResult& model = ModelNamed(*cell, name);
    ASSERT_TRUE(model.ok) << model.error;
    ASSERT_EQ(model.predictions.size(), labels.size());
    EXPECT_DOUBLE_EQ(model.pooled.pr_auc, *AveragePrecision(labels, model.predictions));
    EXPECT_DOUBLE_EQ(model.pooled.roc_auc, *RocAuc(labels, model.predictions));
    EXPECT_DOUBLE_EQ(model.pooled.brier, *BrierScore(labels, model.predictions));
    EXPECT_DOUBLE_EQ(model.pooled.log_loss, *LogLoss(labels, model.predictions));
    std::vector<double> fold_pr_auc;
    size_t offset = 0;
    for (size_t f = 0; f < cell->folds.size(); ++f) {
      if (!cell->folds[f].used) continue;
      const size_t n = static_cast<size_t>(cell->folds[f].test_rows);
      std::span<const int> fold_labels(labels.data() + offset, n);
      std::span<const double> fold_p(model.predictions.data() + offset, n);
      offset += n;
      if (!cell->folds[f].scored) continue;
      ASSERT_TRUE(model.per_fold[f].has_value());
      EXPECT_DOUBLE_EQ(model.per_fold[f]->pr_auc, *AveragePrecision(fold_labels, fold_p));
      EXPECT_DOUBLE_EQ(model.per_fold[f]->roc_auc, *RocAuc(fold_labels, fold_p));
      EXPECT_DOUBLE_EQ(model.per_fold[f]->brier, *BrierScore(fold_labels, fold_p));
      EXPECT_DOUBLE_EQ(model.per_fold[f]->log_loss, *LogLoss(fold_labels, fold_p));
      fold_pr_auc.push_back(model.per_fold[f]->pr_auc);
    }
    ASSERT_GE(fold_pr_auc.size(), 2u);
    double mean = 0, squares = 0;
    for (double v : fold_pr_auc) mean += v / fold_pr_auc.size();
    for (double v : fold_pr_auc) squares += (v - mean) * (v - mean);
    EXPECT_NEAR(model.mean.pr_auc, mean, 1e-12);
    EXPECT_NEAR(model.sd.pr_auc, std::sqrt(squares / (fold_pr_auc.size() - 1)), 1e-12);
    EXPECT_EQ(model.scored_folds, static_cast<int>(fold_pr_auc.size()));
  }
}

TEST_F(RiskEvaluationTest, VolLogisticFitsTheVolatilityColumnAlone) {
  const RiskTask task = LiquidationTask();
  Result<RiskTaskData> data = BuildRiskTaskData(*panel_, task);
  ASSERT_TRUE(data.ok());
  const std::vector<Fold> folds = FoldsOf(*data, FourFolds());
  Result<RiskCellResult> cell = EvaluateRiskTask(*panel_, task, FastModels(), FourFolds());
  ASSERT_TRUE(cell.ok());
  ASSERT_TRUE(cell->folds[0].used);
  const int vol = panel_->volatility_column;
  auto column_of = [&](const std::vector<int64_t>& rows) {
    FeatureMatrix x;
    x.columns = {"rv_60"};
    x.rows = static_cast<int64_t>(rows.size());
    for (int64_t row : rows) x.values.push_back(data->x.at(row, vol));
    return x;
  };
  std::vector<int> train_labels;
  for (int64_t row : folds[0].train) train_labels.push_back(data->labels[row]);
  Result<std::unique_ptr<Model>> model = CreateModel("logistic", {{"standardize", true}});
  ASSERT_TRUE(model.ok());
  Classifier* classifier = AsClassifier(model->get());
  ASSERT_TRUE(classifier->Fit(column_of(folds[0].train), train_labels).ok());
  Result<ProbabilityMatrix> p = classifier->PredictProba(column_of(folds[0].test));
  ASSERT_TRUE(p.ok());
  const RiskModelResult& harness = ModelNamed(*cell, "vol_logistic");
  ASSERT_TRUE(harness.ok) << harness.error;
  for (size_t i = 0; i < folds[0].test.size(); ++i) {
    ASSERT_EQ(harness.predictions[i], p->at(static_cast<int64_t>(i), 1)) << i;
  }
}

TEST_F(RiskEvaluationTest, RunsAreDeterministic) {
  const RiskTask task = LiquidationTask();
  Result<RiskCellResult> first = EvaluateRiskTask(*panel_, task, FastModels(), FourFolds());
  Result<RiskCellResult> second = EvaluateRiskTask(*panel_, task, FastModels(), FourFolds());
  ASSERT_TRUE(first.ok() && second.ok());
  nlohmann::json a = RiskCellJson(*first);
  nlohmann::json b = RiskCellJson(*second);
  for (nlohmann::json* json : {&a, &b}) {
    for (nlohmann::json& model : (*json)["models"]) model.erase("fit_seconds");
  }
  EXPECT_EQ(a, b);
  ASSERT_EQ(first->models.size(), second->models.size());
  for (size_t m = 0; m < first->models.size(); ++m) {
    EXPECT_EQ(first->models[m].predictions, second->models[m].predictions);
  }
}

TEST_F(RiskEvaluationTest, MarkdownHasARowPerModelAndTheComparison) {
  std::vector<RiskModelSpec> models = FastModels();
  models.push_back({"no_such_model", RiskModelRole::kModel, "no_such_kind", {}, false});
  Result<RiskCellResult> cell = EvaluateRiskTask(*panel_, LiquidationTask(), models, FourFolds());
  ASSERT_TRUE(cell.ok());
  const std::string table = RiskCellTable(*cell);
  EXPECT_NE(table.find("**liquidation long 50x, 15 min**"), std::string::npos) << table;
  EXPECT_NE(table.find("| model | PR-AUC | ROC-AUC | Brier | log loss |"), std::string::npos);
  for (const char* row : {"| logistic | ", "| base_rate | ", "| vol_logistic | "}) {
    EXPECT_NE(table.find(row), std::string::npos) << row << "\n" << table;
  }
  EXPECT_NE(table.find("| no_such_model | not run: "), std::string::npos) << table;
  EXPECT_NE(table.find("(best baseline)"), std::string::npos) << table;
  EXPECT_NE(table.find(" folds) |"), std::string::npos) << table;
  // The logistic row's comparison is CompareWithBestBaseline's.
  std::optional<BaselineComparison> c =
      CompareWithBestBaseline(*cell, ModelNamed(*cell, "logistic"));
  ASSERT_TRUE(c.has_value());
  char expected[64];
  std::snprintf(expected, sizeof(expected), "%+.3f (%d/%d folds)", c->delta_pr_auc, c->folds_won,
                c->folds_compared);
  EXPECT_NE(table.find(expected), std::string::npos) << expected << "\n" << table;

  const std::vector<RiskCellResult> cells = {*cell};
  const std::string summary = RiskSummaryTable(cells);
  EXPECT_NE(summary.find("| unittest 1m | liquidation long 50x, 15 min | "), std::string::npos)
      << summary;
}

TEST_F(RiskEvaluationTest, FoldsWithFewTestPositivesArePooledButNotScored) {
  Result<RiskCellResult> loose =
      EvaluateRiskTask(*panel_, LiquidationTask(), FastModels(), FourFolds());
  ASSERT_TRUE(loose.ok());
  int64_t most = 0;
  for (const RiskFoldSummary& fold : loose->folds) most = std::max(most, fold.test_positives);
  RiskWalkForward strict = FourFolds();
  strict.min_fold_positives = most;
  strict.min_scored_folds = 1;
  Result<RiskCellResult> cell = EvaluateRiskTask(*panel_, LiquidationTask(), FastModels(), strict);
  ASSERT_TRUE(cell.ok());
  ASSERT_FALSE(cell->skipped) << cell->skip_reason;
  const RiskModelResult& logistic = ModelNamed(*cell, "logistic");
  int scored = 0;
  for (size_t f = 0; f < cell->folds.size(); ++f) {
    const bool enough = cell->folds[f].used && cell->folds[f].test_positives >= most;
    EXPECT_EQ(cell->folds[f].scored, enough) << "fold " << f;
    EXPECT_EQ(logistic.per_fold[f].has_value(), enough) << "fold " << f;
    scored += enough;
  }
  EXPECT_GE(scored, 1);
  EXPECT_LT(scored, static_cast<int>(cell->folds.size()));
  EXPECT_EQ(logistic.scored_folds, scored);
  // Pooling still covers every used fold.
  EXPECT_EQ(cell->predicted_rows, loose->predicted_rows);
}

TEST_F(RiskEvaluationTest, CellsWithTooFewTestPositivesAreSkipped) {
  RiskWalkForward strict = FourFolds();
  strict.min_test_positives = 1'000'000;
  Result<RiskCellResult> cell = EvaluateRiskTask(*panel_, LiquidationTask(), FastModels(), strict);
  ASSERT_TRUE(cell.ok());
  EXPECT_TRUE(cell->skipped);
  EXPECT_TRUE(cell->models.empty());
  EXPECT_NE(cell->skip_reason.find("fewer than 1000000"), std::string::npos) << cell->skip_reason;
  EXPECT_NE(RiskCellTable(*cell).find("Skipped: "), std::string::npos);
  EXPECT_TRUE(RiskCellJson(*cell)["skipped"].get<bool>());
}

// CompareWithBestBaseline on hand-made fold results: the best baseline is the one with the
// highest mean PR-AUC, folds count only where both were scored.
TEST(RiskComparisonTest, BestBaselineAndFoldsWon) {
  auto with_folds = [](const std::string& name, RiskModelRole role,
                       std::vector<std::optional<double>> pr_auc) {
    RiskModelResult model;
    model.spec.name = name;
    model.spec.role = role;
    model.ok = true;
    double sum = 0;
    int n = 0;
    for (const std::optional<double>& v : pr_auc) {
      if (v) {
        RiskMetrics m;
        m.pr_auc = *v;
        model.per_fold.push_back(m);
        sum += *v;
        ++n;
      } else {
        model.per_fold.push_back(std::nullopt);
      }
    }
    model.mean.pr_auc = sum / n;
    return model;
  };
  RiskCellResult cell;
  cell.models.push_back(
      with_folds("model", RiskModelRole::kModel, {0.30, 0.10, std::nullopt, 0.50}));
  cell.models.push_back(
      with_folds("base_rate", RiskModelRole::kBaseRate, {0.05, 0.05, 0.05, 0.05}));
  cell.models.push_back(
      with_folds("vol_logistic", RiskModelRole::kVolatilityLogistic, {0.20, 0.20, 0.90, 0.40}));
  std::optional<BaselineComparison> c = CompareWithBestBaseline(cell, cell.models[0]);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->baseline, "vol_logistic");
  EXPECT_NEAR(c->delta_pr_auc, 0.30 - 0.425, 1e-12);
  EXPECT_EQ(c->folds_compared, 3);
  EXPECT_EQ(c->folds_won, 2);
  EXPECT_FALSE(CompareWithBestBaseline(cell, cell.models[1]).has_value());
}

}  // namespace
}  // namespace vigil
