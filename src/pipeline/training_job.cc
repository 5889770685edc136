// RunTrainingJob: the stages of one job and its record in training_jobs.
#include "vigil/pipeline/training_job.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "vigil/core/logging.h"
#include "vigil/pipeline/forecast_training.h"
#include "vigil/pipeline/hyperparameter_search.h"
#include "vigil/pipeline/risk_training.h"

namespace vigil {
namespace {

Manifest BuildManifest(const TrainingConfig& config, const TrainingSet& set, const Model& model,
                       const Evaluation& evaluation, Timestamp now) {
  Manifest manifest;
  manifest.name = config.name;
  manifest.kind = std::string(model.kind());
  manifest.task = config.task;
  manifest.created_at = now;
  manifest.feature_set = {config.features.name, config.features.SpecHashHex(), set.x.columns};
  manifest.training_data.instruments = config.instruments;
  manifest.training_data.from = Timestamp(set.windows.start_ts.front());
  manifest.training_data.to = Timestamp(set.windows.start_ts.back());
  manifest.training_data.rows = set.rows();
  manifest.training_data.fingerprint = set.fingerprint;
  manifest.parameters = model.config();
  manifest.seed = config.seed;
  for (const auto& [name, value] : evaluation.metrics) manifest.metrics[name] = value;
  return manifest;
}

// The version a retrain descends from: production when set, else the latest.
std::optional<int64_t> ParentVersion(const ModelRegistry& registry, const TrainingConfig& config) {
  for (const std::string& alias : {config.promotion.alias, std::string("latest")}) {
    Result<int64_t> version = registry.Resolve(config.name + "@" + alias);
    if (version.ok()) return *version;
  }
  return std::nullopt;
}

// A model trained and evaluated on a set, ready to be gated and registered.
struct TrainedModel {
  TrainingConfig config;  // as given, with the searched params applied
  Evaluation evaluation;
  std::unique_ptr<Model> model;
  nlohmann::json details;
};

// Per fold, the fold's own metrics (the fold-to-fold spread of the pooled ones).
nlohmann::json FoldMetricsJson(const Evaluation& evaluation) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t f = 0; f < evaluation.predictions.size(); ++f) {
    out.push_back({{"test_rows", evaluation.predictions[f].rows.size()},
                   {"metrics", evaluation.fold_metrics[f]}});
  }
  return out;
}

// search -> evaluation -> calibration -> final fit -> importance.
Result<TrainedModel> TrainModel(const TrainingConfig& config, const TrainingSet& set) {
  TrainedModel out;
  out.config = config;
  out.details = ConfigDetails(config);
  if (config.search.method != SearchMethod::kNone) {
    VIGIL_ASSIGN_OR_RETURN(SearchResult search, RunHyperparameterSearch(config, set));
    out.config.model_params = search.best_params;
    out.details["search"] = search.ToJson(config.search);
  }
  VIGIL_ASSIGN_OR_RETURN(out.evaluation, Evaluate(out.config, set));
  out.details["validation_folds"] = FoldMetricsJson(out.evaluation);
  std::vector<ProbabilityCalibrator> calibrators;
  if (config.calibration.method != CalibrationMethod::kNone) {
    VIGIL_ASSIGN_OR_RETURN(CalibrationFit calibration,
                           FitCalibration(out.config, set, out.evaluation));
    for (const auto& [name, value] : calibration.metrics) out.evaluation.metrics[name] = value;
    // The registered model is the calibrated one, so the gate scores calibrated predictions.
    if (!calibration.gate_metrics.empty()) out.evaluation.gate_metrics = calibration.gate_metrics;
    out.details["calibration"] = calibration.details;
    calibrators = std::move(calibration.calibrators);
  }
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::unique_ptr<Model>> models,
                         FitOutputModels(out.config, set, {}, nullptr));
  VIGIL_ASSIGN_OR_RETURN(out.model, AssembleModel(set, std::move(models), calibrators));
  if (config.task != Task::kAnomaly) {
    VIGIL_ASSIGN_OR_RETURN(out.details["importance"],
                           ImportanceDetails(out.config, set, *out.model, out.evaluation));
  }
  return out;
}

// Registers a trained model, promotes it when the gate passes, applies retention, mirrors.
Status RegisterAndPromote(const TrainingConfig& config, ModelRegistry& registry, Store& store,
                          const TrainingSet& set, const TrainedModel& trained,
                          const GateDecision& gate, Timestamp now, Manifest& registered,
                          bool& promoted, std::vector<int64_t>& purged) {
  Manifest manifest = BuildManifest(trained.config, set, *trained.model, trained.evaluation, now);
  manifest.details = trained.details;
  manifest.parent_version = ParentVersion(registry, config);
  VIGIL_ASSIGN_OR_RETURN(registered, registry.Register(*trained.model, std::move(manifest)));
  const int64_t version = registered.version;
  if (gate.promote) {
    const Status done = registry.Promote(config.name, version, config.promotion.alias);
    if (!done.ok()) {
      return done.WithContext(config.name + ": registered v" + std::to_string(version) +
                              " but promoting it");
    }
    promoted = true;
  }
  if (config.retention_keep > 0) {
    VIGIL_ASSIGN_OR_RETURN(purged, registry.Purge(config.name, config.retention_keep));
  }
  const Status mirrored = registry.MirrorModel(store, config.name);
  if (!mirrored.ok()) {
    return mirrored.WithContext(config.name + ": registered v" + std::to_string(version) +
                                " but mirroring it");
  }
  return Status::Ok();
}

// The fallback model's own config: the job's, with the fallback kind and name, and no
// search or calibration (a fallback is meant to be simple and robust).
TrainingConfig FallbackTrainingConfig(const TrainingConfig& config) {
  TrainingConfig fallback = config;
  fallback.name = config.fallback_name();
  fallback.model_kind = config.fallback.kind;
  fallback.model_params = config.fallback.params;
  fallback.search = SearchConfig{};
  fallback.calibration = CalibrationConfig{};
  fallback.fallback = FallbackModelConfig{};
  if (fallback.imbalance.method == ImbalanceMethod::kScalePosWeight) {
    fallback.imbalance.method = ImbalanceMethod::kClassWeight;  // kinds without the param
  }
  return fallback;
}

// Trains, gates and registers the fallback on the same rows; fills the result's fallback
// fields and returns what the main manifest records about it.
Result<nlohmann::json> TrainFallback(const TrainingConfig& config, Store& store,
                                     ModelRegistry& registry, const TrainingSet& set, Timestamp now,
                                     TrainingResult& result) {
  const TrainingConfig fallback = FallbackTrainingConfig(config);
  Result<TrainedModel> trained = TrainModel(fallback, set);
  if (!trained.ok()) return trained.status().WithContext("fallback " + fallback.name);
  trained->details["fallback_for"] = config.name;
  VIGIL_ASSIGN_OR_RETURN(GateDecision gate,
                         DecidePromotion(fallback, set, trained->evaluation, registry));
  Manifest registered;
  std::vector<int64_t> purged;
  VIGIL_RETURN_IF_ERROR(RegisterAndPromote(fallback, registry, store, set, *trained, gate, now,
                                           registered, result.fallback_promoted, purged));
  result.fallback_reference = fallback.name + "@" + config.promotion.alias;
  result.fallback_manifest = registered;
  return nlohmann::json{{"reference", result.fallback_reference},
                        {"name", fallback.name},
                        {"kind", registered.kind},
                        {"version", registered.version},
                        {"promoted", result.fallback_promoted},
                        {"gate", gate.reason}};
}

Result<TrainingResult> RunStages(const TrainingConfig& config, Store& store,
                                 ModelRegistry& registry, Timestamp now) {
  if (config.task == Task::kForecast) return RunForecastStages(config, store, registry, now);
  TrainingResult result;
  VIGIL_ASSIGN_OR_RETURN(TrainingSet set, BuildTrainingSet(config, store));
  VIGIL_ASSIGN_OR_RETURN(TrainedModel trained, TrainModel(config, set));
  result.folds = static_cast<int64_t>(trained.evaluation.folds.size());
  // The gate runs before registering: it compares with the version promoted now.
  VIGIL_ASSIGN_OR_RETURN(result.gate,
                         DecidePromotion(trained.config, set, trained.evaluation, registry));
  if (!config.fallback.kind.empty()) {
    VIGIL_ASSIGN_OR_RETURN(trained.details["fallback"],
                           TrainFallback(config, store, registry, set, now, result));
  }
  VIGIL_RETURN_IF_ERROR(RegisterAndPromote(config, registry, store, set, trained, result.gate, now,
                                           result.manifest, result.promoted,
                                           result.purged_versions));
  return result;
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

// Where the job runs is recorded so a later job can tell an abandoned row from a live one.
nlohmann::json JobConfigJson(const TrainingConfig& config) {
  return {{"source", config.source.string()},
          {"yaml", config.text},
          {"host", HostName()},
          {"pid", static_cast<int64_t>(::getpid())}};
}

// A job whose process died (SIGKILL, crash, power loss) leaves its row "running" forever;
// the registry is unharmed (registration is atomic) but the record would lie. Rows of this
// model started on this host by a process that no longer exists are marked failed. Rows
// from other hosts are left alone: their processes cannot be checked from here.
void MarkAbandonedJobs(Store& store, const std::string& name, Timestamp now) {
  Result<std::vector<TrainingJobRow>> jobs = store.ListTrainingJobs(name, 0);
  if (!jobs.ok()) return;
  const std::string host = HostName();
  for (TrainingJobRow& job : *jobs) {
    if (job.status != "running" && job.status != "queued") continue;
    const nlohmann::json where = nlohmann::json::parse(job.config_json, nullptr, false);
    if (where.is_discarded() || where.value("host", "") != host || host.empty()) continue;
    const auto pid = static_cast<pid_t>(where.value("pid", int64_t{0}));
    if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    job.status = "failed";
    job.error = "abandoned: process " + std::to_string(pid) + " on " + host +
                " ended without finishing the job (killed or crashed)";
    job.finished_at = now;
    const Status marked = store.UpdateTrainingJob(job);
    if (marked.ok()) VIGIL_LOG_WARN("training job {}: {}", job.job_id, job.error);
  }
}

nlohmann::json JobMetricsJson(const TrainingResult& result) {
  nlohmann::json gate = {{"promote", result.gate.promote},
                         {"metric", result.gate.metric},
                         {"reason", result.gate.reason},
                         {"production_in_sample", result.gate.production_in_sample}};
  if (result.gate.candidate) gate["candidate"] = *result.gate.candidate;
  if (result.gate.production) gate["production"] = *result.gate.production;
  if (result.gate.production_version) gate["production_version"] = *result.gate.production_version;
  nlohmann::json out = {
      {"validation", result.manifest.metrics}, {"gate", gate}, {"promoted", result.promoted}};
  if (result.fallback_manifest) {
    out["fallback"] = {{"reference", result.fallback_reference},
                       {"version", result.fallback_manifest->version},
                       {"promoted", result.fallback_promoted}};
  }
  return out;
}

}  // namespace

Result<TrainingResult> RunTrainingJob(const TrainingConfig& config_in, Store& store,
                                      ModelRegistry& registry, const TrainingJobOptions& options) {
  static const SystemClock system_clock;
  const Clock& clock = options.clock != nullptr ? *options.clock : system_clock;
  TrainingConfig config = config_in;
  if (!options.name_override.empty()) {
    VIGIL_RETURN_IF_ERROR(ValidateModelName(options.name_override).WithContext("--name"));
    config.name = options.name_override;
  }
  MarkAbandonedJobs(store, config.name, clock.Now());
  TrainingJobRow row;
  row.model_name = config.name;
  row.trigger_reason = options.trigger_reason.empty() ? "manual" : options.trigger_reason;
  row.config_json = JobConfigJson(config).dump();
  row.queued_at = clock.Now();
  VIGIL_ASSIGN_OR_RETURN(row.job_id, store.InsertTrainingJob(row));
  row.status = "running";
  row.started_at = clock.Now();
  VIGIL_RETURN_IF_ERROR(store.UpdateTrainingJob(row));
  VIGIL_LOG_INFO("training job {}: {} ({})", row.job_id, config.name, row.trigger_reason);

  Result<TrainingResult> result = RunStages(config, store, registry, *row.started_at);
  row.finished_at = clock.Now();
  if (!result.ok()) {
    row.status = "failed";
    row.error = result.status().ToString();
    const Status recorded = store.UpdateTrainingJob(row);
    if (!recorded.ok()) {
      VIGIL_LOG_WARN("training job {}: recording the failure: {}", row.job_id, recorded.ToString());
    }
    return result.status().WithContext("training job " + std::to_string(row.job_id) + " (" +
                                       config.name + ")");
  }
  result->job_id = row.job_id;
  row.status = "succeeded";
  row.model_version = result->manifest.version;
  row.metrics_json = JobMetricsJson(*result).dump();
  VIGIL_RETURN_IF_ERROR(store.UpdateTrainingJob(row));
  VIGIL_LOG_INFO("training job {}: registered {} v{}, {}: {}", row.job_id, config.name,
                 result->manifest.version, result->promoted ? "promoted" : "not promoted",
                 result->gate.reason);
  return result;
}

}  // namespace vigil
