#include "pipeline/yaml_fields.h"

#include <cmath>

namespace vigil::pipeline_internal {
namespace {

bool Present(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

}  // namespace

Status YamlSource::Error(const YAML::Node& node, const std::string& key,
                         const std::string& problem) const {
  const int line = node.IsDefined() ? node.Mark().line + 1 : 0;
  return InvalidArgument(name + ":" + std::to_string(line) + ": " + key + ": " + problem);
}

Status YamlSource::CheckKeys(const YAML::Node& map, const std::string& prefix,
                             const std::set<std::string>& allowed) const {
  if (!map.IsMap()) return Error(map, prefix.empty() ? "(top level)" : prefix, "expected a map");
  for (const auto& item : map) {
    const std::string key = item.first.Scalar();
    if (allowed.count(key) > 0) continue;
    std::string list;
    for (const std::string& known : allowed) list += (list.empty() ? "" : ", ") + known;
    return Error(item.first, prefix + key, "unknown key (expected one of " + list + ")");
  }
  return Status::Ok();
}

Result<std::optional<std::string>> YamlSource::String(const YAML::Node& map, const std::string& key,
                                                      const std::string& prefix) const {
  const YAML::Node node = map[key];
  if (!Present(node)) return std::optional<std::string>();
  if (!node.IsScalar()) return Error(node, prefix + key, "expected a value, not a list or map");
  return std::optional<std::string>(node.Scalar());
}

Result<std::optional<double>> YamlSource::Double(const YAML::Node& map, const std::string& key,
                                                 const std::string& prefix) const {
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> text, String(map, key, prefix));
  if (!text) return std::optional<double>();
  double value = 0;
  if (!YAML::convert<double>::decode(map[key], value) || !std::isfinite(value)) {
    return Error(map[key], prefix + key, "'" + *text + "' is not a number");
  }
  return std::optional<double>(value);
}

Result<std::optional<int64_t>> YamlSource::Int(const YAML::Node& map, const std::string& key,
                                               const std::string& prefix) const {
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> text, String(map, key, prefix));
  if (!text) return std::optional<int64_t>();
  int64_t value = 0;
  if (!YAML::convert<int64_t>::decode(map[key], value)) {
    return Error(map[key], prefix + key, "'" + *text + "' is not an integer");
  }
  return std::optional<int64_t>(value);
}

Result<std::optional<bool>> YamlSource::Bool(const YAML::Node& map, const std::string& key,
                                             const std::string& prefix) const {
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> text, String(map, key, prefix));
  if (!text) return std::optional<bool>();
  bool value = false;
  if (!YAML::convert<bool>::decode(map[key], value)) {
    return Error(map[key], prefix + key, "'" + *text + "' is not true or false");
  }
  return std::optional<bool>(value);
}

Result<std::optional<int64_t>> YamlSource::Duration(const YAML::Node& map, const std::string& key,
                                                    const std::string& prefix) const {
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> text, String(map, key, prefix));
  if (!text) return std::optional<int64_t>();
  Result<int64_t> nanos = ParseDuration(*text);
  if (!nanos.ok() || *nanos < 0) {
    return Error(map[key], prefix + key, "'" + *text + "' is not a duration like 15m, 12h or 3d");
  }
  return std::optional<int64_t>(*nanos);
}

Result<std::optional<Timestamp>> YamlSource::Time(const YAML::Node& map, const std::string& key,
                                                  const std::string& prefix) const {
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> text, String(map, key, prefix));
  if (!text) return std::optional<Timestamp>();
  Result<Timestamp> time = Timestamp::ParseIso(*text);
  if (!time.ok()) {
    return Error(map[key], prefix + key, "'" + *text + "' is not an ISO-8601 time or date");
  }
  return std::optional<Timestamp>(*time);
}

Result<std::vector<std::string>> YamlSource::StringList(const YAML::Node& map,
                                                        const std::string& key,
                                                        const std::string& prefix) const {
  const YAML::Node node = map[key];
  std::vector<std::string> out;
  if (!Present(node)) return out;
  if (node.IsScalar()) return std::vector<std::string>{node.Scalar()};
  if (!node.IsSequence()) return Error(node, prefix + key, "expected a list");
  for (const YAML::Node& item : node) {
    if (!item.IsScalar()) return Error(item, prefix + key, "expected a list of values");
    out.push_back(item.Scalar());
  }
  return out;
}

Result<YAML::Node> ParseYamlMap(const std::string& text, const YamlSource& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return InvalidArgument(source.name + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) return InvalidArgument(source.name + ":1: expected a map of keys");
  return root;
}

}  // namespace vigil::pipeline_internal
