// cli_test runs every flow against the embedded SQLite store in the sandbox's home.
#include "apps/cli_runner.h"

namespace vigil::cli_test {

std::string NewTestDatabaseUrl() { return ""; }

}  // namespace vigil::cli_test
