#include "store/postgres/postgres_handles.h"

#include <charconv>
#include <utility>

#include "vigil/core/logging.h"

namespace vigil::postgres_internal {
namespace {

// Bounds the connect phase: libpq waits forever by default on an unroutable host. A
// connect_timeout in the URL takes precedence (it is applied after this default).
constexpr const char* kDefaultConnectTimeoutSeconds = "10";

constexpr std::string_view kUniqueViolation = "23505";  // SQLSTATE

std::string_view TrimTrailingSpace(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return text;
}

// libpq prints server notices ("table already exists, skipping") to stderr by default;
// they are routine for us, so they go to the debug log instead.
void LogNotice(void* /*arg*/, const char* message) {
  VIGIL_LOG_DEBUG("postgresql: {}", TrimTrailingSpace(message));
}

// libpq's connection message on one line, and without the password: libpq quotes a
// URI it cannot parse verbatim.
std::string ConnectionMessage(std::string_view message, const std::string& url,
                              const std::string& masked_url) {
  std::string out;
  for (char c : TrimTrailingSpace(message)) {
    if (c == '\t') continue;
    out += c == '\n' ? ' ' : c;
  }
  size_t pos = 0;
  while (!url.empty() && (pos = out.find(url, pos)) != std::string::npos) {
    out.replace(pos, url.size(), masked_url);
    pos += masked_url.size();
  }
  return out;
}

struct LibpqMemoryDeleter {
  void operator()(char* buffer) const { PQfreemem(buffer); }
};

}  // namespace

std::string_view Rows::Text(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  return std::string_view(value, PQgetlength(result_.get(), row, column));
}

vigil::Result<int64_t> Rows::Int64(int row, int column, std::string_view context) const {
  std::string_view text = Text(row, column);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return DatabaseError(std::string(context) + ": expected an integer in column " +
                         PQfname(result_.get(), column) + ", got '" + std::string(text) + "'");
  }
  return value;
}

int64_t Rows::AffectedRows() const {
  std::string_view tuples = PQcmdTuples(result_.get());
  int64_t count = 0;
  std::from_chars(tuples.data(), tuples.data() + tuples.size(), count);
  return count;
}

vigil::Result<Connection> Connection::Open(const std::string& url, const std::string& masked_url) {
  // expand_dbname = 1 parses `url` as a URI; keywords after it would override it, the
  // ones before it are defaults.
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {kDefaultConnectTimeoutSeconds, "vigil", url.c_str(), nullptr};
  Connection conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (conn.conn_ == nullptr) {
    return DatabaseError("cannot connect to " + masked_url + ": libpq is out of memory");
  }
  if (PQstatus(conn.conn_.get()) != CONNECTION_OK) {
    return DatabaseError("cannot connect to " + masked_url + ": " +
                         ConnectionMessage(PQerrorMessage(conn.conn_.get()), url, masked_url));
  }
  PQsetNoticeProcessor(conn.conn_.get(), LogNotice, nullptr);
  return conn;
}

Status Connection::Error(std::string_view context, const PGresult* result) {
  const char* sqlstate = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = sqlstate != nullptr ? sqlstate : "";
  std::string message;
  const char* primary =
      result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  if (primary != nullptr) {
    message = primary;
    if (const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL)) {
      message += std::string(" (") + detail + ")";
    }
  } else {
    message = TrimTrailingSpace(PQerrorMessage(conn_.get()));
  }
  if (message.empty()) message = "unknown libpq error";
  return DatabaseError(std::string(context) + ": " + message);
}

Status Connection::CheckCommand(PGresult* result, std::string_view context) {
  ExecStatusType status = PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Status::Ok();
  return Error(context, result);
}

Status Connection::Exec(std::string_view sql, std::string_view context) {
  Rows result(PQexec(conn_.get(), std::string(sql).c_str()));
  Status status = CheckCommand(result.raw(), context);
  if (!status.ok()) Drain();
  return status;
}

vigil::Result<Rows> Connection::Query(std::string_view sql, std::string_view context,
                                      const std::vector<std::string>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const std::string& param : params) values.push_back(param.c_str());
  Rows result(PQexecParams(conn_.get(), std::string(sql).c_str(), static_cast<int>(values.size()),
                           nullptr, values.data(), nullptr, nullptr, /*resultFormat=*/0));
  Status status = CheckCommand(result.raw(), context);
  if (!status.ok()) {
    Drain();
    return status;
  }
  return result;
}

vigil::Result<int64_t> Connection::CopyIn(std::string_view sql, std::string_view context,
                                          const std::function<Status(const CopySink&)>& produce) {
  Rows start(PQexec(conn_.get(), std::string(sql).c_str()));
  if (PQresultStatus(start.raw()) != PGRES_COPY_IN) {
    Status status = Error(context, start.raw());
    Drain();
    return status;
  }
  CopySink sink = [this, context](std::string_view chunk) -> Status {
    if (PQputCopyData(conn_.get(), chunk.data(), static_cast<int>(chunk.size())) != 1) {
      return Error(context);
    }
    return Status::Ok();
  };
  Status produced = produce(sink);
  if (!produced.ok()) {
    PQputCopyEnd(conn_.get(), "aborted by the client");
    Drain();
    return produced;
  }
  if (PQputCopyEnd(conn_.get(), nullptr) != 1) {
    Status status = Error(context);
    Drain();
    return status;
  }
  Rows done(PQgetResult(conn_.get()));
  Status status = CheckCommand(done.raw(), context);
  Drain();
  if (!status.ok()) return status;
  return done.AffectedRows();
}

vigil::Result<bool> Connection::RunUnlessDuplicate(std::string_view context,
                                                   const std::function<Status()>& body) {
  VIGIL_RETURN_IF_ERROR(Exec("SAVEPOINT vigil_unless_duplicate", context));
  Status status = body();
  if (status.ok()) {
    VIGIL_RETURN_IF_ERROR(Exec("RELEASE SAVEPOINT vigil_unless_duplicate", context));
    return true;
  }
  if (last_sqlstate_ != kUniqueViolation) return status;
  VIGIL_RETURN_IF_ERROR(Exec("ROLLBACK TO SAVEPOINT vigil_unless_duplicate", context));
  return false;
}

Status Connection::CopyOut(std::string_view sql, std::string_view context,
                           const std::function<Status(std::string_view chunk)>& consume) {
  Rows start(PQexec(conn_.get(), std::string(sql).c_str()));
  if (PQresultStatus(start.raw()) != PGRES_COPY_OUT) {
    Status status = Error(context, start.raw());
    Drain();
    return status;
  }
  Status consumed;
  while (true) {
    char* raw_buffer = nullptr;
    int length = PQgetCopyData(conn_.get(), &raw_buffer, /*async=*/0);
    std::unique_ptr<char, LibpqMemoryDeleter> buffer(raw_buffer);
    if (length == -1) break;  // end of the COPY
    if (length < 0) {
      Status status = Error(context);
      Drain();
      return status;
    }
    // After a consumer error the rest of the stream is read and dropped so the
    // connection stays usable.
    if (consumed.ok()) consumed = consume(std::string_view(buffer.get(), length));
  }
  Rows done(PQgetResult(conn_.get()));
  Status status = CheckCommand(done.raw(), context);
  Drain();
  VIGIL_RETURN_IF_ERROR(status);
  return consumed;
}

vigil::Result<std::string> Connection::QuoteLiteral(std::string_view text,
                                                    std::string_view context) {
  std::unique_ptr<char, LibpqMemoryDeleter> quoted(
      PQescapeLiteral(conn_.get(), text.data(), text.size()));
  if (quoted == nullptr) return Error(context);
  return std::string(quoted.get());
}

void Connection::Drain() {
  while (PGresult* raw = PQgetResult(conn_.get())) {
    Rows result(raw);
    if (PQstatus(conn_.get()) == CONNECTION_BAD) return;
    ExecStatusType status = PQresultStatus(raw);
    if (status == PGRES_COPY_IN) {
      PQputCopyEnd(conn_.get(), "abandoned by the client");
    } else if (status == PGRES_COPY_OUT) {
      char* buffer = nullptr;
      while (PQgetCopyData(conn_.get(), &buffer, 0) > 0) PQfreemem(buffer);
    }
  }
}

vigil::Result<Transaction> Transaction::Begin(Connection* conn, std::string_view context,
                                              std::string_view begin_sql) {
  VIGIL_RETURN_IF_ERROR(conn->Exec(begin_sql, context));
  return Transaction(conn);
}

Transaction::~Transaction() {
  if (conn_ != nullptr) conn_->Exec("ROLLBACK", "rollback").IgnoreError();
}

Status Transaction::Commit(std::string_view context) {
  Connection* conn = std::exchange(conn_, nullptr);
  VIGIL_ASSIGN_OR_RETURN(Rows done, conn->Query("COMMIT", context));
  // COMMIT of a transaction that already failed succeeds with the tag ROLLBACK.
  if (done.CommandTag() != "COMMIT") {
    return DatabaseError(std::string(context) + ": the transaction was rolled back");
  }
  return Status::Ok();
}

std::string QuoteIdentifier(std::string_view name) {
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

}  // namespace vigil::postgres_internal
