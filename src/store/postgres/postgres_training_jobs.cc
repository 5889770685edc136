// PostgreSQL backend, part 6: training jobs in table training_jobs.
//
// Each call is one parameterised statement, so it is atomic without a transaction and a
// list reads one snapshot. Ids come from the BIGSERIAL sequence, which only moves forward.
// libpq text parameters cannot be NULL through Connection::Query, so an absent optional is
// sent as "" and turned into NULL by NULLIF on the server (LIMIT NULL is no limit).
#include "store/postgres/postgres_store_impl.h"
#include "store/store_common.h"

namespace vigil::store_internal {
namespace {

using postgres_internal::Rows;

constexpr std::string_view kInsertJobSql =
    "INSERT INTO training_jobs (model_name, status, trigger_reason, config_json, metrics_json, "
    "model_version, error, queued_at, started_at, finished_at) VALUES ($1, $2, $3, $4, $5, "
    "NULLIF($6, '')::bigint, $7, $8::bigint, NULLIF($9, '')::bigint, NULLIF($10, '')::bigint) "
    "RETURNING job_id";

// Same parameters 1-10 as kInsertJobSql; $11 is the job.
constexpr std::string_view kUpdateJobSql =
    "UPDATE training_jobs SET model_name = $1, status = $2, trigger_reason = $3, "
    "config_json = $4, metrics_json = $5, model_version = NULLIF($6, '')::bigint, error = $7, "
    "queued_at = $8::bigint, started_at = NULLIF($9, '')::bigint, "
    "finished_at = NULLIF($10, '')::bigint WHERE job_id = $11::bigint";

// Column order shared by both selects and ReadJob.
constexpr std::string_view kSelectColumns =
    "SELECT job_id, model_name, status, trigger_reason, config_json, metrics_json, "
    "model_version, error, queued_at, started_at, finished_at FROM training_jobs";

std::string OptionalParam(const std::optional<int64_t>& value) {
  return value.has_value() ? std::to_string(*value) : std::string();
}

std::string TimestampParam(const std::optional<Timestamp>& value) {
  return value.has_value() ? std::to_string(value->nanos()) : std::string();
}

// Parameters 1-10 of kInsertJobSql / kUpdateJobSql.
std::vector<std::string> JobParams(const TrainingJobRow& row) {
  return {row.model_name,
          row.status,
          row.trigger_reason,
          row.config_json,
          row.metrics_json,
          OptionalParam(row.model_version),
          row.error,
          std::to_string(row.queued_at.nanos()),
          TimestampParam(row.started_at),
          TimestampParam(row.finished_at)};
}

Result<std::optional<int64_t>> OptionalInt64(const Rows& rows, int row, int column,
                                             std::string_view context) {
  if (rows.IsNull(row, column)) return std::optional<int64_t>();
  VIGIL_ASSIGN_OR_RETURN(int64_t value, rows.Int64(row, column, context));
  return std::optional<int64_t>(value);
}

Result<std::optional<Timestamp>> OptionalTimestamp(const Rows& rows, int row, int column,
                                                   std::string_view context) {
  VIGIL_ASSIGN_OR_RETURN(std::optional<int64_t> nanos, OptionalInt64(rows, row, column, context));
  if (!nanos.has_value()) return std::optional<Timestamp>();
  return std::optional<Timestamp>(Timestamp(*nanos));
}

Result<TrainingJobRow> ReadJob(const Rows& rows, int row, std::string_view context) {
  TrainingJobRow out;
  VIGIL_ASSIGN_OR_RETURN(out.job_id, rows.Int64(row, 0, context));
  out.model_name = std::string(rows.Text(row, 1));
  out.status = std::string(rows.Text(row, 2));
  out.trigger_reason = std::string(rows.Text(row, 3));
  out.config_json = std::string(rows.Text(row, 4));
  out.metrics_json = std::string(rows.Text(row, 5));
  VIGIL_ASSIGN_OR_RETURN(out.model_version, OptionalInt64(rows, row, 6, context));
  out.error = std::string(rows.Text(row, 7));
  VIGIL_ASSIGN_OR_RETURN(int64_t queued_at, rows.Int64(row, 8, context));
  out.queued_at = Timestamp(queued_at);
  VIGIL_ASSIGN_OR_RETURN(out.started_at, OptionalTimestamp(rows, row, 9, context));
  VIGIL_ASSIGN_OR_RETURN(out.finished_at, OptionalTimestamp(rows, row, 10, context));
  return out;
}

}  // namespace

Result<int64_t> PostgresStore::InsertTrainingJob(const TrainingJobRow& row) {
  const std::string context = Where() + ": inserting a " + TrainingJobLabel(0, row.model_name);
  VIGIL_RETURN_IF_ERROR(CheckTrainingJob(row).WithContext(context));
  VIGIL_ASSIGN_OR_RETURN(Rows inserted, conn_.Query(kInsertJobSql, context, JobParams(row)));
  if (inserted.count() != 1) return DatabaseError(context + ": INSERT returned no job_id");
  return inserted.Int64(0, 0, context);
}

Status PostgresStore::UpdateTrainingJob(const TrainingJobRow& row) {
  const std::string context =
      Where() + ": updating " + TrainingJobLabel(row.job_id, row.model_name);
  VIGIL_RETURN_IF_ERROR(CheckTrainingJob(row).WithContext(context));
  std::vector<std::string> params = JobParams(row);
  params.push_back(std::to_string(row.job_id));
  VIGIL_ASSIGN_OR_RETURN(Rows updated, conn_.Query(kUpdateJobSql, context, params));
  if (updated.AffectedRows() == 0) {
    return NotFound(context + ": no training job " + std::to_string(row.job_id));
  }
  return Status::Ok();
}

Result<std::vector<TrainingJobRow>> PostgresStore::ListTrainingJobs(std::string_view model_name,
                                                                    int64_t limit) {
  const std::string context =
      Where() + ": listing " +
      (model_name.empty() ? std::string("training jobs")
                          : "the training jobs of " + ModelLabel(model_name));
  const std::string limit_param = limit > 0 ? std::to_string(limit) : std::string();
  // One statement, so one snapshot: no transaction needed.
  Result<Rows> selected =
      model_name.empty() ? conn_.Query(std::string(kSelectColumns) +
                                           " ORDER BY job_id DESC LIMIT NULLIF($1, '')::bigint",
                                       context, {limit_param})
                         : conn_.Query(std::string(kSelectColumns) +
                                           " WHERE model_name = $1 ORDER BY job_id DESC "
                                           "LIMIT NULLIF($2, '')::bigint",
                                       context, {std::string(model_name), limit_param});
  VIGIL_RETURN_IF_ERROR(selected.status());
  std::vector<TrainingJobRow> rows;
  rows.reserve(selected->count());
  for (int row = 0; row < selected->count(); ++row) {
    VIGIL_ASSIGN_OR_RETURN(TrainingJobRow one, ReadJob(*selected, row, context));
    rows.push_back(std::move(one));
  }
  return rows;
}

}  // namespace vigil::store_internal
