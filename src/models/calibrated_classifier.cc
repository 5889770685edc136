// Placeholder: replaced by the helper that owns this file.
#include "models/builtin_kinds.h"

namespace vigil::models_internal {
KindRegistration CalibratedKind() {
  return {"calibrated", Task::kClassification,
          [](const nlohmann::json&) -> Result<std::unique_ptr<Model>> {
            return Unimplemented("model kind 'calibrated' is being written");
          }};
}
}  // namespace vigil::models_internal
