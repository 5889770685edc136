#include "vigil/core/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace vigil {

struct Config::Impl {
  YAML::Node root;
  std::string source;
};

Config::Config() : impl_(std::make_unique<Impl>()) {}
Config::~Config() = default;
Config::Config(const Config& other) : impl_(std::make_unique<Impl>(*other.impl_)) {}
Config& Config::operator=(const Config& other) {
  if (this != &other) impl_ = std::make_unique<Impl>(*other.impl_);
  return *this;
}
Config::Config(Config&&) noexcept = default;
Config& Config::operator=(Config&&) noexcept = default;

const std::string& Config::source_name() const { return impl_->source; }

Result<Config> Config::LoadString(std::string_view yaml, std::string source_name) {
  Config config;
  config.impl_->source = std::move(source_name);
  try {
    config.impl_->root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return ParseError(config.impl_->source + ":" + std::to_string(e.mark.line + 1) + ":" +
                      std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  if (config.impl_->root.IsNull()) config.impl_->root = YAML::Node(YAML::NodeType::Map);
  if (!config.impl_->root.IsMap()) {
    return ParseError(config.impl_->source + ": the document must be a map of keys");
  }
  return config;
}

Result<Config> Config::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return IoError("cannot open config file '" + path + "'");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return LoadString(buffer.str(), path);
}

namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size() && !path.empty()) {
    size_t dot = path.find('.', start);
    if (dot == std::string_view::npos) dot = path.size();
    parts.emplace_back(path.substr(start, dot - start));
    start = dot + 1;
  }
  return parts;
}

// Walks `path` without modifying the tree (yaml-cpp's non-const operator[] inserts
// missing keys and operator= rebinds shared storage, so only const look-ups and
// reset() are used). Returns an undefined node when a key is missing.
YAML::Node Find(const YAML::Node& root, std::string_view path) {
  YAML::Node node;
  node.reset(root);
  for (const std::string& key : SplitPath(path)) {
    if (!node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& current = node;
    YAML::Node child = current[key];
    if (!child.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
    node.reset(child);
  }
  return node;
}

Status TypeError(const std::string& source, std::string_view path, const YAML::Node& node,
                 std::string_view expected) {
  std::string got = node.IsScalar()     ? "'" + node.Scalar() + "'"
                    : node.IsMap()      ? std::string("a map")
                    : node.IsSequence() ? std::string("a list")
                                        : std::string("null");
  return InvalidArgument(source + ":" + std::to_string(node.Mark().line + 1) + ": " +
                         std::string(path) + ": expected " + std::string(expected) + ", got " +
                         got);
}

template <typename T>
bool ParseNumber(const std::string& text, T* out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

}  // namespace

bool Config::Has(std::string_view path) const { return Find(impl_->root, path).IsDefined(); }

Result<std::string> Config::GetString(std::string_view path, std::string fallback) const {
  YAML::Node node = Find(impl_->root, path);
  if (!node.IsDefined()) return fallback;
  if (!node.IsScalar()) return TypeError(impl_->source, path, node, "a string");
  return node.Scalar();
}

Result<double> Config::GetDouble(std::string_view path, double fallback, double min,
                                 double max) const {
  YAML::Node node = Find(impl_->root, path);
  if (!node.IsDefined()) return fallback;
  double value = 0;
  std::string expected = "a number in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (!node.IsScalar() || !ParseNumber(node.Scalar(), &value) || value < min || value > max) {
    return TypeError(impl_->source, path, node, expected);
  }
  return value;
}

Result<int64_t> Config::GetInt(std::string_view path, int64_t fallback, int64_t min,
                               int64_t max) const {
  YAML::Node node = Find(impl_->root, path);
  if (!node.IsDefined()) return fallback;
  int64_t value = 0;
  std::string expected = "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (!node.IsScalar() || !ParseNumber(node.Scalar(), &value) || value < min || value > max) {
    return TypeError(impl_->source, path, node, expected);
  }
  return value;
}

Result<bool> Config::GetBool(std::string_view path, bool fallback) const {
  YAML::Node node = Find(impl_->root, path);
  if (!node.IsDefined()) return fallback;
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  return TypeError(impl_->source, path, node, "true or false");
}

Result<std::vector<std::string>> Config::GetStringList(std::string_view path) const {
  YAML::Node node = Find(impl_->root, path);
  std::vector<std::string> out;
  if (!node.IsDefined()) return out;
  if (!node.IsSequence()) return TypeError(impl_->source, path, node, "a list of strings");
  for (const YAML::Node& item : node) {
    if (!item.IsScalar()) return TypeError(impl_->source, path, item, "a string list item");
    out.push_back(item.Scalar());
  }
  return out;
}

Result<std::vector<std::string>> Config::Keys(std::string_view path) const {
  YAML::Node node = path.empty() ? impl_->root : Find(impl_->root, path);
  std::vector<std::string> keys;
  if (!node.IsDefined()) return keys;
  if (!node.IsMap()) return TypeError(impl_->source, path, node, "a map");
  for (const auto& item : node) keys.push_back(item.first.as<std::string>());
  return keys;
}

Status Config::CheckKeys(std::string_view path, const std::vector<std::string>& allowed) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> keys, Keys(path));
  for (const std::string& key : keys) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string full = path.empty() ? key : std::string(path) + "." + key;
      return InvalidArgument(impl_->source + ": " + full + ": unknown key");
    }
  }
  return Status::Ok();
}

}  // namespace vigil
