// The global contract of the `vigil` binary: --version, usage errors (exit 2, message on
// stderr, nothing on stdout) and where the store lives (--home, VIGIL_HOME, --db).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "apps/cli_runner.h"

namespace vigil::cli_test {
namespace {

namespace fs = std::filesystem;

constexpr int kExitUsage = 2;

TEST(CliVersionTest, PrintsNameAndSemver) {
  CliSandbox sandbox("");
  CliRun run = RunVigil({"--version"}, sandbox.dir());
  EXPECT_EQ(run.exit_code, 0) << run;
  EXPECT_EQ(run.out, ReadGolden("version.txt"));
  EXPECT_EQ(run.err, "");
}

struct UsageError {
  std::string what;
  std::vector<std::string> args;
  std::string stderr_mentions;  // "" when the message wording is left to the parser
};

TEST(CliUsageTest, UsageErrorsExitTwoWithAMessageOnStderr) {
  CliSandbox sandbox("");
  const std::string file = sandbox.CopyInput("good_candles.csv");
  const std::vector<UsageError> cases = {
      {"no command", {}, ""},
      {"unknown command", {"frobnicate"}, ""},
      {"unknown kind", {"ingest", "--kind", "bogus", file}, "bogus"},
      {"unknown kind with --json", {"--json", "ingest", "--kind", "bogus", file}, "bogus"},
      {"missing --kind", {"ingest", file}, "--kind"},
      {"missing FILE", {"ingest", "--kind", "candles"}, "FILE"},
      {"unknown format", {"ingest", "--kind", "candles", "--format", "bogus", file}, "bogus"},
      {"unknown order policy", {"ingest", "--kind", "candles", "--order", "bogus", file}, "bogus"},
      {"malformed --column", {"ingest", "--kind", "candles", "--column", "bogus", file}, "bogus"},
      {"unknown option", {"ingest", "--kind", "candles", "--frobnicate", file}, "frobnicate"},
      {"data without subcommand", {"data"}, ""},
      {"unknown data subcommand", {"data", "frobnicate"}, ""},
      {"export without --instrument",
       {"data", "export", "--kind", "candles", "--out", "x.csv"},
       "--instrument"},
      {"export without --out",
       {"data", "export", "--kind", "candles", "--instrument", "testex:ABC/USD"},
       "--out"},
      {"export of an unknown kind",
       {"data", "export", "--kind", "bogus", "--instrument", "testex:ABC/USD", "--out", "x.csv"},
       "bogus"},
      {"export of a malformed instrument",
       {"data", "export", "--kind", "candles", "--instrument", "nocolon", "--out", "x.csv"},
       "nocolon"},
      {"simulate with zero instruments", {"simulate", "--instruments", "0"}, "instruments"},
      {"simulate with zero days", {"simulate", "--days", "0"}, "days"},
  };
  for (const UsageError& usage : cases) {
    std::vector<std::string> args = {"--home", "home"};
    args.insert(args.end(), usage.args.begin(), usage.args.end());
    CliRun run = RunVigil(args, sandbox.dir());
    EXPECT_EQ(run.exit_code, kExitUsage) << usage.what << "\n" << run;
    EXPECT_FALSE(run.err.empty()) << usage.what << "\n" << run;
    EXPECT_EQ(run.out, "") << usage.what << "\n" << run;
    if (!usage.stderr_mentions.empty()) {
      EXPECT_NE(run.err.find(usage.stderr_mentions), std::string::npos) << usage.what << "\n"
                                                                        << run;
    }
  }
  // None of them wrote any data or an export file.
  EXPECT_FALSE(fs::exists(sandbox.dir() / "x.csv"));
  CliRun summary = sandbox.Vigil({"--json", "data", "summary"});
  EXPECT_EQ(summary.exit_code, 0) << summary;
  EXPECT_EQ(summary.out, "[]\n");
}

std::vector<std::string> IngestGood(const std::string& file) {
  return {"--json", "ingest",   "--kind",  "candles", "--venue",
          "testex", "--symbol", "ABC/USD", file};
}

// The instruments `data summary` lists for the store the given global options select.
std::vector<std::string> Instruments(const CliSandbox& sandbox, std::vector<std::string> globals,
                                     const std::vector<std::string>& extra_env = {}) {
  globals.insert(globals.end(), {"--json", "data", "summary"});
  CliRun run = RunVigil(globals, sandbox.dir(), extra_env);
  EXPECT_EQ(run.exit_code, 0) << run;
  std::vector<std::string> names;
  for (const auto& entry : ParseJson(run.out)) names.push_back(entry["instrument"]);
  return names;
}

TEST(CliHomeTest, DefaultHomeIsVigilDataInTheWorkingDirectory) {
  CliSandbox sandbox("");
  const std::string file = sandbox.CopyInput("good_candles.csv");
  CliRun run = RunVigil(IngestGood(file), sandbox.dir());
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_TRUE(fs::is_regular_file(sandbox.dir() / "vigil-data" / "vigil.db"));
  EXPECT_TRUE(fs::is_directory(sandbox.dir() / "vigil-data" / "models"));
  EXPECT_EQ(Instruments(sandbox, {}), std::vector<std::string>{"testex:ABC/USD"});
  EXPECT_EQ(Instruments(sandbox, {"--home", "vigil-data"}),
            std::vector<std::string>{"testex:ABC/USD"});
}

TEST(CliHomeTest, VigilHomeEnvironmentVariableAndHomeFlagOverrideIt) {
  CliSandbox sandbox("");
  const std::string file = sandbox.CopyInput("good_candles.csv");
  CliRun from_env = RunVigil(IngestGood(file), sandbox.dir(), {"VIGIL_HOME=env-home"});
  ASSERT_EQ(from_env.exit_code, 0) << from_env;
  EXPECT_TRUE(fs::is_regular_file(sandbox.dir() / "env-home" / "vigil.db"));
  EXPECT_FALSE(fs::exists(sandbox.dir() / "vigil-data"));

  // --home wins over VIGIL_HOME: the flag's home is a new, empty store.
  EXPECT_TRUE(Instruments(sandbox, {"--home", "flag-home"}, {"VIGIL_HOME=env-home"}).empty());
  EXPECT_EQ(Instruments(sandbox, {}, {"VIGIL_HOME=env-home"}),
            std::vector<std::string>{"testex:ABC/USD"});
}

TEST(CliHomeTest, DbFlagSelectsTheSqliteFile) {
  CliSandbox sandbox("");
  const std::string file = sandbox.CopyInput("good_candles.csv");
  std::vector<std::string> args = {"--home", "home", "--db", "sqlite:elsewhere.db"};
  const std::vector<std::string> ingest = IngestGood(file);
  args.insert(args.end(), ingest.begin(), ingest.end());
  CliRun run = RunVigil(args, sandbox.dir());
  ASSERT_EQ(run.exit_code, 0) << run;
  EXPECT_TRUE(fs::is_regular_file(sandbox.dir() / "elsewhere.db"));
  EXPECT_FALSE(fs::exists(sandbox.dir() / "home" / "vigil.db"));
  EXPECT_EQ(Instruments(sandbox, {"--db", "sqlite:elsewhere.db"}),
            std::vector<std::string>{"testex:ABC/USD"});
  EXPECT_TRUE(Instruments(sandbox, {"--home", "home"}).empty());
}

}  // namespace
}  // namespace vigil::cli_test
