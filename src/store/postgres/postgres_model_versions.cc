// PostgreSQL backend, part 5: the model registry's mirror in table model_versions.
//
// A replace deletes the model's rows and inserts the new ones with one parameterised
// INSERT per version, inside one transaction. A model has a handful of versions, so COPY
// would buy nothing. libpq text parameters cannot be NULL through Connection::Query, so an
// absent timestamp is sent as "" and turned into NULL by NULLIF on the server. Lists sort
// in C++ (store_common) so the order does not depend on the database's collation.
#include "store/postgres/postgres_store_impl.h"
#include "store/store_common.h"

namespace vigil::store_internal {
namespace {

using postgres_internal::Rows;
using postgres_internal::Transaction;

constexpr std::string_view kDeleteModelSql = "DELETE FROM model_versions WHERE name = $1";

constexpr std::string_view kInsertModelVersionSql =
    "INSERT INTO model_versions (name, version, family, task, stage, config_json, "
    "metrics_json, feature_set, artifact_path, artifact_sha256, train_from, train_to, "
    "created_at, promoted_at) VALUES ($1, $2::bigint, $3, $4, $5, $6, $7, $8, $9, $10, "
    "NULLIF($11, '')::bigint, NULLIF($12, '')::bigint, $13::bigint, NULLIF($14, '')::bigint)";

// Column order shared by both selects and ReadRow.
constexpr std::string_view kSelectColumns =
    "SELECT name, version, family, task, stage, config_json, metrics_json, feature_set, "
    "artifact_path, artifact_sha256, train_from, train_to, created_at, promoted_at "
    "FROM model_versions";

std::string TimestampParam(const std::optional<Timestamp>& value) {
  return value.has_value() ? std::to_string(value->nanos()) : std::string();
}

std::vector<std::string> InsertParams(const ModelVersionRow& row) {
  return {row.name,
          std::to_string(row.version),
          row.family,
          row.task,
          row.stage,
          row.config_json,
          row.metrics_json,
          row.feature_set,
          row.artifact_path,
          row.artifact_sha256,
          TimestampParam(row.train_from),
          TimestampParam(row.train_to),
          std::to_string(row.created_at.nanos()),
          TimestampParam(row.promoted_at)};
}

Result<std::optional<Timestamp>> OptionalTimestamp(const Rows& rows, int row, int column,
                                                   std::string_view context) {
  if (rows.IsNull(row, column)) return std::optional<Timestamp>();
  VIGIL_ASSIGN_OR_RETURN(int64_t nanos, rows.Int64(row, column, context));
  return std::optional<Timestamp>(Timestamp(nanos));
}

Result<ModelVersionRow> ReadRow(const Rows& rows, int row, std::string_view context) {
  ModelVersionRow out;
  out.name = std::string(rows.Text(row, 0));
  VIGIL_ASSIGN_OR_RETURN(out.version, rows.Int64(row, 1, context));
  out.family = std::string(rows.Text(row, 2));
  out.task = std::string(rows.Text(row, 3));
  out.stage = std::string(rows.Text(row, 4));
  out.config_json = std::string(rows.Text(row, 5));
  out.metrics_json = std::string(rows.Text(row, 6));
  out.feature_set = std::string(rows.Text(row, 7));
  out.artifact_path = std::string(rows.Text(row, 8));
  out.artifact_sha256 = std::string(rows.Text(row, 9));
  VIGIL_ASSIGN_OR_RETURN(out.train_from, OptionalTimestamp(rows, row, 10, context));
  VIGIL_ASSIGN_OR_RETURN(out.train_to, OptionalTimestamp(rows, row, 11, context));
  VIGIL_ASSIGN_OR_RETURN(int64_t created_at, rows.Int64(row, 12, context));
  out.created_at = Timestamp(created_at);
  VIGIL_ASSIGN_OR_RETURN(out.promoted_at, OptionalTimestamp(rows, row, 13, context));
  return out;
}

}  // namespace

Status PostgresStore::ReplaceModelVersions(std::string_view name,
                                           std::span<const ModelVersionRow> rows) {
  const std::string context = Where() + ": replacing the versions of " + ModelLabel(name);
  // Checked before BEGIN, so bad input is an InvalidArgument that touches nothing.
  VIGIL_RETURN_IF_ERROR(CheckModelVersions(name, rows).WithContext(context));
  VIGIL_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(&conn_, context));
  VIGIL_RETURN_IF_ERROR(conn_.Query(kDeleteModelSql, context, {std::string(name)}).status());
  for (const ModelVersionRow& row : rows) {
    const std::string where = Where() + ": inserting " + ModelLabel(name, row.version);
    VIGIL_RETURN_IF_ERROR(conn_.Query(kInsertModelVersionSql, where, InsertParams(row)).status());
  }
  return transaction.Commit(context);
}

Result<std::vector<ModelVersionRow>> PostgresStore::ListModelVersions(std::string_view name) {
  const std::string context =
      Where() + ": listing " + (name.empty() ? std::string("model versions") : ModelLabel(name));
  // One statement, so one snapshot: no transaction needed.
  Result<Rows> selected = name.empty()
                              ? conn_.Query(kSelectColumns, context)
                              : conn_.Query(std::string(kSelectColumns) + " WHERE name = $1",
                                            context, {std::string(name)});
  VIGIL_RETURN_IF_ERROR(selected.status());
  std::vector<ModelVersionRow> rows;
  rows.reserve(selected->count());
  for (int row = 0; row < selected->count(); ++row) {
    VIGIL_ASSIGN_OR_RETURN(ModelVersionRow one, ReadRow(*selected, row, context));
    rows.push_back(std::move(one));
  }
  SortModelVersions(&rows);
  return rows;
}

}  // namespace vigil::store_internal
