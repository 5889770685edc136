// The `vigil serve` and `vigil run` contracts: `--port 0` prints "listening on
// http://HOST:PORT" first on stdout; SIGTERM stops gracefully with exit 0; `serve hash-key`
// prints an api_keys entry; `run` over stored data at speed max ends by itself with
// predictions and alerts written; a bad config exits 2 naming file:line: key.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "apps/cli_runner.h"
#include "vigil/store/store.h"

namespace vigil::cli_test {
namespace {

constexpr int kExitUsage = 2;
// A guard against a hung child, not a timing assertion.
constexpr int kFirstLineTimeoutMs = 120'000;

constexpr std::string_view kCrashYaml = R"(name: crash_btc
task: crash
model: {kind: logistic, params: {C: 1.0, standardize: true}}
seed: 3
data: {instruments: [sim:BTC-PERP], timeframe: 1m}
features: ta
label: {horizon: 30m, k: 1.5, vol_window: 60}
validation: {train: 1d, test: 12h}
risk_levels: {medium: 0.2, high: 0.4, critical: 0.7}
)";

// A `vigil` child with stdin and stdout on pipes and stderr in a file.
class Child {
 public:
  Child(const CliSandbox& sandbox, const std::vector<std::string>& args) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return;
    err_path_ = sandbox.dir() / ("child_stderr_" + std::to_string(counter_++));
    std::vector<std::string> all = {VIGIL_BINARY, "--home", sandbox.home().string()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : all) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const std::string dir = sandbox.dir().string();
    const std::string err = err_path_.string();
    pid_ = fork();
    if (pid_ == 0) {
      const int err_fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (chdir(dir.c_str()) != 0 || err_fd < 0) _exit(126);
      dup2(in[0], 0);
      dup2(out[1], 1);
      dup2(err_fd, 2);
      close(in[1]);
      close(out[0]);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
  }
  ~Child() {
    if (pid_ > 0 && exit_code_ < 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
    if (stdin_ >= 0) close(stdin_);
    if (stdout_ >= 0) close(stdout_);
  }

  void Send(const std::string& text) {
    EXPECT_EQ(write(stdin_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(stdin_);
    stdin_ = -1;
  }
  // The next line of stdout ("" at the end, or when nothing comes within the guard time).
  std::string ReadLine() {
    std::string line;
    char c = 0;
    while (true) {
      pollfd fd{stdout_, POLLIN, 0};
      if (poll(&fd, 1, kFirstLineTimeoutMs) <= 0) return line;
      if (read(stdout_, &c, 1) != 1 || c == '\n') return line;
      line += c;
    }
  }
  std::string ReadRest() {
    std::string rest;
    char buffer[4096];
    ssize_t n = 0;
    while ((n = read(stdout_, buffer, sizeof(buffer))) > 0) rest.append(buffer, n);
    return rest;
  }
  void Signal(int signal) { kill(pid_, signal); }
  int Wait() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
  }
  std::string Stderr() const { return ReadBytes(err_path_); }

 private:
  static inline int counter_ = 0;
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1;
  int exit_code_ = -1;
  std::filesystem::path err_path_;
};

// "listening on http://127.0.0.1:PORT" -> PORT (0 when the line is not that).
int PortOf(const std::string& line) {
  const std::string prefix = "listening on http://127.0.0.1:";
  if (line.rfind(prefix, 0) != 0) return 0;
  return std::atoi(line.c_str() + prefix.size());
}

// Two simulated days of one instrument stored and a crash model trained and promoted,
// once for the whole suite (training takes a few seconds).
class CliServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    sandbox_ = new CliSandbox();
    CliRun simulated =
        sandbox_->Vigil({"simulate", "--instruments", "1", "--days", "3", "--ingest"});
    ASSERT_EQ(simulated.exit_code, 0) << simulated;
    WriteText(sandbox_->dir() / "crash.yaml", kCrashYaml);
    CliRun trained = sandbox_->Vigil({"train", "--config", "crash.yaml"});
    ASSERT_EQ(trained.exit_code, 0) << trained;
  }
  static void TearDownTestSuite() {
    delete sandbox_;
    sandbox_ = nullptr;
  }
  static CliSandbox* sandbox_;
};
CliSandbox* CliServeTest::sandbox_ = nullptr;

TEST_F(CliServeTest, ServeOnAFreePortAnswersAndStopsGracefullyOnSigterm) {
  Child serve(*sandbox_, {"serve", "--port", "0"});
  const std::string first = serve.ReadLine();
  const int port = PortOf(first);
  ASSERT_GT(port, 0) << "first line: '" << first << "'\n" << serve.Stderr();
  httplib::Client client("127.0.0.1", port);
  httplib::Result health = client.Get("/health");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200) << health->body;
  httplib::Result models = client.Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 200);
  EXPECT_NE(models->body.find("crash_btc"), std::string::npos) << models->body;
  httplib::Result missing = client.Get("/v1/models/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("\"error\""), std::string::npos) << missing->body;
  serve.Signal(SIGTERM);
  EXPECT_EQ(serve.Wait(), 0) << serve.Stderr();
}

TEST_F(CliServeTest, HashKeyPrintsAnApiKeysEntry) {
  Child hash(*sandbox_, {"serve", "hash-key", "ops"});
  hash.Send("a-secret-key-of-enough-length\n");
  const std::string line = hash.ReadLine();
  EXPECT_EQ(hash.Wait(), 0) << hash.Stderr();
  EXPECT_EQ(line.rfind("- {name: ops, salt: ", 0), 0u) << line;
  EXPECT_NE(line.find(", sha256: "), std::string::npos) << line;
  Child shortkey(*sandbox_, {"serve", "hash-key", "ops"});
  shortkey.Send("short\n");
  EXPECT_EQ(shortkey.Wait(), kExitUsage);
}

TEST_F(CliServeTest, RunOverStoredDataEndsByItselfWithPredictionsAndAlerts) {
  WriteText(sandbox_->dir() / "run.yaml",
            "source: {kind: store, speed: max}\n"
            "alerts:\n"
            "  rules:\n"
            "    - {name: any_risk, type: threshold, model: crash_btc, above: 0, cooldown: 1h}\n"
            "predictions: {flush_rows: 500, flush_ms: 50}\n");
  Child run(*sandbox_, {"--json", "run", "--config", "run.yaml", "--port", "0"});
  const std::string first = run.ReadLine();
  ASSERT_GT(PortOf(first), 0) << "first line: '" << first << "'\n" << run.Stderr();
  const std::string rest = run.ReadRest();
  ASSERT_EQ(run.Wait(), 0) << run.Stderr();
  const auto summary = ParseJson(rest);
  EXPECT_GT(summary["events"].get<int64_t>(), 0) << rest;
  EXPECT_GT(summary["predictions"].get<int64_t>(), 0) << rest;
  EXPECT_GT(summary["alerts"].get<int64_t>(), 0) << rest;
  EXPECT_NE(run.Stderr().find("run: "), std::string::npos) << run.Stderr();

  Result<std::unique_ptr<Store>> store =
      OpenStore("sqlite:" + (sandbox_->home() / "vigil.db").string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  PredictionQuery predictions;
  predictions.model_name = "crash_btc";
  Result<std::vector<PredictionRow>> stored = (*store)->QueryPredictions(predictions);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(static_cast<int64_t>(stored->size()), summary["predictions"].get<int64_t>());
  AlertQuery alerts;
  alerts.limit = 0;
  Result<std::vector<AlertRow>> raised = (*store)->QueryAlerts(alerts);
  ASSERT_TRUE(raised.ok()) << raised.status().ToString();
  EXPECT_EQ(static_cast<int64_t>(raised->size()), summary["alerts"].get<int64_t>());
}

TEST_F(CliServeTest, BadConfigsExitTwoNamingFileLineAndKey) {
  WriteText(sandbox_->dir() / "bad_run.yaml", "source:\n  kind: store\n  speed: fast\n");
  CliRun run = sandbox_->Vigil({"run", "--config", "bad_run.yaml", "--port", "0"});
  EXPECT_EQ(run.exit_code, kExitUsage) << run;
  EXPECT_NE(run.err.find("bad_run.yaml:3: source.speed: "), std::string::npos) << run;
  EXPECT_EQ(run.out, "") << run;
  WriteText(sandbox_->dir() / "bad_serve.yaml", "server:\n  port: 70000\n");
  CliRun serve = sandbox_->Vigil({"serve", "--config", "bad_serve.yaml"});
  EXPECT_EQ(serve.exit_code, kExitUsage) << serve;
  EXPECT_NE(serve.err.find("bad_serve.yaml:2: server.port: 70000 is out of range"),
            std::string::npos)
      << serve;
  CliRun missing = sandbox_->Vigil({"run"});
  EXPECT_EQ(missing.exit_code, kExitUsage) << missing;
}

}  // namespace
}  // namespace vigil::cli_test
