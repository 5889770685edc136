// Prometheus metrics for /metrics: counters, gauges and histograms with labels, rendered
// in the text exposition format 0.0.4.
//
//   vigil::MetricsRegistry metrics;
//   vigil::Counter& requests = metrics.GetCounter(
//       "vigil_http_requests_total", "HTTP requests by route and status",
//       {{"route", "/v1/predict/{model}"}, {"status", "200"}});
//   requests.Increment();
//   metrics.GetHistogram("vigil_http_request_seconds", "Request latency", vigil::LatencyBuckets(),
//                        {{"route", "/health"}}).Observe(0.0004);
//   std::string text = metrics.Render();
//
// A (name, labels) pair names one series, whatever the order of the labels; Get* returns
// the same object every time, and the reference stays valid for the registry's life, so hot
// paths look it up once (Get* takes a mutex; updates do not). The help text is that of the
// first Get* of a name; later ones may pass any.
// Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* (not "__..."
// and, for histograms, not "le"), without repeats; label values are escaped (\\, \", \n) when
// rendered, as is the help (\\, \n). Misuse is a programming error: a bad name or label, or
// a name asked for with another type or other buckets, aborts in debug builds and in release
// builds returns a detached series that works but is never rendered.
// Render runs the collectors, then lists families sorted by name, series sorted by labels,
// each family with # HELP and # TYPE; histograms with cumulative _bucket{le=...} (le="+Inf"
// last), _sum and _count (always equal to the +Inf bucket). Numbers are written as Go's
// strconv.FormatFloat(v, 'g', -1) writes them, like Prometheus itself: "0.0005", "5e-05",
// "1e+06", "+Inf", "NaN".
// Thread-safety: every method may be called from any thread; updates are lock-free.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace vigil {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Increment(double by = 1.0);  // by >= 0 (asserted; ignored otherwise)
  double value() const;

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double value);
  void Add(double by);
  double value() const;

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);  // sorted ascending, finite
  void Observe(double value);  // value <= bound counts in that bucket; NaN only in +Inf
  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Cumulative counts per bound, then +Inf; the sum and the count.
  std::vector<uint64_t> CumulativeCounts() const;
  double sum() const;
  uint64_t count() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, then +Inf
  std::atomic<double> sum_{0.0};
};

// Seconds: 50 us .. 10 s, roughly x2.5 steps.
std::vector<double> LatencyBuckets();
// Row counts: 1, 2, 4, ... 1024.
std::vector<double> SizeBuckets();

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  Counter& GetCounter(const std::string& name, const std::string& help,
                      const MetricLabels& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help,
                  const MetricLabels& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help,
                          const std::vector<double>& upper_bounds, const MetricLabels& labels = {});
  // Called at the start of every Render, outside the registry's lock, so it may call Get*
  // (e.g. to set gauges of model versions in use); it must not call Render.
  void AddCollector(std::function<void(MetricsRegistry&)> collector);

  std::string Render();

 private:
  struct Family;
  // All three with mutex_ held.
  Family* FamilyFor(const std::string& name, const std::string& help, int type,
                    const std::vector<double>& bounds);
  Family& DetachedFamily(const std::string& name, int type, const std::vector<double>& bounds);
  // The family to use, and `labels` made canonical (sorted by name).
  Family& FamilyAndLabels(const std::string& name, const std::string& help, int type,
                          const std::vector<double>& bounds, MetricLabels& labels);

  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family>> families_;
  std::map<std::string, std::unique_ptr<Family>> detached_;  // misused names, never rendered
  std::vector<std::function<void(MetricsRegistry&)>> collectors_;
};

}  // namespace vigil
