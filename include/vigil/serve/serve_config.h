// The YAML config of `vigil serve --config FILE` and `vigil run --config FILE`
// (docs/serving.md has the full reference with an example of every key).
//
//   store: sqlite:vigil-data/vigil.db    # optional; default the --home store
//   server:
//     host: 127.0.0.1
//     port: 8080
//     threads: 64                        # connections served at once
//     max_body_bytes: 1048576
//     require_key_for_reads: false
//     api_keys:                          # `vigil serve hash-key NAME` prints an entry
//       - {name: ops, salt: <32 hex>, sha256: <64 hex>, rate: 100, burst: 200}
//     rate_limit: {rate: 1000, burst: 2000}        # per key without its own
//     anonymous_rate_limit: {rate: 200, burst: 400}  # per client address
//     batching: {max_batch_rows: 64, max_wait_us: 0}
//     cache: {ttl_ms: 1000, max_entries: 10000}
//     tls: {cert: server.pem, key: server.key}     # optional; HTTPS when given
//     shutdown_grace_ms: 10000
//   models:
//     risk: risk_btc                     # /v1/risk
//     liquidation: [liq_20x_long, liq_20x_short]   # /v1/liquidation (multi_horizon)
//     anomaly: [oracle_iforest]          # /v1/anomaly
//     predict: [other_model]             # more models for /v1/predict
//     alias: production
//     fallbacks: {liquidation: liq_baseline@production}
//     feature_sets: {my_set: sets/my_set.yaml}
//   # vigil run only:
//   source:
//     kind: store | files | simulator
//     speed: max | <number>              # data seconds per second; 1 = real time
//     instruments: [sim:BTC-PERP]        # store: empty = all
//     kinds: [candles, oracle]           # store: empty = all
//     timeframe: 1m                      # store: "" = each instrument's smallest
//     from: 2024-01-01T00:00:00Z         # store
//     to: ...
//     files: [{path: candles.csv, kind: candles, format: csv, venue: v, symbol: s, timeframe: 1m}]
//     simulator: {instruments: 3, days: 7, seed: 42, start: ..., venue: sim, volatility_scale: 1,
//                 flash_crashes_per_week: 1, oracle_deviations_per_week: 1,
//                 vault_drawdowns_per_week: 1, volume_spikes_per_week: 2}
//   alerts:
//     rules: [...]                       # alert_rules.h
//     webhooks: [{url: http://..., headers: {X-Key: v}, timeout_ms: 2000, max_attempts: 5,
//                 initial_backoff_ms: 200, backoff_factor: 2, max_backoff_ms: 10000,
//                 queue_capacity: 10000}]
//   scheduler: scheduler.yaml            # optional retraining (scheduler.h)
//   refresh_models_ms: 5000              # how often promotions elsewhere are picked up
//   predictions: {flush_rows: 1000, flush_ms: 200}
//
// Errors name the file, line and key (InvalidArgument), e.g.
// "run.yaml:12: server.port: 70000 is out of range 0-65535"; unknown keys are errors.
// Relative paths (and a relative sqlite: store) resolve against the config file's directory.
// ParseServeConfig accepts a run file too: its run-only sections are checked, then unused.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/data/simulator.h"
#include "vigil/pipeline/fallback.h"
#include "vigil/serve/alert_rules.h"
#include "vigil/serve/auth.h"
#include "vigil/serve/batcher.h"
#include "vigil/serve/live_models.h"
#include "vigil/serve/source.h"
#include "vigil/serve/ttl_cache.h"
#include "vigil/serve/webhook.h"

namespace vigil {

struct TlsOptions {
  std::filesystem::path cert;  // PEM; both or neither
  std::filesystem::path key;
  bool enabled() const { return !cert.empty(); }
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                   // 0 = any free port
  int threads = 64;                  // 1..4096
  int64_t max_body_bytes = 1 << 20;  // 1 KiB .. 1 GiB
  std::vector<ApiKeyEntry> api_keys;
  bool require_key_for_reads = false;
  RateLimit key_rate_limit{1000.0, 2000.0};
  RateLimit anonymous_rate_limit{200.0, 400.0};
  BatchingOptions batching;
  CacheOptions cache;
  TlsOptions tls;
  std::chrono::milliseconds shutdown_grace{10000};
  Status Validate() const;  // InvalidArgument naming the field
};

struct ServedModelsConfig {
  std::string risk;                      // "" = /v1/risk answers 503
  std::vector<std::string> liquidation;  // multi_horizon models
  std::vector<std::string> anomaly;
  std::vector<std::string> predict;
  FallbackConfig fallbacks;
  LiveModelsOptions live;
  // Every name above, once, sorted.
  std::vector<std::string> AllNames() const;
};

struct ServeConfig {
  std::string store_url;  // "" = the --home store
  ServerOptions server;
  ServedModelsConfig models;
};

enum class SourceKind { kStore, kFiles, kSimulator };

struct SourceConfig {
  SourceKind kind = SourceKind::kStore;
  double speed = 0.0;  // 0 = as fast as possible
  StoreReplayOptions store;
  std::vector<FileSourceSpec> files;
  SimulationOptions simulation;
};

struct PredictionSinkOptions {
  int64_t flush_rows = 1000;  // >= 1
  std::chrono::milliseconds flush_interval{200};
  Status Validate() const;
};

struct RunConfig {
  ServeConfig serve;
  SourceConfig source;
  std::vector<AlertRule> rules;
  std::vector<WebhookOptions> webhooks;
  std::optional<std::filesystem::path> scheduler;
  std::chrono::milliseconds refresh_models{5000};
  PredictionSinkOptions predictions;
};

Result<ServeConfig> LoadServeConfig(const std::filesystem::path& path);
Result<RunConfig> LoadRunConfig(const std::filesystem::path& path);
// The same from text; `source` names it in errors and relative paths resolve in base_dir.
Result<ServeConfig> ParseServeConfig(std::string_view yaml, std::string_view source,
                                     const std::filesystem::path& base_dir);
Result<RunConfig> ParseRunConfig(std::string_view yaml, std::string_view source,
                                 const std::filesystem::path& base_dir);

}  // namespace vigil
