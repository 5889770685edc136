#include "vigil/serve/metrics.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <optional>

namespace vigil {
namespace {

enum MetricType : int { kCounterType = 0, kGaugeType = 1, kHistogramType = 2 };

const char* TypeName(int type) {
  switch (type) {
    case kCounterType:
      return "counter";
    case kGaugeType:
      return "gauge";
    default:
      return "histogram";
  }
}

// A CAS loop rather than std::atomic<double>::fetch_add: the same code on every standard
// library, and it is what fetch_add compiles to on x86-64 anyway.
void AtomicAdd(std::atomic<double>& target, double by) {
  double current = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(current, current + by, std::memory_order_relaxed)) {
  }
}

bool IsValidMetricName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

bool IsValidLabelName(const std::string& name) {
  if (name.empty() || name.rfind("__", 0) == 0) return false;  // "__" names are reserved
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!letter && !(digit && i > 0)) return false;
  }
  return true;
}

// Labels sorted by name, so {a,b} and {b,a} name the same series; nullopt when a name is
// invalid or repeated, or a histogram uses the reserved "le".
std::optional<MetricLabels> CanonicalLabels(MetricLabels labels, int type) {
  std::sort(labels.begin(), labels.end());
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!IsValidLabelName(labels[i].first)) return std::nullopt;
    if (i > 0 && labels[i].first == labels[i - 1].first) return std::nullopt;
    if (type == kHistogramType && labels[i].first == "le") return std::nullopt;
  }
  return labels;
}

bool IsValidBounds(const std::vector<double>& bounds) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i])) return false;
    if (i > 0 && !(bounds[i - 1] < bounds[i])) return false;
  }
  return true;
}

// As Go's strconv.FormatFloat(v, 'g', -1, 64), which Prometheus itself writes: the shortest
// digits that read back to the same double, in exponent form when the decimal exponent is
// below -4 or at least 6 ("5e-05", "0.0005", "100000", "1e+06").
std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  auto scientific =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  const std::string exponent_form(buffer, scientific.ptr);
  const int exponent = std::stoi(exponent_form.substr(exponent_form.find('e') + 1));
  if (exponent < -4 || exponent >= 6) return exponent_form;
  auto fixed = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed);
  return std::string(buffer, fixed.ptr);
}

// Help text escapes backslash and newline; label values also the double quote (format 0.0.4).
std::string Escape(const std::string& text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(const std::string& text) { return Escape(text, false); }
std::string EscapeLabelValue(const std::string& text) { return Escape(text, true); }

// `{a="1",b="2"}`, with `extra` (the histogram's le) last; "" when there are no labels.
std::string RenderLabels(const MetricLabels& labels, const std::string& extra = "") {
  if (labels.empty() && extra.empty()) return "";
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1) out += ',';
    out += name + "=\"" + EscapeLabelValue(value) + '"';
  }
  if (!extra.empty()) {
    if (out.size() > 1) out += ',';
    out += extra;
  }
  return out + "}";
}

}  // namespace

// ---- Counter, Gauge, Histogram ----

void Counter::Increment(double by) {
  assert(by >= 0 && "Counter::Increment by a negative amount");
  if (!(by >= 0)) return;  // also drops NaN: a counter only goes up
  AtomicAdd(value_, by);
}

double Counter::value() const { return value_.load(std::memory_order_relaxed); }

void Gauge::Set(double value) { value_.store(value, std::memory_order_relaxed); }
void Gauge::Add(double by) { AtomicAdd(value_, by); }
double Gauge::value() const { return value_.load(std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {
  assert(IsValidBounds(bounds_) && "Histogram bounds must be finite and ascending");
}

void Histogram::Observe(double value) {
  // NaN compares false with every bound: it belongs to +Inf only, like Prometheus clients.
  size_t bucket = bounds_.size();
  if (!std::isnan(value)) {
    bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  }
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, value);
}

std::vector<uint64_t> Histogram::CumulativeCounts() const {
  std::vector<uint64_t> cumulative(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i < cumulative.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    cumulative[i] = running;
  }
  return cumulative;
}

double Histogram::sum() const { return sum_.load(std::memory_order_relaxed); }

uint64_t Histogram::count() const { return CumulativeCounts().back(); }

std::vector<double> LatencyBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,    0.1,    0.25,    0.5,    1.0,   2.5,    5.0,   10.0};
}

std::vector<double> SizeBuckets() {
  std::vector<double> bounds;
  for (double rows = 1; rows <= 1024; rows *= 2) bounds.push_back(rows);
  return bounds;
}

// ---- the registry ----

struct MetricsRegistry::Family {
  std::string name;
  std::string help;
  int type = kCounterType;
  std::vector<double> bounds;  // histograms only
  // One of the three per series, by the family's type.
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  std::map<MetricLabels, Series> series;

  Series& SeriesFor(const MetricLabels& labels) {
    Series& found = series[labels];
    if (type == kCounterType && !found.counter) found.counter = std::make_unique<Counter>();
    if (type == kGaugeType && !found.gauge) found.gauge = std::make_unique<Gauge>();
    if (type == kHistogramType && !found.histogram) {
      found.histogram = std::make_unique<Histogram>(bounds);
    }
    return found;
  }
  void Render(std::string& out) const;
};

void MetricsRegistry::Family::Render(std::string& out) const {
  out += "# HELP " + name + ' ' + EscapeHelp(help) + '\n';
  out += "# TYPE " + name + ' ' + TypeName(type) + '\n';
  for (const auto& [labels, one] : series) {
    if (type == kCounterType) {
      out += name + RenderLabels(labels) + ' ' + FormatValue(one.counter->value()) + '\n';
    } else if (type == kGaugeType) {
      out += name + RenderLabels(labels) + ' ' + FormatValue(one.gauge->value()) + '\n';
    } else {
      std::vector<uint64_t> cumulative = one.histogram->CumulativeCounts();
      for (size_t i = 0; i < cumulative.size(); ++i) {
        std::string le = i < bounds.size() ? FormatValue(bounds[i]) : "+Inf";
        out += name + "_bucket" + RenderLabels(labels, "le=\"" + le + '"') + ' ' +
               std::to_string(cumulative[i]) + '\n';
      }
      out += name + "_sum" + RenderLabels(labels) + ' ' + FormatValue(one.histogram->sum()) + '\n';
      // _count from the same snapshot as the buckets, so it always equals le="+Inf".
      out +=
          name + "_count" + RenderLabels(labels) + ' ' + std::to_string(cumulative.back()) + '\n';
    }
  }
}

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricsRegistry::Family* MetricsRegistry::FamilyFor(const std::string& name,
                                                    const std::string& help, int type,
                                                    const std::vector<double>& bounds) {
  if (!IsValidMetricName(name) || (type == kHistogramType && !IsValidBounds(bounds))) {
    return nullptr;
  }
  std::unique_ptr<Family>& family = families_[name];
  if (!family) {
    family = std::make_unique<Family>();
    family->name = name;
    family->help = help;
    family->type = type;
    family->bounds = bounds;
  }
  if (family->type != type || family->bounds != bounds) return nullptr;
  return family.get();
}

// A programming error (bad name, another type or other buckets under a taken name): abort
// in debug builds; in release, a series kept here but never rendered, one per name and type.
MetricsRegistry::Family& MetricsRegistry::DetachedFamily(const std::string& name, int type,
                                                         const std::vector<double>& bounds) {
  assert(false && "metric name, labels, type or buckets misused; see metrics.h");
  std::unique_ptr<Family>& family = detached_[std::to_string(type) + ':' + name];
  if (!family) {
    family = std::make_unique<Family>();
    family->name = name;
    family->type = type;
    family->bounds = bounds;
  }
  return *family;
}

MetricsRegistry::Family& MetricsRegistry::FamilyAndLabels(const std::string& name,
                                                          const std::string& help, int type,
                                                          const std::vector<double>& bounds,
                                                          MetricLabels& labels) {
  std::optional<MetricLabels> canonical = CanonicalLabels(labels, type);
  Family* family = canonical ? FamilyFor(name, help, type, bounds) : nullptr;
  if (family == nullptr) return DetachedFamily(name, type, bounds);
  labels = std::move(*canonical);
  return *family;
}

Counter& MetricsRegistry::GetCounter(const std::string& name, const std::string& help,
                                     const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  MetricLabels key = labels;
  return *FamilyAndLabels(name, help, kCounterType, {}, key).SeriesFor(key).counter;
}

Gauge& MetricsRegistry::GetGauge(const std::string& name, const std::string& help,
                                 const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  MetricLabels key = labels;
  return *FamilyAndLabels(name, help, kGaugeType, {}, key).SeriesFor(key).gauge;
}

Histogram& MetricsRegistry::GetHistogram(const std::string& name, const std::string& help,
                                         const std::vector<double>& upper_bounds,
                                         const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  MetricLabels key = labels;
  return *FamilyAndLabels(name, help, kHistogramType, upper_bounds, key).SeriesFor(key).histogram;
}

void MetricsRegistry::AddCollector(std::function<void(MetricsRegistry&)> collector) {
  std::lock_guard<std::mutex> lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::Render() {
  std::vector<std::function<void(MetricsRegistry&)>> collectors;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    collectors = collectors_;
  }
  // Outside the lock: collectors call Get* themselves.
  for (const auto& collect : collectors) collect(*this);

  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) family->Render(out);
  return out;
}

}  // namespace vigil
