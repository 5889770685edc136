// Logging: one process-wide spdlog logger named "vigil", writing to stderr so that
// stdout stays clean for command output (--json).
//
//   vigil::InitLogging(vigil::LogLevel::kInfo);
//   VIGIL_LOG_INFO("stored {} rows for {}", rows, instrument);
//
// Thread-safety: logging calls are safe from any thread; InitLogging is not and should
// run once at start-up.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "vigil/core/status.h"

namespace vigil {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };

// Parses "trace", "debug", "info", "warn", "error", "off".
Result<LogLevel> ParseLogLevel(std::string_view text);
void InitLogging(LogLevel level);
spdlog::logger& Logger();

}  // namespace vigil

#define VIGIL_LOG_DEBUG(...) ::vigil::Logger().debug(__VA_ARGS__)
#define VIGIL_LOG_INFO(...) ::vigil::Logger().info(__VA_ARGS__)
#define VIGIL_LOG_WARN(...) ::vigil::Logger().warn(__VA_ARGS__)
#define VIGIL_LOG_ERROR(...) ::vigil::Logger().error(__VA_ARGS__)
