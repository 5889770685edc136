// Causal per-bar features and the train / test datasets of the anomaly evaluation
// (anomaly_evaluation.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "vigil/features/price.h"
#include "vigil/features/ta.h"
#include "vigil/pipeline/anomaly_evaluation.h"

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kMomentumBars = 5;  // ret5_vol's horizon

// value[t - lag], NaN before the start.
double Lagged(std::span<const double> values, int64_t t, int64_t lag) {
  return t >= lag ? values[t - lag] : kNaN;
}

// Events (bar coordinates) of one series, with its bars; the unit a dataset is built from.
struct Segment {
  const CandleSeries* series;
  std::vector<LabelledEvent> events;
};

// First index in `ts` with ts >= t.
int64_t LowerBound(std::span<const int64_t> ts, int64_t t) {
  return std::lower_bound(ts.begin(), ts.end(), t) - ts.begin();
}

bool AllFinite(std::span<const double> row) {
  return std::all_of(row.begin(), row.end(), [](double v) { return std::isfinite(v); });
}

void AppendRow(FeatureMatrix& to, std::span<const double> row) {
  to.values.insert(to.values.end(), row.begin(), row.end());
  ++to.rows;
}

// Computes each segment's features, keeps the rows with every feature defined, and splits
// them at `split_ts` (rows of bars opening before it train). Events whose first bar opens at
// or after split_ts move to test-row coordinates.
Result<EvaluationDataset> BuildDataset(const std::string& name, std::span<const Segment> segments,
                                       int64_t split_ts, const FeatureOptions& options) {
  EvaluationDataset dataset;
  dataset.name = name;
  dataset.train.columns = dataset.test.columns = AnomalyFeatureNames();
  for (const Segment& segment : segments) {
    VIGIL_ASSIGN_OR_RETURN(FeatureMatrix features,
                           ComputeAnomalyFeatures(*segment.series, options));
    // test_row_of[bar]: the test row of the first kept test bar at or after `bar`.
    std::vector<int64_t> test_row_of(features.rows + 1);
    std::vector<int> bar_labels(features.rows, 0);
    for (const LabelledEvent& event : segment.events) {
      std::fill(bar_labels.begin() + event.start, bar_labels.begin() + event.end, 1);
    }
    for (int64_t bar = 0; bar < features.rows; ++bar) {
      test_row_of[bar] = dataset.test.rows;
      if (!AllFinite(features.row(bar))) continue;
      if (segment.series->ts[bar] < split_ts) {
        AppendRow(dataset.train, features.row(bar));
      } else {
        AppendRow(dataset.test, features.row(bar));
        dataset.test_labels.push_back(bar_labels[bar]);
      }
    }
    test_row_of[features.rows] = dataset.test.rows;
    for (const LabelledEvent& event : segment.events) {
      if (segment.series->ts[event.start] < split_ts) {
        ++dataset.train_events;
        continue;
      }
      LabelledEvent moved = event;
      moved.start = test_row_of[event.start];
      moved.end = test_row_of[event.end];
      if (moved.end > moved.start) dataset.test_events.push_back(moved);
    }
  }
  if (dataset.train.rows < 2 || dataset.test.rows < 2) {
    return InvalidArgument("dataset " + name + ": too few rows with defined features (train " +
                           std::to_string(dataset.train.rows) + ", test " +
                           std::to_string(dataset.test.rows) + ")");
  }
  return dataset;
}

// The candles of one simulated instrument with its oracle joined point in time: an oracle
// round counts for a bar when it was posted before the bar closed. Bars before the first
// round keep a NaN oracle (their rows are dropped with the warm-up).
Result<CandleSeries> SimulatedSeries(const RecordBatch& candles, const RecordBatch* oracle) {
  CandleSeries series;
  const Frame& frame = candles.frame;
  series.ts.assign(frame.timestamps().begin(), frame.timestamps().end());
  auto column = [&](const Frame& f, std::string_view name) {
    std::span<const double> values = f.Doubles(name);
    return std::vector<double>(values.begin(), values.end());
  };
  series.open = column(frame, "open");
  series.high = column(frame, "high");
  series.low = column(frame, "low");
  series.close = column(frame, "close");
  series.volume = column(frame, "volume");
  if (oracle == nullptr) {
    return InvalidArgument("simulation: no oracle for " + candles.series.ToString());
  }
  std::span<const int64_t> oracle_ts = oracle->frame.timestamps();
  std::span<const double> answers = oracle->frame.Doubles("price");
  const int64_t interval = series.size() > 1 ? series.ts[1] - series.ts[0] : 0;
  series.oracle.assign(series.size(), kNaN);
  for (int64_t bar = 0; bar < series.size(); ++bar) {
    const int64_t posted = LowerBound(oracle_ts, series.ts[bar] + interval);
    if (posted > 0) series.oracle[bar] = answers[posted - 1];
  }
  return series;
}

std::vector<LabelledEvent> SimulatedEvents(const SimulatedMarket& market,
                                           const std::string& instrument,
                                           std::span<const int64_t> ts,
                                           const std::vector<std::string>& types) {
  std::vector<LabelledEvent> events;
  for (const SimulatedEvent& event : market.events) {
    if (event.instrument != instrument ||
        std::find(types.begin(), types.end(), event.type) == types.end()) {
      continue;
    }
    const int64_t start = LowerBound(ts, event.start.nanos());
    const int64_t end = LowerBound(ts, event.end.nanos());
    if (end > start) events.push_back({event.type, start, end, event.magnitude});
  }
  return events;
}

}  // namespace

std::vector<Bar> BarsOf(const CandleSeries& series, bool keep_volume) {
  std::vector<Bar> bars(series.size());
  for (int64_t i = 0; i < series.size(); ++i) {
    bars[i] = {series.ts[i],  series.open[i],  series.high[i],
               series.low[i], series.close[i], keep_volume ? series.volume[i] : 0.0};
  }
  return bars;
}

Status FeatureOptions::Validate() const {
  if (window < 6) return InvalidArgument("FeatureOptions: window must be >= 6");
  if (short_window < 2 || short_window >= window) {
    return InvalidArgument("FeatureOptions: short_window must be in [2, window)");
  }
  if (!(min_volatility > 0)) return InvalidArgument("FeatureOptions: min_volatility must be > 0");
  return Status::Ok();
}

const std::vector<std::string>& AnomalyFeatureNames() {
  static const std::vector<std::string> kNames = {"logret_1",      "abs_ret_vol", "range_close",
                                                  "vol_ratio",     "ret5_vol",    "rv_ratio",
                                                  "oracle_dev_bps"};
  return kNames;
}

Result<FeatureMatrix> ComputeAnomalyFeatures(const CandleSeries& series,
                                             const FeatureOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(series.Validate());
  if (series.oracle.empty()) return InvalidArgument("ComputeAnomalyFeatures: series has no oracle");
  const bool has_volume = std::any_of(series.volume.begin(), series.volume.end(),
                                      [](double v) { return std::isfinite(v); });
  // The feature kernels give the returns, volatilities and volume ratio (point in time by
  // their contract); lags, ratios and the oracle deviation are combined here because the
  // kernels have no lag operator and the oracle is already aligned to the bars.
  std::vector<std::unique_ptr<FeatureKernel>> kernels;
  kernels.push_back(MakeLogReturn(1));
  kernels.push_back(MakeLogReturn(kMomentumBars));
  kernels.push_back(MakeRealizedVol(options.window));
  kernels.push_back(MakeRealizedVol(options.short_window));
  kernels.push_back(MakeVolumeRatio(options.window));
  const Frame computed = ComputeOverBars(kernels, BarsOf(series, has_volume));
  std::span<const double> ret1 = computed.DoublesAt(0);
  std::span<const double> ret5 = computed.DoublesAt(1);
  std::span<const double> rv_long = computed.DoublesAt(2);
  std::span<const double> rv_short = computed.DoublesAt(3);
  std::span<const double> volume_ratio = computed.DoublesAt(4);

  auto floored = [&](double vol) { return std::max(vol, options.min_volatility); };
  FeatureMatrix x;
  x.columns = AnomalyFeatureNames();
  x.rows = series.size();
  x.values.reserve(x.rows * x.cols());
  for (int64_t t = 0; t < x.rows; ++t) {
    const double row[] = {
        ret1[t],
        std::abs(ret1[t]) / floored(Lagged(rv_long, t, 1)),
        (series.high[t] - series.low[t]) / series.close[t],
        has_volume ? volume_ratio[t] : 1.0,
        ret5[t] / (floored(Lagged(rv_long, t, kMomentumBars)) * std::sqrt(kMomentumBars)),
        floored(rv_short[t]) / floored(Lagged(rv_long, t, options.short_window)),
        (series.oracle[t] / series.close[t] - 1.0) * 1e4,
    };
    x.values.insert(x.values.end(), std::begin(row), std::end(row));
  }
  return x;
}

Result<EvaluationDataset> DatasetFromInjected(const std::string& name,
                                              const InjectedSeries& injected, double train_fraction,
                                              const FeatureOptions& features) {
  if (!(train_fraction > 0 && train_fraction < 1)) {
    return InvalidArgument("DatasetFromInjected: train_fraction must be in (0, 1)");
  }
  VIGIL_ASSIGN_OR_RETURN(FeatureMatrix x, ComputeAnomalyFeatures(injected.series, features));
  int64_t first_defined = 0;
  while (first_defined < x.rows && !AllFinite(x.row(first_defined))) ++first_defined;
  const int64_t split_bar =
      first_defined + static_cast<int64_t>(train_fraction * (x.rows - first_defined));
  if (split_bar >= x.rows) return InvalidArgument("dataset " + name + ": series too short");
  const Segment segment{&injected.series, injected.events};
  return BuildDataset(name, std::span<const Segment>(&segment, 1), injected.series.ts[split_bar],
                      features);
}

Result<EvaluationDataset> DatasetFromSimulation(const std::string& name,
                                                const SimulatedMarket& market,
                                                const std::vector<std::string>& types,
                                                double train_fraction,
                                                const FeatureOptions& features) {
  if (!(train_fraction > 0 && train_fraction < 1)) {
    return InvalidArgument("DatasetFromSimulation: train_fraction must be in (0, 1)");
  }
  std::vector<CandleSeries> series;
  std::vector<std::string> instruments;
  for (const RecordBatch& batch : market.batches) {
    if (batch.series.kind != DataKind::kCandles || batch.frame.empty()) continue;
    const RecordBatch* oracle = nullptr;
    for (const RecordBatch& other : market.batches) {
      if (other.series.kind == DataKind::kOracle &&
          other.series.instrument == batch.series.instrument) {
        oracle = &other;
      }
    }
    VIGIL_ASSIGN_OR_RETURN(CandleSeries joined, SimulatedSeries(batch, oracle));
    series.push_back(std::move(joined));
    instruments.push_back(batch.series.instrument.ToString());
  }
  if (series.empty()) return InvalidArgument("simulation " + name + ": no candles");
  std::vector<Segment> segments;
  for (size_t i = 0; i < series.size(); ++i) {
    segments.push_back({&series[i], SimulatedEvents(market, instruments[i], series[i].ts, types)});
  }
  const int64_t first = series.front().ts.front();
  const int64_t last = series.front().ts.back();
  const int64_t split_ts = first + static_cast<int64_t>(train_fraction * (last - first));
  return BuildDataset(name, segments, split_ts, features);
}

}  // namespace vigil
