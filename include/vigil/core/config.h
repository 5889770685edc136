// Config: a YAML document with typed, validated look-ups that report the key path.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::Config config, vigil::Config::LoadFile("vigil.yaml"));
//   VIGIL_ASSIGN_OR_RETURN(double threshold, config.GetDouble("alerts.oracle.threshold", 0.02));
//   VIGIL_ASSIGN_OR_RETURN(int64_t days, config.GetInt("simulate.days", 7, /*min=*/1,
//   /*max=*/3650));
//
// Paths are dot-separated map keys ("store.sqlite.busy_timeout_ms"). A missing key
// returns the default; a present key of the wrong type or out of bounds returns
// InvalidArgument naming the file, the key path, the line and the problem, e.g.
//   "vigil.yaml:4: simulate.days: expected an integer in [1, 3650], got 'many'".
// Thread-safety: const methods are safe to call concurrently.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"

namespace vigil {

class Config {
 public:
  Config();
  ~Config();
  Config(const Config&);
  Config& operator=(const Config&);
  Config(Config&&) noexcept;
  Config& operator=(Config&&) noexcept;

  // Parses a file; a syntax error reports file:line:column.
  static Result<Config> LoadFile(const std::string& path);
  // Parses YAML text; `source_name` is used in messages.
  static Result<Config> LoadString(std::string_view yaml, std::string source_name = "<string>");

  bool Has(std::string_view path) const;
  Result<std::string> GetString(std::string_view path, std::string fallback) const;
  Result<double> GetDouble(std::string_view path, double fallback,
                           double min = -std::numeric_limits<double>::infinity(),
                           double max = std::numeric_limits<double>::infinity()) const;
  Result<int64_t> GetInt(std::string_view path, int64_t fallback,
                         int64_t min = std::numeric_limits<int64_t>::min(),
                         int64_t max = std::numeric_limits<int64_t>::max()) const;
  Result<bool> GetBool(std::string_view path, bool fallback) const;
  Result<std::vector<std::string>> GetStringList(std::string_view path) const;
  // Keys of the map at `path` ("" = the root), in document order.
  Result<std::vector<std::string>> Keys(std::string_view path) const;
  // Fails if the map at `path` has a key outside `allowed` (catches typos).
  Status CheckKeys(std::string_view path, const std::vector<std::string>& allowed) const;

  const std::string& source_name() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
