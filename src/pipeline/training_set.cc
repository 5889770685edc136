// BuildTrainingSet: the feature rows and labels a training job fits and evaluates on.
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "vigil/features/feature_store.h"
#include "vigil/pipeline/training_job.h"

namespace vigil {
namespace {

// One instrument's usable rows before the merge.
struct InstrumentRows {
  std::vector<int64_t> ts;
  std::vector<int64_t> end_ts;
  std::vector<double> values;  // row-major features
  std::vector<double> labels;
};

// The label price of each feature row, from the driver event that produced it.
Result<std::vector<double>> DriverPrices(const StoredFeatures& computed, const std::string& field,
                                         const std::string& instrument) {
  const std::span<const Event> events = computed.inputs.streams[0].events();
  std::vector<double> prices(computed.table.rows());
  for (int64_t row = 0; row < computed.table.rows(); ++row) {
    prices[row] = events[computed.first_event + row].Field(field);
  }
  if (!prices.empty() &&
      std::all_of(prices.begin(), prices.end(), [](double p) { return std::isnan(p); })) {
    return InvalidArgument("label.field: '" + field + "' is not a field of the " +
                           std::string(KindName(computed.inputs.streams[0].kind())) +
                           " driving the feature set of " + instrument);
  }
  return prices;
}

Result<InstrumentRows> InstrumentTrainingRows(const TrainingConfig& config, Store& store,
                                              const std::string& instrument,
                                              int64_t& dropped_warmup,
                                              int64_t& dropped_incomplete) {
  VIGIL_ASSIGN_OR_RETURN(StoredFeatures computed,
                         ComputeStoredFeatures(store, instrument, config.features, config.timeframe,
                                               config.from, config.to));
  const Frame& table = computed.table;
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> prices,
                         DriverPrices(computed, config.label.field, instrument));
  VIGIL_ASSIGN_OR_RETURN(Labels labels, ComputeLabels(config.label, table.timestamps(), prices));
  const size_t cols = table.num_columns();
  InstrumentRows out;
  std::vector<double> row_values(cols);
  for (int64_t row = 0; row < table.rows(); ++row) {
    bool defined = true;
    for (size_t col = 0; col < cols; ++col) {
      row_values[col] = table.DoublesAt(col)[row];
      defined = defined && std::isfinite(row_values[col]);
    }
    if (!defined) {
      ++dropped_warmup;
      continue;
    }
    if (!labels.windows.label_complete(row) || std::isnan(labels.values[row])) {
      ++dropped_incomplete;
      continue;
    }
    out.ts.push_back(labels.windows.start_ts[row]);
    out.end_ts.push_back(labels.windows.end_ts[row]);
    out.values.insert(out.values.end(), row_values.begin(), row_values.end());
    out.labels.push_back(labels.values[row]);
  }
  return out;
}

std::string Fingerprint(const TrainingSet& set) {
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  EVP_DigestInit_ex(context, EVP_sha256(), nullptr);
  for (const std::string& column : set.x.columns) {
    EVP_DigestUpdate(context, column.data(), column.size() + 1);  // with the NUL separator
  }
  const auto add = [&](const auto& values) {
    EVP_DigestUpdate(context, values.data(), values.size() * sizeof(values[0]));
  };
  add(set.windows.start_ts);
  add(set.windows.end_ts);
  add(set.x.values);
  add(set.labels);
  add(set.instrument);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(context, digest.data(), &length);
  EVP_MD_CTX_free(context);
  std::string hex = "sha256:";
  char byte[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof(byte), "%02x", digest[i]);
    hex += byte;
  }
  return hex;
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
  }
}

}  // namespace

std::vector<int> TrainingSet::ClassLabels() const {
  std::vector<int> out(labels.size());
  for (size_t i = 0; i < labels.size(); ++i) out[i] = static_cast<int>(labels[i]);
  return out;
}

Result<TrainingSet> BuildTrainingSet(const TrainingConfig& config, Store& store) {
  TrainingSet set;
  set.x.columns = config.features.Columns();
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
