// Schema migrations rendered for both dialects: complete, ordered, and (for SQLite)
// executable.
#include "vigil/store/migrations.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

namespace vigil {
namespace {

// "CREATE TABLE [IF NOT EXISTS] <table> (...)" among `statements`, or "".
std::string CreateTableOf(const std::vector<std::string>& statements, const std::string& table) {
  for (const std::string& prefix :
       {"CREATE TABLE IF NOT EXISTS " + table + " (", "CREATE TABLE " + table + " ("}) {
    for (const std::string& sql : statements) {
      if (sql.rfind(prefix, 0) == 0) return sql;
    }
  }
  return "";
}

// Migration statements may start with a newline (raw strings); compare from the first word.
std::vector<std::string> TrimmedStatements(const Migration& migration) {
  std::vector<std::string> out;
  for (const std::string& sql : migration.statements) {
    size_t start = sql.find_first_not_of(" \n");
    out.push_back(start == std::string::npos ? "" : sql.substr(start));
  }
  return out;
}

class MigrationsTest : public ::testing::TestWithParam<std::string> {
 protected:
  const Dialect& dialect() const {
    return GetParam() == "sqlite" ? SqliteDialect() : PostgresDialect();
  }
};

TEST_P(MigrationsTest, LeavesNoPlaceholders) {
  // Upper-case placeholders only: `DEFAULT '{}'` (empty JSON) is legitimate.
  const std::regex placeholder(R"(\{[A-Z_]+\})");
  for (const Migration& migration : Migrations(dialect())) {
    for (const std::string& sql : migration.statements) {
      EXPECT_FALSE(std::regex_search(sql, placeholder))
          << "migration " << migration.version << ": " << sql;
    }
  }
}

TEST_P(MigrationsTest, VersionsIncreaseFromOneToFour) {
  std::vector<Migration> migrations = Migrations(dialect());
  ASSERT_EQ(migrations.size(), 4u);
  int previous = 0;
  for (const Migration& migration : migrations) {
    EXPECT_GT(migration.version, previous);
    EXPECT_FALSE(migration.name.empty());
    EXPECT_FALSE(migration.statements.empty());
    previous = migration.version;
  }
  EXPECT_EQ(migrations.front().version, 1);
  EXPECT_EQ(migrations.back().version, 4);
}

TEST_P(MigrationsTest, CreatesATableForEveryKind) {
  const std::vector<std::string> statements = TrimmedStatements(Migrations(dialect()).front());
  for (DataKind kind : AllKinds()) {
    const std::string sql = CreateTableOf(statements, TableName(kind));
    EXPECT_FALSE(sql.empty()) << "no CREATE TABLE for " << TableName(kind);
    EXPECT_NE(sql.find("series_id " + dialect().bigint + " NOT NULL"), std::string::npos) << sql;
    EXPECT_NE(sql.find("ts " + dialect().bigint + " NOT NULL"), std::string::npos) << sql;
  }
  for (const char* table : {"series", "rejects", "ingest_runs"}) {
    EXPECT_FALSE(CreateTableOf(statements, table).empty()) << table;
  }
}

TEST_P(MigrationsTest, KeysMarketTablesBySeriesTimeAndKeyFields) {
  const std::vector<std::string> statements = TrimmedStatements(Migrations(dialect()).front());
  // Spot checks written out by hand...
  EXPECT_NE(CreateTableOf(statements, "candles").find("PRIMARY KEY (series_id, ts))"),
            std::string::npos);
  EXPECT_NE(CreateTableOf(statements, "orderbook").find("PRIMARY KEY (series_id, ts, side, level)"),
            std::string::npos);
  // ...and every kind against its schema: key fields after (series_id, ts); required
  // fields NOT NULL, optional ones nullable.
  for (DataKind kind : AllKinds()) {
    const KindSchema& schema = SchemaOf(kind);
    const std::string sql = CreateTableOf(statements, TableName(kind));
    std::string key = "PRIMARY KEY (series_id, ts";
    for (std::string_view field : schema.key_fields) key += ", " + std::string(field);
    EXPECT_NE(sql.find(key + ")"), std::string::npos) << sql;
    for (const FieldSpec& field : schema.fields) {
      const std::string type =
          field.type == ColumnType::kDouble ? dialect().real : dialect().bigint;
      const std::string column = " " + std::string(field.name) + " " + type;
      const std::string expected = column + (field.required ? " NOT NULL," : ",");
      EXPECT_NE(sql.find(expected), std::string::npos) << "'" << expected << "' in " << sql;
    }
  }
}

TEST_P(MigrationsTest, CreatesTheMlTables) {
  const std::vector<std::string> statements = TrimmedStatements(Migrations(dialect()).at(1));
  for (const char* table : {"model_versions", "training_jobs", "feature_store", "predictions",
                            "alerts", "drift_monitoring", "performance_metrics"}) {
    EXPECT_FALSE(CreateTableOf(statements, table).empty()) << table;
  }
}

// Migration 3 replaces migration 2's training_jobs (started_at NOT NULL, no queued_at).
TEST_P(MigrationsTest, RecreatesTrainingJobsWithQueuedAtAndANullableStartedAt) {
  const Migration migration = Migrations(dialect()).at(2);
  EXPECT_EQ(migration.version, 3);
  EXPECT_EQ(migration.name, "training_jobs: queued_at, nullable started_at");
  const std::vector<std::string> statements = TrimmedStatements(migration);
  ASSERT_EQ(statements.size(), 3u);
  EXPECT_EQ(statements[0], "DROP TABLE IF EXISTS training_jobs");
  const Dialect& d = dialect();
  const std::string expected =
      "CREATE TABLE training_jobs (\n  job_id " + d.id_pk + ",\n  model_name " + d.text +
      " NOT NULL,\n  status " + d.text + " NOT NULL,\n  trigger_reason " + d.text +
      " NOT NULL DEFAULT 'manual',\n  config_json " + d.text +
      " NOT NULL DEFAULT '{}',\n  metrics_json " + d.text +
      " NOT NULL DEFAULT '{}',\n  model_version " + d.bigint + ",\n  error " + d.text +
      " NOT NULL DEFAULT '',\n  queued_at " + d.bigint + " NOT NULL,\n  started_at " + d.bigint +
      ",\n  finished_at " + d.bigint + ")";
  EXPECT_EQ(statements[1], expected);
  EXPECT_EQ(statements[2],
            "CREATE INDEX training_jobs_by_model ON training_jobs (model_name, job_id)");
}

// Migration 4 only adds the indexes LatestPredictions and QueryAlerts read.
TEST_P(MigrationsTest, IndexesPredictionsByModelAndAlertsByInstrument) {
  const Migration migration = Migrations(dialect()).at(3);
  EXPECT_EQ(migration.version, 4);
  EXPECT_EQ(TrimmedStatements(migration),
            (std::vector<std::string>{
                "CREATE INDEX IF NOT EXISTS predictions_by_model ON predictions "
                "(instrument, model_name, ts)",
                "CREATE INDEX IF NOT EXISTS alerts_by_instrument ON alerts (instrument, ts)"}));
}

TEST_P(MigrationsTest, UsesOnlyItsOwnDialectsTypes) {
  const std::vector<std::string> foreign =
      GetParam() == "sqlite"
          ? std::vector<std::string>{"BIGSERIAL", "BYTEA", "DOUBLE PRECISION", "clock_timestamp"}
          : std::vector<std::string>{"AUTOINCREMENT", "WITHOUT ROWID", "julianday", " REAL"};
  for (const Migration& migration : Migrations(dialect())) {
    for (const std::string& sql : migration.statements) {
      for (const std::string& word : foreign) {
        EXPECT_EQ(sql.find(word), std::string::npos) << word << " in " << sql;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dialects, MigrationsTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(RenderSqlTest, ReplacesEveryPlaceholder) {
  EXPECT_EQ(RenderSql("a {BIGINT}, b {DOUBLE}, c {TEXT}, d {BLOB}", PostgresDialect()),
            "a BIGINT, b DOUBLE PRECISION, c TEXT, d BYTEA");
  EXPECT_EQ(RenderSql("id {ID_PK}, x {BIGINT}, y {BIGINT}", SqliteDialect()),
            "id INTEGER PRIMARY KEY AUTOINCREMENT, x INTEGER, y INTEGER");
  EXPECT_EQ(RenderSql("CREATE TABLE t (x {TEXT}){WITHOUT_ROWID}", SqliteDialect()),
            "CREATE TABLE t (x TEXT) WITHOUT ROWID");
  EXPECT_EQ(RenderSql("CREATE TABLE t (x {TEXT}){WITHOUT_ROWID}", PostgresDialect()),
            "CREATE TABLE t (x TEXT)");
  EXPECT_EQ(RenderSql("no placeholders '{}'", SqliteDialect()), "no placeholders '{}'");
}

TEST(TableNameTest, NamesTablesAfterKinds) {
  EXPECT_EQ(TableName(DataKind::kCandles), "candles");
  EXPECT_EQ(TableName(DataKind::kOrderBook), "orderbook");
  EXPECT_EQ(TableName(DataKind::kLiquidations), "liquidations");
}

// Runs every statement of `migration` on `db`, recording failures.
void ExecuteMigration(sqlite3* db, const Migration& migration) {
  for (const std::string& sql : migration.statements) {
    char* error = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << "migration " << migration.version << ": "
                             << (error != nullptr ? error : "") << "\n"
                             << sql;
    sqlite3_free(error);
  }
}

// Column names of `table`, in order, with " NOT NULL" after the required ones.
std::vector<std::string> ColumnsOf(sqlite3* db, const std::string& table) {
  std::vector<std::string> columns;
  sqlite3_stmt* stmt = nullptr;
  const std::string sql = "SELECT name, \"notnull\" FROM pragma_table_info('" + table + "')";
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    std::string column = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    if (sqlite3_column_int(stmt, 1) != 0) column += " NOT NULL";
    columns.push_back(column);
  }
  sqlite3_finalize(stmt);
  return columns;
}

// A database at version 2, holding a job in the old training_jobs, takes migration 3.
TEST(SqliteMigrationsTest, UpgradesTrainingJobsFromVersionTwo) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  const std::vector<Migration> migrations = Migrations(SqliteDialect());
  ASSERT_GE(migrations.size(), 3u);
  ExecuteMigration(db.get(), migrations[0]);
  ExecuteMigration(db.get(), migrations[1]);
  EXPECT_EQ(ColumnsOf(db.get(), "training_jobs"),
            (std::vector<std::string>{"job_id", "model_name NOT NULL", "status NOT NULL",
                                      "trigger_reason NOT NULL", "config_json NOT NULL",
                                      "metrics_json NOT NULL", "model_version", "error",
                                      "started_at NOT NULL", "finished_at"}));
  ASSERT_EQ(sqlite3_exec(db.get(),
                         "INSERT INTO training_jobs (model_name, status, started_at) "
                         "VALUES ('old', 'running', 1)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);

  ExecuteMigration(db.get(), migrations[2]);
  EXPECT_EQ(ColumnsOf(db.get(), "training_jobs"),
            (std::vector<std::string>{"job_id", "model_name NOT NULL", "status NOT NULL",
                                      "trigger_reason NOT NULL", "config_json NOT NULL",
                                      "metrics_json NOT NULL", "model_version", "error NOT NULL",
                                      "queued_at NOT NULL", "started_at", "finished_at"}));
  // A queued job (no started_at) fits now, and takes the column defaults.
  ASSERT_EQ(sqlite3_exec(db.get(),
                         "INSERT INTO training_jobs (model_name, status, queued_at) "
                         "VALUES ('new', 'queued', 2)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.get(),
                               "SELECT group_concat(model_name || '|' || trigger_reason || '|' || "
                               "config_json || '|' || metrics_json || '|' || error, ';') FROM "
                               "training_jobs",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  // The old job went with the old table.
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "new|manual|{}|{}|");
  sqlite3_finalize(stmt);
  ASSERT_EQ(sqlite3_prepare_v2(db.get(),
                               "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = "
                               "'training_jobs_by_model'",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW) << "no index training_jobs_by_model";
  sqlite3_finalize(stmt);
}

// Every SQLite statement is valid SQL: run them all on an in-memory database.
TEST(SqliteMigrationsTest, ExecuteOnAnEmptyDatabase) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  for (const Migration& migration : Migrations(SqliteDialect())) {
    for (const std::string& sql : migration.statements) {
      char* error = nullptr;
      int rc = sqlite3_exec(db.get(), sql.c_str(), nullptr, nullptr, &error);
      EXPECT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "") << "\n" << sql;
      sqlite3_free(error);
    }
  }
  // {NOW_NS} renders to an expression SQLite can evaluate to nanoseconds after 2020.
  sqlite3_stmt* stmt = nullptr;
  const std::string now_sql = "SELECT " + SqliteDialect().now_ns;
  ASSERT_EQ(sqlite3_prepare_v2(db.get(), now_sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_GT(sqlite3_column_int64(stmt, 0), 1'577'836'800LL * 1'000'000'000LL);
  sqlite3_finalize(stmt);
}

}  // namespace
}  // namespace vigil
