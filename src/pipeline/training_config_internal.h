// Private to LoadTrainingConfig: the helpers training_config.cc shares with the parsers of the
// risk and search sections in training_config_sections.cc. Each Parse* reads one top-level
// section of the training YAML into `config`, naming the file, line and field on error.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>

#include "pipeline/yaml_fields.h"
#include "vigil/core/status.h"
#include "vigil/pipeline/training_config.h"

namespace vigil::training_config_internal {

using pipeline_internal::YamlSource;

// YAML to JSON for model params: scalars become numbers or booleans when they read as such.
nlohmann::json YamlToJson(const YAML::Node& node);
// Tree kinds name their classifier; a regression task trains the regressor of the family.
std::string KindForTask(const std::string& kind, Task task);
// The model kind's complete configuration (defaults filled in), or the factory's error.
Result<nlohmann::json> KindConfig(const std::string& kind, const nlohmann::json& params);
// A walk-forward validation block (`validation:` or `search.validation:`; `p` prefixes the
// field names in errors).
Status ParseWalkForward(const YamlSource& src, const YAML::Node& node, ValidationConfig& out,
                        const std::string& p = "validation.");

// training_config_sections.cc
Status ParseImbalance(const YamlSource& src, const YAML::Node& root, TrainingConfig& config);
Status ParseCalibration(const YamlSource& src, const YAML::Node& root, TrainingConfig& config);
Status ParseRiskLevels(const YamlSource& src, const YAML::Node& root, TrainingConfig& config);
Status ParseSearch(const YamlSource& src, const YAML::Node& root, TrainingConfig& config);
Status ParseFallback(const YamlSource& src, const YAML::Node& root, TrainingConfig& config);

}  // namespace vigil::training_config_internal
