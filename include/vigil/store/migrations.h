// Versioned schema migrations shared by every Store backend.
//
// Each migration is SQL written once with type placeholders that a backend's Dialect
// fills in, so SQLite and PostgreSQL get the same tables:
//   {BIGINT} {DOUBLE} {TEXT} {BLOB} {ID_PK} (auto-increment primary key) {NOW_NS}
// Market-data tables are generated from the kind schemas (market_data.h). Applied
// versions are recorded in `schema_migrations(version, name, applied_at)`; a backend
// applies the pending ones in order, each in its own transaction.
//
// Thread-safety: pure data and functions.
#pragma once

#include <string>
#include <vector>

#include "vigil/data/market_data.h"

namespace vigil {

struct Dialect {
  std::string name;           // "sqlite" | "postgresql"
  std::string bigint;         // INTEGER | BIGINT
  std::string real;           // REAL | DOUBLE PRECISION
  std::string text;           // TEXT
  std::string blob;           // BLOB | BYTEA
  std::string id_pk;          // INTEGER PRIMARY KEY AUTOINCREMENT | BIGSERIAL PRIMARY KEY
  std::string now_ns;         // expression for "now" in ns since the epoch
  std::string without_rowid;  // " WITHOUT ROWID" for SQLite key tables, "" otherwise
};

const Dialect& SqliteDialect();
const Dialect& PostgresDialect();

struct Migration {
  int version;
  std::string name;
  std::vector<std::string> statements;  // already rendered for the dialect
};

// All migrations, in version order, rendered for `dialect`.
std::vector<Migration> Migrations(const Dialect& dialect);
// Replaces the {PLACEHOLDERS} in `sql`.
std::string RenderSql(std::string_view sql, const Dialect& dialect);
// Name of the table holding `kind` ("candles", "trades", ...).
std::string TableName(DataKind kind);

}  // namespace vigil
