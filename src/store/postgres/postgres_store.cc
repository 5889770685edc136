// PostgreSQL backend, part 1: opening, session setup, migrations, TimescaleDB and
// maintenance.
#include "store/postgres/postgres_store.h"

#include <algorithm>
#include <cctype>

#include "store/postgres/postgres_store_impl.h"
#include "store/store_common.h"
#include "vigil/core/clock.h"
#include "vigil/core/logging.h"
#include "vigil/store/migrations.h"

namespace vigil::store_internal {
namespace {

using postgres_internal::Connection;
using postgres_internal::QuoteIdentifier;
using postgres_internal::Rows;
using postgres_internal::Transaction;

constexpr std::string_view kMigrationsTableSql =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
    "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

// extra_float_digits = 3 makes servers older than 12 print doubles with 17 significant
// digits (exact); newer ones print the shortest exact form either way.
constexpr std::string_view kSessionSql = "SET extra_float_digits = 3; SET client_encoding = 'UTF8'";

// TimescaleDB chunks of one week; the time column holds integer nanoseconds.
constexpr int64_t kChunkIntervalNanos = 7 * kNanosPerDay;

constexpr std::string_view kPasswordKey = "password=";

// The first entry of a search_path setting, unquoted as PostgreSQL reads it (quoted
// names keep their case, unquoted ones are folded to lower case); empty for "$user".
std::string FirstSearchPathEntry(std::string_view path) {
  size_t pos = path.find_first_not_of(' ');
  if (pos == std::string_view::npos) return "";
  std::string name;
  if (path[pos] == '"') {
    for (++pos; pos < path.size(); ++pos) {
      if (path[pos] == '"') {
        if (pos + 1 >= path.size() || path[pos + 1] != '"') break;
        ++pos;  // "" is an escaped quote
      }
      name += path[pos];
    }
    return name == "$user" ? "" : name;
  }
  size_t end = path.find(',', pos);
  std::string_view raw = path.substr(pos, end == std::string_view::npos ? end : end - pos);
  while (!raw.empty() && raw.back() == ' ') raw.remove_suffix(1);
  for (char c : raw) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name == "$user" ? "" : name;
}

// Replaces the value after each "password=" that starts a parameter (after '?', '&', a
// space or at the start) with "***".
void MaskPasswordParameters(std::string* url) {
  size_t pos = 0;
  while ((pos = url->find(kPasswordKey, pos)) != std::string::npos) {
    const bool starts_parameter =
        pos == 0 || (*url)[pos - 1] == '?' || (*url)[pos - 1] == '&' || (*url)[pos - 1] == ' ';
    const size_t value = pos + kPasswordKey.size();
    if (!starts_parameter) {
      pos = value;
      continue;
    }
    size_t end = url->find_first_of("& #", value);
    if (end == std::string::npos) end = url->size();
    url->replace(value, end - value, "***");
    pos = value + 3;
  }
}

}  // namespace

std::string MaskPassword(const std::string& url) {
  std::string masked = url;
  const size_t scheme = masked.find("://");
  if (scheme != std::string::npos) {
    const size_t authority = scheme + 3;
    size_t authority_end = masked.find_first_of("/?#", authority);
    if (authority_end == std::string::npos) authority_end = masked.size();
    // The user info ends at the last '@' of the authority (passwords may contain '@').
    const size_t at = masked.rfind('@', authority_end);
    if (at != std::string::npos && at >= authority) {
      const size_t colon = masked.find(':', authority);
      if (colon < at) masked.replace(colon + 1, at - colon - 1, "***");
    }
  }
  MaskPasswordParameters(&masked);
  return masked;
}

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                 const StoreOptions& options) {
  return PostgresStore::Open(url, options);
}

Result<std::unique_ptr<Store>> PostgresStore::Open(const std::string& url,
                                                   const StoreOptions& options) {
  std::string masked_url = MaskPassword(url);
  VIGIL_ASSIGN_OR_RETURN(Connection conn, Connection::Open(url, masked_url));
  std::unique_ptr<PostgresStore> store(new PostgresStore(masked_url, std::move(conn)));
  VIGIL_RETURN_IF_ERROR(store->ConfigureSession());
  VIGIL_RETURN_IF_ERROR(store->Migrate());
  if (options.use_timescaledb) {
    VIGIL_RETURN_IF_ERROR(store->SetUpHypertables());
  } else {
    VIGIL_LOG_DEBUG("{}: TimescaleDB disabled by the store options; plain tables", masked_url);
  }
  return std::unique_ptr<Store>(std::move(store));
}

Status PostgresStore::ConfigureSession() {
  VIGIL_RETURN_IF_ERROR(conn_.Exec(kSessionSql, Where() + ": configuring the session"));
  VIGIL_ASSIGN_OR_RETURN(schema_, TargetSchema());
  return Status::Ok();
}

Result<std::string> PostgresStore::TargetSchema() {
  const std::string context = Where() + ": reading search_path";
  VIGIL_ASSIGN_OR_RETURN(
      Rows rows, conn_.Query("SELECT current_setting('search_path'), current_schema()", context));
  std::string first = FirstSearchPathEntry(rows.Text(0, 0));
  if (!first.empty()) return first;
  if (rows.IsNull(0, 1)) {
    return DatabaseError(context + ": no schema of search_path '" + std::string(rows.Text(0, 0)) +
                         "' exists");
  }
  return std::string(rows.Text(0, 1));
}

Status PostgresStore::UnderMigrationLock(std::string_view context,
                                         const std::function<Status()>& body) {
  VIGIL_ASSIGN_OR_RETURN(Transaction transaction, Transaction::Begin(&conn_, context));
  // Transaction-scoped, so the lock is released by COMMIT or ROLLBACK, even if this
  // process dies. Keyed by schema: stores in different schemas migrate independently.
  VIGIL_RETURN_IF_ERROR(conn_
                            .Query("SELECT pg_advisory_xact_lock(hashtext($1))", context,
                                   {"vigil schema migrations: " + schema_})
                            .status());
  VIGIL_RETURN_IF_ERROR(body());
  return transaction.Commit(context);
}

Status PostgresStore::Migrate() {
  const std::string context = Where() + ": preparing schema " + schema_;
  VIGIL_RETURN_IF_ERROR(UnderMigrationLock(context, [&]() -> Status {
    VIGIL_ASSIGN_OR_RETURN(Rows exists, conn_.Query("SELECT 1 FROM pg_namespace WHERE nspname = $1",
                                                    context, {schema_}));
    // The search_path names where this store lives; create it so a URL alone is enough.
    if (exists.count() == 0) {
      VIGIL_RETURN_IF_ERROR(
          conn_.Exec("CREATE SCHEMA IF NOT EXISTS " + QuoteIdentifier(schema_), context));
      VIGIL_LOG_INFO("{}: created schema {}", Where(), schema_);
    }
    return conn_.Exec(kMigrationsTableSql, context);
  }));
  for (const Migration& migration : Migrations(PostgresDialect())) {
    VIGIL_RETURN_IF_ERROR(ApplyMigration(migration.version, migration.name, migration.statements));
  }
  return Status::Ok();
}

Status PostgresStore::ApplyMigration(int version, const std::string& name,
                                     const std::vector<std::string>& statements) {
  const std::string context =
      Where() + ": migration " + std::to_string(version) + " (" + name + ")";
  return UnderMigrationLock(context, [&]() -> Status {
    // Another process may have applied it while this one waited for the lock.
    VIGIL_ASSIGN_OR_RETURN(
        Rows applied, conn_.Query("SELECT 1 FROM schema_migrations WHERE version = $1", context,
                                  {std::to_string(version)}));
    if (applied.count() > 0) return Status::Ok();
    for (const std::string& sql : statements) {
      VIGIL_RETURN_IF_ERROR(conn_.Exec(sql, context + ": executing '" + SqlExcerpt(sql) + "'"));
    }
    VIGIL_RETURN_IF_ERROR(
        conn_
            .Query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                   context,
                   {std::to_string(version), name, std::to_string(SystemClock().Now().nanos())})
            .status());
    VIGIL_LOG_INFO("{}: applied migration {} ({})", Where(), version, name);
    return Status::Ok();
  });
}

Status PostgresStore::SetUpHypertables() {
  const std::string context = Where() + ": setting up TimescaleDB";
  VIGIL_ASSIGN_OR_RETURN(
      Rows available,
      conn_.Query("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'", context));
  if (available.count() == 0) {
    VIGIL_LOG_INFO("{}: TimescaleDB is not installed on the server; plain tables", Where());
    return Status::Ok();
  }
  // In schema public, so dropping a store's schema never drops the extension with it.
  Status created = UnderMigrationLock(context, [&]() -> Status {
    return conn_.Exec("CREATE EXTENSION IF NOT EXISTS timescaledb WITH SCHEMA public", context);
  });
  if (!created.ok()) {
    // Typically "must be loaded via shared_preload_libraries": usable, just not for us.
    VIGIL_LOG_WARN("{}; plain tables", created.message());
    return Status::Ok();
  }
  VIGIL_RETURN_IF_ERROR(
      UnderMigrationLock(context, [&]() -> Status { return CreateHypertables(context); }));
  hypertables_ = true;
  VIGIL_LOG_INFO("{}: market data in TimescaleDB hypertables", Where());
  return Status::Ok();
}

Status PostgresStore::CreateHypertables(const std::string& context) {
  VIGIL_ASSIGN_OR_RETURN(Rows extension,
                         conn_.Query("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON "
                                     "n.oid = e.extnamespace WHERE e.extname = 'timescaledb'",
                                     context));
  if (extension.count() == 0) return DatabaseError(context + ": the extension vanished");
  const std::string function = QuoteIdentifier(extension.Text(0, 0)) + ".create_hypertable";
  for (DataKind kind : AllKinds()) {
    // if_not_exists: this runs on every open; migrate_data: tables may hold rows already.
    VIGIL_RETURN_IF_ERROR(conn_
                              .Query("SELECT " + function +
                                         "($1::regclass, 'ts', chunk_time_interval => $2::bigint, "
                                         "if_not_exists => true, migrate_data => true)",
                                     context + ", table " + TableName(kind),
                                     {TableName(kind), std::to_string(kChunkIntervalNanos)})
                              .status());
  }
  return Status::Ok();
}

Result<int> PostgresStore::SchemaVersion() {
  const std::string context = Where() + ": reading schema_migrations";
  VIGIL_ASSIGN_OR_RETURN(
      Rows rows, conn_.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", context));
  VIGIL_ASSIGN_OR_RETURN(int64_t version, rows.Int64(0, 0, context));
  return static_cast<int>(version);
}

Result<std::vector<std::string>> PostgresStore::ListTables() {
  const std::string context = Where() + ": listing tables of schema " + schema_;
  VIGIL_ASSIGN_OR_RETURN(Rows rows, conn_.Query("SELECT tablename FROM pg_tables WHERE "
                                                "schemaname = $1 ORDER BY tablename COLLATE \"C\"",
                                                context, {schema_}));
  std::vector<std::string> tables;
  tables.reserve(rows.count());
  for (int row = 0; row < rows.count(); ++row) tables.emplace_back(rows.Text(row, 0));
  return tables;
}

Status PostgresStore::Execute(std::string_view sql) {
  return conn_.Exec(sql, Where() + ": executing '" + SqlExcerpt(sql) + "'");
}

Result<int64_t> PostgresStore::CountRows(std::string_view table) {
  // The name is spliced into SQL, so it must be one of our tables, never arbitrary text.
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> tables, ListTables());
  if (std::find(tables.begin(), tables.end(), table) == tables.end()) {
    return NotFound(Where() + ": no table '" + std::string(table) + "' in schema " + schema_);
  }
  const std::string context = Where() + ": counting rows of " + std::string(table);
  VIGIL_ASSIGN_OR_RETURN(Rows rows, conn_.Query("SELECT COUNT(*) FROM " + QuoteIdentifier(schema_) +
                                                    "." + QuoteIdentifier(table),
                                                context));
  return rows.Int64(0, 0, context);
}

}  // namespace vigil::store_internal
