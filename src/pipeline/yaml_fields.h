// Typed reads of YAML config keys with errors that name the place:
// "<source>:<line>: <key>: <problem>". Shared by the pipeline's config files (training
// config, scheduler file). yaml-cpp reports positions but not typed, located errors, so
// this thin layer adds them.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"

namespace vigil::pipeline_internal {

// A config being read: where errors point.
struct YamlSource {
  std::string name;  // the file (or "<text>")

  Status Error(const YAML::Node& node, const std::string& key, const std::string& problem) const;
  // Every key of `map` must be in `allowed`; `prefix` is prepended to key names in errors
  // ("validation.").
  Status CheckKeys(const YAML::Node& map, const std::string& prefix,
                   const std::set<std::string>& allowed) const;

  // Optional scalars: nullopt when the key is absent or null.
  Result<std::optional<std::string>> String(const YAML::Node& map, const std::string& key,
                                            const std::string& prefix = "") const;
  Result<std::optional<double>> Double(const YAML::Node& map, const std::string& key,
                                       const std::string& prefix = "") const;
  Result<std::optional<int64_t>> Int(const YAML::Node& map, const std::string& key,
                                     const std::string& prefix = "") const;
  Result<std::optional<bool>> Bool(const YAML::Node& map, const std::string& key,
                                   const std::string& prefix = "") const;
  // A duration such as "15m" or "0s" (>= 0), in nanoseconds.
  Result<std::optional<int64_t>> Duration(const YAML::Node& map, const std::string& key,
                                          const std::string& prefix = "") const;
  // An ISO-8601 time or a date ("2024-01-02").
  Result<std::optional<Timestamp>> Time(const YAML::Node& map, const std::string& key,
                                        const std::string& prefix = "") const;
  // A scalar or a list of scalars.
  Result<std::vector<std::string>> StringList(const YAML::Node& map, const std::string& key,
                                              const std::string& prefix = "") const;
};

// Parses YAML text into a map node; a syntax error or a non-map document fails naming the
// source and line.
Result<YAML::Node> ParseYamlMap(const std::string& text, const YamlSource& source);

}  // namespace vigil::pipeline_internal
