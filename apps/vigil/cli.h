// Shared pieces of the vigil command-line app: global options, opening the store, and
// printing. The app only parses arguments, wires library calls and prints results.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"
#include "vigil/registry/registry.h"
#include "vigil/store/store.h"

namespace vigil::cli {

// Exit code for usage errors and failures where nothing was done.
inline constexpr int kExitUsage = 2;
// Exit code for partial success (some rows rejected, some scheduled jobs failed).
inline constexpr int kExitPartial = 3;

struct GlobalOptions {
  std::string home = "./vigil-data";  // --home / VIGIL_HOME
  std::string db;                     // --db; default: config `db`, else sqlite:<home>/vigil.db
  bool json = false;                  // --json
  std::string log_level;              // --log-level; default: config `log_level`, else warn
  std::string config;                 // --config; default <home>/vigil.yaml when it exists
  StoreOptions store;                 // from the config's `store` section
};

// Applies the YAML config (--config, or <home>/vigil.yaml if present) under the flags:
//   db: URL        log_level: info
//   store: {busy_timeout_ms: 5000, use_timescaledb: true}
// Unknown keys and bad values fail with file:line: key: problem.
Status ApplyConfig(GlobalOptions* options);
// The database URL the options select.
std::string DatabaseUrl(const GlobalOptions& options);
// Creates the home directory (and models/) and opens the store.
Result<std::unique_ptr<Store>> OpenHomeStore(const GlobalOptions& options);

// The model registry in <home>/models.
Result<ModelRegistry> OpenHomeRegistry(const GlobalOptions& options);

// A --from / --to option: `fallback` when empty, else a timestamp (ISO-8601 or epoch).
Result<Timestamp> ParseTimeBound(const std::string& text, Timestamp fallback);
// Prints "vigil: <message>" to stderr and returns `code`.
int Fail(const Status& status, int code = kExitUsage);
// Writes JSON to stdout on one line.
void PrintJson(const nlohmann::ordered_json& value);
// A JSON number (nlohmann prints the shortest exact representation); NaN and infinities,
// which JSON cannot hold, are null.
nlohmann::ordered_json JsonNumber(double value);

// Each command registers its subcommand; the callback's exit code is stored in *exit_code.
void AddIngestCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
void AddDataCommands(CLI::App& app, const GlobalOptions& globals, int* exit_code);
void AddSimulateCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
void AddFeaturesCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
void AddModelsCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
void AddTrainCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
void AddSchedulerCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
void AddDetectCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
void AddLabelsCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
void AddClassifyCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
void AddExplainCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
// vigil serve [--host H] [--port P] [--config FILE]; vigil serve hash-key NAME
void AddServeCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
// vigil alerts list / vigil alerts report --incidents FILE
void AddAlertsCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
// vigil forecast (--input FILE.csv [--column NAME] | --instrument I --field F)
//   --model arima|auto_arima|garch [options] --horizon H [--json]
void AddForecastCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
// vigil backtest --input CANDLES.csv --strategy NAME [--params k=v,...] [--fee-bps X]
//   [--slippage fixed:BPS|linear:K|sqrt:K] [--initial-capital C] [--latency D] [--json]
void AddBacktestCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
// vigil run --config FILE [--port P]
void AddLiveRunCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
// `vigil detect fit` and `vigil detect scan`, added under the `detect` command
// (detect_fit.cc, detect_scan.cc).
void AddDetectFitCommand(CLI::App* detect, const GlobalOptions& globals, int* exit_code);
void AddDetectScanCommand(CLI::App* detect, const GlobalOptions& globals, int* exit_code);

// A registered model that must be an anomaly detector (InvalidArgument naming the version
// otherwise; registry errors as Load returns them).
Result<LoadedModel> LoadStoredDetector(const ModelRegistry& registry, const std::string& reference);

}  // namespace vigil::cli
