// The run-only sections of the `vigil run` config: source, alerts (rules, webhooks),
// scheduler, refresh_models_ms, predictions (serve_config.h has the keys).
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>

#include "serve/serve_config_internal.h"
#include "vigil/data/market_data.h"
#include "vigil/data/reader.h"
#include "vigil/pipeline/scheduler.h"
#include "vigil/serve/serve_config.h"

namespace vigil {
namespace serve_config_internal {
namespace {

namespace fs = std::filesystem;

Result<double> ParseSpeed(const YamlSource& src, const YAML::Node& source) {
  const YAML::Node node = source["speed"];
  if (!Present(node)) return 0.0;
  if (node.IsScalar() && node.Scalar() == "max") return 0.0;
  double speed = 0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, speed) || !std::isfinite(speed) ||
      speed <= 0) {
    return src.Error(node, "source.speed",
                     "expected max or a number > 0 (data seconds per second; 1 = real time)");
  }
  return speed;
}

Result<FileSourceSpec> ParseFileSpec(const YamlSource& src, const YAML::Node& node,
                                     const std::string& where, const fs::path& base_dir) {
  if (!node.IsMap()) return src.Error(node, where, "expected a map with path and kind");
  const std::string p = where + ".";
  VIGIL_RETURN_IF_ERROR(
      src.CheckKeys(node, p, {"path", "kind", "format", "venue", "symbol", "timeframe"}));
  FileSourceSpec spec;
  VIGIL_ASSIGN_OR_RETURN(fs::path path, PathIn(src, node, "path", p, base_dir));
  if (path.empty()) return src.Error(node, p + "path", "required (the file to replay)");
  spec.path = path.string();
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> kind, src.String(node, "kind", p));
  if (kind) {
    Result<DataKind> parsed = ParseDataKind(*kind);
    if (!parsed.ok()) return src.Error(node["kind"], p + "kind", parsed.status().message());
    spec.kind = *parsed;
  }
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> format, src.String(node, "format", p));
  if (format) {
    if (Result<FileFormat> parsed = ParseFileFormat(*format); !parsed.ok()) {
      return src.Error(node["format"], p + "format", parsed.status().message());
    }
    spec.format = *format;
  }
  for (auto [key, field] : {std::pair{"venue", &spec.venue}, std::pair{"symbol", &spec.symbol},
                            std::pair{"timeframe", &spec.timeframe}}) {
    VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> value, src.String(node, key, p));
    if (value) *field = *value;
  }
  return spec;
}

Status ParseFiles(const YamlSource& src, const YAML::Node& source, const fs::path& base_dir,
                  std::vector<FileSourceSpec>* out) {
  const YAML::Node files = source["files"];
  if (!Present(files)) return Status::Ok();
  if (!files.IsSequence()) return src.Error(files, "source.files", "expected a list of files");
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string where = "source.files[" + std::to_string(i) + "]";
    VIGIL_ASSIGN_OR_RETURN(FileSourceSpec spec, ParseFileSpec(src, files[i], where, base_dir));
    out->push_back(std::move(spec));
  }
  return Status::Ok();
}

Status ParseSimulator(const YamlSource& src, const YAML::Node& source, SimulationOptions* out) {
  const std::string p = "source.simulator.";
  VIGIL_ASSIGN_OR_RETURN(
      YAML::Node node, SubMap(src, source, "simulator", "source.",
                              {"instruments", "days", "seed", "start", "venue", "volatility_scale",
                               "flash_crashes_per_week", "oracle_deviations_per_week",
                               "vault_drawdowns_per_week", "volume_spikes_per_week"}));
  if (!node.IsDefined()) return Status::Ok();
  VIGIL_ASSIGN_OR_RETURN(out->instruments,
                         IntIn(src, node, "instruments", p, out->instruments, 1, 50));
  VIGIL_ASSIGN_OR_RETURN(out->days, IntIn(src, node, "days", p, out->days, 1, 3650));
  VIGIL_ASSIGN_OR_RETURN(int64_t seed, IntIn(src, node, "seed", p, static_cast<int64_t>(out->seed),
                                             0, std::numeric_limits<int64_t>::max()));
  out->seed = static_cast<uint64_t>(seed);
  VIGIL_ASSIGN_OR_RETURN(std::optional<Timestamp> start, src.Time(node, "start", p));
  if (start) out->start = *start;
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> venue, src.String(node, "venue", p));
  if (venue) out->venue = *venue;
  for (auto [key, field] :
       {std::pair{"volatility_scale", &out->volatility_scale},
        std::pair{"flash_crashes_per_week", &out->flash_crashes_per_week},
        std::pair{"oracle_deviations_per_week", &out->oracle_deviations_per_week},
        std::pair{"vault_drawdowns_per_week", &out->vault_drawdowns_per_week},
        std::pair{"volume_spikes_per_week", &out->volume_spikes_per_week}}) {
    VIGIL_ASSIGN_OR_RETURN(std::optional<double> value, src.Double(node, key, p));
    if (value) *field = *value;
  }
  return Locate(src, node, p, ValidateSimulationOptions(*out));
}

Result<std::vector<DataKind>> ParseKinds(const YamlSource& src, const YAML::Node& source) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names,
                         src.StringList(source, "kinds", "source."));
  std::vector<DataKind> kinds;
  for (const std::string& name : names) {
    Result<DataKind> kind = ParseDataKind(name);
    if (!kind.ok()) return src.Error(source["kinds"], "source.kinds", kind.status().message());
    kinds.push_back(*kind);
  }
  return kinds;
}

Status ParseStoreReplay(const YamlSource& src, const YAML::Node& source, StoreReplayOptions* out) {
  VIGIL_ASSIGN_OR_RETURN(out->instruments, src.StringList(source, "instruments", "source."));
  for (const std::string& instrument : out->instruments) {
    if (Result<Instrument> parsed = Instrument::Parse(instrument); !parsed.ok()) {
      return src.Error(source["instruments"], "source.instruments", parsed.status().message());
    }
  }
  VIGIL_ASSIGN_OR_RETURN(out->kinds, ParseKinds(src, source));
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> timeframe,
                         src.String(source, "timeframe", "source."));
  if (timeframe) out->timeframe = *timeframe;
  VIGIL_ASSIGN_OR_RETURN(std::optional<Timestamp> from, src.Time(source, "from", "source."));
  VIGIL_ASSIGN_OR_RETURN(std::optional<Timestamp> to, src.Time(source, "to", "source."));
  if (from) out->from = *from;
  if (to) out->to = *to;
  if (out->from >= out->to) return src.Error(source["to"], "source.to", "must be after from");
  return Status::Ok();
}

Status ParseSource(const YamlSource& src, const YAML::Node& root, const fs::path& base_dir,
                   SourceConfig* out) {
  VIGIL_ASSIGN_OR_RETURN(YAML::Node source,
                         SubMap(src, root, "source", "",
                                {"kind", "speed", "instruments", "kinds", "timeframe", "from", "to",
                                 "files", "simulator"}));
  if (!source.IsDefined()) return Status::Ok();
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> kind, src.String(source, "kind", "source."));
  if (kind == "files") {
    out->kind = SourceKind::kFiles;
  } else if (kind == "simulator") {
    out->kind = SourceKind::kSimulator;
  } else if (kind && *kind != "store") {
    return src.Error(source["kind"], "source.kind",
                     "'" + *kind + "' is not one of store, files, simulator");
  }
  VIGIL_ASSIGN_OR_RETURN(out->speed, ParseSpeed(src, source));
  out->store.pace.speed = out->speed;
  VIGIL_RETURN_IF_ERROR(ParseStoreReplay(src, source, &out->store));
  VIGIL_RETURN_IF_ERROR(ParseFiles(src, source, base_dir, &out->files));
  if (out->kind == SourceKind::kFiles && out->files.empty()) {
    return src.Error(source, "source.files", "required with kind: files (a non-empty list)");
  }
  return ParseSimulator(src, source, &out->simulation);
}

// YAML -> JSON for the alert rules (alert_rules.h parses JSON). Plain scalars become
// null, booleans or numbers when they read as one; quoted scalars stay strings.
nlohmann::json YamlToJson(const YAML::Node& node) {
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const YAML::Node& item : node) out.push_back(YamlToJson(item));
    return out;
  }
  if (node.IsMap()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& item : node) out[item.first.Scalar()] = YamlToJson(item.second);
    return out;
  }
  if (!node.IsScalar()) return nullptr;
  if (node.Tag() == "!") return node.Scalar();
  int64_t integer = 0;
  double number = 0;
  bool flag = false;
  if (YAML::convert<int64_t>::decode(node, integer)) return integer;
  if (YAML::convert<double>::decode(node, number) && std::isfinite(number)) return number;
  if (YAML::convert<bool>::decode(node, flag)) return flag;
  if (node.Scalar() == "~" || node.Scalar() == "null") return nullptr;
  return node.Scalar();
}

// ParseAlertRules names "alerts.rules[i].field" but no line; this finds the line.
Status LocateRuleError(const YamlSource& src, const YAML::Node& rules, const Status& status) {
  std::string message = status.message();
  const size_t at = message.find("alerts.rules");
  if (at == std::string::npos) return src.Error(rules, "alerts.rules", message);
  message.erase(0, at);
  const size_t colon = message.find(": ");
  const std::string key = message.substr(0, colon);
  const std::string problem = colon == std::string::npos ? "invalid" : message.substr(colon + 2);
  YAML::Node node = rules;
  const size_t open = key.find('[');
  if (open != std::string::npos) {
    const size_t index = std::strtoul(key.c_str() + open + 1, nullptr, 10);
    if (index < rules.size()) node = rules[index];
    const size_t dot = key.find('.', open);
    if (dot != std::string::npos && node.IsMap()) {
      const std::string field = key.substr(dot + 1, key.find_first_of(".[", dot + 1) - dot - 1);
      if (node[field].IsDefined()) node = node[field];
    }
  }
  return src.Error(node, key, problem);
}

Result<WebhookOptions> ParseWebhook(const YamlSource& src, const YAML::Node& node,
                                    const std::string& where) {
  if (!node.IsMap()) return src.Error(node, where, "expected a map with url");
  const std::string p = where + ".";
  VIGIL_RETURN_IF_ERROR(
      src.CheckKeys(node, p,
                    {"url", "headers", "timeout_ms", "max_attempts", "initial_backoff_ms",
                     "backoff_factor", "max_backoff_ms", "queue_capacity"}));
  WebhookOptions hook;
  VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> url, src.String(node, "url", p));
  hook.url = url.value_or("");
  const YAML::Node headers = node["headers"];
  if (Present(headers)) {
    if (!headers.IsMap()) return src.Error(headers, p + "headers", "expected a map name: value");
    for (const auto& item : headers) hook.headers[item.first.Scalar()] = item.second.Scalar();
  }
  constexpr int64_t kHour = 3'600'000;
  VIGIL_ASSIGN_OR_RETURN(int64_t timeout,
                         IntIn(src, node, "timeout_ms", p, hook.timeout.count(), 1, kHour));
  VIGIL_ASSIGN_OR_RETURN(hook.max_attempts,
                         IntIn(src, node, "max_attempts", p, hook.max_attempts, 1, 100));
  VIGIL_ASSIGN_OR_RETURN(int64_t initial, IntIn(src, node, "initial_backoff_ms", p,
                                                hook.initial_backoff.count(), 0, kHour));
  VIGIL_ASSIGN_OR_RETURN(int64_t max_backoff,
                         IntIn(src, node, "max_backoff_ms", p, hook.max_backoff.count(), 0, kHour));
  VIGIL_ASSIGN_OR_RETURN(hook.queue_capacity,
                         IntIn(src, node, "queue_capacity", p, hook.queue_capacity, 1, 10'000'000));
  VIGIL_ASSIGN_OR_RETURN(std::optional<double> factor, src.Double(node, "backoff_factor", p));
  if (factor) hook.backoff_factor = *factor;
  hook.timeout = std::chrono::milliseconds(timeout);
  hook.initial_backoff = std::chrono::milliseconds(initial);
  hook.max_backoff = std::chrono::milliseconds(max_backoff);
  VIGIL_RETURN_IF_ERROR(Locate(src, node, p, hook.Validate()));
  return hook;
}

Status ParseAlerts(const YamlSource& src, const YAML::Node& root, RunConfig* out) {
  VIGIL_ASSIGN_OR_RETURN(YAML::Node alerts, SubMap(src, root, "alerts", "", {"rules", "webhooks"}));
  if (!alerts.IsDefined()) return Status::Ok();
  const YAML::Node rules = alerts["rules"];
  if (Present(rules)) {
    if (!rules.IsSequence()) return src.Error(rules, "alerts.rules", "expected a list of rules");
    Result<std::vector<AlertRule>> parsed = ParseAlertRules(YamlToJson(rules), src.name);
    if (!parsed.ok()) return LocateRuleError(src, rules, parsed.status());
    out->rules = std::move(*parsed);
  }
  const YAML::Node hooks = alerts["webhooks"];
  if (!Present(hooks)) return Status::Ok();
  if (!hooks.IsSequence()) return src.Error(hooks, "alerts.webhooks", "expected a list");
  for (size_t i = 0; i < hooks.size(); ++i) {
    VIGIL_ASSIGN_OR_RETURN(
        WebhookOptions hook,
        ParseWebhook(src, hooks[i], "alerts.webhooks[" + std::to_string(i) + "]"));
    out->webhooks.push_back(std::move(hook));
  }
  return Status::Ok();
}

Status ParseScheduler(const YamlSource& src, const YAML::Node& root, const fs::path& base_dir,
                      RunConfig* out) {
  VIGIL_ASSIGN_OR_RETURN(fs::path path, PathIn(src, root, "scheduler", "", base_dir));
  if (path.empty()) return Status::Ok();
  // Loaded now so a broken scheduler file fails at start-up, not at the first run.
  if (Status loaded = LoadSchedulerConfig(path).status(); !loaded.ok()) {
    return src.Error(root["scheduler"], "scheduler", loaded.message());
  }
  out->scheduler = path;
  return Status::Ok();
}

}  // namespace

Status ParseRunSections(const YamlSource& src, const YAML::Node& root, const fs::path& base_dir,
                        RunConfig* out) {
  VIGIL_RETURN_IF_ERROR(ParseSource(src, root, base_dir, &out->source));
  VIGIL_RETURN_IF_ERROR(ParseAlerts(src, root, out));
  VIGIL_RETURN_IF_ERROR(ParseScheduler(src, root, base_dir, out));
  VIGIL_ASSIGN_OR_RETURN(int64_t refresh, IntIn(src, root, "refresh_models_ms", "",
                                                out->refresh_models.count(), 0, 86'400'000));
  out->refresh_models = std::chrono::milliseconds(refresh);
  VIGIL_ASSIGN_OR_RETURN(YAML::Node sink,
                         SubMap(src, root, "predictions", "", {"flush_rows", "flush_ms"}));
  if (!sink.IsDefined()) return Status::Ok();
  VIGIL_ASSIGN_OR_RETURN(
      out->predictions.flush_rows,
      IntIn(src, sink, "flush_rows", "predictions.", out->predictions.flush_rows, 1, 10'000'000));
  VIGIL_ASSIGN_OR_RETURN(int64_t flush_ms,
                         IntIn(src, sink, "flush_ms", "predictions.",
                               out->predictions.flush_interval.count(), 1, 3'600'000));
  out->predictions.flush_interval = std::chrono::milliseconds(flush_ms);
  return Locate(src, sink, "predictions.", out->predictions.Validate());
}

}  // namespace serve_config_internal

Status PredictionSinkOptions::Validate() const {
  if (flush_rows < 1 || flush_rows > 10'000'000) {
    return InvalidArgument("flush_rows: " + std::to_string(flush_rows) +
                           " is out of range 1-10000000");
  }
  if (flush_interval.count() < 1 || flush_interval.count() > 3'600'000) {
    return InvalidArgument("flush_ms: " + std::to_string(flush_interval.count()) +
                           " is out of range 1-3600000");
  }
  return Status::Ok();
}

}  // namespace vigil
