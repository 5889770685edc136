// Running the `vigil` binary from contract tests: each test gets a sandbox (a fresh temp
// directory that is the child's working directory and holds its home), and each run
// captures stdout, stderr and the exit code.
//
//   vigil::cli_test::CliSandbox sandbox;                 // SQLite store in <sandbox>/home
//   std::string file = sandbox.CopyInput("good_candles.csv");
//   vigil::cli_test::CliRun run =
//       sandbox.Vigil({"--json", "ingest", "--kind", "candles", "--venue", "testex", file});
//   EXPECT_EQ(run.exit_code, 0) << run;
//
// The child sees the test's environment minus VIGIL_HOME and VIGIL_DB (so a developer's
// settings cannot leak in), stdin from /dev/null, and files named relative to the sandbox.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::cli_test {

// One finished run of the binary.
struct CliRun {
  int exit_code = -1;  // the exit status, or 128 + signal when the child was killed
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
};

// Prints the exit code, stdout and stderr, for failure messages.
std::ostream& operator<<(std::ostream& os, const CliRun& run);

// Runs VIGIL_BINARY with `args` (argv[1..]) in `cwd`, with the environment described in
// the header comment plus `extra_env` ("NAME=value" entries). Never throws; a failure to
// start the child is reported as exit code 127 with the reason on `err`.
CliRun RunVigil(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                const std::vector<std::string>& extra_env = {});

// The `--db` URL for a new sandbox of this test binary: "" (the home's SQLite file) in
// cli_test, a PostgreSQL URL with a schema of its own in cli_pg_test. Defined by the
// backend source each binary links (sqlite_backend.cc, postgres_backend.cc).
std::string NewTestDatabaseUrl();

// A fresh temp directory per test, removed on destruction. Not copyable.
class CliSandbox {
 public:
  // The store of this test binary (see NewTestDatabaseUrl).
  CliSandbox() : CliSandbox(NewTestDatabaseUrl()) {}
  // `db_url` empty: the store is the home's SQLite file; otherwise every run gets
  // `--db db_url`.
  explicit CliSandbox(std::string db_url);
  ~CliSandbox();
  CliSandbox(const CliSandbox&) = delete;
  CliSandbox& operator=(const CliSandbox&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  bool uses_home_sqlite() const { return db_url_.empty(); }
  // The home the runs use: <dir>/home.
  std::filesystem::path home() const { return dir_ / "home"; }

  // Runs `vigil --home home [--db URL] args...` in dir(). Global options such as --json
  // may still be given at the front of `args`.
  CliRun Vigil(const std::vector<std::string>& args) const;

  // Copies tests/testdata/cli/<name> into dir() and returns `name` (a path relative to
  // dir(), so messages name it exactly like that).
  std::string CopyInput(const std::string& name) const;

 private:
  std::filesystem::path dir_;
  std::string db_url_;
};

// Whole file as bytes; fails the current test (and returns "") when it cannot be read.
std::string ReadBytes(const std::filesystem::path& path);
// tests/apps/golden/<name>.
std::string ReadGolden(const std::string& name);
// <VIGIL_SHARED_DATA>/<relative>.
std::string SharedDataPath(const std::string& relative);

// Parses JSON output, keeping key order; fails the current test (and returns null) when
// `text` is not JSON.
nlohmann::ordered_json ParseJson(const std::string& text);
// Lines of `text` without their '\n'.
std::vector<std::string> SplitLines(const std::string& text);
// `text` cut at every `separator`, keeping empty parts ("a,,b" -> {"a", "", "b"}).
std::vector<std::string> Split(const std::string& text, char separator);
// The keys of a JSON object, in order.
std::vector<std::string> JsonKeys(const nlohmann::ordered_json& json);
// Writes `text` to `path`, replacing the file.
void WriteText(const std::filesystem::path& path, std::string_view text);

}  // namespace vigil::cli_test
