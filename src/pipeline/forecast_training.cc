// `task: forecast` training: config sections, rolling-origin validation, the gate and the
// registration of a forecasting model (forecast_training.h).
#include "vigil/pipeline/forecast_training.h"

#include <array>
#include <cmath>
#include <cstdio>

#include "pipeline/forecast_training_internal.h"
#include "sha256_fingerprint.h"

namespace vigil {
namespace pipeline_internal {

Status CheckForecastKeys(const YamlSource& src, const YAML::Node& root) {
  for (const char* key :
       {"features", "label", "imbalance", "calibration", "risk_levels", "search", "fallback"}) {
    if (root[key].IsDefined()) {
      return src.Error(root[key], key, "does not apply to task forecast");
    }
  }
  return Status::Ok();
}

Status ParseForecastData(const YamlSource& src, const YAML::Node& root, TrainingConfig& config) {
  const YAML::Node data = root["data"];
  if (!data.IsDefined()) return src.Error(root, "data", "missing (data.instrument, data.field)");
  const std::string p = "data.";
  VIGIL_RETURN_IF_ERROR(src.CheckKeys(
      data, p, {"instrument", "field", "timeframe", "from", "to", "every", "transform"}));
  StoreSeriesSpec& spec = config.forecast_series;
  VIGIL_ASSIGN_OR_RETURN(auto instrument, src.String(data, "instrument", p));
  VIGIL_ASSIGN_OR_RETURN(auto field, src.String(data, "field", p));
  if (!instrument) return src.Error(data, p + "instrument", "missing (venue:symbol)");
  if (!field) return src.Error(data, p + "field", "missing (e.g. close or score:<model>)");
  spec.instrument = *instrument;
  spec.field = *field;
  VIGIL_ASSIGN_OR_RETURN(auto timeframe, src.Duration(data, "timeframe", p));
  VIGIL_ASSIGN_OR_RETURN(auto from, src.Time(data, "from", p));
  VIGIL_ASSIGN_OR_RETURN(auto to, src.Time(data, "to", p));
  VIGIL_ASSIGN_OR_RETURN(auto every, src.Duration(data, "every", p));
  VIGIL_ASSIGN_OR_RETURN(auto transform, src.String(data, "transform", p));
  if (timeframe) spec.timeframe = FormatDuration(*timeframe);
  if (from) spec.from = *from;
  if (to) spec.to = *to;
  spec.every_ns = every.value_or(0);
  if (transform) {
    Result<SeriesTransform> parsed = ParseSeriesTransform(*transform);
    if (!parsed.ok())
      return src.Error(data["transform"], p + "transform", parsed.status().message());
    spec.transform = *parsed;
  }
  const Status valid = spec.Validate();
  if (!valid.ok()) return src.Error(data, "data", valid.message());
  config.instruments = {spec.instrument};
  config.from = spec.from;
  config.to = spec.to;
  return Status::Ok();
}

// validation.levels: fractions in (0, 1), or percents (80, 95).
Status ParseLevels(const YamlSource& src, const YAML::Node& node, std::vector<double>& levels) {
  if (!node.IsDefined() || node.IsNull()) return Status::Ok();
  const std::string key = "validation.levels";
  if (!node.IsSequence() || node.size() == 0) return src.Error(node, key, "expected [0.8, 0.95]");
  levels.clear();
  for (const YAML::Node& item : node) {
    double level = 0;
    if (!item.IsScalar() || !YAML::convert<double>::decode(item, level)) {
      return src.Error(item, key, "expected numbers");
    }
    if (level >= 1) level /= 100;
    if (!(level > 0 && level < 1)) return src.Error(item, key, "each level must be in (0, 1)");
    levels.push_back(level);
  }
  return Status::Ok();
}

Status ParseForecastValidation(const YamlSource& src, const YAML::Node& root,
                               TrainingConfig& config) {
  const YAML::Node node = root["validation"];
  if (!node.IsDefined()) return src.Error(root, "validation", "missing (e.g. {horizon: 24})");
  const std::string p = "validation.";
  VIGIL_RETURN_IF_ERROR(
      src.CheckKeys(node, p, {"horizon", "origins", "refit_every", "min_train", "levels"}));
  ForecastValidationConfig& out = config.forecast_validation;
  const auto positive = [&](const char* key, int minimum, int& value) -> Status {
    VIGIL_ASSIGN_OR_RETURN(auto parsed, src.Int(node, key, p));
    if (!parsed) return Status::Ok();
    if (*parsed < minimum || *parsed > 1'000'000) {
      return src.Error(node[key], p + key,
                       "must be between " + std::to_string(minimum) + " and 1000000");
    }
    value = static_cast<int>(*parsed);
    return Status::Ok();
  };
  if (!node["horizon"].IsDefined()) return src.Error(node, p + "horizon", "missing (steps ahead)");
  VIGIL_RETURN_IF_ERROR(positive("horizon", 1, out.horizon));
  VIGIL_RETURN_IF_ERROR(positive("origins", 1, out.origins));
  VIGIL_RETURN_IF_ERROR(positive("refit_every", 1, out.refit_every));
  VIGIL_RETURN_IF_ERROR(positive("min_train", 2, out.min_train));
  return ParseLevels(src, node["levels"], out.levels);
}

}  // namespace pipeline_internal

namespace {

constexpr const char* kBaselines[] = {"naive", "drift"};

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", value);
  return text;
}

// "coverage_80" for 0.8.
std::string CoverageName(double level) {
  char text[32];
  std::snprintf(text, sizeof(text), "coverage_%g", level * 100.0);
  return text;
}

std::string SeriesFingerprint(const ForecastSeries& series) {
  pipeline_internal::Sha256Fingerprint fingerprint;
  for (const Timestamp& ts : series.times) {
    const int64_t nanos = ts.nanos();
    fingerprint.Add(&nanos, sizeof(nanos));
  }
  fingerprint.AddValues(series.values);
  return fingerprint.Hex();
}

nlohmann::json SeriesDetails(const TrainingConfig& config, const ForecastSeries& series) {
  const StoreSeriesSpec& spec = config.forecast_series;
  nlohmann::json out = {{"instrument", spec.instrument},
                        {"field", spec.field},
                        {"timeframe", spec.timeframe},
                        {"every", spec.every_ns > 0 ? FormatDuration(spec.every_ns) : ""},
                        {"transform", SeriesTransformName(spec.transform)},
                        {"values", series.size()},
                        {"skipped", series.skipped}};
  if (series.has_times()) out["last"] = series.times.back().ToIso();
  return out;
}

Manifest BuildForecastManifest(const TrainingConfig& config, const ForecastSeries& series,
                               const Model& model, Timestamp now) {
  Manifest manifest;
  manifest.name = config.name;
  manifest.kind = std::string(model.kind());
  manifest.task = Task::kForecast;
  manifest.created_at = now;
  manifest.feature_set = {config.forecast_series.field, "", model.feature_names()};
  manifest.training_data.instruments = config.instruments;
  if (series.has_times()) {
    manifest.training_data.from = series.times.front();
    manifest.training_data.to = series.times.back();
  }
  manifest.training_data.rows = series.size();
  manifest.training_data.fingerprint = SeriesFingerprint(series);
  manifest.parameters = model.config();
  manifest.seed = config.seed;
  return manifest;
}

GateDecision Decided(GateDecision decision, bool promote, std::string reason) {
  decision.promote = promote;
  decision.reason = std::move(reason);
  return decision;
}

// Production's kind and configuration evaluated on the same origins of the same series.
GateDecision CompareForecasts(const TrainingConfig& config, const ForecastSeries& series,
                              const Manifest& production, GateDecision decision) {
  const std::string who = "production v" + std::to_string(production.version);
  if (production.task != Task::kForecast) {
    return Decided(decision, false,
                   who + " is a " + std::string(TaskName(production.task)) +
                       " model; not comparable, promote by hand");
  }
  TrainingConfig previous = config;
  previous.model_kind = production.kind;
  previous.model_params = production.parameters;
  Result<RollingOriginResult> evaluated = EvaluateForecastConfig(previous, series);
  if (!evaluated.ok()) {
    return Decided(
        decision, true,
        who + " could not be evaluated (" + evaluated.status().message() + "); replacing it");
  }
  const std::map<std::string, double> metrics = ForecastMetrics(*evaluated);
  const auto found = metrics.find(decision.metric);
  if (found == metrics.end()) {
    return Decided(decision, true, decision.metric + " of " + who + " is undefined; replacing it");
  }
  decision.production = found->second;
  const double bar = found->second + config.promotion.tolerance;
  const bool passes = *decision.candidate <= bar;
  return Decided(decision, passes,
                 decision.metric + " " + Number(*decision.candidate) + (passes ? " <= " : " > ") +
                     who + " " + Number(found->second) + " + " +
                     Number(config.promotion.tolerance) + " (same origins)");
}

Result<GateDecision> DecideForecastPromotion(const TrainingConfig& config,
                                             const ForecastSeries& series,
                                             const std::map<std::string, double>& metrics,
                                             const ModelRegistry& registry) {
  GateDecision decision;
  decision.metric = config.promotion.metric;
  if (!config.promotion.enabled) return Decided(decision, false, "promotion is disabled");
  if (decision.metric == "none") return Decided(decision, true, "promotion.metric is none");
  const auto candidate = metrics.find(decision.metric);
  if (candidate == metrics.end()) {
    return Decided(decision, false, decision.metric + " is undefined on the validation origins");
  }
  decision.candidate = candidate->second;
  Result<int64_t> version = registry.Resolve(config.name + "@" + config.promotion.alias);
  if (!version.ok()) {
    if (version.status().code() != StatusCode::kNotFound) return version.status();
    return Decided(decision, true, "no " + config.promotion.alias + " version yet");
  }
  decision.production_version = *version;
  Result<Manifest> production = registry.Show(config.name + "@" + std::to_string(*version));
  if (!production.ok()) {
    return Decided(decision, true,
                   config.promotion.alias + " v" + std::to_string(*version) +
                       " could not be read (" + production.status().message() + "); replacing it");
  }
  return CompareForecasts(config, series, *production, std::move(decision));
}

Result<std::unique_ptr<Model>> FitForecaster(const TrainingConfig& config,
                                             const ForecastSeries& series) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model,
                         CreateModel(config.model_kind, config.model_params));
  Forecaster* forecaster = AsForecaster(model.get());
  if (forecaster == nullptr) {
    return InvalidArgument("model kind '" + config.model_kind + "' is not a forecasting model");
  }
  VIGIL_RETURN_IF_ERROR(forecaster->Fit(series.values).WithContext(series.source));
  return model;
}

// Registers, promotes when the gate passed, purges by retention and mirrors.
Status Register(const TrainingConfig& config, ModelRegistry& registry, Store& store,
                const Model& model, Manifest manifest, TrainingResult& result) {
  for (const std::string& alias : {config.promotion.alias, std::string("latest")}) {
    Result<int64_t> parent = registry.Resolve(config.name + "@" + alias);
    if (parent.ok()) {
      manifest.parent_version = *parent;
      break;
    }
  }
  VIGIL_ASSIGN_OR_RETURN(result.manifest, registry.Register(model, std::move(manifest)));
  const std::string registered =
      config.name + ": registered v" + std::to_string(result.manifest.version);
  if (result.gate.promote) {
    VIGIL_RETURN_IF_ERROR(
        registry.Promote(config.name, result.manifest.version, config.promotion.alias)
            .WithContext(registered + " but promoting it"));
    result.promoted = true;
  }
  if (config.retention_keep > 0) {
    VIGIL_ASSIGN_OR_RETURN(result.purged_versions,
                           registry.Purge(config.name, config.retention_keep));
  }
  return registry.MirrorModel(store, config.name).WithContext(registered + " but mirroring it");
}

}  // namespace

Status ValidateForecastTrainingConfig(const TrainingConfig& config) {
  VIGIL_RETURN_IF_ERROR(config.forecast_series.Validate().WithContext("data"));
  const ForecastValidationConfig& v = config.forecast_validation;
  if (v.horizon < 1) return InvalidArgument("validation.horizon: must be >= 1");
  if (v.origins < 1) return InvalidArgument("validation.origins: must be >= 1");
  if (v.refit_every < 1) return InvalidArgument("validation.refit_every: must be >= 1");
  if (v.min_train < 2) return InvalidArgument("validation.min_train: must be >= 2");
  for (double level : v.levels) {
    if (!(level > 0 && level < 1)) return InvalidArgument("validation.levels: each in (0, 1)");
  }
  const std::string& metric = config.promotion.metric;
  if (metric != "none" && metric != "mae" && metric != "rmse" && metric != "mape" &&
      metric != "mase") {
    return InvalidArgument("promotion.metric: " + metric +
                           " does not apply to forecast models (mae, rmse, mape, mase or none)");
  }
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> probe,
                         CreateModel(config.model_kind, config.model_params));
  if (probe->task() != Task::kForecast) {
    return InvalidArgument("model.kind: '" + config.model_kind + "' is not a forecasting model");
  }
  return Status::Ok();
}

Result<RollingOriginResult> EvaluateForecastConfig(const TrainingConfig& config,
                                                   const ForecastSeries& series) {
  std::vector<ForecastMethod> methods = {
      ForecastMethodOfKind(config.model_kind, config.model_kind, config.model_params)};
  for (const char* baseline : kBaselines) {
    if (config.model_kind == baseline) continue;
    methods.push_back(ForecastMethodOfKind(baseline, baseline, nlohmann::json::object()));
  }
  const ForecastValidationConfig& v = config.forecast_validation;
  RollingOriginOptions options;
  options.horizon = v.horizon;
  options.origins = v.origins;
  options.refit_every = v.refit_every;
  options.min_train = v.min_train;
  options.levels = v.levels;
  options.threads = 0;
  options.skip_failures = true;  // counted in the details; a model failing everywhere fails
  options.keep_forecasts = false;
  VIGIL_ASSIGN_OR_RETURN(RollingOriginResult result,
                         EvaluateRollingOrigin(series.values, methods, options));
  const MethodEvaluation& model = result.methods.front();
  if (model.overall.forecasts == 0) {
    return FailedPrecondition(config.model_kind +
                              " failed at every validation origin: " + model.first_failure);
  }
  return result;
}

std::map<std::string, double> ForecastMetrics(const RollingOriginResult& result) {
  std::map<std::string, double> metrics;
  const auto put = [&](const std::string& name, double value) {
    if (std::isfinite(value)) metrics[name] = value;
  };
  const ForecastAccuracy& model = result.methods.front().overall;
  put("mae", model.mae);
  put("rmse", model.rmse);
  put("mape", model.mape);
  put("mase", model.mase);
  for (size_t i = 0; i < model.coverage.size() && i < result.options.levels.size(); ++i) {
    put(CoverageName(result.options.levels[i]), model.coverage[i]);
  }
  for (size_t m = 1; m < result.methods.size(); ++m) {
    put(result.methods[m].name + "_mase", result.methods[m].overall.mase);
  }
  put("folds", static_cast<double>(result.origins.size()));
  put("test_rows", static_cast<double>(model.forecasts));
  return metrics;
}

Result<TrainingResult> RunForecastStages(const TrainingConfig& config, Store& store,
                                         ModelRegistry& registry, Timestamp now) {
  TrainingResult result;
  VIGIL_ASSIGN_OR_RETURN(ForecastSeries series, LoadStoreSeries(store, config.forecast_series));
  VIGIL_ASSIGN_OR_RETURN(RollingOriginResult evaluation, EvaluateForecastConfig(config, series));
  const std::map<std::string, double> metrics = ForecastMetrics(evaluation);
  result.folds = static_cast<int64_t>(evaluation.origins.size());
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, FitForecaster(config, series));
  VIGIL_ASSIGN_OR_RETURN(result.gate, DecideForecastPromotion(config, series, metrics, registry));
  Manifest manifest = BuildForecastManifest(config, series, *model, now);
  for (const auto& [name, value] : metrics) manifest.metrics[name] = value;
  manifest.details = {{"task", "forecast"},
                      {"series", SeriesDetails(config, series)},
                      {"rolling_origin", evaluation.ToJson()},
                      {"gate", result.gate.reason}};
  VIGIL_RETURN_IF_ERROR(Register(config, registry, store, *model, std::move(manifest), result));
  return result;
}

}  // namespace vigil
