// The models a live process serves, swapped atomically when a new version is promoted.
//
// Each served name resolves through the registry to `name@alias` (alias "production" by
// default, with the task's fallback when that cannot be loaded; fallback.h). A request
// takes one snapshot, a shared_ptr to an immutable ServedModel, and uses it for all of its
// rows, so a promotion never drops a request and never mixes two versions in one answer:
// requests that started before the swap finish on the old version, later ones get the new.
//
//   vigil::LiveModels models(registry, fallbacks);
//   VIGIL_RETURN_IF_ERROR(models.Add("liq_btc"));
//   std::shared_ptr<const vigil::ServedModel> live = models.Get("liq_btc");
//   VIGIL_ASSIGN_OR_RETURN(vigil::ScoredRows out, vigil::ScoreRows(*live, x));
//   VIGIL_RETURN_IF_ERROR(models.Promote("liq_btc", 7, "production"));  // swaps at once
//
// Feature sets: a served model is scored on the feature set named by its manifest, resolved
// as a built-in set or through `feature_set_files` (set name -> YAML path); CheckFeatures
// must pass. A model fitted on a CSV (no set) is served for rows given in requests only.
// Risk tasks: a manifest that records details.task ("crash", "liquidation") is loaded with
// ModelLoader::LoadForTask, so its fallback is fallbacks.by_task_name[task]; others with
// Load and fallbacks.by_task. A fallback snapshot keeps the served name; `loaded` is the
// fallback's, so features() are the fallback's own.
// Thread-safety: every method may be called from any thread. Get takes no mutex: two
// atomic loads (the slot map, copied on write by Add, and the slot's snapshot). Swaps of
// one name are serialized; loads happen outside any lock Get could wait on.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/features/spec.h"
#include "vigil/models/model.h"
#include "vigil/pipeline/fallback.h"
#include "vigil/registry/registry.h"

namespace vigil {

// One immutable loaded version, shared by the requests using it.
struct ServedModel {
  std::string name;  // the served name (the registry name asked for)
  std::string alias;
  int64_t version = 0;       // the version actually loaded
  bool is_fallback = false;  // loaded.manifest.name differs from `name` then
  std::string fallback_reason;
  LoadedModel loaded;
  std::optional<FeatureSetSpec> feature_set;  // absent for models fitted on a CSV
  std::string task_name;                      // details.task ("liquidation", ...) or TaskName(task)
  RiskCutpoints cutpoints;                    // details.risk_levels.cutpoints, else the defaults
  // Generation of LiveModels when this snapshot was installed (monotonic).
  uint64_t generation = 0;

  const Model& model() const { return *loaded.model; }
  const std::vector<std::string>& features() const { return loaded.manifest.feature_set.features; }
};

struct LiveModelsOptions {
  std::string alias = "production";
  // Feature-set name -> YAML file, for sets that are not built in.
  std::map<std::string, std::filesystem::path> feature_set_files;
};

class LiveModels {
 public:
  // `registry` must outlive this object.
  LiveModels(ModelRegistry& registry, FallbackConfig fallbacks, LiveModelsOptions options = {});
  ~LiveModels();
  LiveModels(const LiveModels&) = delete;
  LiveModels& operator=(const LiveModels&) = delete;

  // Starts serving `name` (loads name@alias now). NotFound / the load error otherwise;
  // AlreadyExists when served already.
  Status Add(std::string_view name);
  // The current snapshot; nullptr when `name` is not served.
  std::shared_ptr<const ServedModel> Get(std::string_view name) const;
  // Served names, sorted.
  std::vector<std::string> Names() const;

  // Re-resolves name@alias and, when the version differs from the snapshot's (or the
  // snapshot is a fallback and the model now loads), loads it and swaps. Returns whether it
  // swapped. A failed load keeps the old snapshot and returns the error. NotFound when
  // `name` is not served.
  Result<bool> Refresh(std::string_view name);
  // Refresh for every served name; returns the names swapped (errors are logged).
  std::vector<std::string> RefreshAll();

  // Registry promotion (ModelRegistry::Promote) followed by Refresh of `name` when `alias`
  // is the served alias. Errors as the registry's (NotFound for an unknown version).
  Status Promote(std::string_view name, int64_t version, std::string_view alias);
  // Registry rollback followed by Refresh; returns the version now under `alias`.
  Result<int64_t> Rollback(std::string_view name, std::string_view alias);

  // Increments on every swap; caches key on it to drop answers of replaced versions.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  ModelRegistry& registry() { return registry_; }
  const ModelRegistry& registry() const { return registry_; }
  int64_t fallback_count() const;

 private:
  struct Slot;
  using SlotMap = std::map<std::string, std::shared_ptr<Slot>, std::less<>>;
  // A new snapshot of name@alias; `previous` (may be null) supplies the task when the
  // manifest itself cannot be read.
  Result<std::shared_ptr<ServedModel>> LoadSnapshot(std::string_view name,
                                                    const ServedModel* previous);
  std::shared_ptr<Slot> FindSlot(std::string_view name) const;
  Result<bool> RefreshSlot(Slot& slot);

  ModelRegistry& registry_;
  LiveModelsOptions options_;
  mutable ModelLoader loader_;
  std::mutex add_mutex_;  // serializes Add (copy-on-write of the slot map)
  // Copy-on-write: readers load the map atomically, Add installs a copy with one more slot
  // (slots are never removed), so Get takes no lock.
  std::atomic<std::shared_ptr<const SlotMap>> slots_;
  std::atomic<uint64_t> generation_{0};
};

// Picks up promotions made elsewhere (`vigil models promote`, a training job in another
// process, the API of another server): a thread calling models.RefreshAll() every
// `interval` until destroyed. The destructor wakes it and joins at once.
//   vigil::PeriodicRefresh refresh(models, std::chrono::seconds(5));
class PeriodicRefresh {
 public:
  // `models` must outlive this object; interval > 0.
  PeriodicRefresh(LiveModels& models, std::chrono::milliseconds interval);
  ~PeriodicRefresh();
  PeriodicRefresh(const PeriodicRefresh&) = delete;
  PeriodicRefresh& operator=(const PeriodicRefresh&) = delete;

 private:
  void Loop();
  LiveModels& models_;
  const std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

// The feature set a manifest names: built in, or from options.feature_set_files; checked
// with CheckFeatures. nullopt for a model fitted without a feature set.
Result<std::optional<FeatureSetSpec>> ResolveServingFeatureSet(const Manifest& manifest,
                                                               const LiveModelsOptions& options);

}  // namespace vigil
