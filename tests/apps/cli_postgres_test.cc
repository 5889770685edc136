// What only the PostgreSQL run checks: `--db postgresql://...` stores in the server, not
// in the home's SQLite file, and each sandbox's schema is a store of its own.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "apps/cli_runner.h"

namespace vigil::cli_test {
namespace {

TEST(CliPostgresTest, DbUrlStoresInTheServerNotInTheHome) {
  CliSandbox sandbox;
  ASSERT_FALSE(sandbox.uses_home_sqlite());
  const std::string file = sandbox.CopyInput("good_candles.csv");
  CliRun ingest = sandbox.Vigil(
      {"--json", "ingest", "--kind", "candles", "--venue", "testex", "--symbol", "ABC/USD", file});
  ASSERT_EQ(ingest.exit_code, 0) << ingest;
  EXPECT_FALSE(std::filesystem::exists(sandbox.home() / "vigil.db"));
  CliRun summary = sandbox.Vigil({"--json", "data", "summary"});
  EXPECT_EQ(summary.out, ReadGolden("summary_good_candles.json")) << summary;

  // Another schema on the same server starts empty.
  CliSandbox other;
  CliRun empty = other.Vigil({"--json", "data", "summary"});
  EXPECT_EQ(empty.exit_code, 0) << empty;
  EXPECT_EQ(empty.out, "[]\n");
}

}  // namespace
}  // namespace vigil::cli_test
