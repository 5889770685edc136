// Internal to the PostgreSQL backend: RAII owners for PGconn* and PGresult*, COPY in and
// out, and a transaction guard. Every libpq failure becomes a DatabaseError carrying
// libpq's message and the caller's context (which names the masked URL, table, series).
//
//   VIGIL_ASSIGN_OR_RETURN(Connection conn, Connection::Open(url, masked_url));
//   VIGIL_ASSIGN_OR_RETURN(Rows rows, conn.Query("SELECT $1::bigint", "probe", {"1"}));
//   int64_t one = rows.Int64(0, 0, "probe").value_or(0);
//
// Thread-safety: none; a Connection is used by one thread at a time.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"

namespace vigil::postgres_internal {

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
struct ConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};

// A query result: owns its PGresult (move-only).
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result) {}

  PGresult* raw() const { return result_.get(); }
  int count() const { return PQntuples(result_.get()); }
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string_view Text(int row, int column) const;
  // Parses an integer column; DatabaseError names `context` when it is not one.
  vigil::Result<int64_t> Int64(int row, int column, std::string_view context) const;
  // Rows affected by INSERT / COPY etc. (the command tag count).
  int64_t AffectedRows() const;
  // The command tag: "INSERT 0 5", "COMMIT", "ROLLBACK", ...
  std::string_view CommandTag() const { return PQcmdStatus(result_.get()); }

 private:
  std::unique_ptr<PGresult, ResultDeleter> result_;
};

// One server connection (move-only); closed on destruction.
class Connection {
 public:
  // Connects to `url` (a libpq URI). Errors quote `masked_url`, never the password.
  static vigil::Result<Connection> Open(const std::string& url, const std::string& masked_url);

  // Runs `sql` (possibly several statements, simple protocol) and discards any rows.
  Status Exec(std::string_view sql, std::string_view context);
  // Runs one statement with text parameters $1..$n and returns its rows.
  vigil::Result<Rows> Query(std::string_view sql, std::string_view context,
                            const std::vector<std::string>& params = {});

  // COPY ... FROM STDIN: `produce` is called with a sink that forwards chunks of COPY
  // text to the server; returns the rows the server loaded. A Status from `produce`
  // aborts the COPY.
  using CopySink = std::function<Status(std::string_view chunk)>;
  vigil::Result<int64_t> CopyIn(std::string_view sql, std::string_view context,
                                const std::function<Status(const CopySink&)>& produce);
  // Runs `body` inside a savepoint, for statements that expect the rows they insert to be
  // new: true when it succeeded; false, with the transaction as it was before, when it
  // failed on a unique constraint (a row exists already, or comes twice). Other failures
  // are errors. Precondition: inside a transaction.
  vigil::Result<bool> RunUnlessDuplicate(std::string_view context,
                                         const std::function<Status()>& body);
  // COPY ... TO STDOUT: calls `consume` with each chunk of COPY data (a row in text
  // format; in binary format chunks are not promised to align with rows).
  Status CopyOut(std::string_view sql, std::string_view context,
                 const std::function<Status(std::string_view chunk)>& consume);

  // `text` as a quoted SQL string literal (PQescapeLiteral), for statements that take no
  // parameters such as COPY; DatabaseError naming `context` when libpq refuses it (e.g.
  // invalid UTF-8).
  vigil::Result<std::string> QuoteLiteral(std::string_view text, std::string_view context);

  // DatabaseError "<context>: <libpq message>"; remembers the SQLSTATE.
  Status Error(std::string_view context, const PGresult* result = nullptr);
  // SQLSTATE of the most recent failure ("23505" = unique_violation), "" if unknown.
  const std::string& last_sqlstate() const { return last_sqlstate_; }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  Status CheckCommand(PGresult* result, std::string_view context);
  // Reads results until libpq is idle again, after an aborted COPY or a failure.
  void Drain();

  std::unique_ptr<PGconn, ConnDeleter> conn_;
  std::string last_sqlstate_;
};

// BEGIN now; ROLLBACK on destruction unless Commit() succeeded.
class Transaction {
 public:
  // `begin_sql` may name an isolation level or READ ONLY.
  static vigil::Result<Transaction> Begin(Connection* conn, std::string_view context,
                                          std::string_view begin_sql = "BEGIN");

  Transaction(Transaction&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  Status Commit(std::string_view context);

 private:
  explicit Transaction(Connection* conn) : conn_(conn) {}
  Connection* conn_;  // null once committed or moved from
};

// "name" as a double-quoted SQL identifier.
std::string QuoteIdentifier(std::string_view name);

}  // namespace vigil::postgres_internal
