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

// "CREATE TABLE IF NOT EXISTS <table> (...)" among `statements`, or "".
std::string CreateTableOf(const std::vector<std::string>& statements, const std::string& table) {
  const std::string prefix = "CREATE TABLE IF NOT EXISTS " + table + " (";
  for (const std::string& sql : statements) {
    if (sql.rfind(prefix, 0) == 0) return sql;
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

TEST_P(MigrationsTest, VersionsIncreaseFromOneToTwo) {
  std::vector<Migration> migrations = Migrations(dialect());
  ASSERT_EQ(migrations.size(), 2u);
  int previous = 0;
  for (const Migration& migration : migrations) {
    EXPECT_GT(migration.version, previous);
    EXPECT_FALSE(migration.name.empty());
    EXPECT_FALSE(migration.statements.empty());
    previous = migration.version;
  }
  EXPECT_EQ(migrations.front().version, 1);
  EXPECT_EQ(migrations.back().version, 2);
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
  const std::vector<std::string> statements = TrimmedStatements(Migrations(dialect()).back());
  for (const char* table : {"model_versions", "training_jobs", "feature_store", "predictions",
                            "alerts", "drift_monitoring", "performance_metrics"}) {
    EXPECT_FALSE(CreateTableOf(statements, table).empty()) << table;
  }
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
