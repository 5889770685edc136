#include "vigil/serve/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace vigil {
namespace {

// A small registry, registered out of order, so Render must sort families and series.
void FillSmallRegistry(MetricsRegistry& metrics) {
  metrics.GetGauge("vigil_up", "1 when serving").Set(1);
  Counter& predict_400 =
      metrics.GetCounter("vigil_http_requests_total", "HTTP requests by route and status",
                         {{"status", "400"}, {"route", "/v1/predict/{model}"}});
  Counter& health_200 =
      metrics.GetCounter("vigil_http_requests_total", "HTTP requests by route and status",
                         {{"route", "/health"}, {"status", "200"}});
  health_200.Increment();
  health_200.Increment(2);
  predict_400.Increment();
  metrics.GetGauge("vigil_model_version", "Model version in use", {{"model", "risk"}}).Set(4);
  Histogram& rows =
      metrics.GetHistogram("vigil_batch_rows", "Rows per batch", {1, 2, 4}, {{"model", "m"}});
  for (double value : {1.0, 3.0, 3.0, 10.5}) rows.Observe(value);
  metrics.GetGauge("vigil_scoring_lag_seconds", "Lag").Set(0.00025);
}

TEST(MetricsTest, RendersTheTextExpositionFormat) {
  MetricsRegistry metrics;
  FillSmallRegistry(metrics);
  const std::string expected =
      "# HELP vigil_batch_rows Rows per batch\n"
      "# TYPE vigil_batch_rows histogram\n"
      "vigil_batch_rows_bucket{model=\"m\",le=\"1\"} 1\n"
      "vigil_batch_rows_bucket{model=\"m\",le=\"2\"} 1\n"
      "vigil_batch_rows_bucket{model=\"m\",le=\"4\"} 3\n"
      "vigil_batch_rows_bucket{model=\"m\",le=\"+Inf\"} 4\n"
      "vigil_batch_rows_sum{model=\"m\"} 17.5\n"
      "vigil_batch_rows_count{model=\"m\"} 4\n"
      "# HELP vigil_http_requests_total HTTP requests by route and status\n"
      "# TYPE vigil_http_requests_total counter\n"
      "vigil_http_requests_total{route=\"/health\",status=\"200\"} 3\n"
      "vigil_http_requests_total{route=\"/v1/predict/{model}\",status=\"400\"} 1\n"
      "# HELP vigil_model_version Model version in use\n"
      "# TYPE vigil_model_version gauge\n"
      "vigil_model_version{model=\"risk\"} 4\n"
      "# HELP vigil_scoring_lag_seconds Lag\n"
      "# TYPE vigil_scoring_lag_seconds gauge\n"
      "vigil_scoring_lag_seconds 0.00025\n"
      "# HELP vigil_up 1 when serving\n"
      "# TYPE vigil_up gauge\n"
      "vigil_up 1\n";
  EXPECT_EQ(metrics.Render(), expected);
}

TEST(MetricsTest, SameNameAndLabelsReturnTheSameSeries) {
  MetricsRegistry metrics;
  Counter& first = metrics.GetCounter("c_total", "c", {{"a", "1"}, {"b", "2"}});
  Counter& again = metrics.GetCounter("c_total", "c", {{"b", "2"}, {"a", "1"}});
  Counter& other = metrics.GetCounter("c_total", "c", {{"a", "1"}, {"b", "3"}});
  EXPECT_EQ(&first, &again);
  EXPECT_NE(&first, &other);
  Histogram& h1 = metrics.GetHistogram("h", "h", SizeBuckets(), {{"model", "x"}});
  Histogram& h2 = metrics.GetHistogram("h", "h", SizeBuckets(), {{"model", "x"}});
  EXPECT_EQ(&h1, &h2);
  EXPECT_EQ(&metrics.GetGauge("g", "g"), &metrics.GetGauge("g", "g"));
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry metrics;
  metrics.GetCounter("odd_total", "help with \\ and\nnewline", {{"path", "a\\b\"c\nd"}})
      .Increment();
  EXPECT_EQ(metrics.Render(),
            "# HELP odd_total help with \\\\ and\\nnewline\n"
            "# TYPE odd_total counter\n"
            "odd_total{path=\"a\\\\b\\\"c\\nd\"} 1\n");
}

TEST(MetricsTest, ConcurrentUpdatesAreExact) {
  MetricsRegistry metrics;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 100'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      // Each thread looks the series up itself, as request handlers do.
      Counter& counter = metrics.GetCounter("hits_total", "hits");
      Gauge& gauge = metrics.GetGauge("level", "level");
      Histogram& histogram = metrics.GetHistogram("size", "size", {1, 2});
      for (int i = 0; i < kPerThread; ++i) {
        counter.Increment();
        gauge.Add(t % 2 == 0 ? 1.0 : -0.5);
        histogram.Observe(i % 3);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(metrics.GetCounter("hits_total", "hits").value(), kThreads * kPerThread);
  EXPECT_EQ(metrics.GetGauge("level", "level").value(),
            4 * kPerThread * 1.0 - 4 * kPerThread * 0.5);
  Histogram& histogram = metrics.GetHistogram("size", "size", {1, 2});
  EXPECT_EQ(histogram.count(), uint64_t{kThreads * kPerThread});
  // i % 3 is 0, 1 or 2: 0 and 1 fall in le=1, 2 in le=2.
  std::vector<uint64_t> cumulative = histogram.CumulativeCounts();
  const uint64_t zeros_and_ones = kThreads * (33'334 + 33'333);
  EXPECT_EQ(cumulative,
            (std::vector<uint64_t>{zeros_and_ones, kThreads * kPerThread, kThreads * kPerThread}));
  EXPECT_EQ(histogram.sum(), kThreads * 33'333.0 * (1 + 2));
}

TEST(MetricsTest, HistogramBucketsAreInclusiveAndNanGoesToInf) {
  Histogram histogram({0.5, 1.0});
  histogram.Observe(0.5);  // le="0.5" includes 0.5
  histogram.Observe(0.75);
  histogram.Observe(1.0);
  histogram.Observe(-3);  // below every bound: the first bucket
  histogram.Observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(histogram.CumulativeCounts(), (std::vector<uint64_t>{2, 4, 5}));
  EXPECT_EQ(histogram.count(), 5u);
  EXPECT_TRUE(std::isnan(histogram.sum()));
}

TEST(MetricsTest, SpecialValuesRenderAsPrometheusSpells) {
  MetricsRegistry metrics;
  metrics.GetGauge("g", "g", {{"k", "inf"}}).Set(std::numeric_limits<double>::infinity());
  metrics.GetGauge("g", "g", {{"k", "nan"}}).Set(std::numeric_limits<double>::quiet_NaN());
  metrics.GetGauge("g", "g", {{"k", "neg"}}).Set(-std::numeric_limits<double>::infinity());
  metrics.GetGauge("g", "g", {{"k", "tiny"}}).Set(1e-300);
  EXPECT_EQ(metrics.Render(),
            "# HELP g g\n# TYPE g gauge\n"
            "g{k=\"inf\"} +Inf\ng{k=\"nan\"} NaN\ng{k=\"neg\"} -Inf\ng{k=\"tiny\"} 1e-300\n");
}

// Numbers as Go's strconv.FormatFloat(v, 'g', -1, 64) writes them (the Prometheus server
// and client_golang); the expected strings are what Go prints for these values.
TEST(MetricsTest, NumbersAreFormattedAsGoFormatsThem) {
  const std::vector<std::pair<double, std::string>> cases = {
      {0, "0"},           {1, "1"},
      {-2.5, "-2.5"},     {17.5, "17.5"},
      {0.0001, "0.0001"}, {0.00005, "5e-05"},
      {0.1, "0.1"},       {123456, "123456"},
      {1e6, "1e+06"},     {1234567, "1.234567e+06"},
      {3e21, "3e+21"},    {1.0 / 3, "0.3333333333333333"},
  };
  for (const auto& [value, expected] : cases) {
    MetricsRegistry metrics;
    metrics.GetGauge("g", "g").Set(value);
    EXPECT_EQ(metrics.Render(), "# HELP g g\n# TYPE g gauge\ng " + expected + "\n") << value;
  }
}

TEST(MetricsTest, CollectorsRunOnEveryRender) {
  MetricsRegistry metrics;
  int version = 3;
  metrics.AddCollector([&version](MetricsRegistry& registry) {
    registry.GetGauge("vigil_model_version", "v", {{"model", "risk"}}).Set(version);
  });
  EXPECT_NE(metrics.Render().find("vigil_model_version{model=\"risk\"} 3\n"), std::string::npos);
  version = 4;
  EXPECT_NE(metrics.Render().find("vigil_model_version{model=\"risk\"} 4\n"), std::string::npos);
}

TEST(MetricsTest, BucketPresetsAreAscending) {
  std::vector<double> latency = LatencyBuckets();
  ASSERT_EQ(latency.size(), 17u);
  EXPECT_EQ(latency.front(), 0.00005);
  EXPECT_EQ(latency.back(), 10.0);
  EXPECT_TRUE(std::is_sorted(latency.begin(), latency.end()));
  EXPECT_EQ(SizeBuckets(), (std::vector<double>{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}));
  MetricsRegistry metrics;
  metrics.GetHistogram("lat", "l", LatencyBuckets()).Observe(0.0003);
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("lat_bucket{le=\"5e-05\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_bucket{le=\"0.0001\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_bucket{le=\"0.0005\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_sum 0.0003\n"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_bucket{le=\"10\"} 1\n"), std::string::npos) << text;
}

#ifdef NDEBUG
// Release builds: a misuse yields a working series that is never rendered.
TEST(MetricsTest, MisuseGivesADetachedSeries) {
  MetricsRegistry metrics;
  metrics.GetCounter("taken", "t").Increment();
  Gauge& wrong_type = metrics.GetGauge("taken", "t");
  wrong_type.Set(7);
  EXPECT_EQ(&wrong_type, &metrics.GetGauge("taken", "t"));  // one dummy per name and type
  metrics.GetHistogram("h", "h", {1, 2}).Observe(1);
  metrics.GetHistogram("h", "h", {1, 3}).Observe(1);                         // other buckets
  metrics.GetCounter("bad name", "b").Increment();                           // invalid name
  metrics.GetCounter("c_total", "c", {{"0bad", "x"}}).Increment();           // invalid label name
  metrics.GetCounter("d_total", "d", {{"a", "x"}, {"a", "y"}}).Increment();  // repeated label
  metrics.GetHistogram("e", "e", {1}, {{"le", "1"}}).Observe(1);             // reserved label
  metrics.GetCounter("f_total", "f").Increment(-1);                          // ignored
  EXPECT_EQ(metrics.GetCounter("f_total", "f").value(), 0);
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("taken 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("7"), std::string::npos) << text;
  EXPECT_NE(text.find("h_count 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("bad name"), std::string::npos) << text;
  EXPECT_EQ(text.find("c_total"), std::string::npos) << text;
  EXPECT_EQ(text.find("d_total"), std::string::npos) << text;
  EXPECT_EQ(text.find("# TYPE e "), std::string::npos) << text;
}
#else
TEST(MetricsDeathTest, MisuseAbortsInDebugBuilds) {
  MetricsRegistry metrics;
  metrics.GetCounter("taken", "t");
  EXPECT_DEATH(metrics.GetGauge("taken", "t"), "misused");
  EXPECT_DEATH(metrics.GetCounter("bad name", "b"), "misused");
}
#endif

}  // namespace
}  // namespace vigil
