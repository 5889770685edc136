// The `task: forecast` sections of a training config (forecast_training.h documents them),
// parsed by ParseTrainingConfig with the shared YAML helpers.
#pragma once

#include <yaml-cpp/yaml.h>

#include "pipeline/yaml_fields.h"
#include "vigil/core/status.h"
#include "vigil/pipeline/training_config.h"

namespace vigil::pipeline_internal {

// Refuses the top-level keys of the other tasks (features, label, imbalance, ...), naming
// the key.
Status CheckForecastKeys(const YamlSource& src, const YAML::Node& root);
// data: {instrument, field, timeframe, from, to, every, transform}.
Status ParseForecastData(const YamlSource& src, const YAML::Node& root, TrainingConfig& config);
// validation: {horizon, origins, refit_every, min_train, levels}.
Status ParseForecastValidation(const YamlSource& src, const YAML::Node& root,
                               TrainingConfig& config);

}  // namespace vigil::pipeline_internal
