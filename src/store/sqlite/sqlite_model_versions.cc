// SQLite backend, part 5: the model registry's mirror in table model_versions.
//
// A replace deletes the model's rows and inserts the new ones through one cached statement,
// inside one write transaction. A model has a handful of versions, so nothing here is
// batched further. Lists sort in C++ (store_common) so both backends agree on the order.
#include "store/sqlite/sqlite_store_impl.h"
#include "store/store_common.h"

namespace vigil::store_internal {
namespace {

using sqlite_internal::Statement;
using sqlite_internal::StatementLease;
using sqlite_internal::Transaction;

constexpr std::string_view kDeleteModelSql = "DELETE FROM model_versions WHERE name = ?1";

constexpr std::string_view kInsertModelVersionSql =
    "INSERT INTO model_versions (name, version, family, task, stage, config_json, "
    "metrics_json, feature_set, artifact_path, artifact_sha256, train_from, train_to, "
    "created_at, promoted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
    "?13, ?14)";

// Column order shared by both selects and ReadRow.
constexpr std::string_view kSelectColumns =
    "SELECT name, version, family, task, stage, config_json, metrics_json, feature_set, "
    "artifact_path, artifact_sha256, train_from, train_to, created_at, promoted_at "
    "FROM model_versions";

// Bound raw rather than with BindInt64, which would turn kMissingInt into NULL: only an
// absent optional is NULL.
void BindTimestamp(Statement& statement, int index, const std::optional<Timestamp>& value) {
  if (value.has_value()) {
    sqlite3_bind_int64(statement.get(), index, value->nanos());
  } else {
    sqlite3_bind_null(statement.get(), index);
  }
}

void BindRow(Statement& insert, const ModelVersionRow& row) {
  insert.BindText(1, row.name);
  sqlite3_bind_int64(insert.get(), 2, row.version);
  insert.BindText(3, row.family);
  insert.BindText(4, row.task);
  insert.BindText(5, row.stage);
  insert.BindText(6, row.config_json);
  insert.BindText(7, row.metrics_json);
  insert.BindText(8, row.feature_set);
  insert.BindText(9, row.artifact_path);
  insert.BindText(10, row.artifact_sha256);
  BindTimestamp(insert, 11, row.train_from);
  BindTimestamp(insert, 12, row.train_to);
  sqlite3_bind_int64(insert.get(), 13, row.created_at.nanos());
  BindTimestamp(insert, 14, row.promoted_at);
}

std::optional<Timestamp> ColumnTimestamp(const Statement& select, int column) {
  if (sqlite3_column_type(select.get(), column) == SQLITE_NULL) return std::nullopt;
  return Timestamp(sqlite3_column_int64(select.get(), column));
}

ModelVersionRow ReadRow(const Statement& select) {
  ModelVersionRow row;
  row.name = select.ColumnText(0);
  row.version = sqlite3_column_int64(select.get(), 1);
  row.family = select.ColumnText(2);
  row.task = select.ColumnText(3);
  row.stage = select.ColumnText(4);
  row.config_json = select.ColumnText(5);
  row.metrics_json = select.ColumnText(6);
  row.feature_set = select.ColumnText(7);
  row.artifact_path = select.ColumnText(8);
  row.artifact_sha256 = select.ColumnText(9);
  row.train_from = ColumnTimestamp(select, 10);
  row.train_to = ColumnTimestamp(select, 11);
  row.created_at = Timestamp(sqlite3_column_int64(select.get(), 12));
  row.promoted_at = ColumnTimestamp(select, 13);
  return row;
}

}  // namespace

Status SqliteStore::ReplaceModelVersions(std::string_view name,
                                         std::span<const ModelVersionRow> rows) {
  const std::string context = "replacing the versions of " + ModelLabel(name);
  VIGIL_RETURN_IF_ERROR(CheckModelVersions(name, rows).WithContext(Where() + ": " + context));
  Result<Transaction> transaction = Transaction::BeginImmediate(&db_);
  if (!transaction.ok()) return transaction.status().WithContext(context);
  {
    VIGIL_ASSIGN_OR_RETURN(StatementLease remove, db_.Cached(kDeleteModelSql));
    remove->BindText(1, name);
    VIGIL_RETURN_IF_ERROR(remove->Step().status().WithContext(context));
  }
  VIGIL_ASSIGN_OR_RETURN(StatementLease insert, db_.Cached(kInsertModelVersionSql));
  for (const ModelVersionRow& row : rows) {
    BindRow(*insert, row);
    Result<bool> stepped = insert->Step();
    if (!stepped.ok()) {
      return stepped.status().WithContext("inserting " + ModelLabel(name, row.version));
    }
    insert->Reset();
  }
  return transaction->Commit().WithContext(context);
}

Result<std::vector<ModelVersionRow>> SqliteStore::ListModelVersions(std::string_view name) {
  const std::string context =
      name.empty() ? std::string("listing model versions") : "listing " + ModelLabel(name);
  const std::string sql =
      name.empty() ? std::string(kSelectColumns) : std::string(kSelectColumns) + " WHERE name = ?1";
  Result<StatementLease> select = db_.Cached(sql);
  if (!select.ok()) return select.status().WithContext(context);
  if (!name.empty()) (*select)->BindText(1, name);
  std::vector<ModelVersionRow> rows;
  while (true) {
    Result<bool> has_row = (*select)->Step();
    if (!has_row.ok()) return has_row.status().WithContext(context);
    if (!*has_row) break;
    rows.push_back(ReadRow(**select));
  }
  SortModelVersions(&rows);
  return rows;
}

}  // namespace vigil::store_internal
