// PostgreSQL backend, part 3: what is stored: ListSeries(), Summarize(), Rejects().
// Orders are computed here, not by SQL ORDER BY, so they follow SeriesKey's ordering
// whatever the database's collation (and match the SQLite backend).
#include <algorithm>
#include <unordered_map>

#include "store/postgres/postgres_copy.h"
#include "store/postgres/postgres_store_impl.h"
#include "vigil/store/migrations.h"

namespace vigil::store_internal {
namespace {

using postgres_internal::Rows;

bool BySeries(const SeriesSummary& a, const SeriesSummary& b) { return a.series < b.series; }

// Missing bars of a regular series: the bars a gapless series would have between its
// first and last row, minus the rows present. 0 for irregular kinds and for timeframes
// that are not a duration (nothing to count against).
int64_t CountGaps(const SeriesKey& series, Timestamp first, Timestamp last, int64_t rows) {
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

// One row of SELECT source, line, instrument, kind, field, reason, raw, recorded_at.
Result<StoredReject> ReadReject(const Rows& rows, int row, const std::string& context) {
  StoredReject stored;
  stored.row.source = rows.Text(row, 0);
  VIGIL_ASSIGN_OR_RETURN(stored.row.line, rows.Int64(row, 1, context));
  stored.row.instrument = rows.Text(row, 2);
  Result<DataKind> kind = ParseDataKind(rows.Text(row, 3));
  if (!kind.ok()) {
    return DatabaseError(context + ", " + stored.row.source + ":" +
                         std::to_string(stored.row.line) + ": " + kind.status().message());
  }
  stored.row.kind = *kind;
  stored.row.field = rows.Text(row, 4);
  stored.row.reason = rows.Text(row, 5);
  stored.row.raw = rows.Text(row, 6);
  VIGIL_ASSIGN_OR_RETURN(int64_t recorded_at, rows.Int64(row, 7, context));
  stored.recorded_at = Timestamp(recorded_at);
  return stored;
}

}  // namespace

Result<std::vector<std::pair<int64_t, SeriesKey>>> PostgresStore::LoadSeries() {
  const std::string context = Where() + ": reading table series";
  VIGIL_ASSIGN_OR_RETURN(
      Rows rows,
      conn_.Query("SELECT series_id, venue, symbol, kind, timeframe FROM series", context));
  std::vector<std::pair<int64_t, SeriesKey>> series;
  series.reserve(rows.count());
  for (int row = 0; row < rows.count(); ++row) {
    VIGIL_ASSIGN_OR_RETURN(int64_t series_id, rows.Int64(row, 0, context));
    Result<DataKind> kind = ParseDataKind(rows.Text(row, 3));
    if (!kind.ok()) {
      return DatabaseError(context + ", series_id " + std::to_string(series_id) + ": " +
                           kind.status().message());
    }
    Instrument instrument{std::string(rows.Text(row, 1)), std::string(rows.Text(row, 2))};
    series.emplace_back(series_id,
                        SeriesKey{std::move(instrument), *kind, std::string(rows.Text(row, 4))});
  }
  return series;
}

Result<std::vector<SeriesKey>> PostgresStore::ListSeries() {
  VIGIL_ASSIGN_OR_RETURN(auto by_id, LoadSeries());
  std::vector<SeriesKey> series;
  series.reserve(by_id.size());
  for (auto& [series_id, key] : by_id) series.push_back(std::move(key));
  std::sort(series.begin(), series.end());
  return series;
}

Result<std::vector<SeriesSummary>> PostgresStore::Summarize() {
  VIGIL_ASSIGN_OR_RETURN(auto series, LoadSeries());
  std::vector<SeriesSummary> summaries;
  for (DataKind kind : AllKinds()) {
    VIGIL_RETURN_IF_ERROR(SummarizeKind(kind, series, &summaries));
  }
  VIGIL_RETURN_IF_ERROR(AddRejectCounts(&summaries));
  std::sort(summaries.begin(), summaries.end(), BySeries);
  return summaries;
}

Status PostgresStore::SummarizeKind(DataKind kind,
                                    const std::vector<std::pair<int64_t, SeriesKey>>& series,
                                    std::vector<SeriesSummary>* out) {
  std::unordered_map<int64_t, const SeriesKey*> by_id;
  for (const auto& [series_id, key] : series) {
    if (key.kind == kind) by_id[series_id] = &key;
  }
  if (by_id.empty()) return Status::Ok();
  const std::string table = TableName(kind);
  const std::string context = Where() + ": summarizing table " + table;
  VIGIL_ASSIGN_OR_RETURN(Rows rows,
                         conn_.Query("SELECT series_id, COUNT(*), MIN(ts), MAX(ts) FROM " + table +
                                         " GROUP BY series_id",
                                     context));
  for (int row = 0; row < rows.count(); ++row) {
    VIGIL_ASSIGN_OR_RETURN(int64_t series_id, rows.Int64(row, 0, context));
    auto key = by_id.find(series_id);
    if (key == by_id.end()) {
      return DatabaseError(context + ": rows of series_id " + std::to_string(series_id) +
                           ", which table series does not define as " + table);
    }
    SeriesSummary summary;
    summary.series = *key->second;
    VIGIL_ASSIGN_OR_RETURN(summary.rows, rows.Int64(row, 1, context));
    VIGIL_ASSIGN_OR_RETURN(int64_t first, rows.Int64(row, 2, context));
    VIGIL_ASSIGN_OR_RETURN(int64_t last, rows.Int64(row, 3, context));
    summary.first = Timestamp(first);
    summary.last = Timestamp(last);
    summary.gaps = CountGaps(summary.series, summary.first, summary.last, summary.rows);
    out->push_back(std::move(summary));
  }
  return Status::Ok();
}

Status PostgresStore::AddRejectCounts(std::vector<SeriesSummary>* summaries) {
  const std::string context = Where() + ": counting table rejects";
  VIGIL_ASSIGN_OR_RETURN(
      Rows rows,
      conn_.Query("SELECT instrument, kind, COUNT(*) FROM rejects GROUP BY instrument, kind",
                  context));
  for (int row = 0; row < rows.count(); ++row) {
    const std::string instrument(rows.Text(row, 0));
    Result<DataKind> kind = ParseDataKind(rows.Text(row, 1));
    if (!kind.ok()) {
      return DatabaseError(context + ", instrument '" + instrument +
                           "': " + kind.status().message());
    }
    VIGIL_ASSIGN_OR_RETURN(int64_t count, rows.Int64(row, 2, context));
    bool matched = false;
    // Rejects carry no timeframe, so every timeframe of the instrument shares the count.
    for (SeriesSummary& summary : *summaries) {
      if (summary.series.kind == *kind && summary.series.instrument.ToString() == instrument) {
        summary.rejects = count;
        matched = true;
      }
    }
    if (!matched) {
      SeriesSummary rejected_only;
      rejected_only.series = SeriesKey{InstrumentOfReject(instrument), *kind, ""};
      rejected_only.rejects = count;
      summaries->push_back(std::move(rejected_only));
    }
  }
  return Status::Ok();
}

Result<std::vector<StoredReject>> PostgresStore::Rejects(std::string_view source, int64_t limit) {
  const std::string context = Where() + ": reading table rejects";
  std::vector<std::string> params;
  std::string sql =
      "SELECT source, line, instrument, kind, field, reason, COALESCE(raw, ''), recorded_at "
      "FROM rejects";
  if (!source.empty()) {
    // Stored sources were made valid UTF-8 on the way in (see AppendCopyText).
    params.push_back(postgres_internal::SanitizeUtf8(source));
    sql += " WHERE source = $1";
  }
  // reject_id grows with every insert, so it orders by recency without trusting clocks.
  sql += " ORDER BY reject_id DESC";
  if (limit > 0) sql += " LIMIT " + std::to_string(limit);
  VIGIL_ASSIGN_OR_RETURN(Rows rows, conn_.Query(sql, context, params));
  std::vector<StoredReject> rejects;
  rejects.reserve(rows.count());
  for (int row = 0; row < rows.count(); ++row) {
    VIGIL_ASSIGN_OR_RETURN(StoredReject stored, ReadReject(rows, row, context));
    rejects.push_back(std::move(stored));
  }
  return rejects;
}

}  // namespace vigil::store_internal
