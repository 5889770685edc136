#include "cli.h"

#include <cmath>
#include <filesystem>
#include <iostream>

#include "vigil/core/config.h"
#include "vigil/core/logging.h"

namespace vigil::cli {

Status ApplyConfig(GlobalOptions* options) {
  std::string path = options->config;
  if (path.empty()) {
    std::filesystem::path fallback = std::filesystem::path(options->home) / "vigil.yaml";
    std::error_code ec;
    if (std::filesystem::exists(fallback, ec)) path = fallback.string();
  }
  Config config;
  if (!path.empty()) {
    VIGIL_ASSIGN_OR_RETURN(config, Config::LoadFile(path));
    VIGIL_RETURN_IF_ERROR(config.CheckKeys("", {"db", "log_level", "store"}));
    VIGIL_RETURN_IF_ERROR(config.CheckKeys("store", {"busy_timeout_ms", "use_timescaledb"}));
  }
  if (options->db.empty()) {
    VIGIL_ASSIGN_OR_RETURN(options->db, config.GetString("db", ""));
  }
  if (options->log_level.empty()) {
    VIGIL_ASSIGN_OR_RETURN(options->log_level, config.GetString("log_level", "warn"));
  }
  VIGIL_ASSIGN_OR_RETURN(LogLevel level, ParseLogLevel(options->log_level));
  InitLogging(level);
  VIGIL_ASSIGN_OR_RETURN(options->store.busy_timeout_ms,
                         config.GetInt("store.busy_timeout_ms", 5000, 0, 3'600'000));
  VIGIL_ASSIGN_OR_RETURN(options->store.use_timescaledb,
                         config.GetBool("store.use_timescaledb", true));
  return Status::Ok();
}

std::string DatabaseUrl(const GlobalOptions& options) {
  if (!options.db.empty()) return options.db;
  return "sqlite:" + (std::filesystem::path(options.home) / "vigil.db").string();
}

Result<std::unique_ptr<Store>> OpenHomeStore(const GlobalOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(options.home) / "models", ec);
  if (ec) return IoError("cannot create home directory '" + options.home + "': " + ec.message());
  return OpenStore(DatabaseUrl(options), options.store);
}

Result<ModelRegistry> OpenHomeRegistry(const GlobalOptions& options) {
  return ModelRegistry::Open(std::filesystem::path(options.home) / "models");
}

Result<Timestamp> ParseTimeBound(const std::string& text, Timestamp fallback) {
  if (text.empty()) return fallback;
  return Timestamp::Parse(text);
}

int Fail(const Status& status, int code) {
  std::cerr << "vigil: " << status.ToString() << "\n";
  return code;
}

void PrintJson(const nlohmann::ordered_json& value) { std::cout << value.dump() << "\n"; }

nlohmann::ordered_json JsonNumber(double value) {
  if (!std::isfinite(value)) return nullptr;
  return value;
}

}  // namespace vigil::cli
