#include "store/store_common.h"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <limits>
#include <numeric>
#include <unordered_set>
#include <utility>

namespace vigil::store_internal {
namespace {

int64_t CountMissingBars(const SeriesKey& series, Timestamp first, Timestamp last, int64_t rows) {
  if (!SchemaOf(series.kind).regular) return 0;
  Result<int64_t> step = ParseDuration(series.timeframe);
  if (!step.ok() || *step <= 0) return 0;
  // Unsigned, so even a span wider than INT64_MAX nanoseconds does not overflow.
  const uint64_t span = static_cast<uint64_t>(last.nanos()) - static_cast<uint64_t>(first.nanos());
  const uint64_t expected = span / static_cast<uint64_t>(*step) + 1;
  return expected > static_cast<uint64_t>(rows) ? static_cast<int64_t>(expected - rows) : 0;
}

// Rejects name their instrument as text; one that never parsed (e.g. a file-level
// reject) keeps its text as the symbol so its count is still reported.
Instrument InstrumentOfReject(const std::string& text) {
  Result<Instrument> parsed = Instrument::Parse(text);
  if (parsed.ok()) return *parsed;
  return Instrument{"", text};
}

// InvalidArgument unless `text` is UTF-8 without NUL bytes: PostgreSQL TEXT accepts
// neither, and SQLite would store what PostgreSQL cannot.
Status CheckText(std::string_view what, std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = Utf8SequenceLength(text, pos);
    if (length == 0) {
      return InvalidArgument(std::string(what) + " is not valid UTF-8 (byte " +
                             std::to_string(pos) + ")");
    }
    if (text[pos] == '\0') {
      return InvalidArgument(std::string(what) + " contains a NUL byte (byte " +
                             std::to_string(pos) + ")");
    }
    pos += length;
  }
  return Status::Ok();
}

Status CheckFeatureName(size_t column, const std::string& name) {
  const std::string what = "feature column " + std::to_string(column);
  if (name.empty()) return InvalidArgument(what + " has an empty name");
  return CheckText(what + " name", name);
}

// Every timestamp of any series, ascending and distinct. Feature columns computed
// together share their timestamps, so that case is checked first and costs one pass.
std::vector<int64_t> UnionOfTimestamps(const std::vector<Frame>& series) {
  const Frame* reference = nullptr;
  bool all_same = true;
  for (const Frame& one : series) {
    if (one.empty()) continue;
    if (reference == nullptr) {
      reference = &one;
      continue;
    }
    const std::span<const int64_t> a = reference->timestamps();
    const std::span<const int64_t> b = one.timestamps();
    if (!std::equal(a.begin(), a.end(), b.begin(), b.end())) {
      all_same = false;
      break;
    }
  }
  if (reference == nullptr) return {};
  std::span<const int64_t> first = reference->timestamps();
  if (all_same) return std::vector<int64_t>(first.begin(), first.end());
  std::vector<int64_t> all;
  for (const Frame& one : series) {
    all.insert(all.end(), one.timestamps().begin(), one.timestamps().end());
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

}  // namespace

SeriesSummary MakeSummary(const SeriesKey& series, int64_t rows, Timestamp first, Timestamp last) {
  SeriesSummary summary;
  summary.series = series;
  summary.rows = rows;
  summary.first = first;
  summary.last = last;
  summary.gaps = CountMissingBars(series, first, last, rows);
  return summary;
}

void MergeRejectCount(const std::string& instrument, DataKind kind, int64_t count,
                      std::vector<SeriesSummary>* summaries) {
  bool matched = false;
  for (SeriesSummary& summary : *summaries) {
    if (summary.series.kind == kind && summary.series.instrument.ToString() == instrument) {
      summary.rejects = count;
      matched = true;
    }
  }
  if (matched) return;
  SeriesSummary rejected_only;
  rejected_only.series = SeriesKey{InstrumentOfReject(instrument), kind, ""};
  rejected_only.rejects = count;
  summaries->push_back(std::move(rejected_only));
}

void SortSummaries(std::vector<SeriesSummary>* summaries) {
  std::sort(summaries->begin(), summaries->end(),
            [](const SeriesSummary& a, const SeriesSummary& b) { return a.series < b.series; });
}

Status CheckFrameMatchesSchema(const Frame& frame, const KindSchema& schema) {
  if (frame.num_columns() != schema.fields.size()) {
    return InvalidArgument("frame has " + std::to_string(frame.num_columns()) + " columns, table " +
                           std::string(schema.name) + " expects " +
                           std::to_string(schema.fields.size()));
  }
  for (size_t column = 0; column < schema.fields.size(); ++column) {
    const ColumnSpec& spec = frame.columns()[column];
    const FieldSpec& field = schema.fields[column];
    if (spec.name != field.name || spec.type != field.type) {
      return InvalidArgument("frame column " + std::to_string(column) + " is '" + spec.name +
                             "', table " + std::string(schema.name) + " expects '" +
                             std::string(field.name) + "' of the schema's type");
    }
  }
  return frame.CheckConsistent();
}

std::string SqlExcerpt(std::string_view sql) {
  constexpr size_t kMaxChars = 80;
  std::string out(sql.substr(0, kMaxChars));
  std::replace(out.begin(), out.end(), '\n', ' ');
  if (sql.size() > kMaxChars) out += "...";
  return out;
}

size_t Utf8SequenceLength(std::string_view text, size_t pos) {
  auto byte = [&](size_t offset) -> unsigned {
    return pos + offset < text.size() ? static_cast<unsigned char>(text[pos + offset]) : 0;
  };
  auto continuation = [&](size_t offset, unsigned low = 0x80, unsigned high = 0xBF) {
    unsigned b = byte(offset);
    return b >= low && b <= high;
  };
  unsigned lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    unsigned low = lead == 0xE0 ? 0xA0 : 0x80;
    unsigned high = lead == 0xED ? 0x9F : 0xBF;
    return continuation(1, low, high) && continuation(2) ? 3 : 0;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    unsigned low = lead == 0xF0 ? 0x90 : 0x80;
    unsigned high = lead == 0xF4 ? 0x8F : 0xBF;
    return continuation(1, low, high) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

std::string FeatureKeyLabel(std::string_view instrument, std::string_view feature_set,
                            int64_t version) {
  return std::string(instrument) + " " + std::string(feature_set) + " version " +
         std::to_string(version);
}

Status CheckFeatureValues(const FeatureValues& values) {
  if (values.frame == nullptr) return InvalidArgument("no frame of feature values (null)");
  if (values.instrument.empty()) return InvalidArgument("empty instrument");
  if (values.feature_set.empty()) return InvalidArgument("empty feature set name");
  VIGIL_RETURN_IF_ERROR(CheckText("instrument", values.instrument));
  VIGIL_RETURN_IF_ERROR(CheckText("feature set name", values.feature_set));
  const Frame& frame = *values.frame;
  std::vector<std::string> names;
  names.reserve(frame.num_columns());
  for (size_t column = 0; column < frame.num_columns(); ++column) {
    const ColumnSpec& spec = frame.columns()[column];
    if (spec.type != ColumnType::kDouble) {
      return InvalidArgument("feature column " + std::to_string(column) + " '" + spec.name +
                             "' holds int64 values; feature values are doubles");
    }
    names.push_back(spec.name);
  }
  // Frame only asserts unique names, so a release build can hand over duplicates.
  VIGIL_RETURN_IF_ERROR(CheckFeatureNames(names));
  // A ragged frame is the caller's mistake, reported as such.
  const Status consistent = frame.CheckConsistent();
  if (!consistent.ok()) return InvalidArgument(consistent.message());
  return Status::Ok();
}

Status CheckFeatureNames(std::span<const std::string> features) {
  std::unordered_set<std::string_view> seen;
  for (size_t column = 0; column < features.size(); ++column) {
    const std::string& name = features[column];
    VIGIL_RETURN_IF_ERROR(CheckFeatureName(column, name));
    if (name == "ts") {
      return InvalidArgument("feature column " + std::to_string(column) +
                             " is named 'ts', the timestamp column's name");
    }
    if (!seen.insert(name).second) {
      return InvalidArgument("feature '" + name + "' appears twice");
    }
  }
  return Status::Ok();
}

std::vector<int64_t> RowsToStore(const Frame& frame) {
  const std::span<const int64_t> ts = frame.timestamps();
  std::vector<int64_t> order(ts.size());
  std::iota(order.begin(), order.end(), 0);
  if (!frame.IsSorted()) {
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return ts[a] < ts[b]; });
  }
  size_t kept = 0;
  for (size_t index = 0; index < order.size(); ++index) {
    // Stable order: of the rows sharing a timestamp, the last one in the frame is kept.
    if (index + 1 < order.size() && ts[order[index + 1]] == ts[order[index]]) continue;
    order[kept++] = order[index];
  }
  order.resize(kept);
  return order;
}

Frame WidenFeatureSeries(std::span<const std::string> names, std::vector<Frame> series) {
  assert(names.size() == series.size());
  std::vector<ColumnSpec> specs;
  specs.reserve(names.size());
  for (const std::string& name : names) specs.push_back({name, ColumnType::kDouble});
  Frame wide(std::move(specs));
  for (Frame& one : series) {
    if (!one.IsSorted()) one.SortByTime();
  }
  wide.mutable_timestamps() = UnionOfTimestamps(series);
  const std::span<const int64_t> times = wide.timestamps();
  for (size_t column = 0; column < series.size(); ++column) {
    std::vector<double>& out = wide.MutableDoublesAt(column);
    out.assign(times.size(), std::numeric_limits<double>::quiet_NaN());
    const std::span<const int64_t> ts = series[column].timestamps();
    const std::span<const double> values = series[column].DoublesAt(0);
    // Both are sorted and every ts is in `times`, so one forward walk places them all.
    size_t row = 0;
    for (size_t index = 0; index < ts.size(); ++index) {
      while (times[row] < ts[index]) ++row;
      out[row] = values[index];
    }
  }
  return wide;
}

std::string ModelLabel(std::string_view name, int64_t version) {
  std::string label = "model '" + std::string(name) + "'";
  if (version != 0) label += " version " + std::to_string(version);
  return label;
}

Status CheckModelVersions(std::string_view name, std::span<const ModelVersionRow> rows) {
  if (name.empty()) return InvalidArgument("empty model name");
  VIGIL_RETURN_IF_ERROR(CheckText("model name", name));
  std::unordered_set<int64_t> versions;
  for (size_t index = 0; index < rows.size(); ++index) {
    const ModelVersionRow& row = rows[index];
    const std::string where =
        "row " + std::to_string(index) + " (" + ModelLabel(row.name, row.version) + ")";
    if (row.name != name) {
      return InvalidArgument(where + " does not belong to " + ModelLabel(name));
    }
    if (row.version < 1) return InvalidArgument(where + ": version must be >= 1");
    if (!versions.insert(row.version).second) {
      return InvalidArgument(where + ": version " + std::to_string(row.version) + " appears twice");
    }
    if (row.config_json.empty()) return InvalidArgument(where + ": empty config_json");
    if (row.metrics_json.empty()) return InvalidArgument(where + ": empty metrics_json");
    const std::pair<std::string_view, const std::string*> texts[] = {
        {"family", &row.family},
        {"task", &row.task},
        {"stage", &row.stage},
        {"config_json", &row.config_json},
        {"metrics_json", &row.metrics_json},
        {"feature_set", &row.feature_set},
        {"artifact_path", &row.artifact_path},
        {"artifact_sha256", &row.artifact_sha256}};
    for (const auto& [field, text] : texts) {
      VIGIL_RETURN_IF_ERROR(CheckText(where + " " + std::string(field), *text));
    }
  }
  return Status::Ok();
}

void SortModelVersions(std::vector<ModelVersionRow>* rows) {
  std::sort(rows->begin(), rows->end(), [](const ModelVersionRow& a, const ModelVersionRow& b) {
    // std::string compares as unsigned bytes (char_traits<char>::compare), like memcmp.
    if (a.name != b.name) return a.name < b.name;
    return a.version < b.version;
  });
}

std::string TrainingJobLabel(int64_t job_id, std::string_view model_name) {
  std::string label = "training job";
  if (job_id != 0) label += " " + std::to_string(job_id);
  return label + " of " + ModelLabel(model_name);
}

Status CheckTrainingJob(const TrainingJobRow& row) {
  constexpr std::string_view kStatuses[] = {"queued", "running", "succeeded", "failed"};
  if (row.model_name.empty()) return InvalidArgument("empty model_name");
  VIGIL_RETURN_IF_ERROR(CheckText("model_name", row.model_name));
  if (std::ranges::find(kStatuses, row.status) == std::end(kStatuses)) {
    VIGIL_RETURN_IF_ERROR(CheckText("status", row.status));
    return InvalidArgument("status '" + row.status +
                           "' is not queued, running, succeeded or failed");
  }
  if (row.trigger_reason.empty()) return InvalidArgument("empty trigger_reason");
  if (row.config_json.empty()) return InvalidArgument("empty config_json");
  if (row.metrics_json.empty()) return InvalidArgument("empty metrics_json");
  const std::pair<std::string_view, const std::string*> texts[] = {
      {"trigger_reason", &row.trigger_reason},
      {"config_json", &row.config_json},
      {"metrics_json", &row.metrics_json},
      {"error", &row.error}};
  for (const auto& [field, text] : texts) VIGIL_RETURN_IF_ERROR(CheckText(field, *text));
  return Status::Ok();
}

}  // namespace vigil::store_internal
