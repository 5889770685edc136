#include "vigil/serve/serve_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "vigil/serve/auth.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class ServeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vigil_serve_config_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  Result<RunConfig> Parse(const std::string& yaml) {
    return ParseRunConfig(yaml, "cfg.yaml", dir_);
  }
  fs::path dir_;
};

TEST_F(ServeConfigTest, FullExampleParsesIntoTheStructs) {
  Write("train.yaml", "name: x\n");
  Write("scheduler.yaml", "jobs:\n  - config: train.yaml\n");
  Result<ApiKeyEntry> key = MakeApiKeyEntry("ops", "a-long-enough-secret-key");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const std::string yaml = R"(store: sqlite:data/vigil.db
server:
  host: 0.0.0.0
  port: 9090
  threads: 8
  max_body_bytes: 2048
  require_key_for_reads: true
  api_keys:
    - {name: ops, salt: )" +
                           key->salt_hex + ", sha256: " + key->sha256_hex +
                           R"(, rate: 5, burst: 10}
  rate_limit: {rate: 50, burst: 60}
  anonymous_rate_limit: {rate: 7, burst: 9}
  batching: {max_batch_rows: 32, max_wait_us: 100}
  cache: {ttl_ms: 250, max_entries: 99}
  tls: {cert: certs/server.pem, key: certs/server.key}
  shutdown_grace_ms: 1500
models:
  risk: risk_clf
  liquidation: [liq_long, liq_short]
  anomaly: oracle_anom
  predict: [risk_xgb]
  alias: staging
  fallbacks: {liquidation: liq_base@production, classification: base@production}
  feature_sets: {mine: sets/mine.yaml}
source:
  kind: simulator
  speed: 60
  simulator: {instruments: 2, days: 3, seed: 9}
alerts:
  rules:
    - {name: high_risk, type: threshold, model: risk_clf, above: 80}
  webhooks:
    - {url: "http://127.0.0.1:9/hook", timeout_ms: 500, max_attempts: 3, headers: {X-Team: risk}}
scheduler: scheduler.yaml
refresh_models_ms: 2000
predictions: {flush_rows: 10, flush_ms: 50}
)";
  Result<RunConfig> run = Parse(yaml);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  const ServeConfig& serve = run->serve;
  EXPECT_EQ(serve.store_url, "sqlite:" + (dir_ / "data/vigil.db").string());
  EXPECT_EQ(serve.server.host, "0.0.0.0");
  EXPECT_EQ(serve.server.port, 9090);
  EXPECT_EQ(serve.server.threads, 8);
  EXPECT_EQ(serve.server.max_body_bytes, 2048);
  EXPECT_TRUE(serve.server.require_key_for_reads);
  ASSERT_EQ(serve.server.api_keys.size(), 1u);
  EXPECT_EQ(serve.server.api_keys[0].name, "ops");
  EXPECT_EQ(serve.server.api_keys[0].sha256_hex, key->sha256_hex);
  EXPECT_EQ(serve.server.api_keys[0].rate, 5.0);
  EXPECT_EQ(serve.server.key_rate_limit.rate, 50.0);
  EXPECT_EQ(serve.server.anonymous_rate_limit.burst, 9.0);
  EXPECT_EQ(serve.server.batching.max_batch_rows, 32);
  EXPECT_EQ(serve.server.batching.max_wait, std::chrono::microseconds(100));
  EXPECT_EQ(serve.server.cache.ttl, std::chrono::milliseconds(250));
  EXPECT_EQ(serve.server.cache.max_entries, 99);
  EXPECT_EQ(serve.server.tls.cert, dir_ / "certs/server.pem");
  EXPECT_EQ(serve.server.shutdown_grace, std::chrono::milliseconds(1500));
  EXPECT_EQ(serve.models.risk, "risk_clf");
  EXPECT_THAT(serve.models.liquidation, ElementsAre("liq_long", "liq_short"));
  EXPECT_THAT(serve.models.anomaly, ElementsAre("oracle_anom"));
  EXPECT_THAT(serve.models.AllNames(),
              ElementsAre("liq_long", "liq_short", "oracle_anom", "risk_clf", "risk_xgb"));
  EXPECT_EQ(serve.models.live.alias, "staging");
  EXPECT_EQ(serve.models.fallbacks.by_task_name.at("liquidation"), "liq_base@production");
  EXPECT_EQ(serve.models.fallbacks.by_task.at(Task::kClassification), "base@production");
  EXPECT_EQ(serve.models.live.feature_set_files.at("mine"), dir_ / "sets/mine.yaml");
  EXPECT_EQ(run->source.kind, SourceKind::kSimulator);
  EXPECT_EQ(run->source.speed, 60.0);
  EXPECT_EQ(run->source.simulation.instruments, 2);
  EXPECT_EQ(run->source.simulation.days, 3);
  EXPECT_EQ(run->source.simulation.seed, 9u);
  ASSERT_EQ(run->rules.size(), 1u);
  EXPECT_EQ(run->rules[0].name, "high_risk");
  EXPECT_EQ(run->rules[0].above, 80.0);
  ASSERT_EQ(run->webhooks.size(), 1u);
  EXPECT_EQ(run->webhooks[0].url, "http://127.0.0.1:9/hook");
  EXPECT_EQ(run->webhooks[0].timeout, std::chrono::milliseconds(500));
  EXPECT_EQ(run->webhooks[0].max_attempts, 3);
  EXPECT_EQ(run->webhooks[0].headers.at("X-Team"), "risk");
  EXPECT_EQ(run->scheduler, dir_ / "scheduler.yaml");
  EXPECT_EQ(run->refresh_models, std::chrono::milliseconds(2000));
  EXPECT_EQ(run->predictions.flush_rows, 10);
  EXPECT_EQ(run->predictions.flush_interval, std::chrono::milliseconds(50));
}

TEST_F(ServeConfigTest, DefaultsWhenSectionsAreAbsent) {
  Result<RunConfig> run = Parse("refresh_models_ms: 0\n");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->serve.store_url, "");
  EXPECT_EQ(run->serve.server.host, "127.0.0.1");
  EXPECT_EQ(run->serve.server.port, 8080);
  EXPECT_TRUE(run->serve.models.AllNames().empty());
  EXPECT_EQ(run->source.kind, SourceKind::kStore);
  EXPECT_EQ(run->source.speed, 0.0);
  EXPECT_EQ(run->refresh_models, std::chrono::milliseconds(0));
  EXPECT_EQ(run->predictions.flush_rows, 1000);
}

TEST_F(ServeConfigTest, SpeedIsMaxOrAPositiveNumberAndStoreSourceTakesItsFilters) {
  Result<RunConfig> max = Parse("source: {speed: max}\n");
  ASSERT_TRUE(max.ok()) << max.status().ToString();
  EXPECT_EQ(max->source.speed, 0.0);
  Result<RunConfig> run = Parse(
      "source:\n  speed: 2.5\n  instruments: [sim:BTC-PERP]\n  kinds: [candles, oracle]\n"
      "  from: 2024-01-02\n  to: 2024-01-03T00:00:00Z\n");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->source.speed, 2.5);
  EXPECT_EQ(run->source.store.pace.speed, 2.5);
  EXPECT_THAT(run->source.store.instruments, ElementsAre("sim:BTC-PERP"));
  EXPECT_THAT(run->source.store.kinds, ElementsAre(DataKind::kCandles, DataKind::kOracle));
  EXPECT_EQ(run->source.store.from, *Timestamp::ParseIso("2024-01-02T00:00:00Z"));
}

TEST_F(ServeConfigTest, FileSourcePathsResolveAgainstTheConfigDirectory) {
  Result<RunConfig> run = Parse(
      "source:\n  kind: files\n  files:\n    - {path: in/c.csv, kind: candles, format: csv,"
      " venue: sim, symbol: X, timeframe: 1m}\n");
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->source.files.size(), 1u);
  EXPECT_EQ(run->source.files[0].path, (dir_ / "in/c.csv").string());
  EXPECT_EQ(run->source.files[0].timeframe, "1m");
}

TEST_F(ServeConfigTest, LoadNamesTheFileAndServeConfigAcceptsARunFile) {
  Write("run.yaml", "store: sqlite:x.db\nsource: {kind: simulator}\nserver:\n  port: 99999\n");
  Result<RunConfig> run = LoadRunConfig(dir_ / "run.yaml");
  ASSERT_FALSE(run.ok());
  EXPECT_THAT(run.status().message(),
              StartsWith((dir_ / "run.yaml").string() + ":4: server.port: 99999 is out of range"));
  Write("serve.yaml", "store: sqlite:x.db\nsource: {kind: simulator}\n");
  Result<ServeConfig> serve = LoadServeConfig(dir_ / "serve.yaml");
  ASSERT_TRUE(serve.ok()) << serve.status().ToString();
  EXPECT_EQ(serve->store_url, "sqlite:" + (dir_ / "x.db").string());
}

struct BadConfig {
  std::string yaml;
  std::string expected;  // the start of the message
};

TEST_F(ServeConfigTest, EveryKindOfErrorNamesTheLineAndTheKey) {
  const std::vector<BadConfig> cases = {
      {"store: x\nbogus: 1\n", "cfg.yaml:2: bogus: unknown key"},
      {"server:\n  port: 70000\n", "cfg.yaml:2: server.port: 70000 is out of range 0-65535"},
      {"server:\n  threads: many\n", "cfg.yaml:2: server.threads: 'many' is not an integer"},
      {"server:\n  batching: {max_batch_rows: 8, extra: 1}\n", "cfg.yaml:2: server.batching.extra"},
      {"server:\n  tls: {cert: a.pem}\n", "cfg.yaml:2: server.tls: give both cert and key"},
      {"server:\n  api_keys:\n    - {name: ops, salt: zz, sha256: zz}\n",
       "cfg.yaml:3: server.api_keys[0]."},
      {"server:\n  rate_limit: {rate: -1}\n", "cfg.yaml:2: server.rate_limit."},
      {"models:\n  fallbacks: {nonsense: a@b}\n", "cfg.yaml:2: models.fallbacks.nonsense"},
      {"models:\n  risk: [a, b]\n", "cfg.yaml:2: models.risk: expected a value"},
      {"source:\n  speed: fast\n", "cfg.yaml:2: source.speed: expected max or a number > 0"},
      {"source:\n  speed: 0\n", "cfg.yaml:2: source.speed: expected max"},
      {"source:\n  kind: kafka\n", "cfg.yaml:2: source.kind: 'kafka' is not one of"},
      {"source:\n  kind: files\n", "cfg.yaml:2: source.files: required"},
      {"source:\n  from: yesterday\n", "cfg.yaml:2: source.from: 'yesterday' is not an ISO-8601"},
      {"source:\n  instruments: [nocolon]\n", "cfg.yaml:2: source.instruments"},
      {"source:\n  simulator: {instruments: 99}\n",
       "cfg.yaml:2: source.simulator.instruments: 99 is out of range 1-50"},
      {"alerts:\n  webhooks:\n    - {url: http://x/, max_attempts: 0}\n",
       "cfg.yaml:3: alerts.webhooks[0].max_attempts: 0 is out of range"},
      {"alerts:\n  rules:\n    - {name: r, type: threshold, model: m, above: high}\n",
       "cfg.yaml:3: alerts.rules[0]"},
      {"scheduler: missing.yaml\n", "cfg.yaml:1: scheduler: "},
      {"refresh_models_ms: -1\n", "cfg.yaml:1: refresh_models_ms: -1 is out of range"},
      {"predictions:\n  flush_rows: 0\n", "cfg.yaml:2: predictions.flush_rows: 0 is out of range"},
      {"server:\n  port: [1\n", "cfg.yaml:"},
  };
  for (const BadConfig& bad : cases) {
    Result<RunConfig> run = Parse(bad.yaml);
    ASSERT_FALSE(run.ok()) << bad.yaml;
    EXPECT_EQ(run.status().code(), StatusCode::kInvalidArgument) << bad.yaml;
    EXPECT_THAT(run.status().message(), StartsWith(bad.expected)) << bad.yaml;
  }
}

TEST(ServerOptionsTest, ValidateNamesTheField) {
  ServerOptions options;
  EXPECT_TRUE(options.Validate().ok());
  options.port = -1;
  EXPECT_THAT(options.Validate().message(), StartsWith("port: "));
  options = ServerOptions();
  options.host = "";
  EXPECT_THAT(options.Validate().message(), StartsWith("host: "));
  PredictionSinkOptions sink;
  EXPECT_TRUE(sink.Validate().ok());
  sink.flush_interval = std::chrono::milliseconds(0);
  EXPECT_THAT(sink.Validate().message(), HasSubstr("flush_ms"));
}

}  // namespace
}  // namespace vigil
