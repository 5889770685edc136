// The serve / run config file: YAML -> ServeConfig / RunConfig, with every error as
// "<file>:<line>: <key.path>: <problem>" (the located readers of pipeline/yaml_fields.h).
// This file: the shared readers and the serve sections (store, server, models); the
// run-only sections are in serve_config_run.cc.
#include "vigil/serve/serve_config.h"

#include <set>

#include "serve/serve_config_internal.h"
#include "vigil/core/text_file.h"
#include "vigil/pipeline/training_config.h"

namespace vigil {

namespace fs = std::filesystem;

namespace serve_config_internal {

bool Present(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

Status Locate(const YamlSource& src, const YAML::Node& map, const std::string& prefix,
              const Status& status) {
  if (status.ok()) return status;
  const std::string& message = status.message();
  const size_t colon = message.find(": ");
  if (colon != std::string::npos) {
    const std::string field = message.substr(0, colon);
    const std::string key = field.substr(0, field.find_first_of(".["));
    if (map.IsMap() && map[key].IsDefined()) {
      return src.Error(map[key], prefix + field, message.substr(colon + 2));
    }
    return src.Error(map, prefix + field, message.substr(colon + 2));
  }
  std::string where = prefix.empty() ? "(top level)" : prefix.substr(0, prefix.size() - 1);
  return src.Error(map, where, message);
}

Result<int64_t> IntIn(const YamlSource& src, const YAML::Node& map, const std::string& key,
                      const std::string& prefix, int64_t fallback, int64_t min, int64_t max) {
  VIGIL_ASSIGN_OR_RETURN(std::optional<int64_t> value, src.Int(map, key, prefix));
  if (!value) return fallback;
  if (*value < min || *value > max) {
    return src.Error(map[key], prefix + key,
                     std::to_string(*value) + " is out of range " + std::to_string(min) + "-" +
                         std::to_string(max));
  }
  return *value;
}

Result<fs::path> PathIn(const YamlSource& src, const YAML::Node& map, const std::string& key,
                        const std::string& prefix, const fs::path& base_dir) {
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> text, src.String(map, key, prefix));
  if (!text) return fs::path();
  if (text->empty()) return src.Error(map[key], prefix + key, "expected a file path");
  return (base_dir / *text).lexically_normal();
}

Result<YAML::Node> SubMap(const YamlSource& src, const YAML::Node& map, const std::string& key,
                          const std::string& prefix, const std::set<std::string>& allowed) {
  const YAML::Node node = map[key];
  if (!Present(node)) return YAML::Node(YAML::NodeType::Undefined);
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(node, prefix + key + ".", allowed));
  return node;
}

}  // namespace serve_config_internal

using serve_config_internal::IntIn;
using serve_config_internal::Locate;
using serve_config_internal::ParseRunSections;
using serve_config_internal::PathIn;
using serve_config_internal::Present;
using serve_config_internal::SubMap;
using serve_config_internal::YamlSource;

namespace {

// "sqlite:relative.db" resolves against the config's directory; other URLs stay as given.
std::string ResolveStoreUrl(const std::string& url, const fs::path& base_dir) {
  constexpr std::string_view kSqlite = "sqlite:";
  if (!url.starts_with(kSqlite)) return url;
  const fs::path file = url.substr(kSqlite.size());
  if (file.empty() || file.is_absolute() || file == ":memory:") return url;
  return std::string(kSqlite) + (base_dir / file).lexically_normal().string();
}

Status ParseRateLimit(const YamlSource& src, const YAML::Node& map, const std::string& key,
                      const std::string& prefix, RateLimit* out) {
  VIGIL_ASSIGN_OR_RETURN(YAML::Node node, SubMap(src, map, key, prefix, {"rate", "burst"}));
  if (!node.IsDefined()) return Status::Ok();
  const std::string where = prefix + key + ".";
  VIGIL_ASSIGN_OR_RETURN(std::optional<double> rate, src.Double(node, "rate", where));
  VIGIL_ASSIGN_OR_RETURN(std::optional<double> burst, src.Double(node, "burst", where));
  if (rate) out->rate = *rate;
  if (burst) out->burst = *burst;
  return Locate(src, node, where, out->Validate());
}

Result<ApiKeyEntry> ParseApiKey(const YamlSource& src, const YAML::Node& node,
                                const std::string& where) {
  VIGIL_RETURN_IF_ERROR(
      src.CheckKeys(node, where + ".", {"name", "salt", "sha256", "rate", "burst"}));
  ApiKeyEntry entry;
  const std::string prefix = where + ".";
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> name, src.String(node, "name", prefix));
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> salt, src.String(node, "salt", prefix));
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> sha, src.String(node, "sha256", prefix));
  entry.name = name.value_or("");
  entry.salt_hex = salt.value_or("");
  entry.sha256_hex = sha.value_or("");
  VIGIL_ASSIGN_OR_RETURN(std::optional<double> rate, src.Double(node, "rate", prefix));
  VIGIL_ASSIGN_OR_RETURN(std::optional<double> burst, src.Double(node, "burst", prefix));
  entry.rate = rate.value_or(0.0);
  entry.burst = burst.value_or(0.0);
  VIGIL_RETURN_IF_ERROR(Locate(src, node, prefix, entry.Validate()));
  return entry;
}

Status ParseApiKeys(const YamlSource& src, const YAML::Node& server, ServerOptions* out) {
  const YAML::Node keys = server["api_keys"];
  if (!Present(keys)) return Status::Ok();
  if (!keys.IsSequence()) return src.Error(keys, "server.api_keys", "expected a list of keys");
  std::set<std::string> names;
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string where = "server.api_keys[" + std::to_string(i) + "]";
    if (!keys[i].IsMap())
      return src.Error(keys[i], where, "expected a map with name, salt, sha256");
    VIGIL_ASSIGN_OR_RETURN(ApiKeyEntry entry, ParseApiKey(src, keys[i], where));
    if (!names.insert(entry.name).second) {
      return src.Error(keys[i]["name"], where + ".name", "duplicate key name '" + entry.name + "'");
    }
    out->api_keys.push_back(std::move(entry));
  }
  return Status::Ok();
}

Status ParseServerParts(const YamlSource& src, const YAML::Node& server, const fs::path& base_dir,
                        ServerOptions* out) {
  const std::string p = "server.";
  VIGIL_ASSIGN_OR_RETURN(YAML::Node batching,
                         SubMap(src, server, "batching", p, {"max_batch_rows", "max_wait_us"}));
  if (batching.IsDefined()) {
    VIGIL_ASSIGN_OR_RETURN(out->batching.max_batch_rows,
                           IntIn(src, batching, "max_batch_rows", p + "batching.",
                                 out->batching.max_batch_rows, 1, 65536));
    VIGIL_ASSIGN_OR_RETURN(int64_t wait, IntIn(src, batching, "max_wait_us", p + "batching.",
                                               out->batching.max_wait.count(), 0, 1'000'000));
    out->batching.max_wait = std::chrono::microseconds(wait);
    VIGIL_RETURN_IF_ERROR(Locate(src, batching, p + "batching.", out->batching.Validate()));
  }
  VIGIL_ASSIGN_OR_RETURN(YAML::Node cache,
                         SubMap(src, server, "cache", p, {"ttl_ms", "max_entries"}));
  if (cache.IsDefined()) {
    VIGIL_ASSIGN_OR_RETURN(int64_t ttl, IntIn(src, cache, "ttl_ms", p + "cache.",
                                              out->cache.ttl.count(), 0, 3'600'000));
    out->cache.ttl = std::chrono::milliseconds(ttl);
    VIGIL_ASSIGN_OR_RETURN(out->cache.max_entries, IntIn(src, cache, "max_entries", p + "cache.",
                                                         out->cache.max_entries, 1, 10'000'000));
    VIGIL_RETURN_IF_ERROR(Locate(src, cache, p + "cache.", out->cache.Validate()));
  }
  VIGIL_ASSIGN_OR_RETURN(YAML::Node tls, SubMap(src, server, "tls", p, {"cert", "key"}));
  if (tls.IsDefined()) {
    VIGIL_ASSIGN_OR_RETURN(out->tls.cert, PathIn(src, tls, "cert", p + "tls.", base_dir));
    VIGIL_ASSIGN_OR_RETURN(out->tls.key, PathIn(src, tls, "key", p + "tls.", base_dir));
    if (out->tls.cert.empty() != out->tls.key.empty()) {
      return src.Error(tls, "server.tls", "give both cert and key, or neither");
    }
  }
  VIGIL_RETURN_IF_ERROR(ParseRateLimit(src, server, "rate_limit", p, &out->key_rate_limit));
  VIGIL_RETURN_IF_ERROR(
      ParseRateLimit(src, server, "anonymous_rate_limit", p, &out->anonymous_rate_limit));
  return ParseApiKeys(src, server, out);
}

Status ParseServer(const YamlSource& src, const YAML::Node& root, const fs::path& base_dir,
                   ServerOptions* out) {
  VIGIL_ASSIGN_OR_RETURN(
      YAML::Node server,
      SubMap(
          src, root, "server", "",
          {"host", "port", "threads", "max_body_bytes", "require_key_for_reads", "api_keys",
           "rate_limit", "anonymous_rate_limit", "batching", "cache", "tls", "shutdown_grace_ms"}));
  if (!server.IsDefined()) return out->Validate();
  const std::string p = "server.";
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> host, src.String(server, "host", p));
  if (host) out->host = *host;
  VIGIL_ASSIGN_OR_RETURN(out->port, IntIn(src, server, "port", p, out->port, 0, 65535));
  VIGIL_ASSIGN_OR_RETURN(out->threads, IntIn(src, server, "threads", p, out->threads, 1, 4096));
  VIGIL_ASSIGN_OR_RETURN(out->max_body_bytes, IntIn(src, server, "max_body_bytes", p,
                                                    out->max_body_bytes, 1024, int64_t{1} << 30));
  VIGIL_ASSIGN_OR_RETURN(std::optional<bool> reads, src.Bool(server, "require_key_for_reads", p));
  if (reads) out->require_key_for_reads = *reads;
  VIGIL_ASSIGN_OR_RETURN(int64_t grace, IntIn(src, server, "shutdown_grace_ms", p,
                                              out->shutdown_grace.count(), 0, 3'600'000));
  out->shutdown_grace = std::chrono::milliseconds(grace);
  VIGIL_RETURN_IF_ERROR(ParseServerParts(src, server, base_dir, out));
  return Locate(src, server, p, out->Validate());
}

Result<std::vector<std::string>> ModelNames(const YamlSource& src, const YAML::Node& models,
                                            const std::string& key) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, src.StringList(models, key, "models."));
  for (const std::string& name : names) {
    if (name.empty()) return src.Error(models[key], "models." + key, "empty model name");
  }
  return names;
}

Status ParseFallbacks(const YamlSource& src, const YAML::Node& models, FallbackConfig* out) {
  const YAML::Node node = models["fallbacks"];
  if (!Present(node)) return Status::Ok();
  if (!node.IsMap()) return src.Error(node, "models.fallbacks", "expected a map task: model@alias");
  for (const auto& item : node) {
    const std::string task = item.first.Scalar();
    const std::string key = "models.fallbacks." + task;
    if (!item.second.IsScalar() || item.second.Scalar().empty()) {
      return src.Error(item.second, key, "expected a model reference such as name@production");
    }
    if (Result<RiskTask> risk = ParseRiskTask(task); risk.ok() && *risk != RiskTask::kNone) {
      out->by_task_name[task] = item.second.Scalar();
    } else if (Result<Task> plain = ParseTask(task); plain.ok()) {
      out->by_task[*plain] = item.second.Scalar();
    } else {
      return src.Error(item.first, key,
                       "unknown task (a task such as classification or a risk "
                       "task such as liquidation)");
    }
  }
  return Status::Ok();
}

Status ParseFeatureSetFiles(const YamlSource& src, const YAML::Node& models,
                            const fs::path& base_dir, LiveModelsOptions* out) {
  const YAML::Node node = models["feature_sets"];
  if (!Present(node)) return Status::Ok();
  if (!node.IsMap()) return src.Error(node, "models.feature_sets", "expected a map name: file");
  for (const auto& item : node) {
    const std::string name = item.first.Scalar();
    if (!item.second.IsScalar() || item.second.Scalar().empty()) {
      return src.Error(item.second, "models.feature_sets." + name, "expected a file path");
    }
    out->feature_set_files[name] = (base_dir / item.second.Scalar()).lexically_normal();
  }
  return Status::Ok();
}

Status ParseModels(const YamlSource& src, const YAML::Node& root, const fs::path& base_dir,
                   ServedModelsConfig* out) {
  VIGIL_ASSIGN_OR_RETURN(YAML::Node models, SubMap(src, root, "models", "",
                                                   {"risk", "liquidation", "anomaly", "predict",
                                                    "alias", "fallbacks", "feature_sets"}));
  if (!models.IsDefined()) return Status::Ok();
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> risk, src.String(models, "risk", "models."));
  if (risk) out->risk = *risk;
  VIGIL_ASSIGN_OR_RETURN(out->liquidation, ModelNames(src, models, "liquidation"));
  VIGIL_ASSIGN_OR_RETURN(out->anomaly, ModelNames(src, models, "anomaly"));
  VIGIL_ASSIGN_OR_RETURN(out->predict, ModelNames(src, models, "predict"));
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> alias, src.String(models, "alias", "models."));
  if (alias) {
    if (alias->empty()) return src.Error(models["alias"], "models.alias", "empty alias");
    out->live.alias = *alias;
  }
  VIGIL_RETURN_IF_ERROR(ParseFallbacks(src, models, &out->fallbacks));
  return ParseFeatureSetFiles(src, models, base_dir, &out->live);
}

const std::set<std::string> kRunKeys = {
    "store",      "server", "models", "source", "alerts", "scheduler", "refresh_models_ms",
    "predictions"};

Status ParseServeInto(const YamlSource& src, const YAML::Node& root, const fs::path& base_dir,
                      ServeConfig* out) {
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> store, src.String(root, "store"));
  if (store) {
    if (store->empty()) return src.Error(root["store"], "store", "expected a store URL");
    out->store_url = ResolveStoreUrl(*store, base_dir);
  }
  VIGIL_RETURN_IF_ERROR(ParseServer(src, root, base_dir, &out->server));
  return ParseModels(src, root, base_dir, &out->models);
}

}  // namespace

Status ServerOptions::Validate() const {
  if (host.empty()) return InvalidArgument("host: must not be empty");
  if (port < 0 || port > 65535) {
    return InvalidArgument("port: " + std::to_string(port) + " is out of range 0-65535");
  }
  if (threads < 1 || threads > 4096) {
    return InvalidArgument("threads: " + std::to_string(threads) + " is out of range 1-4096");
  }
  if (max_body_bytes < 1024 || max_body_bytes > (int64_t{1} << 30)) {
    return InvalidArgument("max_body_bytes: " + std::to_string(max_body_bytes) +
                           " is out of range 1024-1073741824");
  }
  for (size_t i = 0; i < api_keys.size(); ++i) {
    if (Status valid = api_keys[i].Validate(); !valid.ok()) {
      return InvalidArgument("api_keys[" + std::to_string(i) + "]." + valid.message());
    }
  }
  if (Status valid = key_rate_limit.Validate(); !valid.ok()) {
    return InvalidArgument("rate_limit." + valid.message());
  }
  if (Status valid = anonymous_rate_limit.Validate(); !valid.ok()) {
    return InvalidArgument("anonymous_rate_limit." + valid.message());
  }
  if (Status valid = batching.Validate(); !valid.ok()) {
    return InvalidArgument("batching." + valid.message());
  }
  if (Status valid = cache.Validate(); !valid.ok())
    return InvalidArgument("cache." + valid.message());
  if (tls.cert.empty() != tls.key.empty()) {
    return InvalidArgument("tls: give both cert and key, or neither");
  }
  if (shutdown_grace.count() < 0) return InvalidArgument("shutdown_grace_ms: must be >= 0");
  return Status::Ok();
}

std::vector<std::string> ServedModelsConfig::AllNames() const {
  std::set<std::string> names(liquidation.begin(), liquidation.end());
  names.insert(anomaly.begin(), anomaly.end());
  names.insert(predict.begin(), predict.end());
  if (!risk.empty()) names.insert(risk);
  return {names.begin(), names.end()};
}

Result<ServeConfig> ParseServeConfig(std::string_view yaml, std::string_view source,
                                     const fs::path& base_dir) {
  // A run config may be given to `vigil serve` too; its run-only sections are checked and
  // then not used.
  VIGIL_ASSIGN_OR_RETURN(RunConfig run, ParseRunConfig(yaml, source, base_dir));
  return std::move(run.serve);
}

Result<RunConfig> ParseRunConfig(std::string_view yaml, std::string_view source,
                                 const fs::path& base_dir) {
  const YamlSource src{std::string(source)};
  VIGIL_ASSIGN_OR_RETURN(YAML::Node root, ParseYamlMap(std::string(yaml), src));
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(root, "", kRunKeys));
  RunConfig run;
  VIGIL_RETURN_IF_ERROR(ParseServeInto(src, root, base_dir, &run.serve));
  VIGIL_RETURN_IF_ERROR(ParseRunSections(src, root, base_dir, &run));
  return run;
}

Result<ServeConfig> LoadServeConfig(const fs::path& path) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path.string()));
  return ParseServeConfig(text, path.string(), fs::absolute(path).parent_path());
}

Result<RunConfig> LoadRunConfig(const fs::path& path) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path.string()));
  return ParseRunConfig(text, path.string(), fs::absolute(path).parent_path());
}

}  // namespace vigil
