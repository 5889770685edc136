// RunTrainingJob: the stages of one job and its record in training_jobs.
#include "vigil/pipeline/training_job.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include "vigil/core/logging.h"

namespace vigil {
namespace {

Manifest BuildManifest(const TrainingConfig& config, const TrainingSet& set, const Model& model,
                       const Evaluation& evaluation, Timestamp now) {
  Manifest manifest;
  manifest.name = config.name;
  manifest.kind = config.model_kind;
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

Result<TrainingResult> RunStages(const TrainingConfig& config, Store& store,
                                 ModelRegistry& registry, Timestamp now) {
  TrainingResult result;
  VIGIL_ASSIGN_OR_RETURN(TrainingSet set, BuildTrainingSet(config, store));
  VIGIL_ASSIGN_OR_RETURN(Evaluation evaluation, Evaluate(config, set));
  result.folds = static_cast<int64_t>(evaluation.folds.size());
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, FitModel(config, set, {}));
  // The gate runs before registering: it compares with the version promoted now.
  VIGIL_ASSIGN_OR_RETURN(result.gate, DecidePromotion(config, set, evaluation, registry));
  Manifest manifest = BuildManifest(config, set, *model, evaluation, now);
  manifest.parent_version = ParentVersion(registry, config);
  VIGIL_ASSIGN_OR_RETURN(result.manifest, registry.Register(*model, std::move(manifest)));
  const int64_t version = result.manifest.version;
  if (result.gate.promote) {
    const Status promoted = registry.Promote(config.name, version, config.promotion.alias);
    if (!promoted.ok()) {
      return promoted.WithContext("registered v" + std::to_string(version) + " but promoting it");
    }
    result.promoted = true;
  }
  if (config.retention_keep > 0) {
    VIGIL_ASSIGN_OR_RETURN(result.purged_versions,
                           registry.Purge(config.name, config.retention_keep));
  }
  const Status mirrored = registry.MirrorModel(store, config.name);
  if (!mirrored.ok()) {
    return mirrored.WithContext("registered v" + std::to_string(version) + " but mirroring it");
  }
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
  return {{"validation", result.manifest.metrics}, {"gate", gate}, {"promoted", result.promoted}};
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
