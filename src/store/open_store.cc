#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "vigil/store/store.h"

namespace vigil {
namespace {

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenStore(std::string_view url, const StoreOptions& options) {
  if (options.busy_timeout_ms < 0) {
    return InvalidArgument("store option busy_timeout_ms must be >= 0");
  }
  if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) {
    return store_internal::OpenPostgresStore(std::string(url), options);
  }
  if (StartsWith(url, "sqlite://")) {
    return store_internal::OpenSqliteStore(std::string(url.substr(9)), options);
  }
  if (StartsWith(url, "sqlite:")) {
    return store_internal::OpenSqliteStore(std::string(url.substr(7)), options);
  }
  if (url.find("://") == std::string_view::npos &&
      (EndsWith(url, ".db") || EndsWith(url, ".sqlite") || EndsWith(url, ".sqlite3"))) {
    return store_internal::OpenSqliteStore(std::string(url), options);
  }
  return InvalidArgument("unknown database URL '" + std::string(url) +
                         "': use sqlite:PATH or postgresql://user@host:port/db");
}

}  // namespace vigil
