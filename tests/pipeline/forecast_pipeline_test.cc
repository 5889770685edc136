// Series for forecasting (CSV, candles, prediction series, as-of resampling, transforms) and
// `task: forecast` training jobs.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <random>

#include "pipeline/pipeline_fixture.h"
#include "vigil/core/clock.h"
#include "vigil/pipeline/forecast_series.h"
#include "vigil/pipeline/forecast_training.h"

namespace vigil {
namespace {

using testing_util::Contains;
using testing_util::PipelineTest;

constexpr int64_t kMinute = kNanosPerMinute;
constexpr int64_t kHour = kNanosPerHour;
const Timestamp kStart = Timestamp::FromSeconds(1'704'067'200);  // 2024-01-01T00:00:00Z

class ForecastSeriesTest : public PipelineTest {
 protected:
  std::string WriteCsv(const std::string& name, const std::string& text) const {
    const std::filesystem::path path = home_ / name;
    std::ofstream(path) << text;
    return path.string();
  }

  // Scores of model `model` every minute for `minutes` minutes from kStart: score = minute
  // index, value = index / 1000, for each of `horizons`.
  void StorePredictions(const std::string& model, int minutes,
                        const std::vector<std::string>& horizons = {""}) {
    std::vector<PredictionRow> rows;
    for (int i = 0; i < minutes; ++i) {
      for (const std::string& horizon : horizons) {
        PredictionRow row;
        row.model_name = model;
        row.model_version = 1;
        row.instrument = "sim:BTC-PERP";
        row.ts = kStart + i * kMinute;
        row.horizon = horizon;
        row.score = i;
        row.value = i / 1000.0 + (horizon == "15m" ? 1.0 : 0.0);
        row.created_at = row.ts;
        rows.push_back(row);
      }
    }
    auto written = store_->WritePredictions(rows);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
  }
};

TEST_F(ForecastSeriesTest, CsvWithTimestampsInIsoOrEpoch) {
  const std::string path =
      WriteCsv("a.csv", "timestamp,price\n2024-01-01T00:00:00Z,1.5\n2024-01-01T01:00:00Z,2\n");
  auto series = ReadSeriesCsv(path, "");
  ASSERT_TRUE(series.ok()) << series.status().ToString();
  EXPECT_EQ(series->values, (std::vector<double>{1.5, 2.0}));
  ASSERT_EQ(series->times.size(), 2u);
  EXPECT_EQ(series->times[1] - series->times[0], kHour);

  const std::string epoch = WriteCsv("b.csv", "value,timestamp\n3,1704067200\n4,1704070800\n");
  auto from_epoch = ReadSeriesCsv(epoch, "");
  ASSERT_TRUE(from_epoch.ok()) << from_epoch.status().ToString();
  EXPECT_EQ(from_epoch->times.front(), kStart);
  EXPECT_EQ(from_epoch->values, (std::vector<double>{3, 4}));

  const std::string plain = WriteCsv("c.csv", "y\n1\n2\n3\n");
  auto without_times = ReadSeriesCsv(plain, "");
  ASSERT_TRUE(without_times.ok());
  EXPECT_FALSE(without_times->has_times());
  EXPECT_EQ(without_times->size(), 3);
}

TEST_F(ForecastSeriesTest, CsvErrorsNameFileLineAndColumn) {
  const std::string two = WriteCsv("two.csv", "timestamp,close,volume\n1,2,3\n2,3,4\n");
  auto ambiguous = ReadSeriesCsv(two, "");
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_TRUE(Contains(ambiguous.status().message(), "close, volume"))
      << ambiguous.status().ToString();
  auto unknown = ReadSeriesCsv(two, "open");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(unknown.status().message(), "columns: timestamp, close, volume"));
  auto chosen = ReadSeriesCsv(two, "volume");
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->values, (std::vector<double>{3, 4}));

  const std::string bad = WriteCsv("bad.csv", "y\n1\n2\nabc\n4\n");
  auto not_number = ReadSeriesCsv(bad, "");
  ASSERT_FALSE(not_number.ok());
  EXPECT_TRUE(Contains(not_number.status().message(), "bad.csv:4: column 'y'"))
      << not_number.status().ToString();
  const std::string empty = WriteCsv("empty.csv", "timestamp,y\n1,1\n2,\n3,3\n");
  auto empty_cell = ReadSeriesCsv(empty, "");
  ASSERT_FALSE(empty_cell.ok());
  EXPECT_TRUE(Contains(empty_cell.status().message(), "empty.csv:3: column 'y': empty cell"));
  const std::string backwards = WriteCsv("back.csv", "timestamp,y\n5,1\n4,2\n");
  EXPECT_TRUE(Contains(ReadSeriesCsv(backwards, "").status().message(), "back.csv:3"));
}

// The stamped value of every bucket end E is the last observation strictly before E.
TEST_F(ForecastSeriesTest, ResamplingUsesOnlyEarlierObservations) {
  std::mt19937_64 rng(5);
  ForecastSeries raw;
  int64_t ts = kStart.nanos() + 17 * kMinute;
  for (int i = 0; i < 500; ++i) {
    ts += std::uniform_int_distribution<int64_t>(1, 40)(rng) * kMinute;
    raw.times.emplace_back(ts);
    raw.values.push_back(std::normal_distribution<double>()(rng));
  }
  raw.times.emplace_back(ts + kHour * 3);  // a gap of several buckets
  raw.values.push_back(42.0);
  auto hourly = ResampleAsOf(raw, kHour);
  ASSERT_TRUE(hourly.ok()) << hourly.status().ToString();
  ASSERT_GT(hourly->size(), 100);
  for (int64_t b = 0; b < hourly->size(); ++b) {
    const Timestamp end = hourly->times[b];
    EXPECT_EQ(end.nanos() % kHour, 0);
    const auto after = std::lower_bound(raw.times.begin(), raw.times.end(), end);
    ASSERT_NE(after, raw.times.begin());
    EXPECT_EQ(hourly->values[b], raw.values[after - raw.times.begin() - 1]) << end.ToIso();
  }
  EXPECT_GT(hourly->times.front(), raw.times.front());
}

TEST_F(ForecastSeriesTest, ObservationAtABucketEndBelongsToTheNextBucket) {
  ForecastSeries raw;
  for (int m : {0, 30, 60, 90, 120}) {
    raw.times.push_back(kStart + m * kMinute);
    raw.values.push_back(m);
  }
  auto hourly = ResampleAsOf(raw, kHour);
  ASSERT_TRUE(hourly.ok());
  // Buckets end 01:00 (30 seen), 02:00 (90 seen); 03:00 would need data up to 03:00 and the
  // last observation (02:00) covers only until 02:30, so it is incomplete and dropped.
  EXPECT_EQ(hourly->values, (std::vector<double>{30, 90}));
  EXPECT_EQ(hourly->times.back(), kStart + 2 * kHour);
}

TEST_F(ForecastSeriesTest, Transforms) {
  ForecastSeries prices;
  prices.source = "p";
  prices.values = {100, 110, 99};
  auto log_returns = ApplyTransform(prices, SeriesTransform::kLogReturn);
  ASSERT_TRUE(log_returns.ok());
  ASSERT_EQ(log_returns->size(), 2);
  EXPECT_DOUBLE_EQ(log_returns->values[0], std::log(1.1));
  auto pct = ApplyTransform(prices, SeriesTransform::kPctReturn);
  ASSERT_TRUE(pct.ok());
  EXPECT_DOUBLE_EQ(pct->values[1], 99.0 / 110.0 - 1.0);
  auto logs = ApplyTransform(prices, SeriesTransform::kLog);
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(logs->size(), 3);
  prices.values[1] = -1;
  auto bad = ApplyTransform(prices, SeriesTransform::kLog);
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(bad.status().message(), "value 2")) << bad.status().ToString();
  EXPECT_FALSE(ParseSeriesTransform("sqrt").ok());
}

TEST_F(ForecastSeriesTest, CandleFieldFromTheStore) {
  StoreSimulation(1, 1);
  StoreSeriesSpec spec;
  spec.instrument = "sim:BTC-PERP";
  spec.field = "close";
  auto minutes = LoadStoreSeries(*store_, spec);
  ASSERT_TRUE(minutes.ok()) << minutes.status().ToString();
  EXPECT_EQ(minutes->size(), 1440);
  spec.every_ns = kHour;
  spec.transform = SeriesTransform::kLogReturn;
  auto hourly = LoadStoreSeries(*store_, spec);
  ASSERT_TRUE(hourly.ok()) << hourly.status().ToString();
  EXPECT_EQ(hourly->size(), 23);  // 24 complete hours, one fewer return
  // The 01:00 close of the resampled series is the close of the 00:59 bar.
  EXPECT_DOUBLE_EQ(hourly->values[0], std::log(minutes->values[119] / minutes->values[59]));

  spec.field = "closing";
  EXPECT_TRUE(Contains(LoadStoreSeries(*store_, spec).status().message(), "unknown field"));
  spec.field = "close";
  spec.instrument = "sim:NOPE";
  EXPECT_EQ(LoadStoreSeries(*store_, spec).status().code(), StatusCode::kNotFound);
}

TEST_F(ForecastSeriesTest, PredictionSeriesByScoreValueAndHorizon) {
  StorePredictions("risk", 180);
  StorePredictions("multi", 180, {"5m", "15m"});
  StoreSeriesSpec spec;
  spec.instrument = "sim:BTC-PERP";
  spec.field = "score:risk";
  spec.every_ns = kHour;
  auto hourly = LoadStoreSeries(*store_, spec);
  ASSERT_TRUE(hourly.ok()) << hourly.status().ToString();
  EXPECT_EQ(hourly->values, (std::vector<double>{59, 119, 179}));

  spec.field = "value:multi";
  auto ambiguous = LoadStoreSeries(*store_, spec);
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_TRUE(Contains(ambiguous.status().message(), "value:multi@15m"))
      << ambiguous.status().ToString();
  spec.field = "value:multi@15m";
  auto chosen = LoadStoreSeries(*store_, spec);
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_DOUBLE_EQ(chosen->values[0], 1.059);
  spec.field = "score:nobody";
  EXPECT_EQ(LoadStoreSeries(*store_, spec).status().code(), StatusCode::kNotFound);
}

// --- task: forecast ---

std::string ForecastYaml(const std::string& model, const std::string& extra = "") {
  return "name: btc_close\n"
         "task: forecast\n"
         "model: " +
         model +
         "\n"
         "data:\n"
         "  instrument: sim:BTC-PERP\n"
         "  field: close\n"
         "  every: 1h\n"
         "  transform: log\n"
         "validation: {horizon: 3, origins: 5, min_train: 12}\n" +
         extra;
}

TEST_F(ForecastSeriesTest, ForecastConfigParses) {
  auto config = Config(ForecastYaml("{kind: arima, config: {order: [1, 1, 0]}}"));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->task, Task::kForecast);
  EXPECT_EQ(config->model_kind, "arima");
  EXPECT_EQ(config->model_params["order"], nlohmann::json({1, 1, 0}));
  EXPECT_EQ(config->forecast_series.every_ns, kHour);
  EXPECT_EQ(config->forecast_series.transform, SeriesTransform::kLog);
  EXPECT_EQ(config->forecast_validation.horizon, 3);
  EXPECT_EQ(config->forecast_validation.origins, 5);
  EXPECT_EQ(config->instruments, std::vector<std::string>{"sim:BTC-PERP"});
  EXPECT_EQ(config->promotion.metric, "mase");
}

TEST_F(ForecastSeriesTest, ForecastConfigErrorsNameTheLineAndKey) {
  const std::string base = ForecastYaml("{kind: naive}");
  ExpectConfigErrors({
      {base + "features: ta\n", "train.yaml:10: features: does not apply to task forecast"},
      {ForecastYaml("{kind: logistic}"), "model.kind: 'logistic' is a classification model"},
      {base + "promotion: {metric: roc_auc}\n", "does not apply to forecast models"},
      {ConfigErrorCase{"name: x\ntask: forecast\nmodel: {kind: naive}\n"
                       "data: {instrument: sim:A, field: close}\nvalidation: {origins: 3}\n",
                       "train.yaml:5: validation.horizon: missing"}},
  });
  auto replace = [&](const std::string& from, const std::string& to) {
    return ConfigErrorWith(base, from, to);
  };
  EXPECT_TRUE(Contains(replace("transform: log", "transform: sqrt"),
                       "train.yaml:8: data.transform: unknown transform 'sqrt'"));
  EXPECT_TRUE(Contains(replace("field: close", "field: closing"), "unknown field 'closing'"));
  EXPECT_TRUE(Contains(replace("horizon: 3", "horizon: 0"), "validation.horizon: must be"));
  EXPECT_TRUE(Contains(replace("every: 1h", "every: 0s"),
                       "train.yaml:7: data.every: '0s' is not a duration"));
}

TEST_F(ForecastSeriesTest, TrainingRegistersAVersionWithRollingOriginMetrics) {
  StoreSimulation(1, 2);
  ManualClock clock(Timestamp::FromSeconds(1'800'000'000));
  TrainingJobOptions options;
  options.clock = &clock;
  TrainingResult first = Train(ForecastYaml("{kind: drift}"), options);
  ASSERT_EQ(first.manifest.version, 1);
  EXPECT_TRUE(first.promoted) << first.gate.reason;
  EXPECT_EQ(first.manifest.task, Task::kForecast);
  EXPECT_EQ(first.folds, 5);
  for (const char* metric : {"mae", "rmse", "mase", "coverage_80", "coverage_95", "naive_mase"}) {
    EXPECT_TRUE(first.manifest.metrics.contains(metric)) << metric << first.manifest.metrics;
  }
  EXPECT_FALSE(first.manifest.metrics.contains("drift_mase"));  // the model is the drift
  EXPECT_EQ(first.manifest.metrics["test_rows"], 15);
  EXPECT_EQ(first.manifest.training_data.rows, 48);  // the complete hours of 2 days
  auto loaded = registry_->Load("btc_close@production");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const Forecaster* forecaster = AsForecaster(loaded->model.get());
  ASSERT_NE(forecaster, nullptr);
  auto path = forecaster->Forecast(3, std::vector<double>{0.9});
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  EXPECT_EQ(path->mean.size(), 3u);

  // The same config again is compared on the same origins: equal metrics pass the gate.
  TrainingResult second = Train(ForecastYaml("{kind: drift}"), options);
  EXPECT_EQ(second.manifest.version, 2);
  EXPECT_TRUE(second.promoted) << second.gate.reason;
  ASSERT_TRUE(second.gate.production.has_value());
  EXPECT_DOUBLE_EQ(*second.gate.production, *second.gate.candidate);
  auto jobs = store_->ListTrainingJobs("btc_close", 0);
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->front().status, "succeeded");
}

}  // namespace
}  // namespace vigil
