// SQLite backend, part 7: what served and live models said (table predictions) and the
// alerts they raised (table alerts).
//
// A write is one BEGIN IMMEDIATE transaction around one cached INSERT that is rebound per
// row: the live runner writes ~1,000 rows per bar, and preparing once per connection plus
// one commit (one WAL fsync) per batch is what keeps that in the microseconds per row.
// Reads with a limit select the newest rows descending (an index walked backwards) and
// reverse them, so a small limit never reads the whole range.
#include <algorithm>

#include "store/prediction_checks.h"
#include "store/sqlite/sqlite_store_impl.h"

namespace vigil::store_internal {
namespace {

using sqlite_internal::Statement;
using sqlite_internal::StatementLease;
using sqlite_internal::Transaction;

constexpr std::string_view kInsertPredictionSql =
    "INSERT INTO predictions (model_name, model_version, instrument, ts, horizon, value, score, "
    "label, explanation_json, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

constexpr std::string_view kPredictionColumns =
    "SELECT prediction_id, model_name, model_version, instrument, ts, horizon, value, score, "
    "label, explanation_json, created_at FROM predictions";

constexpr std::string_view kInsertAlertSql =
    "INSERT INTO alerts (rule, instrument, ts, severity, score, message, features_json, "
    "model_name, model_version, acknowledged, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
    "?8, ?9, ?10, ?11)";

constexpr std::string_view kAlertColumns =
    "SELECT alert_id, rule, instrument, ts, severity, score, message, features_json, "
    "model_name, model_version, acknowledged, created_at FROM alerts";

// SQLite reads a negative LIMIT as "no limit".
constexpr int64_t kNoLimit = -1;

// "" is stored as NULL for the columns whose header says so.
void BindTextOrNull(Statement& statement, int index, std::string_view text) {
  if (text.empty()) {
    sqlite3_bind_null(statement.get(), index);
  } else {
    statement.BindText(index, text);
  }
}

// Bound raw: BindInt64 would turn kMissingInt, a legal version, into NULL.
void BindRawInt64(Statement& statement, int index, int64_t value) {
  sqlite3_bind_int64(statement.get(), index, value);
}

void BindPrediction(Statement& insert, const PredictionRow& row) {
  insert.BindText(1, row.model_name);
  BindRawInt64(insert, 2, row.model_version);
  insert.BindText(3, row.instrument);
  BindRawInt64(insert, 4, row.ts.nanos());
  insert.BindText(5, row.horizon);
  insert.BindDouble(6, row.value);  // NaN binds as NULL
  insert.BindDouble(7, row.score);
  insert.BindText(8, row.label);
  BindTextOrNull(insert, 9, row.explanation_json);
  BindRawInt64(insert, 10, row.created_at.nanos());
}

void BindAlert(Statement& insert, const AlertRow& row) {
  insert.BindText(1, row.rule);
  insert.BindText(2, row.instrument);
  BindRawInt64(insert, 3, row.ts.nanos());
  insert.BindText(4, row.severity);
  insert.BindDouble(5, row.score);
  insert.BindText(6, row.message);
  BindTextOrNull(insert, 7, row.features_json);
  BindTextOrNull(insert, 8, row.model_name);
  if (row.model_version.has_value()) {
    BindRawInt64(insert, 9, *row.model_version);
  } else {
    sqlite3_bind_null(insert.get(), 9);
  }
  BindRawInt64(insert, 10, row.acknowledged ? 1 : 0);
  BindRawInt64(insert, 11, row.created_at.nanos());
}

double ColumnDouble(const Statement& select, int column) {
  if (sqlite3_column_type(select.get(), column) == SQLITE_NULL) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return sqlite3_column_double(select.get(), column);
}

IdentifiedPrediction ReadPrediction(const Statement& select) {
  IdentifiedPrediction out;
  out.prediction_id = sqlite3_column_int64(select.get(), 0);
  PredictionRow& row = out.row;
  row.model_name = select.ColumnText(1);
  row.model_version = sqlite3_column_int64(select.get(), 2);
  row.instrument = select.ColumnText(3);
  row.ts = Timestamp(sqlite3_column_int64(select.get(), 4));
  row.horizon = select.ColumnText(5);
  row.value = ColumnDouble(select, 6);
  row.score = ColumnDouble(select, 7);
  row.label = select.ColumnText(8);  // NULL reads as ""
  row.explanation_json = select.ColumnText(9);
  row.created_at = Timestamp(sqlite3_column_int64(select.get(), 10));
  return out;
}

AlertRow ReadAlert(const Statement& select) {
  AlertRow row;
  row.alert_id = sqlite3_column_int64(select.get(), 0);
  row.rule = select.ColumnText(1);
  row.instrument = select.ColumnText(2);
  row.ts = Timestamp(sqlite3_column_int64(select.get(), 3));
  row.severity = select.ColumnText(4);
  row.score = ColumnDouble(select, 5);
  row.message = select.ColumnText(6);
  row.features_json = select.ColumnText(7);
  row.model_name = select.ColumnText(8);
  if (sqlite3_column_type(select.get(), 9) != SQLITE_NULL) {
    row.model_version = sqlite3_column_int64(select.get(), 9);
  }
  row.acknowledged = sqlite3_column_int64(select.get(), 10) != 0;
  row.created_at = Timestamp(sqlite3_column_int64(select.get(), 11));
  return row;
}

// Steps `select` to the end, reading each row with `read`.
template <typename Row, typename Read>
Result<std::vector<Row>> ReadAll(Statement& select, Read read, std::string_view context) {
  std::vector<Row> rows;
  while (true) {
    Result<bool> has_row = select.Step();
    if (!has_row.ok()) return has_row.status().WithContext(context);
    if (!*has_row) return rows;
    rows.push_back(read(select));
  }
}

// The WHERE clause of QueryPredictions: ?1 from, ?2 to, then ?3 / ?4 for the filters given.
std::string PredictionFilter(const PredictionQuery& query) {
  std::string where = " WHERE ts >= ?1 AND ts < ?2";
  int next = 3;
  if (!query.instrument.empty()) where += " AND instrument = ?" + std::to_string(next++);
  if (!query.model_name.empty()) where += " AND model_name = ?" + std::to_string(next++);
  return where;
}

}  // namespace

Result<int64_t> SqliteStore::WritePredictions(std::span<const PredictionRow> rows) {
  const std::string context = "writing " + CountLabel(rows.size(), "prediction");
  VIGIL_RETURN_IF_ERROR(CheckPredictionRows(rows).WithContext(Where() + ": " + context));
  if (rows.empty()) return 0;
  Result<Transaction> transaction = Transaction::BeginImmediate(&db_);
  if (!transaction.ok()) return transaction.status().WithContext(context);
  Result<StatementLease> insert = db_.Cached(kInsertPredictionSql);
  if (!insert.ok()) return insert.status().WithContext(context);
  for (size_t index = 0; index < rows.size(); ++index) {
    BindPrediction(**insert, rows[index]);
    Result<bool> stepped = (*insert)->Step();
    if (!stepped.ok()) {
      return stepped.status().WithContext(context + ": " + PredictionRowLabel(index, rows[index]));
    }
    (*insert)->Reset();
  }
  VIGIL_RETURN_IF_ERROR(transaction->Commit().WithContext(context));
  return static_cast<int64_t>(rows.size());
}

Result<std::vector<PredictionRow>> SqliteStore::QueryPredictions(const PredictionQuery& query) {
  const std::string context = "querying predictions";
  // Newest first when limited, so the LIMIT keeps the newest rows; reversed below.
  const bool limited = query.limit > 0;
  const std::string sql = std::string(kPredictionColumns) + PredictionFilter(query) +
                          (limited ? " ORDER BY ts DESC, prediction_id DESC LIMIT ?5"
                                   : " ORDER BY ts, prediction_id LIMIT ?5");
  Result<StatementLease> select = db_.Cached(sql);
  if (!select.ok()) return select.status().WithContext(context);
  BindRawInt64(**select, 1, query.from.nanos());
  BindRawInt64(**select, 2, query.to.nanos());
  int next = 3;
  if (!query.instrument.empty()) (*select)->BindText(next++, query.instrument);
  if (!query.model_name.empty()) (*select)->BindText(next++, query.model_name);
  BindRawInt64(**select, 5, limited ? query.limit : kNoLimit);
  VIGIL_ASSIGN_OR_RETURN(std::vector<IdentifiedPrediction> found,
                         ReadAll<IdentifiedPrediction>(**select, ReadPrediction, context));
  if (limited) std::reverse(found.begin(), found.end());
  std::vector<PredictionRow> rows;
  rows.reserve(found.size());
  for (IdentifiedPrediction& one : found) rows.push_back(std::move(one.row));
  return rows;
}

Result<std::vector<PredictionRow>> SqliteStore::LatestPredictions(std::string_view instrument,
                                                                  std::string_view model_name) {
  const std::string context = "reading the latest predictions for '" + std::string(instrument) +
                              "'" + (model_name.empty() ? "" : " of " + ModelLabel(model_name));
  // Two statements rather than one with "?2 = '' OR model_name = ?2", which would keep
  // the planner off predictions_by_model (instrument, model_name, ts). Each is one
  // statement, so it reads one snapshot.
  const std::string model_sql =
      std::string(kPredictionColumns) +
      " WHERE instrument = ?1 AND model_name = ?2 AND ts = (SELECT ts FROM predictions "
      "WHERE instrument = ?1 AND model_name = ?2 ORDER BY ts DESC LIMIT 1)";
  const std::string any_sql =
      std::string(kPredictionColumns) +
      " WHERE instrument = ?1 AND ts = (SELECT ts FROM predictions WHERE instrument = ?1 "
      "ORDER BY ts DESC LIMIT 1)";
  Result<StatementLease> select = db_.Cached(model_name.empty() ? any_sql : model_sql);
  if (!select.ok()) return select.status().WithContext(context);
  (*select)->BindText(1, instrument);
  if (!model_name.empty()) (*select)->BindText(2, model_name);
  VIGIL_ASSIGN_OR_RETURN(std::vector<IdentifiedPrediction> found,
                         ReadAll<IdentifiedPrediction>(**select, ReadPrediction, context));
  return LatestPerHorizon(std::move(found));
}

Result<std::vector<int64_t>> SqliteStore::WriteAlerts(std::span<const AlertRow> rows) {
  const std::string context = "writing " + CountLabel(rows.size(), "alert");
  VIGIL_RETURN_IF_ERROR(CheckAlertRows(rows).WithContext(Where() + ": " + context));
  std::vector<int64_t> ids;
  if (rows.empty()) return ids;
  Result<Transaction> transaction = Transaction::BeginImmediate(&db_);
  if (!transaction.ok()) return transaction.status().WithContext(context);
  Result<StatementLease> insert = db_.Cached(kInsertAlertSql);
  if (!insert.ok()) return insert.status().WithContext(context);
  ids.reserve(rows.size());
  for (size_t index = 0; index < rows.size(); ++index) {
    BindAlert(**insert, rows[index]);
    Result<bool> stepped = (*insert)->Step();
    if (!stepped.ok()) {
      return stepped.status().WithContext(context + ": " + AlertRowLabel(index, rows[index]));
    }
    (*insert)->Reset();
    // AUTOINCREMENT: increasing and never reused, even after deletes.
    ids.push_back(sqlite3_last_insert_rowid(db_.get()));
  }
  VIGIL_RETURN_IF_ERROR(transaction->Commit().WithContext(context));
  return ids;
}

Result<std::vector<AlertRow>> SqliteStore::QueryAlerts(const AlertQuery& query) {
  const std::string context = "querying alerts";
  const bool limited = query.limit > 0;
  const std::string sql =
      std::string(kAlertColumns) + " WHERE ts >= ?1" +
      (query.instrument.empty() ? "" : " AND instrument = ?3") +
      (limited ? " ORDER BY ts DESC, alert_id DESC LIMIT ?2" : " ORDER BY ts, alert_id LIMIT ?2");
  Result<StatementLease> select = db_.Cached(sql);
  if (!select.ok()) return select.status().WithContext(context);
  BindRawInt64(**select, 1, query.since.nanos());
  BindRawInt64(**select, 2, limited ? query.limit : kNoLimit);
  if (!query.instrument.empty()) (*select)->BindText(3, query.instrument);
  VIGIL_ASSIGN_OR_RETURN(std::vector<AlertRow> rows,
                         ReadAll<AlertRow>(**select, ReadAlert, context));
  if (limited) std::reverse(rows.begin(), rows.end());
  return rows;
}

}  // namespace vigil::store_internal
