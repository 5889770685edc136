#include "store/store_common.h"

#include <algorithm>

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

}  // namespace vigil::store_internal
