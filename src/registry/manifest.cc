// Manifest <-> JSON, and the feature check a loaded model applies before scoring.
#include <string>

#include "vigil/registry/registry.h"

namespace vigil {
namespace {

using Json = nlohmann::json;

// A typed field of `json`, or DataError "<source>: manifest key '<key>' ...".
template <typename T>
Result<T> Field(const Json& json, const char* key, const std::string& source) {
  const auto found = json.find(key);
  if (found == json.end()) {
    return DataError(source + ": manifest key '" + key + "' is missing");
  }
  try {
    return found->get<T>();
  } catch (const Json::exception&) {
    return DataError(source + ": manifest key '" + key + "' has the wrong type");
  }
}

Result<Json> Object(const Json& json, const char* key, const std::string& source) {
  VIGIL_ASSIGN_OR_RETURN(Json value, Field<Json>(json, key, source));
  if (!value.is_object()) {
    return DataError(source + ": manifest key '" + key + "' must be an object");
  }
  return value;
}

}  // namespace

nlohmann::ordered_json Manifest::ToJson() const {
  nlohmann::ordered_json out;
  out["name"] = name;
  out["version"] = version;
  out["kind"] = kind;
  out["task"] = std::string(TaskName(task));
  out["created_at"] = created_at.ToIso();
  out["feature_set"] = {{"name", feature_set.name},
                        {"spec_hash", feature_set.spec_hash},
                        {"features", feature_set.features}};
  out["training_data"] = {{"instruments", training_data.instruments},
                          {"from", training_data.from.ToIso()},
                          {"to", training_data.to.ToIso()},
                          {"rows", training_data.rows},
                          {"fingerprint", training_data.fingerprint}};
  out["parameters"] = parameters;
  out["seed"] = seed;
  out["metrics"] = metrics;
  out["parent_version"] =
      parent_version ? nlohmann::ordered_json(*parent_version) : nlohmann::ordered_json(nullptr);
  out["vigil_version"] = vigil_version;
  if (!details.is_null() && !details.empty()) out["details"] = details;
  return out;
}

Result<Manifest> Manifest::FromJson(const Json& json, const std::string& source) {
  if (!json.is_object()) return DataError(source + ": a manifest must be a JSON object");
  Manifest m;
  VIGIL_ASSIGN_OR_RETURN(m.name, Field<std::string>(json, "name", source));
  VIGIL_ASSIGN_OR_RETURN(m.version, Field<int64_t>(json, "version", source));
  VIGIL_ASSIGN_OR_RETURN(m.kind, Field<std::string>(json, "kind", source));
  VIGIL_ASSIGN_OR_RETURN(std::string task, Field<std::string>(json, "task", source));
  Result<Task> parsed_task = ParseTask(task);
  if (!parsed_task.ok())
    return DataError(source + ": manifest task: " + parsed_task.status().message());
  m.task = *parsed_task;
  VIGIL_ASSIGN_OR_RETURN(std::string created, Field<std::string>(json, "created_at", source));
  Result<Timestamp> created_at = Timestamp::ParseIso(created);
  if (!created_at.ok()) return DataError(source + ": manifest created_at: " + created);
  m.created_at = *created_at;

  VIGIL_ASSIGN_OR_RETURN(Json features, Object(json, "feature_set", source));
  VIGIL_ASSIGN_OR_RETURN(m.feature_set.name, Field<std::string>(features, "name", source));
  VIGIL_ASSIGN_OR_RETURN(m.feature_set.spec_hash,
                         Field<std::string>(features, "spec_hash", source));
  VIGIL_ASSIGN_OR_RETURN(m.feature_set.features,
                         Field<std::vector<std::string>>(features, "features", source));

  VIGIL_ASSIGN_OR_RETURN(Json data, Object(json, "training_data", source));
  VIGIL_ASSIGN_OR_RETURN(m.training_data.instruments,
                         Field<std::vector<std::string>>(data, "instruments", source));
  for (const char* key : {"from", "to"}) {
    VIGIL_ASSIGN_OR_RETURN(std::string text, Field<std::string>(data, key, source));
    Result<Timestamp> t = Timestamp::ParseIso(text);
    if (!t.ok()) return DataError(source + ": manifest training_data." + key + ": " + text);
    (std::string(key) == "from" ? m.training_data.from : m.training_data.to) = *t;
  }
  VIGIL_ASSIGN_OR_RETURN(m.training_data.rows, Field<int64_t>(data, "rows", source));
  VIGIL_ASSIGN_OR_RETURN(m.training_data.fingerprint,
                         Field<std::string>(data, "fingerprint", source));

  VIGIL_ASSIGN_OR_RETURN(m.parameters, Object(json, "parameters", source));
  VIGIL_ASSIGN_OR_RETURN(m.seed, Field<uint64_t>(json, "seed", source));
  VIGIL_ASSIGN_OR_RETURN(m.metrics, Object(json, "metrics", source));
  const auto parent = json.find("parent_version");
  if (parent != json.end() && !parent->is_null()) {
    if (!parent->is_number_integer()) {
      return DataError(source + ": manifest key 'parent_version' has the wrong type");
    }
    m.parent_version = parent->get<int64_t>();
  }
  VIGIL_ASSIGN_OR_RETURN(m.vigil_version, Field<std::string>(json, "vigil_version", source));
  if (json.contains("details")) {
    VIGIL_ASSIGN_OR_RETURN(m.details, Object(json, "details", source));
  }
  return m;
}

Status CheckFeatures(const Manifest& manifest, std::string_view spec_hash,
                     const std::vector<std::string>& features) {
  const std::string model = manifest.name + "@" + std::to_string(manifest.version);
  if (spec_hash != manifest.feature_set.spec_hash) {
    return FailedPrecondition(model + " was trained on feature set '" + manifest.feature_set.name +
                              "' with spec hash " + manifest.feature_set.spec_hash + ", not " +
                              std::string(spec_hash));
  }
  const std::vector<std::string>& want = manifest.feature_set.features;
  if (features.size() != want.size()) {
    return FailedPrecondition(model + " expects " + std::to_string(want.size()) +
                              " features, got " + std::to_string(features.size()));
  }
  for (size_t i = 0; i < want.size(); ++i) {
    if (features[i] != want[i]) {
      return FailedPrecondition(model + " expects feature " + std::to_string(i) + " to be '" +
                                want[i] + "', got '" + features[i] + "'");
    }
  }
  return Status::Ok();
}

}  // namespace vigil
