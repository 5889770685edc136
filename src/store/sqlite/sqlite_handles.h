// Internal to the SQLite backend: RAII owners for sqlite3* and sqlite3_stmt*, a cache of
// prepared statements, and a transaction guard. Every SQLite failure becomes a
// DatabaseError "sqlite:<path>: <sqlite3_errmsg()> (sqlite error <code>)", so messages
// name the database file wherever they surface.
//
//   VIGIL_ASSIGN_OR_RETURN(sqlite_internal::Database db, Database::Open(path, flags));
//   VIGIL_ASSIGN_OR_RETURN(sqlite_internal::StatementLease select, db.Cached("SELECT 1"));
//   VIGIL_ASSIGN_OR_RETURN(bool has_row, select->Step());
//
// Thread-safety: none; a Database and its statements are used by one thread at a time
// (the connection is opened with SQLITE_OPEN_NOMUTEX).
#pragma once

#include <sqlite3.h>

#include <cassert>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "vigil/core/status.h"
#include "vigil/data/market_data.h"

namespace vigil::sqlite_internal {

// A prepared statement. Owns its sqlite3_stmt; finalized on destruction.
class Statement {
 public:
  // `where` ("sqlite:<path>") prefixes error messages and must outlive the Statement.
  Statement(sqlite3_stmt* stmt, const std::string* where) : stmt_(stmt), where_(where) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3_stmt* get() const { return stmt_; }

  // Parameters are 1-based, as in SQLite. NaN and kMissingInt bind as NULL, the
  // store's encoding of "missing".
  // Inline: these run once per column per row on the bulk-write path.
  void BindInt64(int index, int64_t value) {
    [[maybe_unused]] int rc = value == kMissingInt ? sqlite3_bind_null(stmt_, index)
                                                   : sqlite3_bind_int64(stmt_, index, value);
    assert(rc == SQLITE_OK && "bind index out of range");
  }
  void BindDouble(int index, double value) {
    [[maybe_unused]] int rc = std::isnan(value) ? sqlite3_bind_null(stmt_, index)
                                                : sqlite3_bind_double(stmt_, index, value);
    assert(rc == SQLITE_OK && "bind index out of range");
  }
  void BindText(int index, std::string_view text);

  // Advances: true when a row is ready, false when done, DatabaseError otherwise.
  Result<bool> Step();
  // Result columns are 0-based. NULL reads as kMissingInt / "".
  int64_t ColumnInt64(int column) const;
  std::string ColumnText(int column) const;
  void Reset() { sqlite3_reset(stmt_); }

 private:
  sqlite3_stmt* stmt_;
  const std::string* where_;
};

// Borrowed use of a cached Statement; resets it on destruction so an abandoned SELECT
// does not keep a read snapshot (and with it the WAL) pinned between calls.
class StatementLease {
 public:
  explicit StatementLease(Statement* stmt) : stmt_(stmt) {}
  ~StatementLease() {
    if (stmt_ != nullptr) stmt_->Reset();
  }
  StatementLease(StatementLease&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  StatementLease(const StatementLease&) = delete;
  StatementLease& operator=(const StatementLease&) = delete;
  StatementLease& operator=(StatementLease&&) = delete;

  Statement* operator->() const { return stmt_; }
  Statement& operator*() const { return *stmt_; }

 private:
  Statement* stmt_;
};

// One connection. Owns its sqlite3 handle and the statements prepared through Cached().
class Database {
 public:
  // Opens `path` with `flags` (sqlite3_open_v2). Failures name the path.
  static Result<Database> Open(const std::string& path, int flags);
  // "sqlite:<path>".
  const std::string& where() const { return *where_; }

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  sqlite3* get() const { return db_; }

  // Runs one or more statements that return no rows we need.
  Status Exec(std::string_view sql);
  // A statement prepared once per connection and reused; reset and ready to bind.
  Result<StatementLease> Cached(std::string_view sql);
  // DatabaseError "sqlite:<path>: <sqlite3_errmsg> (sqlite error <extended code>)".
  Status LastError() const;

 private:
  Database(sqlite3* db, std::string where)
      : db_(db), where_(std::make_unique<const std::string>(std::move(where))) {}
  void Close();

  sqlite3* db_ = nullptr;
  // On the heap so the Statements' pointers to it survive moves of the Database.
  std::unique_ptr<const std::string> where_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;
};

// Rolls back on destruction unless Commit() succeeded.
class Transaction {
 public:
  // "BEGIN IMMEDIATE": takes the write lock now, so a concurrent writer waits for the
  // busy timeout here instead of failing halfway through the unit.
  static Result<Transaction> BeginImmediate(Database* db);
  // "BEGIN" (deferred): the statements until Commit() read one snapshot, and no write
  // lock is taken while no statement writes.
  static Result<Transaction> BeginRead(Database* db);

  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;  // null once committed or moved from
};

}  // namespace vigil::sqlite_internal
