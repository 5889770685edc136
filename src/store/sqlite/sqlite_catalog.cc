// SQLite backend, part 3: what is stored: ListSeries(), Summarize(), Rejects().
#include <algorithm>

#include "store/sqlite/sqlite_store_impl.h"
#include "store/store_common.h"

namespace vigil::store_internal {
namespace {

using sqlite_internal::StatementLease;

}  // namespace

Result<std::map<int64_t, SeriesKey>> SqliteStore::LoadSeries() {
  VIGIL_ASSIGN_OR_RETURN(
      StatementLease select,
      db_.Cached("SELECT series_id, venue, symbol, kind, timeframe FROM series"));
  std::map<int64_t, SeriesKey> series;
  while (true) {
    VIGIL_ASSIGN_OR_RETURN(bool has_row, select->Step());
    if (!has_row) break;
    const int64_t series_id = select->ColumnInt64(0);
    Result<DataKind> kind = ParseDataKind(select->ColumnText(3));
    if (!kind.ok()) {
      return DatabaseError(Where() + ": table series, series_id " + std::to_string(series_id) +
                           ": " + kind.status().message());
    }
    series[series_id] = SeriesKey{Instrument{select->ColumnText(1), select->ColumnText(2)}, *kind,
                                  select->ColumnText(4)};
  }
  return series;
}

Result<std::vector<SeriesKey>> SqliteStore::ListSeries() {
  VIGIL_ASSIGN_OR_RETURN(auto by_id, LoadSeries());
  std::vector<SeriesKey> series;
  series.reserve(by_id.size());
  for (auto& [series_id, key] : by_id) series.push_back(std::move(key));
  // Sorted here, not by SQL ORDER BY, so the order is SeriesKey's (venue, symbol, kind,
  // timeframe) whatever the database's collation.
  std::sort(series.begin(), series.end());
  return series;
}

Result<std::vector<SeriesSummary>> SqliteStore::Summarize() {
  VIGIL_ASSIGN_OR_RETURN(auto series, LoadSeries());
  std::vector<SeriesSummary> summaries;
  for (DataKind kind : AllKinds()) {
    VIGIL_RETURN_IF_ERROR(SummarizeKind(kind, series, &summaries));
  }
  VIGIL_RETURN_IF_ERROR(AddRejectCounts(&summaries));
  SortSummaries(&summaries);
  return summaries;
}

Status SqliteStore::SummarizeKind(DataKind kind, const std::map<int64_t, SeriesKey>& series,
                                  std::vector<SeriesSummary>* out) {
  const std::string table = TableName(kind);
  VIGIL_ASSIGN_OR_RETURN(StatementLease select,
                         db_.Cached("SELECT series_id, COUNT(*), MIN(ts), MAX(ts) FROM " + table +
                                    " GROUP BY series_id"));
  while (true) {
    VIGIL_ASSIGN_OR_RETURN(bool has_row, select->Step());
    if (!has_row) break;
    const int64_t series_id = select->ColumnInt64(0);
    auto key = series.find(series_id);
    if (key == series.end()) {
      return DatabaseError(Where() + ": table " + table + " has rows of series_id " +
                           std::to_string(series_id) + ", which table series does not define");
    }
    out->push_back(MakeSummary(key->second, select->ColumnInt64(1),
                               Timestamp(select->ColumnInt64(2)),
                               Timestamp(select->ColumnInt64(3))));
  }
  return Status::Ok();
}

Status SqliteStore::AddRejectCounts(std::vector<SeriesSummary>* summaries) {
  VIGIL_ASSIGN_OR_RETURN(
      StatementLease select,
      db_.Cached("SELECT instrument, kind, COUNT(*) FROM rejects GROUP BY instrument, kind"));
  while (true) {
    VIGIL_ASSIGN_OR_RETURN(bool has_row, select->Step());
    if (!has_row) break;
    const std::string instrument = select->ColumnText(0);
    Result<DataKind> kind = ParseDataKind(select->ColumnText(1));
    if (!kind.ok()) {
      return DatabaseError(Where() + ": table rejects, instrument '" + instrument +
                           "': " + kind.status().message());
    }
    const int64_t count = select->ColumnInt64(2);
    MergeRejectCount(instrument, *kind, count, summaries);
  }
  return Status::Ok();
}

Result<std::vector<StoredReject>> SqliteStore::Rejects(std::string_view source, int64_t limit) {
  // reject_id grows with every insert, so it orders by recency without trusting clocks.
  const std::string filter = source.empty() ? "" : "WHERE source = ?2 ";
  VIGIL_ASSIGN_OR_RETURN(
      StatementLease select,
      db_.Cached("SELECT source, line, instrument, kind, field, reason, raw, recorded_at "
                 "FROM rejects " +
                 filter + "ORDER BY reject_id DESC LIMIT ?1"));
  // SQLite reads a negative LIMIT as "no limit".
  sqlite3_bind_int64(select->get(), 1, limit > 0 ? limit : -1);
  if (!source.empty()) select->BindText(2, source);
  std::vector<StoredReject> rejects;
  while (true) {
    VIGIL_ASSIGN_OR_RETURN(bool has_row, select->Step());
    if (!has_row) break;
    StoredReject stored;
    stored.row.source = select->ColumnText(0);
    stored.row.line = select->ColumnInt64(1);
    stored.row.instrument = select->ColumnText(2);
    Result<DataKind> kind = ParseDataKind(select->ColumnText(3));
    if (!kind.ok()) {
      return DatabaseError(Where() + ": table rejects, " + stored.row.source + ":" +
                           std::to_string(stored.row.line) + ": " + kind.status().message());
    }
    stored.row.kind = *kind;
    stored.row.field = select->ColumnText(4);
    stored.row.reason = select->ColumnText(5);
    stored.row.raw = select->ColumnText(6);
    stored.recorded_at = Timestamp(select->ColumnInt64(7));
    rejects.push_back(std::move(stored));
  }
  return rejects;
}

}  // namespace vigil::store_internal
