// Placeholder: replaced by the helper that owns this file.
#include "models/builtin_kinds.h"

namespace vigil::models_internal {
KindRegistration MultiHorizonKind() {
  return {"multi_horizon", Task::kClassification,
          [](const nlohmann::json&) -> Result<std::unique_ptr<Model>> {
            return Unimplemented("model kind 'multi_horizon' is being written");
          }};
}
}  // namespace vigil::models_internal
