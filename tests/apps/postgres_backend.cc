// cli_pg_test runs the CLI flows with `--db <PostgreSQL URL>`. The server comes from the
// ctest fixture `postgres` (tests/store/CMakeLists.txt), whose URL is in the file named
// by VIGIL_TEST_PG_URL_FILE. Without it the tests fail: a PostgreSQL test that silently
// skips would let the backend rot unseen.
//
// Each sandbox gets its own schema through the URL's search_path option; the store
// creates a missing first search_path schema when it opens. The schemas are dropped when
// the test program ends.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "apps/cli_runner.h"
#include "vigil/store/store.h"

namespace vigil::cli_test {
namespace {

// "" when the variable is unset or the file holds no URL (the caller fails the test).
std::string BaseUrl() {
  const char* file = std::getenv("VIGIL_TEST_PG_URL_FILE");
  if (file == nullptr || *file == '\0') return "";
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  while (!url.empty() && (url.back() == '\r' || url.back() == ' ')) url.pop_back();
  return url;
}

std::vector<std::string>& CreatedSchemas() {
  static std::vector<std::string> schemas;
  return schemas;
}

// Drops every schema handed out, best effort: the fixture removes the cluster anyway.
class DropSchemasAtExit : public ::testing::Environment {
 public:
  void TearDown() override {
    const std::string url = BaseUrl();
    if (url.empty() || CreatedSchemas().empty()) return;
    Result<std::unique_ptr<Store>> admin = OpenStore(url);
    if (!admin.ok()) return;
    for (const std::string& schema : CreatedSchemas()) {
      (*admin)->Execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE").IgnoreError();
    }
  }
};

const ::testing::Environment* const kDropSchemas =
    ::testing::AddGlobalTestEnvironment(new DropSchemasAtExit);

}  // namespace

std::string NewTestDatabaseUrl() {
  const std::string url = BaseUrl();
  if (url.empty()) {
    const char* file = std::getenv("VIGIL_TEST_PG_URL_FILE");
    ADD_FAILURE() << "no PostgreSQL URL: VIGIL_TEST_PG_URL_FILE="
                  << (file != nullptr ? file : "<unset>")
                  << " (run through ctest, whose `postgres` fixture starts a server)";
    // A URL that cannot connect, so the runs fail too instead of using SQLite.
    return "postgresql://no-test-server.invalid/none";
  }
  std::string schema =
      "vigil_cli_" + std::to_string(getpid()) + "_" + std::to_string(CreatedSchemas().size());
  CreatedSchemas().push_back(schema);
  const char separator = url.find('?') == std::string::npos ? '?' : '&';
  return url + separator + "options=-csearch_path%3D" + schema;
}

}  // namespace vigil::cli_test
