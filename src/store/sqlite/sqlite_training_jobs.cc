// SQLite backend, part 6: training jobs in table training_jobs.
//
// Each call is one statement in autocommit mode, so it is atomic without a transaction and
// a list reads one snapshot. Ids come from AUTOINCREMENT, which never reuses one, so they
// increase across calls even after the newest job is deleted.
#include "store/sqlite/sqlite_store_impl.h"
#include "store/store_common.h"

namespace vigil::store_internal {
namespace {

using sqlite_internal::Statement;
using sqlite_internal::StatementLease;

constexpr std::string_view kInsertJobSql =
    "INSERT INTO training_jobs (model_name, status, trigger_reason, config_json, metrics_json, "
    "model_version, error, queued_at, started_at, finished_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
    "?7, ?8, ?9, ?10)";

// Same parameters 1-10 as kInsertJobSql; ?11 is the job.
constexpr std::string_view kUpdateJobSql =
    "UPDATE training_jobs SET model_name = ?1, status = ?2, trigger_reason = ?3, "
    "config_json = ?4, metrics_json = ?5, model_version = ?6, error = ?7, queued_at = ?8, "
    "started_at = ?9, finished_at = ?10 WHERE job_id = ?11";

// Column order shared by both selects and ReadJob.
constexpr std::string_view kSelectColumns =
    "SELECT job_id, model_name, status, trigger_reason, config_json, metrics_json, "
    "model_version, error, queued_at, started_at, finished_at FROM training_jobs";

// SQLite reads a negative LIMIT as "no limit".
constexpr int64_t kNoLimit = -1;

// Bound raw rather than with BindInt64, which would turn kMissingInt into NULL: only an
// absent optional is NULL.
void BindOptional(Statement& statement, int index, const std::optional<int64_t>& value) {
  if (value.has_value()) {
    sqlite3_bind_int64(statement.get(), index, *value);
  } else {
    sqlite3_bind_null(statement.get(), index);
  }
}

std::optional<int64_t> NanosOf(const std::optional<Timestamp>& value) {
  if (!value.has_value()) return std::nullopt;
  return value->nanos();
}

// Binds parameters 1-10 of kInsertJobSql / kUpdateJobSql.
void BindJob(Statement& statement, const TrainingJobRow& row) {
  statement.BindText(1, row.model_name);
  statement.BindText(2, row.status);
  statement.BindText(3, row.trigger_reason);
  statement.BindText(4, row.config_json);
  statement.BindText(5, row.metrics_json);
  BindOptional(statement, 6, row.model_version);
  statement.BindText(7, row.error);
  sqlite3_bind_int64(statement.get(), 8, row.queued_at.nanos());
  BindOptional(statement, 9, NanosOf(row.started_at));
  BindOptional(statement, 10, NanosOf(row.finished_at));
}

std::optional<int64_t> ColumnOptional(const Statement& select, int column) {
  if (sqlite3_column_type(select.get(), column) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(select.get(), column);
}

std::optional<Timestamp> ColumnTimestamp(const Statement& select, int column) {
  std::optional<int64_t> nanos = ColumnOptional(select, column);
  if (!nanos.has_value()) return std::nullopt;
  return Timestamp(*nanos);
}

TrainingJobRow ReadJob(const Statement& select) {
  TrainingJobRow row;
  row.job_id = sqlite3_column_int64(select.get(), 0);
  row.model_name = select.ColumnText(1);
  row.status = select.ColumnText(2);
  row.trigger_reason = select.ColumnText(3);
  row.config_json = select.ColumnText(4);
  row.metrics_json = select.ColumnText(5);
  row.model_version = ColumnOptional(select, 6);
  row.error = select.ColumnText(7);
  row.queued_at = Timestamp(sqlite3_column_int64(select.get(), 8));
  row.started_at = ColumnTimestamp(select, 9);
  row.finished_at = ColumnTimestamp(select, 10);
  return row;
}

}  // namespace

Result<int64_t> SqliteStore::InsertTrainingJob(const TrainingJobRow& row) {
  const std::string context = "inserting a " + TrainingJobLabel(0, row.model_name);
  VIGIL_RETURN_IF_ERROR(CheckTrainingJob(row).WithContext(Where() + ": " + context));
  Result<StatementLease> insert = db_.Cached(kInsertJobSql);
  if (!insert.ok()) return insert.status().WithContext(context);
  BindJob(**insert, row);
  VIGIL_RETURN_IF_ERROR((*insert)->Step().status().WithContext(context));
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_.get()));
}

Status SqliteStore::UpdateTrainingJob(const TrainingJobRow& row) {
  const std::string context = "updating " + TrainingJobLabel(row.job_id, row.model_name);
  VIGIL_RETURN_IF_ERROR(CheckTrainingJob(row).WithContext(Where() + ": " + context));
  Result<StatementLease> update = db_.Cached(kUpdateJobSql);
  if (!update.ok()) return update.status().WithContext(context);
  BindJob(**update, row);
  sqlite3_bind_int64((*update)->get(), 11, row.job_id);
  VIGIL_RETURN_IF_ERROR((*update)->Step().status().WithContext(context));
  // Counts the rows the WHERE matched, including ones rewritten with equal values.
  if (sqlite3_changes(db_.get()) == 0) {
    return NotFound(Where() + ": " + context + ": no training job " + std::to_string(row.job_id));
  }
  return Status::Ok();
}

Result<std::vector<TrainingJobRow>> SqliteStore::ListTrainingJobs(std::string_view model_name,
                                                                  int64_t limit) {
  const std::string context = model_name.empty()
                                  ? std::string("listing training jobs")
                                  : "listing the training jobs of " + ModelLabel(model_name);
  const std::string sql =
      std::string(kSelectColumns) + (model_name.empty()
                                         ? " ORDER BY job_id DESC LIMIT ?1"
                                         : " WHERE model_name = ?1 ORDER BY job_id DESC LIMIT ?2");
  Result<StatementLease> select = db_.Cached(sql);
  if (!select.ok()) return select.status().WithContext(context);
  const int limit_index = model_name.empty() ? 1 : 2;
  if (!model_name.empty()) (*select)->BindText(1, model_name);
  sqlite3_bind_int64((*select)->get(), limit_index, limit > 0 ? limit : kNoLimit);
  std::vector<TrainingJobRow> rows;
  while (true) {
    Result<bool> has_row = (*select)->Step();
    if (!has_row.ok()) return has_row.status().WithContext(context);
    if (!*has_row) break;
    rows.push_back(ReadJob(**select));
  }
  return rows;
}

}  // namespace vigil::store_internal
