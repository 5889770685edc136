// Candle series I/O and the injection of labelled anomalies (anomaly_evaluation.h).
#include <algorithm>
#include <cmath>
#include <limits>

#include "vigil/core/rng.h"
#include "vigil/data/reader.h"
#include "vigil/pipeline/anomaly_evaluation.h"

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Placing events is rejection sampling; this many tries per event before giving up.
constexpr int kPlacementAttemptsPerEvent = 1000;

std::string BarError(int64_t bar, const std::string& what) {
  return "candle series: bar " + std::to_string(bar) + ": " + what;
}

int64_t WindowBars(InjectedAnomaly type, const InjectionOptions& options) {
  switch (type) {
    case InjectedAnomaly::kSpike:
      return 2;  // the spike bar and the bar that reverts
    case InjectedAnomaly::kLevelShift:
      return options.level_shift_label_bars;
    case InjectedAnomaly::kVarianceBurst:
      return options.burst_bars;
    case InjectedAnomaly::kOracleDeviation:
      return options.oracle_bars;
  }
  return 1;
}

// Trailing sample sd of one-bar log returns over the `window` returns ending at bar - 1.
std::vector<double> TrailingVolatility(std::span<const double> close, int window) {
  const int64_t n = static_cast<int64_t>(close.size());
  std::vector<double> returns(n, 0.0);
  for (int64_t bar = 1; bar < n; ++bar) returns[bar] = std::log(close[bar] / close[bar - 1]);
  std::vector<double> vol(n, kNaN);
  for (int64_t bar = window + 1; bar < n; ++bar) {
    double mean = 0.0;
    for (int64_t k = bar - window; k < bar; ++k) mean += returns[k];
    mean /= window;
    double sum_squares = 0.0;
    for (int64_t k = bar - window; k < bar; ++k) sum_squares += std::pow(returns[k] - mean, 2);
    vol[bar] = std::sqrt(sum_squares / (window - 1));
  }
  return vol;
}

double MedianOfFinite(std::span<const double> values) {
  std::vector<double> finite;
  for (double v : values) {
    if (std::isfinite(v)) finite.push_back(v);
  }
  if (finite.empty()) return 0.0;
  auto middle = finite.begin() + finite.size() / 2;
  std::nth_element(finite.begin(), middle, finite.end());
  return *middle;
}

// Multiplies a bar's high, low and close by `factor` (its open stays: the move happens inside
// the bar) and widens high / low to keep the open inside them.
void MoveBarAfterOpen(CandleSeries& s, int64_t bar, double factor) {
  s.high[bar] *= factor;
  s.low[bar] *= factor;
  s.close[bar] *= factor;
  s.high[bar] = std::max(s.high[bar], s.open[bar]);
  s.low[bar] = std::min(s.low[bar], s.open[bar]);
}

void ScaleFrom(CandleSeries& s, int64_t first_bar, double factor) {
  for (int64_t bar = first_bar; bar < s.size(); ++bar) {
    s.open[bar] *= factor;
    s.high[bar] *= factor;
    s.low[bar] *= factor;
    s.close[bar] *= factor;
  }
}

void InjectSpike(CandleSeries& s, int64_t start, double log_size) {
  MoveBarAfterOpen(s, start, std::exp(log_size));
}

void InjectLevelShift(CandleSeries& s, int64_t start, double log_size) {
  MoveBarAfterOpen(s, start, std::exp(log_size));
  ScaleFrom(s, start + 1, std::exp(log_size));
}

// Every price of the window keeps its log distance to the previous close times `factor`;
// the path after the window is carried to the level the burst reached.
void InjectVarianceBurst(CandleSeries& s, int64_t start, int64_t end, double factor) {
  double new_previous_close = s.close[start - 1];
  double old_previous_close = s.close[start - 1];
  for (int64_t bar = start; bar < end; ++bar) {
    const double old_close = s.close[bar];
    auto scaled = [&](double price) {
      return new_previous_close * std::exp(factor * std::log(price / old_previous_close));
    };
    s.open[bar] = scaled(s.open[bar]);
    s.high[bar] = scaled(s.high[bar]);
    s.low[bar] = scaled(s.low[bar]);
    s.close[bar] = scaled(s.close[bar]);
    old_previous_close = old_close;
    new_previous_close = s.close[bar];
  }
  ScaleFrom(s, end, new_previous_close / old_previous_close);
}

void InjectOracleDeviation(CandleSeries& s, int64_t start, int64_t end, double offset) {
  const double frozen = s.oracle[start - 1] * (1.0 + offset);
  for (int64_t bar = start; bar < end; ++bar) s.oracle[bar] = frozen;
}

struct PlannedEvent {
  InjectedAnomaly type;
  int64_t start;
  int64_t end;
};

// Seeded, non-overlapping positions (rejection sampling), sorted by start.
Result<std::vector<PlannedEvent>> PlaceEvents(int64_t bars, const InjectionOptions& options,
                                              Rng& rng) {
  std::vector<InjectedAnomaly> types;
  types.insert(types.end(), options.spikes, InjectedAnomaly::kSpike);
  types.insert(types.end(), options.level_shifts, InjectedAnomaly::kLevelShift);
  types.insert(types.end(), options.variance_bursts, InjectedAnomaly::kVarianceBurst);
  types.insert(types.end(), options.oracle_deviations, InjectedAnomaly::kOracleDeviation);
  std::shuffle(types.begin(), types.end(), rng.engine());
  std::vector<PlannedEvent> placed;
  for (InjectedAnomaly type : types) {
    const int64_t length = WindowBars(type, options);
    const int64_t last_start = bars - length - 1;  // one bar after every window
    bool done = false;
    for (int attempt = 0; attempt < kPlacementAttemptsPerEvent && !done; ++attempt) {
      if (last_start < options.warmup_bars) break;
      const int64_t start = rng.UniformInt(options.warmup_bars, last_start);
      const PlannedEvent candidate{type, start, start + length};
      done = std::none_of(placed.begin(), placed.end(), [&](const PlannedEvent& other) {
        return candidate.start < other.end + options.gap_bars &&
               other.start < candidate.end + options.gap_bars;
      });
      if (done) placed.push_back(candidate);
    }
    if (!done) {
      return InvalidArgument("InjectAnomalies: " + std::to_string(types.size()) +
                             " events do not fit into " + std::to_string(bars) + " bars (warm-up " +
                             std::to_string(options.warmup_bars) + ", gap " +
                             std::to_string(options.gap_bars) + ")");
    }
  }
  std::sort(placed.begin(), placed.end(),
            [](const PlannedEvent& a, const PlannedEvent& b) { return a.start < b.start; });
  return placed;
}

Status RequireRange(bool ok, const std::string& what) {
  return ok ? Status::Ok() : InvalidArgument("InjectionOptions: " + what);
}

}  // namespace

std::string_view InjectedAnomalyName(InjectedAnomaly type) {
  switch (type) {
    case InjectedAnomaly::kSpike:
      return "spike";
    case InjectedAnomaly::kLevelShift:
      return "level_shift";
    case InjectedAnomaly::kVarianceBurst:
      return "variance_burst";
    case InjectedAnomaly::kOracleDeviation:
      return "oracle_deviation";
  }
  return "?";
}

Status CandleSeries::Validate() const {
  const size_t n = close.size();
  if (ts.size() != n || open.size() != n || high.size() != n || low.size() != n ||
      volume.size() != n || (!oracle.empty() && oracle.size() != n)) {
    return InvalidArgument("candle series: columns differ in length");
  }
  for (size_t bar = 0; bar < n; ++bar) {
    for (double price : {open[bar], high[bar], low[bar], close[bar]}) {
      if (!std::isfinite(price) || price <= 0) return InvalidArgument(BarError(bar, "bad price"));
    }
    if (low[bar] > std::min(open[bar], close[bar]) || high[bar] < std::max(open[bar], close[bar])) {
      return InvalidArgument(BarError(bar, "open or close outside [low, high]"));
    }
    if (volume[bar] < 0) return InvalidArgument(BarError(bar, "negative volume"));
    if (!oracle.empty() && !std::isnan(oracle[bar]) && !(oracle[bar] > 0)) {
      return InvalidArgument(BarError(bar, "oracle answer not positive"));
    }
  }
  return Status::Ok();
}

Result<CandleSeries> ReadCandleSeries(const std::string& path, const std::string& venue) {
  ReadOptions options;
  options.kind = DataKind::kCandles;
  options.venue = venue;
  MarketFileReader reader(options);
  VIGIL_ASSIGN_OR_RETURN(ParsedFile parsed, reader.Read(path));
  if (parsed.batches.size() != 1 || parsed.batches[0].frame.empty()) {
    return InvalidArgument(path + ": expected one candle series, got " +
                           std::to_string(parsed.batches.size()));
  }
  const Frame& frame = parsed.batches[0].frame;
  CandleSeries series;
  series.ts.assign(frame.timestamps().begin(), frame.timestamps().end());
  auto column = [&](std::string_view name) {
    std::span<const double> values = frame.Doubles(name);
    return std::vector<double>(values.begin(), values.end());
  };
  series.open = column("open");
  series.high = column("high");
  series.low = column("low");
  series.close = column("close");
  series.volume = column("volume");
  VIGIL_RETURN_IF_ERROR(series.Validate());
  return series;
}

Status InjectionOptions::Validate() const {
  VIGIL_RETURN_IF_ERROR(RequireRange(
      spikes >= 0 && level_shifts >= 0 && variance_bursts >= 0 && oracle_deviations >= 0,
      "event counts must be >= 0"));
  VIGIL_RETURN_IF_ERROR(RequireRange(volatility_window >= 2, "volatility_window must be >= 2"));
  VIGIL_RETURN_IF_ERROR(RequireRange(warmup_bars >= volatility_window + 1,
                                     "warmup_bars must be >= volatility_window + 1"));
  VIGIL_RETURN_IF_ERROR(RequireRange(gap_bars >= 0, "gap_bars must be >= 0"));
  VIGIL_RETURN_IF_ERROR(
      RequireRange(volatility_floor >= 0 && volatility_floor <= 1, "volatility_floor: [0, 1]"));
  VIGIL_RETURN_IF_ERROR(RequireRange(spike_sigmas > 0 && level_shift_sigmas > 0,
                                     "spike_sigmas and level_shift_sigmas must be > 0"));
  VIGIL_RETURN_IF_ERROR(
      RequireRange(level_shift_label_bars >= 1, "level_shift_label_bars must be >= 1"));
  VIGIL_RETURN_IF_ERROR(RequireRange(burst_factor > 1 && burst_bars >= 2,
                                     "burst_factor must be > 1 and burst_bars >= 2"));
  VIGIL_RETURN_IF_ERROR(RequireRange(oracle_offset > 0 && oracle_offset < 0.5 && oracle_bars >= 1,
                                     "oracle_offset: (0, 0.5), oracle_bars >= 1"));
  return RequireRange(oracle_deviation_threshold > 0 && oracle_heartbeat_bars >= 1,
                      "oracle_deviation_threshold must be > 0 and oracle_heartbeat_bars >= 1");
}

std::vector<double> SyntheticOracle(std::span<const double> close, double deviation_threshold,
                                    int heartbeat_bars) {
  const int64_t n = static_cast<int64_t>(close.size());
  std::vector<double> oracle(n);
  if (n == 0) return oracle;
  double answer = close[0];
  int64_t posted_at = 0;
  oracle[0] = answer;
  for (int64_t bar = 1; bar < n; ++bar) {
    oracle[bar] = answer;  // posted at the end of an earlier bar
    if (std::abs(close[bar] / answer - 1.0) > deviation_threshold ||
        bar - posted_at >= heartbeat_bars) {
      answer = close[bar];
      posted_at = bar;
    }
  }
  return oracle;
}

Result<InjectedSeries> InjectAnomalies(const CandleSeries& base, const InjectionOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(base.Validate());
  Rng rng(options.seed);
  Rng placement = rng.Derive("placement");
  Rng signs = rng.Derive("signs");
  VIGIL_ASSIGN_OR_RETURN(std::vector<PlannedEvent> planned,
                         PlaceEvents(base.size(), options, placement));

  const std::vector<double> vol = TrailingVolatility(base.close, options.volatility_window);
  const double floor = options.volatility_floor * MedianOfFinite(vol);
  InjectedSeries out;
  out.series = base;
  out.labels.assign(base.size(), 0);
  CandleSeries& s = out.series;
  // Price events first, then the oracle is built from the prices they leave.
  for (const PlannedEvent& event : planned) {
    const double sign = signs.Bernoulli(0.5) ? 1.0 : -1.0;
    const double scale = std::max(vol[event.start], floor);
    double magnitude = 0.0;
    if (event.type == InjectedAnomaly::kSpike) {
      magnitude = sign * options.spike_sigmas;
      InjectSpike(s, event.start, magnitude * scale);
    } else if (event.type == InjectedAnomaly::kLevelShift) {
      magnitude = sign * options.level_shift_sigmas;
      InjectLevelShift(s, event.start, magnitude * scale);
    } else if (event.type == InjectedAnomaly::kVarianceBurst) {
      magnitude = options.burst_factor;
      InjectVarianceBurst(s, event.start, event.end, options.burst_factor);
    } else {
      magnitude = sign * options.oracle_offset;
    }
    out.events.push_back(
        {std::string(InjectedAnomalyName(event.type)), event.start, event.end, magnitude});
    std::fill(out.labels.begin() + event.start, out.labels.begin() + event.end, 1);
  }
  s.oracle =
      SyntheticOracle(s.close, options.oracle_deviation_threshold, options.oracle_heartbeat_bars);
  for (const LabelledEvent& event : out.events) {
    if (event.type == InjectedAnomalyName(InjectedAnomaly::kOracleDeviation)) {
      InjectOracleDeviation(s, event.start, event.end, event.magnitude);
    }
  }
  return out;
}

}  // namespace vigil
