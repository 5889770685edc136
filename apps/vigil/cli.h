// Shared pieces of the vigil command-line app: global options, opening the store, and
// printing. The app only parses arguments, wires library calls and prints results.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "vigil/core/status.h"
#include "vigil/store/store.h"

namespace vigil::cli {

// Exit code for usage errors and failures where nothing was done.
inline constexpr int kExitUsage = 2;

struct GlobalOptions {
  std::string home = "./vigil-data";  // --home / VIGIL_HOME
  std::string db;                     // --db; default sqlite:<home>/vigil.db
  bool json = false;                  // --json
  std::string log_level = "warn";     // --log-level
};

// The database URL the options select.
std::string DatabaseUrl(const GlobalOptions& options);
// Creates the home directory (and models/) and opens the store.
Result<std::unique_ptr<Store>> OpenHomeStore(const GlobalOptions& options);

// Prints "vigil: <message>" to stderr and returns `code`.
int Fail(const Status& status, int code = kExitUsage);
// Writes JSON to stdout on one line.
void PrintJson(const nlohmann::ordered_json& value);

// Each command registers its subcommand; the callback's exit code is stored in *exit_code.
void AddIngestCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);
void AddDataCommands(CLI::App& app, const GlobalOptions& globals, int* exit_code);
void AddSimulateCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code);

}  // namespace vigil::cli
