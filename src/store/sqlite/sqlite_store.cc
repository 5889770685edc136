// SQLite backend, part 1: opening, PRAGMAs, migrations, tables and maintenance.
#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <cctype>
#include <climits>
#include <filesystem>
#include <system_error>

#include "store/sqlite/sqlite_store_impl.h"
#include "store/store_common.h"
#include "vigil/core/clock.h"

namespace vigil::store_internal {
namespace {

using sqlite_internal::Database;
using sqlite_internal::StatementLease;
using sqlite_internal::Transaction;

constexpr std::string_view kMigrationsTableSql =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at INTEGER NOT NULL)";

// Page cache per connection, in KiB (negative cache_size means KiB, not pages): large
// enough to keep the interior B-tree pages of a multi-million-row kind table resident
// during a bulk write, small next to the data itself.
constexpr int kCacheKiB = 64 * 1024;

// Reads map up to this much of the file instead of copying each page out of the OS
// cache: ~15% off a cold 1M-row Query(). Larger files fall back to read() past it.
constexpr int64_t kMmapBytes = int64_t{256} << 20;

// The connection serves one thread at a time (see Store), so SQLite's own per-call
// mutexes are pure overhead.
constexpr int kOpenFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

constexpr std::string_view kInMemoryPath = ":memory:";

Status CreateParentDirectories(const std::string& path) {
  if (path == kInMemoryPath) return Status::Ok();
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return Status::Ok();
  std::error_code error;
  std::filesystem::create_directories(parent, error);
  if (error) {
    return DatabaseError("cannot create directory '" + parent.string() + "': " + error.message());
  }
  return Status::Ok();
}

std::string ToLower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const StoreOptions& options) {
  return SqliteStore::Open(path, options);
}

Result<std::unique_ptr<Store>> SqliteStore::Open(const std::string& path,
                                                 const StoreOptions& options) {
  const std::string where = "sqlite:" + path;
  if (path.empty()) return InvalidArgument(where + ": empty database path");
  if (options.busy_timeout_ms < 0) {
    return InvalidArgument(where + ": store option busy_timeout_ms must be >= 0");
  }
  VIGIL_RETURN_IF_ERROR(CreateParentDirectories(path).WithContext(where));
  Result<Database> db = Database::Open(path, kOpenFlags);
  if (!db.ok()) return db.status().WithContext("opening the database");
  auto store = std::make_unique<SqliteStore>(path, std::move(db).value());
  VIGIL_RETURN_IF_ERROR(store->Configure(options).WithContext("configuring the database"));
  VIGIL_RETURN_IF_ERROR(store->Migrate());
  return std::unique_ptr<Store>(std::move(store));
}

Status SqliteStore::Configure(const StoreOptions& options) {
  sqlite3_busy_timeout(db_.get(),
                       static_cast<int>(std::min<int64_t>(options.busy_timeout_ms, INT_MAX)));
  std::string mode;
  {
    VIGIL_ASSIGN_OR_RETURN(StatementLease pragma, db_.Cached("PRAGMA journal_mode=WAL"));
    VIGIL_ASSIGN_OR_RETURN(bool has_row, pragma->Step());
    if (has_row) mode = ToLower(pragma->ColumnText(0));
  }
  // SQLite silently keeps the old mode when WAL is impossible (e.g. a file system
  // without shared memory), so check rather than trust the PRAGMA.
  if (mode != "wal" && !(path_ == kInMemoryPath && mode == "memory")) {
    return DatabaseError(Where() + ": journal_mode is '" + mode +
                         "' after PRAGMA journal_mode=WAL; WAL needs a local file system");
  }
  VIGIL_RETURN_IF_ERROR(sink_.Register(db_.get()).WithContext(Where()));
  return db_
      .Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-" +
            std::to_string(kCacheKiB) + "; PRAGMA mmap_size=" + std::to_string(kMmapBytes))
      .WithContext("setting PRAGMAs");
}

Status SqliteStore::Migrate() {
  VIGIL_RETURN_IF_ERROR(db_.Exec(kMigrationsTableSql).WithContext("creating schema_migrations"));
  VIGIL_ASSIGN_OR_RETURN(int current, SchemaVersion());
  for (const Migration& migration : Migrations(SqliteDialect())) {
    if (migration.version <= current) continue;
    VIGIL_RETURN_IF_ERROR(ApplyMigration(migration).WithContext(
        "migration " + std::to_string(migration.version) + " (" + migration.name + ")"));
  }
  return Status::Ok();
}

Status SqliteStore::ApplyMigration(const Migration& migration) {
  VIGIL_ASSIGN_OR_RETURN(Transaction transaction, Transaction::BeginImmediate(&db_));
  // Another process may have applied it while this one waited for the write lock.
  VIGIL_ASSIGN_OR_RETURN(int current, SchemaVersion());
  if (current >= migration.version) return Status::Ok();
  for (const std::string& sql : migration.statements) {
    VIGIL_RETURN_IF_ERROR(db_.Exec(sql).WithContext("executing '" + SqlExcerpt(sql) + "'"));
  }
  {
    VIGIL_ASSIGN_OR_RETURN(
        StatementLease record,
        db_.Cached("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"));
    record->BindInt64(1, migration.version);
    record->BindText(2, migration.name);
    record->BindInt64(3, SystemClock().Now().nanos());
    VIGIL_RETURN_IF_ERROR(record->Step().status());
  }
  return transaction.Commit();
}

Result<int> SqliteStore::SchemaVersion() {
  VIGIL_ASSIGN_OR_RETURN(StatementLease select,
                         db_.Cached("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"));
  VIGIL_ASSIGN_OR_RETURN(bool has_row, select->Step());
  return has_row ? static_cast<int>(select->ColumnInt64(0)) : 0;
}

Result<std::vector<std::string>> SqliteStore::ListTables() {
  // sqlite_* tables (sqlite_sequence for AUTOINCREMENT) are SQLite's own bookkeeping.
  VIGIL_ASSIGN_OR_RETURN(StatementLease select,
                         db_.Cached("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                    "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"));
  std::vector<std::string> tables;
  while (true) {
    VIGIL_ASSIGN_OR_RETURN(bool has_row, select->Step());
    if (!has_row) break;
    tables.push_back(select->ColumnText(0));
  }
  return tables;
}

Status SqliteStore::Execute(std::string_view sql) {
  return db_.Exec(sql).WithContext("executing '" + SqlExcerpt(sql) + "'");
}

Result<int64_t> SqliteStore::CountRows(std::string_view table) {
  // The name is spliced into SQL, so it must be one of our tables, never arbitrary text.
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> tables, ListTables());
  if (std::find(tables.begin(), tables.end(), table) == tables.end()) {
    return NotFound(Where() + ": no table '" + std::string(table) + "'");
  }
  VIGIL_ASSIGN_OR_RETURN(StatementLease count,
                         db_.Cached("SELECT COUNT(*) FROM \"" + std::string(table) + "\""));
  VIGIL_ASSIGN_OR_RETURN(bool has_row, count->Step());
  return has_row ? count->ColumnInt64(0) : 0;
}

}  // namespace vigil::store_internal
