#include "vigil/store/migrations.h"

#include <utility>

namespace vigil {
namespace {

std::string ColumnType(const FieldSpec& field, const Dialect& dialect) {
  return field.type == ColumnType::kDouble ? dialect.real : dialect.bigint;
}

// CREATE TABLE for one market-data kind: (series_id, ts, fields...) keyed by
// (series_id, ts, key fields), so a re-ingested row collides instead of duplicating.
std::string MarketTableSql(const KindSchema& schema, const Dialect& dialect) {
  std::string sql = "CREATE TABLE IF NOT EXISTS " + std::string(schema.name) + " (series_id " +
                    dialect.bigint + " NOT NULL, ts " + dialect.bigint + " NOT NULL";
  for (const FieldSpec& field : schema.fields) {
    sql += ", " + std::string(field.name) + " " + ColumnType(field, dialect);
    if (field.required) sql += " NOT NULL";
  }
  sql += ", PRIMARY KEY (series_id, ts";
  for (std::string_view key : schema.key_fields) sql += ", " + std::string(key);
  sql += "))" + dialect.without_rowid;
  return sql;
}

constexpr std::string_view kSeriesSql = R"(
CREATE TABLE IF NOT EXISTS series (
  series_id {ID_PK},
  instrument {TEXT} NOT NULL,
  venue {TEXT} NOT NULL,
  symbol {TEXT} NOT NULL,
  kind {TEXT} NOT NULL,
  timeframe {TEXT} NOT NULL DEFAULT '',
  created_at {BIGINT} NOT NULL,
  UNIQUE (instrument, kind, timeframe)))";

constexpr std::string_view kRejectsSql = R"(
CREATE TABLE IF NOT EXISTS rejects (
  reject_id {ID_PK},
  source {TEXT} NOT NULL,
  line {BIGINT} NOT NULL,
  instrument {TEXT} NOT NULL DEFAULT '',
  kind {TEXT} NOT NULL,
  field {TEXT} NOT NULL DEFAULT '',
  reason {TEXT} NOT NULL,
  raw {TEXT},
  recorded_at {BIGINT} NOT NULL,
  UNIQUE (source, line, field, reason)))";

constexpr std::string_view kRejectsIndexSql =
    "CREATE INDEX IF NOT EXISTS rejects_by_instrument ON rejects (instrument, kind)";

constexpr std::string_view kIngestRunsSql = R"(
CREATE TABLE IF NOT EXISTS ingest_runs (
  run_id {ID_PK},
  source {TEXT} NOT NULL,
  format {TEXT} NOT NULL,
  kind {TEXT} NOT NULL,
  rows_read {BIGINT} NOT NULL,
  rows_inserted {BIGINT} NOT NULL,
  rows_existing {BIGINT} NOT NULL,
  rows_rejected {BIGINT} NOT NULL,
  finished_at {BIGINT} NOT NULL))";

// Tables the ML stages write (registry, pipeline, serve, monitoring). Created now so
// every later stage finds them on any store.
constexpr std::string_view kMlTablesSql[] = {
    R"(CREATE TABLE IF NOT EXISTS model_versions (
  model_version_id {ID_PK},
  name {TEXT} NOT NULL,
  version {BIGINT} NOT NULL,
  family {TEXT} NOT NULL,
  task {TEXT} NOT NULL,
  stage {TEXT} NOT NULL DEFAULT 'staging',
  config_json {TEXT} NOT NULL DEFAULT '{}',
  metrics_json {TEXT} NOT NULL DEFAULT '{}',
  feature_set {TEXT} NOT NULL DEFAULT '',
  artifact_path {TEXT} NOT NULL DEFAULT '',
  artifact_sha256 {TEXT} NOT NULL DEFAULT '',
  train_from {BIGINT},
  train_to {BIGINT},
  created_at {BIGINT} NOT NULL,
  promoted_at {BIGINT},
  UNIQUE (name, version)))",
    R"(CREATE TABLE IF NOT EXISTS training_jobs (
  job_id {ID_PK},
  model_name {TEXT} NOT NULL,
  status {TEXT} NOT NULL,
  trigger_reason {TEXT} NOT NULL DEFAULT 'manual',
  config_json {TEXT} NOT NULL DEFAULT '{}',
  metrics_json {TEXT} NOT NULL DEFAULT '{}',
  model_version {BIGINT},
  error {TEXT},
  started_at {BIGINT} NOT NULL,
  finished_at {BIGINT}))",
    R"(CREATE TABLE IF NOT EXISTS feature_store (
  instrument {TEXT} NOT NULL,
  feature_set {TEXT} NOT NULL,
  feature_set_version {BIGINT} NOT NULL,
  feature {TEXT} NOT NULL,
  ts {BIGINT} NOT NULL,
  value {DOUBLE},
  computed_at {BIGINT} NOT NULL,
  PRIMARY KEY (instrument, feature_set, feature_set_version, feature, ts)){WITHOUT_ROWID})",
    R"(CREATE TABLE IF NOT EXISTS predictions (
  prediction_id {ID_PK},
  model_name {TEXT} NOT NULL,
  model_version {BIGINT} NOT NULL,
  instrument {TEXT} NOT NULL,
  ts {BIGINT} NOT NULL,
  horizon {TEXT} NOT NULL DEFAULT '',
  value {DOUBLE},
  score {DOUBLE},
  label {TEXT},
  explanation_json {TEXT},
  created_at {BIGINT} NOT NULL))",
    "CREATE INDEX IF NOT EXISTS predictions_by_instrument ON predictions (instrument, ts)",
    R"(CREATE TABLE IF NOT EXISTS alerts (
  alert_id {ID_PK},
  rule {TEXT} NOT NULL,
  instrument {TEXT} NOT NULL,
  ts {BIGINT} NOT NULL,
  severity {TEXT} NOT NULL,
  score {DOUBLE},
  message {TEXT} NOT NULL,
  features_json {TEXT},
  model_name {TEXT},
  model_version {BIGINT},
  acknowledged {BIGINT} NOT NULL DEFAULT 0,
  created_at {BIGINT} NOT NULL))",
    "CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (ts)",
    R"(CREATE TABLE IF NOT EXISTS drift_monitoring (
  drift_id {ID_PK},
  model_name {TEXT} NOT NULL,
  model_version {BIGINT} NOT NULL,
  feature {TEXT} NOT NULL,
  statistic {TEXT} NOT NULL,
  value {DOUBLE} NOT NULL,
  threshold {DOUBLE},
  drifted {BIGINT} NOT NULL DEFAULT 0,
  window_start {BIGINT} NOT NULL,
  window_end {BIGINT} NOT NULL,
  created_at {BIGINT} NOT NULL))",
    R"(CREATE TABLE IF NOT EXISTS performance_metrics (
  metric_id {ID_PK},
  model_name {TEXT} NOT NULL,
  model_version {BIGINT} NOT NULL,
  metric {TEXT} NOT NULL,
  value {DOUBLE} NOT NULL,
  split {TEXT} NOT NULL DEFAULT '',
  window_start {BIGINT},
  window_end {BIGINT},
  created_at {BIGINT} NOT NULL))",
};

// Migration 3. Migration 2's training_jobs had no queued_at and a NOT NULL started_at,
// so a queued job could not be stored. Nothing wrote to the table before this migration,
// so it is dropped and recreated rather than altered (SQLite cannot relax NOT NULL).
constexpr std::string_view kTrainingJobsSql[] = {
    "DROP TABLE IF EXISTS training_jobs",
    R"(CREATE TABLE training_jobs (
  job_id {ID_PK},
  model_name {TEXT} NOT NULL,
  status {TEXT} NOT NULL,
  trigger_reason {TEXT} NOT NULL DEFAULT 'manual',
  config_json {TEXT} NOT NULL DEFAULT '{}',
  metrics_json {TEXT} NOT NULL DEFAULT '{}',
  model_version {BIGINT},
  error {TEXT} NOT NULL DEFAULT '',
  queued_at {BIGINT} NOT NULL,
  started_at {BIGINT},
  finished_at {BIGINT}))",
    "CREATE INDEX training_jobs_by_model ON training_jobs (model_name, job_id)",
};

// Migration 4: indexes for serving. LatestPredictions(instrument, model) and a model filter
// read one index range instead of every prediction of the instrument (a model that never
// scored it would otherwise cost a scan of them all); QueryAlerts by instrument likewise.
constexpr std::string_view kServingIndexesSql[] = {
    "CREATE INDEX IF NOT EXISTS predictions_by_model ON predictions (instrument, model_name, ts)",
    "CREATE INDEX IF NOT EXISTS alerts_by_instrument ON alerts (instrument, ts)",
};

void ReplaceAll(std::string* text, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = text->find(from, pos)) != std::string::npos) {
    text->replace(pos, from.size(), to);
    pos += to.size();
  }
}

}  // namespace

const Dialect& SqliteDialect() {
  static const Dialect dialect{
      "sqlite",
      "INTEGER",
      "REAL",
      "TEXT",
      "BLOB",
      "INTEGER PRIMARY KEY AUTOINCREMENT",
      "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) * 1000000",
      " WITHOUT ROWID"};
  return dialect;
}

const Dialect& PostgresDialect() {
  static const Dialect dialect{"postgresql",
                               "BIGINT",
                               "DOUBLE PRECISION",
                               "TEXT",
                               "BYTEA",
                               "BIGSERIAL PRIMARY KEY",
                               "(EXTRACT(EPOCH FROM clock_timestamp()) * 1e9)::BIGINT",
                               ""};
  return dialect;
}

std::string RenderSql(std::string_view sql, const Dialect& dialect) {
  std::string out(sql);
  ReplaceAll(&out, "{BIGINT}", dialect.bigint);
  ReplaceAll(&out, "{DOUBLE}", dialect.real);
  ReplaceAll(&out, "{TEXT}", dialect.text);
  ReplaceAll(&out, "{BLOB}", dialect.blob);
  ReplaceAll(&out, "{ID_PK}", dialect.id_pk);
  ReplaceAll(&out, "{NOW_NS}", dialect.now_ns);
  ReplaceAll(&out, "{WITHOUT_ROWID}", dialect.without_rowid);
  return out;
}

std::string TableName(DataKind kind) { return std::string(KindName(kind)); }

std::vector<Migration> Migrations(const Dialect& dialect) {
  Migration market{1, "market data, series and rejects", {}};
  market.statements.push_back(RenderSql(kSeriesSql, dialect));
  for (DataKind kind : AllKinds()) {
    market.statements.push_back(MarketTableSql(SchemaOf(kind), dialect));
  }
  market.statements.push_back(RenderSql(kRejectsSql, dialect));
  market.statements.push_back(RenderSql(kRejectsIndexSql, dialect));
  market.statements.push_back(RenderSql(kIngestRunsSql, dialect));

  Migration ml{2, "ML tables: models, jobs, features, predictions, alerts, monitoring", {}};
  for (std::string_view sql : kMlTablesSql) ml.statements.push_back(RenderSql(sql, dialect));

  Migration jobs{3, "training_jobs: queued_at, nullable started_at", {}};
  for (std::string_view sql : kTrainingJobsSql) jobs.statements.push_back(RenderSql(sql, dialect));

  Migration serving{4, "indexes for serving: predictions by model, alerts by instrument", {}};
  for (std::string_view sql : kServingIndexesSql) {
    serving.statements.push_back(RenderSql(sql, dialect));
  }

  std::vector<Migration> all;
  all.push_back(std::move(market));
  all.push_back(std::move(ml));
  all.push_back(std::move(jobs));
  all.push_back(std::move(serving));
  return all;
}

}  // namespace vigil
