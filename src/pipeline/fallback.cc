#include "vigil/pipeline/fallback.h"

#include "vigil/core/logging.h"

namespace vigil {
namespace {

// The model behind `reference`, required to be of `task`.
Result<LoadedModel> LoadOfTask(const ModelRegistry& registry, std::string_view reference,
                               Task task) {
  VIGIL_ASSIGN_OR_RETURN(LoadedModel loaded, registry.Load(reference));
  if (loaded.manifest.task != task) {
    return FailedPrecondition(std::string(reference) + " is a " +
                              std::string(TaskName(loaded.manifest.task)) + " model, not " +
                              std::string(TaskName(task)));
  }
  return loaded;
}

}  // namespace

ModelLoader::ModelLoader(const ModelRegistry& registry, FallbackConfig fallbacks)
    : registry_(registry), fallbacks_(std::move(fallbacks)) {}

Result<ResolvedModel> ModelLoader::Load(std::string_view reference, Task task) {
  Result<LoadedModel> primary = LoadOfTask(registry_, reference, task);
  if (primary.ok()) return ResolvedModel{std::move(*primary), false, ""};
  const std::string error = primary.status().ToString();
  const auto fallback = fallbacks_.by_task.find(task);
  if (fallback == fallbacks_.by_task.end()) {
    return primary.status().WithContext("no fallback configured for " +
                                        std::string(TaskName(task)) + " models");
  }
  Result<LoadedModel> secondary = LoadOfTask(registry_, fallback->second, task);
  if (!secondary.ok()) {
    return FailedPrecondition("cannot load " + std::string(reference) + " (" + error +
                              ") nor its fallback " + fallback->second + " (" +
                              secondary.status().ToString() + ")");
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++counts_[std::string(reference)];
  }
  total_.fetch_add(1);
  VIGIL_LOG_WARN("model {} could not be loaded ({}); serving fallback {} v{}", reference, error,
                 secondary->manifest.name, secondary->manifest.version);
  return ResolvedModel{std::move(*secondary), true, error};
}

int64_t ModelLoader::fallback_count() const { return total_.load(); }

std::map<std::string, int64_t> ModelLoader::fallback_counts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counts_;
}

}  // namespace vigil
