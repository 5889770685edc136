#include "store/test_stores.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <vector>

namespace {

constexpr char kClusterHint[] =
    "the PostgreSQL test cluster is not running: run store_test through `ctest` or "
    "`make test` (its pg_cluster_start fixture runs scripts/pg-test-cluster.sh), or point "
    "VIGIL_TEST_PG_URL at a server";

// A unique directory under the system temp dir, made on first use, removed at exit.
class TempRoot {
 public:
  TempRoot() {
    std::error_code error;
    std::filesystem::path base = std::filesystem::temp_directory_path(error);
    if (error) base = "/tmp";
    std::string pattern = (base / "vigil-store-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempRoot() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempRoot(const TempRoot&) = delete;
  TempRoot& operator=(const TempRoot&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The admin connection that creates each test's schema, and the schemas to drop at exit.
class PostgresSchemas {
 public:
  ~PostgresSchemas() {
    if (admin_ == nullptr) return;
    for (const std::string& schema : schemas_) {
      admin_->Execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE").IgnoreError();
    }
  }

  // Opens the admin store on first use; nullptr (with a recorded failure) if impossible.
  vigil::Store* Admin(const std::string& url) {
    if (admin_ != nullptr) return admin_.get();
    vigil::Result<std::unique_ptr<vigil::Store>> admin = vigil::OpenStore(url);
    if (!admin.ok()) {
      ADD_FAILURE() << kClusterHint << " (" << admin.status().ToString() << ")";
      return nullptr;
    }
    admin_ = std::move(admin).value();
    return admin_.get();
  }

  std::string NewSchemaName() {
    return "vigil_t" + std::to_string(getpid()) + "_" + std::to_string(schemas_.size());
  }
  void Remember(std::string schema) { schemas_.push_back(std::move(schema)); }

 private:
  std::unique_ptr<vigil::Store> admin_;
  std::vector<std::string> schemas_;
};

TempRoot& Root() {
  static TempRoot root;
  return root;
}

PostgresSchemas& Schemas() {
  static PostgresSchemas schemas;
  return schemas;
}

std::optional<std::string> ReadFirstLine(const char* path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
  if (line.empty()) return std::nullopt;
  return line;
}

std::unique_ptr<vigil::Store> OpenOrFail(const std::string& url, const std::string& hint) {
  vigil::Result<std::unique_ptr<vigil::Store>> store = vigil::OpenStore(url);
  if (!store.ok()) {
    ADD_FAILURE() << hint << "cannot open test store " << url << ": " << store.status().ToString();
    return nullptr;
  }
  return std::move(store).value();
}

std::unique_ptr<vigil::Store> OpenSqliteTestStore() {
  std::string path = NewTestPath("store.db");
  if (path.empty()) return nullptr;
  return OpenOrFail("sqlite:" + path, "");
}

std::unique_ptr<vigil::Store> OpenPostgresTestStore() {
  std::optional<std::string> url = TestPostgresUrl();
  if (!url.has_value()) {
    const char* file = std::getenv("VIGIL_TEST_PG_URL_FILE");
    ADD_FAILURE() << kClusterHint
                  << " (VIGIL_TEST_PG_URL_FILE=" << (file != nullptr ? file : "<unset>")
                  << " names no readable URL, and VIGIL_TEST_PG_URL is unset)";
    return nullptr;
  }
  vigil::Store* admin = Schemas().Admin(*url);
  if (admin == nullptr) return nullptr;
  // A fixed name per (process, call), so a leftover from an earlier run with the same
  // pid is dropped rather than reused.
  const std::string schema = Schemas().NewSchemaName();
  vigil::Status created =
      admin->Execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE; CREATE SCHEMA " + schema);
  if (!created.ok()) {
    ADD_FAILURE() << "cannot create test schema " << schema << ": " << created.ToString();
    return nullptr;
  }
  Schemas().Remember(schema);
  const char separator = url->find('?') == std::string::npos ? '?' : '&';
  return OpenOrFail(*url + separator + "options=-csearch_path%3D" + schema,
                    std::string(kClusterHint) + "; ");
}

}  // namespace

std::optional<std::string> TestPostgresUrl() {
  const char* file = std::getenv("VIGIL_TEST_PG_URL_FILE");
  if (file != nullptr && *file != '\0') {
    if (std::optional<std::string> url = ReadFirstLine(file)) return url;
  }
  const char* url = std::getenv("VIGIL_TEST_PG_URL");
  if (url != nullptr && *url != '\0') return std::string(url);
  return std::nullopt;
}

std::string NewTestPath(const std::string& name) {
  static int counter = 0;
  if (Root().path().empty()) {
    ADD_FAILURE() << "cannot create a temp dir for test stores";
    return "";
  }
  return (std::filesystem::path(Root().path()) / (std::to_string(counter++) + "-" + name)).string();
}

std::unique_ptr<vigil::Store> OpenTestStore(const std::string& backend) {
  if (backend == "sqlite") return OpenSqliteTestStore();
  if (backend == "postgresql") return OpenPostgresTestStore();
  ADD_FAILURE() << "unknown test store backend '" << backend << "'";
  return nullptr;
}

int64_t CountTableRows(vigil::Store& store, const std::string& table) {
  vigil::Result<int64_t> rows = store.CountRows(table);
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  return rows.value_or(-1);
}

int64_t CountTableRowsWhere(vigil::Store& store, const std::string& table,
                            const std::string& condition) {
  const vigil::Status created = store.Execute(
      "DROP TABLE IF EXISTS probe; CREATE TABLE probe AS "
      "SELECT * FROM " +
      table + " WHERE " + condition);
  EXPECT_TRUE(created.ok()) << created.ToString();
  return CountTableRows(store, "probe");
}
