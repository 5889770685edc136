// Fallback models: what serves a task when its production model cannot be loaded.
//
// A production model can become unloadable: its files were damaged or removed, it was
// written by a kind this build does not have, or it is of the wrong task. Scoring must
// not stop, so each task may name a fallback (any registry reference, typically a simple,
// robust model such as `risk_baseline@production`). ModelLoader tries the requested model
// first and the task's fallback second; every fallback is logged as a warning and counted,
// per requested reference, for monitoring.
//
//   vigil::FallbackConfig fallbacks;
//   fallbacks.by_task[vigil::Task::kClassification] = "risk_baseline@production";
//   vigil::ModelLoader loader(registry, fallbacks);
//   VIGIL_ASSIGN_OR_RETURN(vigil::ResolvedModel live,
//                          loader.Load("liq_btc@production", vigil::Task::kClassification));
//   if (live.is_fallback) ...  // live.error says why the production model was not used
//
// Risk tasks are served by name: a training job with `fallback:` registers
// "<name>_fallback" and records its reference (TrainingResult::fallback_reference, and the
// manifest's details.fallback.reference), which serving maps to the task's name:
//
//   fallbacks.by_task_name["liquidation"] = result.fallback_reference;
//   VIGIL_ASSIGN_OR_RETURN(vigil::ResolvedModel live,
//                          loader.LoadForTask("liq_btc@production", "liquidation"));
//
// A model loaded for a task name must be of that risk task when its manifest records one
// (details.task, written by training jobs); otherwise it counts as unloadable.
//
// Thread-safety: Load and the counters may be called from several threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "vigil/core/status.h"
#include "vigil/registry/registry.h"

namespace vigil {

struct FallbackConfig {
  std::map<Task, std::string> by_task;  // task -> registry reference
  // Risk task name ("liquidation", "crash", ...) -> registry reference.
  std::map<std::string, std::string> by_task_name;
};

// The fallback a registered model's training job recorded (details.fallback.reference);
// NotFound when its manifest records none.
Result<std::string> RecordedFallback(const ModelRegistry& registry, std::string_view reference);

struct ResolvedModel {
  LoadedModel loaded;
  bool is_fallback = false;
  std::string error;  // why the requested model was not used ("" when it was)
};

class ModelLoader {
 public:
  // `registry` must outlive the loader.
  ModelLoader(const ModelRegistry& registry, FallbackConfig fallbacks);

  // The model `reference` resolves to, when it loads and is of `task`; otherwise the task's
  // fallback (logged and counted). Fails, naming both errors, when there is no fallback for
  // the task or it cannot be loaded either (or is of another task).
  Result<ResolvedModel> Load(std::string_view reference, Task task);
  // The same by risk task name: `reference` must load and record that task (details.task);
  // otherwise by_task_name's fallback for it, which must record the task too.
  Result<ResolvedModel> LoadForTask(std::string_view reference, std::string_view task_name);

  int64_t fallback_count() const;  // every fallback so far
  // Fallbacks so far by the reference that could not be loaded.
  std::map<std::string, int64_t> fallback_counts() const;

 private:
  Result<ResolvedModel> ServeFallback(std::string_view reference, const std::string& error,
                                      Result<LoadedModel> fallback,
                                      const std::string& fallback_ref);

  const ModelRegistry& registry_;
  FallbackConfig fallbacks_;
  mutable std::mutex mutex_;
  std::map<std::string, int64_t> counts_;  // GUARDED_BY(mutex_)
  std::atomic<int64_t> total_{0};
};

}  // namespace vigil
