// SQLite backend, part 4: computed feature values in table feature_store.
//
// Writes reuse one prepared upsert inside one write transaction, binding the key prefix
// once and each feature name once per column. Reads take one read snapshot, list the
// stored names when none are requested, and read each feature's range through FrameSink
// (sqlite_frame_sink.h) into a one-column frame; store_common joins those into the wide form.
#include <algorithm>

#include "store/sqlite/sqlite_frame_sink.h"
#include "store/sqlite/sqlite_store_impl.h"
#include "store/store_common.h"

namespace vigil::store_internal {
namespace {

using sqlite_internal::StatementLease;
using sqlite_internal::Transaction;

constexpr std::string_view kUpsertFeatureSql =
    "INSERT INTO feature_store (instrument, feature_set, feature_set_version, feature, ts, "
    "value, computed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (instrument, feature_set, feature_set_version, feature, ts) "
    "DO UPDATE SET value = excluded.value, computed_at = excluded.computed_at";

// The distinct features of one key by a loose index scan: each step seeks the next name
// in the primary key instead of reading every row of the key ("loose indexscan",
// https://wiki.postgresql.org/wiki/Loose_indexscan), so listing 10 features costs 10
// seeks however many values are stored.
constexpr std::string_view kFeatureNamesSql =
    "WITH RECURSIVE names(feature) AS ("
    " SELECT MIN(feature) FROM feature_store"
    "  WHERE instrument = ?1 AND feature_set = ?2 AND feature_set_version = ?3"
    " UNION ALL"
    " SELECT (SELECT MIN(feature) FROM feature_store"
    "  WHERE instrument = ?1 AND feature_set = ?2 AND feature_set_version = ?3"
    "  AND feature > names.feature)"
    " FROM names WHERE names.feature IS NOT NULL) "
    "SELECT feature FROM names WHERE feature IS NOT NULL";

constexpr std::string_view kFeatureRangeSql =
    " FROM feature_store WHERE instrument = ?1 AND feature_set = ?2 AND "
    "feature_set_version = ?3 AND feature = ?4 AND ts >= ?5 AND ts < ?6";

constexpr char kValueColumn[] = "value";

// Binds ?1..?3. Integers are bound raw: any bit pattern is a valid version, and
// BindInt64 would turn kMissingInt (INT64_MIN) into NULL.
void BindKey(sqlite_internal::Statement& statement, std::string_view instrument,
             std::string_view feature_set, int64_t version) {
  statement.BindText(1, instrument);
  statement.BindText(2, feature_set);
  sqlite3_bind_int64(statement.get(), 3, version);
}

}  // namespace

Result<int64_t> SqliteStore::WriteFeatureValues(const FeatureValues& values) {
  const std::string context =
      "writing feature values (" +
      FeatureKeyLabel(values.instrument, values.feature_set, values.version) + ")";
  VIGIL_RETURN_IF_ERROR(CheckFeatureValues(values).WithContext(Where() + ": " + context));
  const std::vector<int64_t> rows = RowsToStore(*values.frame);
  const int64_t written = static_cast<int64_t>(rows.size() * values.frame->num_columns());
  if (written == 0) return 0;
  Result<Transaction> transaction = Transaction::BeginImmediate(&db_);
  if (!transaction.ok()) return transaction.status().WithContext(context);
  VIGIL_RETURN_IF_ERROR(UpsertFeatureValues(values, rows).WithContext(context));
  VIGIL_RETURN_IF_ERROR(transaction->Commit().WithContext(context));
  return written;
}

Status SqliteStore::UpsertFeatureValues(const FeatureValues& values,
                                        std::span<const int64_t> rows) {
  VIGIL_ASSIGN_OR_RETURN(StatementLease upsert, db_.Cached(kUpsertFeatureSql));
  // Bindings survive sqlite3_reset: the key once, the feature name once per column.
  BindKey(*upsert, values.instrument, values.feature_set, values.version);
  sqlite3_bind_int64(upsert->get(), 7, values.computed_at.nanos());
  const Frame& frame = *values.frame;
  const std::span<const int64_t> ts = frame.timestamps();
  // Column by column, so each feature's rows arrive in primary-key (ts) order and every
  // insert lands next to the previous one in the B-tree.
  for (size_t column = 0; column < frame.num_columns(); ++column) {
    const std::string& feature = frame.columns()[column].name;
    const std::span<const double> doubles = frame.DoublesAt(column);
    upsert->BindText(4, feature);
    for (int64_t row : rows) {
      sqlite3_bind_int64(upsert->get(), 5, ts[row]);
      upsert->BindDouble(6, doubles[row]);  // NaN binds as NULL
      Result<bool> stepped = upsert->Step();
      if (!stepped.ok()) {
        return stepped.status().WithContext("feature '" + feature + "' at ts " +
                                            std::to_string(ts[row]));
      }
      upsert->Reset();
    }
  }
  return Status::Ok();
}

Result<Frame> SqliteStore::ReadFeatureValues(std::string_view instrument,
                                             std::string_view feature_set, int64_t version,
                                             std::span<const std::string> features, Timestamp from,
                                             Timestamp to) {
  const std::string context =
      "reading feature values (" + FeatureKeyLabel(instrument, feature_set, version) + ")";
  VIGIL_RETURN_IF_ERROR(CheckFeatureNames(features).WithContext(Where() + ": " + context));
  // One snapshot for the names and every column, even while another process writes.
  Result<Transaction> transaction = Transaction::BeginRead(&db_);
  if (!transaction.ok()) return transaction.status().WithContext(context);
  std::vector<std::string> names(features.begin(), features.end());
  if (names.empty()) {
    Result<std::vector<std::string>> stored = StoredFeatureNames(instrument, feature_set, version);
    if (!stored.ok()) return stored.status().WithContext(context);
    names = std::move(stored).value();
    std::sort(names.begin(), names.end());  // byte order, whatever the collation
  }
  std::vector<Frame> series;
  series.reserve(names.size());
  for (const std::string& feature : names) {
    if (from >= to) {
      series.emplace_back(std::vector<ColumnSpec>{{kValueColumn, ColumnType::kDouble}});
      continue;
    }
    Result<Frame> one = ReadFeatureSeries(instrument, feature_set, version, feature, from, to);
    if (!one.ok()) return one.status().WithContext(context + ", feature '" + feature + "'");
    series.push_back(std::move(one).value());
  }
  VIGIL_RETURN_IF_ERROR(transaction->Commit().WithContext(context));
  return WidenFeatureSeries(names, std::move(series));
}

Result<std::vector<std::string>> SqliteStore::StoredFeatureNames(std::string_view instrument,
                                                                 std::string_view feature_set,
                                                                 int64_t version) {
  VIGIL_ASSIGN_OR_RETURN(StatementLease select, db_.Cached(kFeatureNamesSql));
  BindKey(*select, instrument, feature_set, version);
  std::vector<std::string> names;
  while (true) {
    VIGIL_ASSIGN_OR_RETURN(bool has_row, select->Step());
    if (!has_row) break;
    names.push_back(select->ColumnText(0));
  }
  return names;
}

Result<Frame> SqliteStore::ReadFeatureSeries(std::string_view instrument,
                                             std::string_view feature_set, int64_t version,
                                             const std::string& feature, Timestamp from,
                                             Timestamp to) {
  Frame frame(std::vector<ColumnSpec>{{kValueColumn, ColumnType::kDouble}});
  VIGIL_ASSIGN_OR_RETURN(StatementLease select,
                         db_.Cached(std::string("SELECT ") + sqlite_internal::kFrameRowsFunction +
                                    "(ts, value)" + std::string(kFeatureRangeSql)));
  BindKey(*select, instrument, feature_set, version);
  select->BindText(4, feature);
  sqlite3_bind_int64(select->get(), 5, from.nanos());
  sqlite3_bind_int64(select->get(), 6, to.nanos());
  sink_.Begin(&frame);
  Result<bool> stepped = select->Step();
  const Status sunk = sink_.End();
  VIGIL_RETURN_IF_ERROR(stepped.status());
  VIGIL_RETURN_IF_ERROR(sunk);
  return frame;
}

}  // namespace vigil::store_internal
