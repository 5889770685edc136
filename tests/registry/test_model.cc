#include "registry/test_model.h"

#include <memory>

namespace vigil::testing_util {

Status RegisterTestKind() {
  static const Status registered =
      RegisterModelKind("test_threshold", Task::kClassification,
                        [](const nlohmann::json& config) -> Result<std::unique_ptr<Model>> {
                          return std::unique_ptr<Model>(
                              std::make_unique<ThresholdModel>(config.value("padding_kb", 0.0)));
                        });
  return registered;
}

}  // namespace vigil::testing_util
