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

// The model behind `reference`, required to record risk task `task_name` (a model whose
// manifest records no task, such as one registered by hand, is accepted).
Result<LoadedModel> LoadOfTaskName(const ModelRegistry& registry, std::string_view reference,
                                   std::string_view task_name) {
  VIGIL_ASSIGN_OR_RETURN(LoadedModel loaded, registry.Load(reference));
  const std::string recorded = loaded.manifest.details.value("task", "");
  if (!recorded.empty() && recorded != task_name) {
    return FailedPrecondition(std::string(reference) + " is a " + recorded + " model, not " +
                              std::string(task_name));
  }
  return loaded;
}

}  // namespace

Result<std::string> RecordedFallback(const ModelRegistry& registry, std::string_view reference) {
  VIGIL_ASSIGN_OR_RETURN(Manifest manifest, registry.Show(reference));
  const auto fallback = manifest.details.find("fallback");
  if (fallback == manifest.details.end() || !fallback->is_object() ||
      !fallback->contains("reference") || !(*fallback)["reference"].is_string()) {
    return NotFound(std::string(reference) + " records no fallback model");
  }
  return (*fallback)["reference"].get<std::string>();
}

ModelLoader::ModelLoader(const ModelRegistry& registry, FallbackConfig fallbacks)
    : registry_(registry), fallbacks_(std::move(fallbacks)) {}

Result<ResolvedModel> ModelLoader::ServeFallback(std::string_view reference,
                                                 const std::string& error,
                                                 Result<LoadedModel> fallback,
                                                 const std::string& fallback_ref) {
  if (!fallback.ok()) {
    return FailedPrecondition("cannot load " + std::string(reference) + " (" + error +
                              ") nor its fallback " + fallback_ref + " (" +
                              fallback.status().ToString() + ")");
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++counts_[std::string(reference)];
  }
  total_.fetch_add(1);
  VIGIL_LOG_WARN("model {} could not be loaded ({}); serving fallback {} v{}", reference, error,
                 fallback->manifest.name, fallback->manifest.version);
  return ResolvedModel{std::move(*fallback), true, error};
}

Result<ResolvedModel> ModelLoader::Load(std::string_view reference, Task task) {
  Result<LoadedModel> primary = LoadOfTask(registry_, reference, task);
  if (primary.ok()) return ResolvedModel{std::move(*primary), false, ""};
  const auto fallback = fallbacks_.by_task.find(task);
  if (fallback == fallbacks_.by_task.end()) {
    return primary.status().WithContext("no fallback configured for " +
                                        std::string(TaskName(task)) + " models");
  }
  return ServeFallback(reference, primary.status().ToString(),
                       LoadOfTask(registry_, fallback->second, task), fallback->second);
}

Result<ResolvedModel> ModelLoader::LoadForTask(std::string_view reference,
                                               std::string_view task_name) {
  Result<LoadedModel> primary = LoadOfTaskName(registry_, reference, task_name);
  if (primary.ok()) return ResolvedModel{std::move(*primary), false, ""};
  const auto fallback = fallbacks_.by_task_name.find(std::string(task_name));
  if (fallback == fallbacks_.by_task_name.end()) {
    return primary.status().WithContext("no fallback configured for " + std::string(task_name) +
                                        " models");
  }
  return ServeFallback(reference, primary.status().ToString(),
                       LoadOfTaskName(registry_, fallback->second, task_name), fallback->second);
}

int64_t ModelLoader::fallback_count() const { return total_.load(); }

std::map<std::string, int64_t> ModelLoader::fallback_counts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return counts_;
}

}  // namespace vigil
