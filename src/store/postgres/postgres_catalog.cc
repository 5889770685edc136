// PostgreSQL backend, part 3: what is stored: ListSeries(), Summarize(), Rejects().
// Orders are computed here, not by SQL ORDER BY, so they follow SeriesKey's ordering
// whatever the database's collation (and match the SQLite backend).
#include <algorithm>
#include <unordered_map>

#include "store/postgres/postgres_copy.h"
#include "store/postgres/postgres_store_impl.h"
#include "store/store_common.h"
#include "vigil/store/migrations.h"

namespace vigil::store_internal {
namespace {

using postgres_internal::Rows;

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
  SortSummaries(&summaries);
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
    VIGIL_ASSIGN_OR_RETURN(int64_t count, rows.Int64(row, 1, context));
    VIGIL_ASSIGN_OR_RETURN(int64_t first, rows.Int64(row, 2, context));
    VIGIL_ASSIGN_OR_RETURN(int64_t last, rows.Int64(row, 3, context));
    out->push_back(MakeSummary(*key->second, count, Timestamp(first), Timestamp(last)));
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
    MergeRejectCount(instrument, *kind, count, summaries);
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
