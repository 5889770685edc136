#include "vigil/serve/live_models.h"

#include <utility>

#include "vigil/core/logging.h"
#include "vigil/models/risk_levels.h"

namespace vigil {

struct LiveModels::Slot {
  std::string name;
  std::mutex swap_mutex;  // serializes the loads and swaps of this name
  std::atomic<std::shared_ptr<const ServedModel>> current;
};

namespace {

// The risk task a training job recorded (details.task), or "" when there is none.
std::string RecordedTaskName(const Manifest& manifest) {
  const auto task = manifest.details.find("task");
  if (task == manifest.details.end() || !task->is_string()) return "";
  return task->get<std::string>();
}

// details.risk_levels.cutpoints, else the defaults.
Result<RiskCutpoints> ServingCutpoints(const Manifest& manifest) {
  const nlohmann::json& details = manifest.details;
  if (!details.contains("risk_levels") || !details["risk_levels"].is_object() ||
      !details["risk_levels"].contains("cutpoints")) {
    return RiskCutpoints{};
  }
  Result<RiskCutpoints> cutpoints = RiskCutpointsFromJson(details["risk_levels"]["cutpoints"]);
  if (!cutpoints.ok()) {
    return cutpoints.status().WithContext(manifest.name + "@" + std::to_string(manifest.version) +
                                          ": details.risk_levels.cutpoints");
  }
  return cutpoints;
}

bool SameModel(const ServedModel& a, const ServedModel& b) {
  return a.loaded.manifest.name == b.loaded.manifest.name && a.version == b.version &&
         a.is_fallback == b.is_fallback;
}

}  // namespace

Result<std::optional<FeatureSetSpec>> ResolveServingFeatureSet(const Manifest& manifest,
                                                               const LiveModelsOptions& options) {
  const std::string& set_name = manifest.feature_set.name;
  if (set_name.empty()) return std::optional<FeatureSetSpec>();
  const std::string model = manifest.name + "@" + std::to_string(manifest.version);
  Result<FeatureSetSpec> spec = NotFound("");
  const auto file = options.feature_set_files.find(set_name);
  if (file != options.feature_set_files.end()) {
    spec = LoadFeatureSetSpec(file->second.string());
    if (!spec.ok()) return spec.status().WithContext(model + ": feature set '" + set_name + "'");
  } else {
    spec = BuiltinFeatureSet(set_name);
    if (!spec.ok()) {
      return NotFound(model + " names feature set '" + set_name +
                      "', which is neither built in nor given in feature_set_files");
    }
  }
  Status matches = CheckFeatures(manifest, spec->SpecHashHex(), spec->Columns());
  if (!matches.ok()) return matches.WithContext(model + ": feature set '" + set_name + "'");
  return std::optional<FeatureSetSpec>(std::move(*spec));
}

LiveModels::LiveModels(ModelRegistry& registry, FallbackConfig fallbacks, LiveModelsOptions options)
    : registry_(registry),
      options_(std::move(options)),
      loader_(registry, std::move(fallbacks)),
      slots_(std::make_shared<const SlotMap>()) {}

LiveModels::~LiveModels() = default;

Result<std::shared_ptr<ServedModel>> LiveModels::LoadSnapshot(std::string_view name,
                                                              const ServedModel* previous) {
  const std::string reference = std::string(name) + "@" + options_.alias;
  // The task decides which fallback applies; when the manifest itself is unreadable the
  // previous snapshot still knows what the name serves.
  Result<Manifest> manifest = registry_.Show(reference);
  if (!manifest.ok() && previous == nullptr) return manifest.status();
  const Task task = manifest.ok() ? manifest->task : previous->loaded.manifest.task;
  const std::string task_name =
      manifest.ok() ? RecordedTaskName(*manifest) : RecordedTaskName(previous->loaded.manifest);
  VIGIL_ASSIGN_OR_RETURN(ResolvedModel resolved, task_name.empty()
                                                     ? loader_.Load(reference, task)
                                                     : loader_.LoadForTask(reference, task_name));
  auto served = std::make_shared<ServedModel>();
  served->name = std::string(name);
  served->alias = options_.alias;
  served->version = resolved.loaded.manifest.version;
  served->is_fallback = resolved.is_fallback;
  served->fallback_reason = std::move(resolved.error);
  served->loaded = std::move(resolved.loaded);
  const Manifest& loaded = served->loaded.manifest;
  VIGIL_ASSIGN_OR_RETURN(served->feature_set, ResolveServingFeatureSet(loaded, options_));
  const std::string loaded_task = RecordedTaskName(loaded);
  served->task_name = loaded_task.empty() ? std::string(TaskName(loaded.task)) : loaded_task;
  VIGIL_ASSIGN_OR_RETURN(served->cutpoints, ServingCutpoints(loaded));
  return served;
}

std::shared_ptr<LiveModels::Slot> LiveModels::FindSlot(std::string_view name) const {
  const std::shared_ptr<const SlotMap> slots = slots_.load(std::memory_order_acquire);
  const auto found = slots->find(name);
  return found == slots->end() ? nullptr : found->second;
}

Status LiveModels::Add(std::string_view name) {
  std::lock_guard<std::mutex> lock(add_mutex_);
  if (FindSlot(name) != nullptr) {
    return AlreadyExists("model '" + std::string(name) + "' is served already");
  }
  VIGIL_ASSIGN_OR_RETURN(std::shared_ptr<ServedModel> snapshot, LoadSnapshot(name, nullptr));
  snapshot->generation = generation_.fetch_add(1, std::memory_order_acq_rel) + 1;
  auto slot = std::make_shared<Slot>();
  slot->name = std::string(name);
  slot->current.store(std::move(snapshot), std::memory_order_release);
  auto slots = std::make_shared<SlotMap>(*slots_.load(std::memory_order_acquire));
  slots->emplace(std::string(name), std::move(slot));
  slots_.store(std::move(slots), std::memory_order_release);
  return Status::Ok();
}

std::shared_ptr<const ServedModel> LiveModels::Get(std::string_view name) const {
  const std::shared_ptr<Slot> slot = FindSlot(name);
  if (slot == nullptr) return nullptr;
  return slot->current.load(std::memory_order_acquire);
}

std::vector<std::string> LiveModels::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, slot] : *slots_.load(std::memory_order_acquire)) names.push_back(name);
  return names;
}

Result<bool> LiveModels::RefreshSlot(Slot& slot) {
  std::lock_guard<std::mutex> lock(slot.swap_mutex);
  const std::shared_ptr<const ServedModel> current = slot.current.load(std::memory_order_acquire);
  VIGIL_ASSIGN_OR_RETURN(int64_t version, registry_.Resolve(slot.name + "@" + options_.alias));
  if (current != nullptr && !current->is_fallback && current->version == version) return false;
  VIGIL_ASSIGN_OR_RETURN(std::shared_ptr<ServedModel> next, LoadSnapshot(slot.name, current.get()));
  // Still on the same fallback: nothing changed for the requests.
  if (current != nullptr && SameModel(*current, *next)) return false;
  next->generation = generation_.fetch_add(1, std::memory_order_acq_rel) + 1;
  VIGIL_LOG_INFO("serving {} v{}{} (was v{})", slot.name, next->version,
                 next->is_fallback ? " (fallback " + next->loaded.manifest.name + ")" : "",
                 current != nullptr ? current->version : 0);
  slot.current.store(std::move(next), std::memory_order_release);
  return true;
}

Result<bool> LiveModels::Refresh(std::string_view name) {
  const std::shared_ptr<Slot> slot = FindSlot(name);
  if (slot == nullptr) return NotFound("model '" + std::string(name) + "' is not served");
  return RefreshSlot(*slot);
}

std::vector<std::string> LiveModels::RefreshAll() {
  std::vector<std::string> swapped;
  for (const std::string& name : Names()) {
    Result<bool> refreshed = Refresh(name);
    if (!refreshed.ok()) {
      VIGIL_LOG_WARN("refresh of {} failed, still serving the previous version: {}", name,
                     refreshed.status().ToString());
    } else if (*refreshed) {
      swapped.push_back(name);
    }
  }
  return swapped;
}

Status LiveModels::Promote(std::string_view name, int64_t version, std::string_view alias) {
  VIGIL_RETURN_IF_ERROR(registry_.Promote(name, version, alias));
  if (alias != options_.alias || FindSlot(name) == nullptr) return Status::Ok();
  return Refresh(name).status();
}

Result<int64_t> LiveModels::Rollback(std::string_view name, std::string_view alias) {
  VIGIL_ASSIGN_OR_RETURN(int64_t version, registry_.Rollback(name, alias));
  if (alias == options_.alias && FindSlot(name) != nullptr) {
    VIGIL_RETURN_IF_ERROR(Refresh(name).status());
  }
  return version;
}

int64_t LiveModels::fallback_count() const { return loader_.fallback_count(); }

PeriodicRefresh::PeriodicRefresh(LiveModels& models, std::chrono::milliseconds interval)
    : models_(models), interval_(interval), thread_([this] { Loop(); }) {}

PeriodicRefresh::~PeriodicRefresh() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void PeriodicRefresh::Loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    models_.RefreshAll();  // logs each swap and each failed load
    lock.lock();
  }
}

}  // namespace vigil
