// Private to serve_config*.cc: the located YAML readers shared by the serve sections
// (serve_config.cc) and the run-only sections (serve_config_run.cc). Every error reads
// "<file>:<line>: <key.path>: <problem>" (pipeline/yaml_fields.h).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <set>
#include <string>

#include "pipeline/yaml_fields.h"
#include "vigil/core/status.h"
#include "vigil/serve/serve_config.h"

namespace vigil::serve_config_internal {

using pipeline_internal::YamlSource;

// The key is there with a non-null value.
bool Present(const YAML::Node& node);

// A Validate() message "field: problem" placed at the line of `field` inside `map` (or of
// the map itself when the field is not one of its keys), under `prefix`.
Status Locate(const YamlSource& src, const YAML::Node& map, const std::string& prefix,
              const Status& status);

// An optional integer in [min, max]; `fallback` when absent.
Result<int64_t> IntIn(const YamlSource& src, const YAML::Node& map, const std::string& key,
                      const std::string& prefix, int64_t fallback, int64_t min, int64_t max);

// An optional path resolved against `base_dir`; empty when absent.
Result<std::filesystem::path> PathIn(const YamlSource& src, const YAML::Node& map,
                                     const std::string& key, const std::string& prefix,
                                     const std::filesystem::path& base_dir);

// A sub-map: absent -> an empty (undefined) node, otherwise it must be a map of `allowed`.
Result<YAML::Node> SubMap(const YamlSource& src, const YAML::Node& map, const std::string& key,
                          const std::string& prefix, const std::set<std::string>& allowed);

// The run-only sections (source, alerts, scheduler, refresh_models_ms, predictions) of
// `root` into `out` (serve_config_run.cc).
Status ParseRunSections(const YamlSource& src, const YAML::Node& root,
                        const std::filesystem::path& base_dir, RunConfig* out);

}  // namespace vigil::serve_config_internal
