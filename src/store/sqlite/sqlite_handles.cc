#include "store/sqlite/sqlite_handles.h"

#include <utility>

namespace vigil::sqlite_internal {
namespace {

Status ErrorOf(sqlite3* db, const std::string& where) {
  return DatabaseError(where + ": " + sqlite3_errmsg(db) + " (sqlite error " +
                       std::to_string(sqlite3_extended_errcode(db)) + ")");
}

}  // namespace

void Statement::BindText(int index, std::string_view text) {
  [[maybe_unused]] int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  assert(rc == SQLITE_OK && "bind index out of range");
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return ErrorOf(sqlite3_db_handle(stmt_), *where_);
}

int64_t Statement::ColumnInt64(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return kMissingInt;
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column));
}

Result<Database> Database::Open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  // SQLite hands back a handle even when opening fails; owning it at once closes it.
  Database db(raw, "sqlite:" + path);
  if (rc != SQLITE_OK) {
    if (raw == nullptr) return DatabaseError(db.where() + ": out of memory opening the database");
    return db.LastError();
  }
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      where_(std::move(other.where_)),
      statements_(std::move(other.statements_)) {}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    Close();
    db_ = std::exchange(other.db_, nullptr);
    where_ = std::move(other.where_);
    statements_ = std::move(other.statements_);
  }
  return *this;
}

Database::~Database() { Close(); }

void Database::Close() {
  // Statements first: a connection with live statements would linger as a zombie.
  statements_.clear();
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

Status Database::Exec(std::string_view sql) {
  if (sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return LastError();
  }
  return Status::Ok();
}

Result<StatementLease> Database::Cached(std::string_view sql) {
  std::string key(sql);
  auto found = statements_.find(key);
  if (found == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return DatabaseError(where() + ": preparing '" + key + "': " + sqlite3_errmsg(db_));
    }
    found =
        statements_.emplace(std::move(key), std::make_unique<Statement>(stmt, where_.get())).first;
  }
  return StatementLease(found->second.get());
}

Status Database::LastError() const { return ErrorOf(db_, *where_); }

Result<Transaction> Transaction::BeginImmediate(Database* db) {
  VIGIL_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE").WithContext("starting a write transaction"));
  return Transaction(db);
}

Result<Transaction> Transaction::BeginRead(Database* db) {
  VIGIL_RETURN_IF_ERROR(db->Exec("BEGIN").WithContext("starting a read transaction"));
  return Transaction(db);
}

Transaction::~Transaction() {
  // Some errors (disk full, I/O) make SQLite roll back by itself; only roll back a
  // transaction that is still open.
  if (db_ != nullptr && sqlite3_get_autocommit(db_->get()) == 0) {
    db_->Exec("ROLLBACK").IgnoreError();
  }
}

Status Transaction::Commit() {
  VIGIL_RETURN_IF_ERROR(db_->Exec("COMMIT").WithContext("committing"));
  db_ = nullptr;
  return Status::Ok();
}

}  // namespace vigil::sqlite_internal
