// The model_versions table as a mirror of the registry's files.
#include <set>

#include "vigil/registry/registry.h"

namespace vigil {
namespace {

ModelVersionRow RowOf(const Manifest& m, const std::filesystem::path& version_dir,
                      const std::map<std::string, int64_t>& aliases) {
  ModelVersionRow row;
  row.name = m.name;
  row.version = m.version;
  row.family = m.kind;
  row.task = std::string(TaskName(m.task));
  for (const auto& [alias, version] : aliases) {
    if (version == m.version) row.stage += (row.stage.empty() ? "" : ",") + alias;
  }
  row.config_json = m.parameters.dump();
  row.metrics_json = m.metrics.dump();
  row.feature_set = m.feature_set.name + "@" + m.feature_set.spec_hash;
  row.artifact_path = version_dir.string();
  if (m.training_data.rows > 0) {
    row.train_from = m.training_data.from;
    row.train_to = m.training_data.to;
  }
  row.created_at = m.created_at;
  return row;
}

}  // namespace

Status ModelRegistry::MirrorModel(Store& store, std::string_view name) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<int64_t> versions, Versions(name));
  VIGIL_ASSIGN_OR_RETURN(auto aliases, Aliases(name));
  std::vector<ModelVersionRow> rows;
  for (int64_t version : versions) {
    const std::string reference = std::string(name) + "@" + std::to_string(version);
    VIGIL_ASSIGN_OR_RETURN(Manifest manifest, Show(reference));
    rows.push_back(RowOf(manifest, dir_ / std::string(name) / std::to_string(version), aliases));
  }
  return store.ReplaceModelVersions(name, rows);
}

Status ModelRegistry::RebuildMirror(Store& store) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, Names());
  for (const std::string& name : names) VIGIL_RETURN_IF_ERROR(MirrorModel(store, name));
  VIGIL_ASSIGN_OR_RETURN(std::vector<ModelVersionRow> stored, store.ListModelVersions(""));
  std::set<std::string> gone;
  for (const ModelVersionRow& row : stored) gone.insert(row.name);
  for (const std::string& name : names) gone.erase(name);
  for (const std::string& name : gone) VIGIL_RETURN_IF_ERROR(store.ReplaceModelVersions(name, {}));
  return Status::Ok();
}

}  // namespace vigil
