// BuildTrainingSet: the feature rows and labels a training job fits and evaluates on.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "sha256_fingerprint.h"
#include "vigil/features/feature_store.h"
#include "vigil/pipeline/training_job.h"

namespace vigil {
namespace {

// One instrument's usable rows before the merge.
struct InstrumentRows {
  std::vector<int64_t> ts;
  std::vector<int64_t> end_ts;
  std::vector<double> values;          // row-major features
  std::vector<double> labels;          // the (longest horizon's) label
  std::vector<double> horizon_labels;  // multi-horizon: row-major rows x horizons
};

// A field of every driver event that produced a feature row.
std::vector<double> DriverField(const StoredFeatures& computed, std::string_view field) {
  const std::span<const Event> events = computed.inputs.streams[0].events();
  std::vector<double> out(computed.table.rows());
  for (int64_t row = 0; row < computed.table.rows(); ++row) {
    out[row] = events[computed.first_event + row].Field(field);
  }
  return out;
}

bool AllNan(const std::vector<double>& values) {
  return !values.empty() &&
         std::all_of(values.begin(), values.end(), [](double v) { return std::isnan(v); });
}

// The label price (or TVL) of each feature row, from the driver event that produced it.
Result<std::vector<double>> DriverPrices(const TrainingConfig& config,
                                         const StoredFeatures& computed,
                                         const std::string& instrument) {
  const std::string& field = config.label.field;
  std::vector<double> prices = DriverField(computed, field);
  if (AllNan(prices)) {
    const std::string hint =
        config.label.kind == LabelKind::kProtocolRisk
            ? " (protocol_risk labels read TVL: use a feature set driven by protocol data, "
              "such as defi, on instruments that store TVL, such as sim:LEND)"
            : "";
    return InvalidArgument("label.field: '" + field + "' is not a field of the " +
                           std::string(KindName(computed.inputs.streams[0].kind())) +
                           " driving the feature set of " + instrument + hint);
  }
  return prices;
}

// The pair instrument's close as of each row: its last bar with ts <= the row's ts (NaN
// before its first bar), so a row never sees a later pair price than its own time.
Result<std::vector<double>> PairPricesAsOf(const TrainingConfig& config, Store& store,
                                           const StoredFeatures& computed) {
  const StreamKey candles{"", DataKind::kCandles};
  VIGIL_ASSIGN_OR_RETURN(
      LoadedStreams pair,
      LoadStreams(store, config.pair_instrument, std::span<const StreamKey>(&candles, 1),
                  computed.inputs.candle_timeframe, config.to));
  const std::span<const Event> bars = pair.streams[0].events();
  if (bars.empty()) {
    return NotFound("label.pair: no " + computed.inputs.candle_timeframe + " candles stored for " +
                    config.pair_instrument);
  }
  const std::span<const int64_t> ts = computed.table.timestamps();
  std::vector<double> out(ts.size(), std::numeric_limits<double>::quiet_NaN());
  size_t next = 0;  // the first pair bar after the current row's time
  for (size_t row = 0; row < ts.size(); ++row) {
    while (next < bars.size() && bars[next].ts <= ts[row]) ++next;
    if (next > 0) out[row] = bars[next - 1].Field(config.label.field);
  }
  return out;
}

// Multi-horizon labels need whole bars: "5m" on 1m candles is 5 rows.
Status CheckWholeBars(const TrainingConfig& config, std::span<const int64_t> ts) {
  if (!config.multi_horizon() || ts.size() < 2) return Status::Ok();
  VIGIL_ASSIGN_OR_RETURN(int64_t spacing, InferBarSpacing(ts));
  for (int64_t horizon : config.horizons_ns) {
    VIGIL_RETURN_IF_ERROR(HorizonBars(horizon, spacing).status().WithContext("label.horizons"));
  }
  return Status::Ok();
}

// Every label vector of the instrument: one, or one per horizon (the longest last).
Result<std::vector<Labels>> InstrumentLabels(const TrainingConfig& config, Store& store,
                                             const StoredFeatures& computed,
                                             const std::string& instrument) {
  const std::span<const int64_t> ts = computed.table.timestamps();
  const LabelKind kind = config.label.kind;
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> prices, DriverPrices(config, computed, instrument));
  const bool price_only = kind == LabelKind::kNone || kind == LabelKind::kDirection ||
                          kind == LabelKind::kForwardReturn;
  if (price_only && !config.multi_horizon()) {
    VIGIL_ASSIGN_OR_RETURN(Labels labels, ComputeLabels(config.label, ts, prices));
    return std::vector<Labels>{std::move(labels)};
  }
  std::vector<double> high;
  std::vector<double> low;
  std::vector<double> pair;
  LabelInputs inputs;
  inputs.ts = ts;
  if (kind == LabelKind::kProtocolRisk) {
    inputs.tvl = prices;
  } else {
    inputs.close = prices;
  }
  if (kind == LabelKind::kLiquidation) {
    high = DriverField(computed, "high");
    low = DriverField(computed, "low");
    inputs.high = high;
    inputs.low = low;
  }
  if (kind == LabelKind::kOpportunity) {
    VIGIL_ASSIGN_OR_RETURN(pair, PairPricesAsOf(config, store, computed));
    inputs.pair_price = pair;
  }
  if (!config.multi_horizon()) {
    VIGIL_ASSIGN_OR_RETURN(Labels labels, ComputeLabels(config.label, inputs));
    return std::vector<Labels>{std::move(labels)};
  }
  VIGIL_RETURN_IF_ERROR(CheckWholeBars(config, ts));
  return ComputeMultiHorizonLabels(config.label, inputs, config.horizons_ns);
}

// Whether every horizon's label of `row` is usable; the longest horizon's window must be
// complete (shorter ones then are too).
bool LabelsUsable(const std::vector<Labels>& labels, int64_t row) {
  if (!labels.back().windows.label_complete(row)) return false;
  return std::none_of(labels.begin(), labels.end(),
                      [row](const Labels& l) { return std::isnan(l.values[row]); });
}

Result<InstrumentRows> InstrumentTrainingRows(const TrainingConfig& config, Store& store,
                                              const std::string& instrument,
                                              int64_t& dropped_warmup,
                                              int64_t& dropped_incomplete) {
  VIGIL_ASSIGN_OR_RETURN(StoredFeatures computed,
                         ComputeStoredFeatures(store, instrument, config.features, config.timeframe,
                                               config.from, config.to));
  const Frame& table = computed.table;
  VIGIL_ASSIGN_OR_RETURN(std::vector<Labels> labels,
                         InstrumentLabels(config, store, computed, instrument));
  const Labels& longest = labels.back();
  const size_t cols = table.num_columns();
  InstrumentRows out;
  std::vector<double> row_values(cols);
  for (int64_t row = 0; row < table.rows(); ++row) {
    if (!ReadDefinedFeatureRow(table, row, row_values)) {
      ++dropped_warmup;
      continue;
    }
    if (!LabelsUsable(labels, row)) {
      ++dropped_incomplete;
      continue;
    }
    out.ts.push_back(longest.windows.start_ts[row]);
    out.end_ts.push_back(longest.windows.end_ts[row]);
    out.values.insert(out.values.end(), row_values.begin(), row_values.end());
    out.labels.push_back(longest.values[row]);
    if (config.multi_horizon()) {
      for (const Labels& horizon : labels) out.horizon_labels.push_back(horizon.values[row]);
    }
  }
  return out;
}

std::string Fingerprint(const TrainingSet& set) {
  pipeline_internal::Sha256Fingerprint fingerprint;
  for (const std::string& column : set.x.columns) {
    fingerprint.Add(column.data(), column.size() + 1);  // with the NUL separator
  }
  fingerprint.AddValues(set.windows.start_ts);
  fingerprint.AddValues(set.windows.end_ts);
  fingerprint.AddValues(set.x.values);
  fingerprint.AddValues(set.labels);
  fingerprint.AddValues(set.instrument);
  fingerprint.AddValues(set.horizons_ns);
  for (const std::vector<double>& labels : set.horizon_labels) fingerprint.AddValues(labels);
  return fingerprint.Hex();
}

// Merges per-instrument rows into one time-ordered set (ties keep config order).
void MergeRows(const std::vector<InstrumentRows>& parts, size_t cols, TrainingSet& set) {
  struct Key {
    int64_t ts;
    int instrument;
    int64_t row;
  };
  std::vector<Key> order;
  for (size_t i = 0; i < parts.size(); ++i) {
    for (size_t row = 0; row < parts[i].ts.size(); ++row) {
      order.push_back({parts[i].ts[row], static_cast<int>(i), static_cast<int64_t>(row)});
    }
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const Key& a, const Key& b) { return a.ts < b.ts; });
  set.x.rows = static_cast<int64_t>(order.size());
  set.x.values.reserve(order.size() * cols);
  for (const Key& key : order) {
    const InstrumentRows& part = parts[key.instrument];
    const auto first = part.values.begin() + key.row * static_cast<int64_t>(cols);
    set.x.values.insert(set.x.values.end(), first, first + static_cast<int64_t>(cols));
    set.labels.push_back(part.labels[key.row]);
    set.windows.start_ts.push_back(key.ts);
    set.windows.end_ts.push_back(part.end_ts[key.row]);
    set.instrument.push_back(key.instrument);
    for (size_t h = 0; h < set.horizon_labels.size(); ++h) {
      set.horizon_labels[h].push_back(part.horizon_labels[key.row * set.horizon_labels.size() + h]);
    }
  }
}

}  // namespace

bool ReadDefinedFeatureRow(const Frame& table, int64_t row, std::span<double> values) {
  bool defined = true;
  for (size_t col = 0; col < values.size(); ++col) {
    values[col] = table.DoublesAt(col)[row];
    defined = defined && std::isfinite(values[col]);
  }
  return defined;
}

std::vector<int> TrainingSet::ClassLabels() const {
  std::vector<int> out(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) out[i] = static_cast<int>(labels[i]);
  return out;
}

Result<TrainingSet> BuildTrainingSet(const TrainingConfig& config, Store& store) {
  TrainingSet set;
  set.x.columns = config.features.Columns();
  if (config.multi_horizon()) {
    set.horizons_ns = config.horizons_ns;
    set.horizon_labels.resize(config.horizons_ns.size());
  }
  std::vector<InstrumentRows> parts;
  for (const std::string& instrument : config.instruments) {
    Result<InstrumentRows> rows = InstrumentTrainingRows(
        config, store, instrument, set.dropped_warmup, set.dropped_incomplete);
    if (!rows.ok()) return rows.status().WithContext(instrument);
    parts.push_back(std::move(*rows));
  }
  MergeRows(parts, set.x.cols(), set);
  if (set.rows() == 0) {
    return FailedPrecondition(
        "no usable training rows in the data range: " + std::to_string(set.dropped_warmup) +
        " rows still warming up the features, " + std::to_string(set.dropped_incomplete) +
        " rows whose label horizon runs past the data");
  }
  set.fingerprint = Fingerprint(set);
  return set;
}

}  // namespace vigil
