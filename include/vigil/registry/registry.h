// The model registry: versioned model artifacts on disk, with manifests and aliases.
//
// Layout under the models directory ($VIGIL_HOME/models):
//   <name>/<version>/manifest.json   what was trained, on what, how well (Manifest)
//   <name>/<version>/...             the weight files the model's kind writes
//   <name>/aliases.json              {"aliases": {"production": 3, ...},
//                                     "history": {"production": [1, 2], ...}}
//   <name>/.staging-*                in-flight registrations (never visible as versions)
//
// Writes are atomic: a new version is written completely into a staging directory and
// then renamed to <name>/<version> (rename(2) of a directory is atomic), so a crash at any
// point leaves no partial version visible. Versions are integers from 1; two trainers
// registering the same name at once get distinct versions (a rename onto a version that
// appeared meanwhile fails, and the registration retries with the next number). Alias
// changes happen under an exclusive lock on <name>/.lock and are written atomically.
//
// References: "name" (its production version when one is set, else the latest),
// "name@7" (a version), "name@production" / "name@latest" / "name@<any alias>".
//
//   VIGIL_ASSIGN_OR_RETURN(auto registry, vigil::ModelRegistry::Open(home / "models"));
//   VIGIL_ASSIGN_OR_RETURN(vigil::Manifest stored, registry.Register(*model, manifest));
//   VIGIL_RETURN_IF_ERROR(registry.Promote("liq_btc", stored.version, "production"));
//   VIGIL_ASSIGN_OR_RETURN(vigil::LoadedModel live, registry.Load("liq_btc@production"));
//
// The files are the source of truth; the store's model_versions table mirrors them
// (MirrorModel / RebuildMirror) and can always be rebuilt from them.
// Thread-safety: a ModelRegistry may be used from several threads and processes at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"
#include "vigil/models/model.h"
#include "vigil/store/store.h"

namespace vigil {

namespace registry_internal {
class NameLock;
}  // namespace registry_internal

struct ManifestFeatureSet {
  std::string name;
  std::string spec_hash;              // 16 hex digits (spec.h)
  std::vector<std::string> features;  // ordered, as the model was fitted
};

struct ManifestTrainingData {
  std::vector<std::string> instruments;
  Timestamp from;  // first training row
  Timestamp to;    // last training row
  int64_t rows = 0;
  std::string fingerprint;  // content hash of the training matrix and labels
};

struct Manifest {
  std::string name;
  int64_t version = 0;  // set by Register
  std::string kind;     // the model factory's kind
  Task task = Task::kClassification;
  Timestamp created_at;
  ManifestFeatureSet feature_set;
  ManifestTrainingData training_data;
  nlohmann::json parameters = nlohmann::json::object();  // the model's config()
  uint64_t seed = 0;
  nlohmann::json metrics = nlohmann::json::object();  // validation metrics by name
  std::optional<int64_t> parent_version;              // the version it was retrained from
  std::string vigil_version;                          // set by Register
  // Free-form facts a training job records (risk task, label, search trials, calibration,
  // importance, fallback, ...). Written to manifest.json only when non-empty; manifests
  // without it load with an empty object.
  nlohmann::json details = nlohmann::json::object();

  nlohmann::ordered_json ToJson() const;
  // Fails (DataError naming `source` and the key) on a missing or mistyped key.
  static Result<Manifest> FromJson(const nlohmann::json& json, const std::string& source);
};

struct LoadedModel {
  Manifest manifest;
  std::unique_ptr<Model> model;
};

// Checks that features about to be scored match what a model was trained on: the same
// spec hash and the same names in the same order. The error says what differs.
Status CheckFeatures(const Manifest& manifest, std::string_view spec_hash,
                     const std::vector<std::string>& features);

// Model names: 1-64 characters of letters, digits, '_', '-', '.', not starting with '.'.
Status ValidateModelName(std::string_view name);

class ModelRegistry {
 public:
  // Opens (creating if needed) the models directory.
  static Result<ModelRegistry> Open(const std::filesystem::path& models_dir);

  const std::filesystem::path& dir() const { return dir_; }

  // Stores `model` (which must be fitted) as the next version of manifest.name and returns
  // the stored manifest (version, created_at if unset, vigil_version filled in).
  Result<Manifest> Register(const Model& model, Manifest manifest);

  // Names with at least one version, sorted.
  Result<std::vector<std::string>> Names() const;
  // Versions of `name`, ascending (empty when none).
  Result<std::vector<int64_t>> Versions(std::string_view name) const;
  // Aliases of `name`, including the automatic "latest" when a version exists.
  Result<std::map<std::string, int64_t>> Aliases(std::string_view name) const;
  // The version a reference resolves to (NotFound naming the reference).
  Result<int64_t> Resolve(std::string_view reference) const;
  Result<Manifest> Show(std::string_view reference) const;
  // The manifest and the model rebuilt from it (factory kind + config + weights).
  Result<LoadedModel> Load(std::string_view reference) const;

  // Points `alias` at `version` (which must exist), remembering the previous target so
  // Rollback can return to it. "latest" cannot be set.
  Status Promote(std::string_view name, int64_t version, std::string_view alias = "production");
  // Moves `alias` back to the version it pointed to before the last Promote; returns that
  // version. FailedPrecondition when there is no earlier version.
  Result<int64_t> Rollback(std::string_view name, std::string_view alias = "production");
  // Removes a version; refused (FailedPrecondition naming the aliases) while aliased.
  Status Delete(std::string_view name, int64_t version);
  // Removes all but the newest `keep` versions, never an aliased one; returns the removed
  // versions. Also clears staging directories left by crashed registrations.
  Result<std::vector<int64_t>> Purge(std::string_view name, int keep);

  // Mirrors the files into the store's model_versions table: one model's rows replaced by
  // its current versions (stage = the aliases pointing at each, comma-separated).
  Status MirrorModel(Store& store, std::string_view name) const;
  // Rebuilds the whole table from the files: every model on disk mirrored, rows of models
  // no longer on disk removed.
  Status RebuildMirror(Store& store) const;

 private:
  explicit ModelRegistry(std::filesystem::path dir) : dir_(std::move(dir)) {}
  // The per-name lock, taken once `version` of `name` is known to exist (NotFound otherwise).
  Result<registry_internal::NameLock> LockVersion(std::string_view name, int64_t version) const;
  std::filesystem::path dir_;
};

}  // namespace vigil
