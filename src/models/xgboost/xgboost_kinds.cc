// Placeholder: replaced by the helper that owns this file.
#include "models/builtin_kinds.h"

namespace vigil::models_internal {
namespace {
KindRegistration Pending(const char* kind, Task task) {
  return {kind, task, [kind](const nlohmann::json&) -> Result<std::unique_ptr<Model>> {
            return Unimplemented(std::string("model kind '") + kind + "' is being written");
          }};
}
}  // namespace
KindRegistration XGBoostKind() { return Pending("xgboost", Task::kClassification); }
KindRegistration XGBoostRegressorKind() { return Pending("xgboost_regressor", Task::kRegression); }
KindRegistration RandomForestKind() { return Pending("random_forest", Task::kClassification); }
KindRegistration RandomForestRegressorKind() {
  return Pending("random_forest_regressor", Task::kRegression);
}
}  // namespace vigil::models_internal
