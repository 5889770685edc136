// vigil train --config FILE [--name NAME]
// vigil scheduler run --config FILE [--trigger JOB] [--max-runs N]
//
// `train` runs one training job (training_job.h) and prints what it registered; with --json
// exactly {"name", "version", "metrics", "promoted"}. `scheduler run` runs the retraining
// scheduler (scheduler.h) in the foreground until interrupted (SIGINT / SIGTERM) or, with
// --max-runs, until that many jobs have finished.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <iostream>

#include "cli.h"
#include "vigil/core/logging.h"
#include "vigil/pipeline/scheduler.h"
#include "vigil/pipeline/training_job.h"

namespace vigil::cli {
namespace {

std::atomic<bool> g_stop_requested{false};

void RequestStop(int) { g_stop_requested.store(true); }

// Runs one job over the home store and registry; each call opens its own store
// connection so scheduled jobs can run at once.
Result<TrainingResult> TrainOnce(const GlobalOptions& globals, const TrainingConfig& config,
                                 const TrainingJobOptions& options) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenHomeStore(globals));
  VIGIL_ASSIGN_OR_RETURN(ModelRegistry registry, OpenHomeRegistry(globals));
  return RunTrainingJob(config, *store, registry, options);
}

std::string MetricLine(const Manifest& manifest) {
  std::string line;
  for (const auto& [name, value] : manifest.metrics.items()) {
    // Per-horizon metrics ("pr_auc@5m") get their own line.
    if (name == "folds" || name == "test_rows" || name.find('@') != std::string::npos) continue;
    char text[64];
    std::snprintf(text, sizeof(text), "%s %.4f", name.c_str(), value.get<double>());
    line += (line.empty() ? "" : "  ") + std::string(text);
  }
  return line;
}

// What the risk stages found, one line each (search, calibration, fallback).
void PrintRiskStages(const TrainingResult& result) {
  const nlohmann::json& details = result.manifest.details;
  if (details.contains("search")) {
    const nlohmann::json& search = details["search"];
    std::cout << "  search (" << search["method"].get<std::string>() << ", "
              << search["trials"].size() << " trials on " << search["folds"]
              << " walk-forward folds): best " << search["metric"].get<std::string>() << " "
              << search["best"]["score"].dump() << " with " << search["best"]["params"].dump()
              << "\n";
  }
  if (details.contains("calibration")) {
    std::cout << "  calibration: " << details["calibration"]["method"].get<std::string>() << " on "
              << details["calibration"]["fitted_on_rows"] << " out-of-fold rows\n";
  }
  if (result.fallback_manifest) {
    std::cout << "  fallback " << result.fallback_manifest->name << " v"
              << result.fallback_manifest->version << " (" << result.fallback_manifest->kind << ")"
              << (result.fallback_promoted ? " promoted" : " not promoted") << ": serves as "
              << result.fallback_reference << "\n";
  }
}

void PrintResult(const TrainingResult& result, const TrainingConfig& config) {
  const Manifest& m = result.manifest;
  const std::string task = m.details.value("task", std::string(TaskName(m.task)));
  std::cout << "training job " << result.job_id << ": " << m.name << " v" << m.version << " ("
            << m.kind << ") on " << m.training_data.rows << " rows, "
            << m.training_data.from.ToIso() << " to " << m.training_data.to.ToIso() << ", "
            << result.folds << " folds, task " << task << "\n";
  std::cout << "  validation (out of fold): " << MetricLine(m) << "\n";
  // Per-horizon values in horizon order (the metrics map sorts "15m" before "5m").
  std::vector<std::pair<int64_t, std::string>> by_horizon;
  for (const auto& [name, value] : m.metrics.items()) {
    if (name.rfind(result.gate.metric + "@", 0) != 0) continue;
    const std::string horizon = name.substr(result.gate.metric.size() + 1);
    char text[64];
    std::snprintf(text, sizeof(text), "%s %.4f", horizon.c_str(), value.get<double>());
    Result<int64_t> ns = ParseDuration(horizon);
    by_horizon.emplace_back(ns.ok() ? *ns : 0, text);
  }
  std::sort(by_horizon.begin(), by_horizon.end());
  std::string per_horizon;
  for (const auto& [ns, text] : by_horizon) {
    per_horizon += (per_horizon.empty() ? "" : "  ") + text;
  }
  if (!per_horizon.empty()) {
    std::cout << "  " << result.gate.metric << " by horizon: " << per_horizon << "\n";
  }
  if (result.promoted) {
    std::cout << "  promoted to " << config.promotion.alias << ": " << result.gate.reason << "\n";
  } else {
    std::cout << "  not promoted: " << result.gate.reason << "\n";
  }
  PrintRiskStages(result);
  if (!result.purged_versions.empty()) {
    std::cout << "  purged " << result.purged_versions.size() << " old version(s)\n";
  }
}

int RunTrain(const GlobalOptions& globals, const std::string& config_path,
             const std::string& name) {
  auto config = LoadTrainingConfig(config_path);
  if (!config.ok()) return Fail(config.status());
  TrainingJobOptions options;
  options.name_override = name;
  auto result = TrainOnce(globals, *config, options);
  if (!result.ok()) return Fail(result.status());
  if (globals.json) {
    PrintJson({{"name", result->manifest.name},
               {"version", result->manifest.version},
               {"metrics", result->manifest.metrics},
               {"promoted", result->promoted}});
  } else {
    PrintResult(*result, *config);
  }
  return 0;
}

struct SchedulerArgs {
  std::string config;
  std::vector<std::string> triggers;
  int64_t max_runs = 0;
};

int RunScheduler(const GlobalOptions& globals, const SchedulerArgs& args) {
  auto config = LoadSchedulerConfig(args.config);
  if (!config.ok()) return Fail(config.status());
  // Every job's training config is checked now, so a typo fails at start-up, not at 3 am.
  for (const ScheduledJob& job : config->jobs) {
    const Status valid = LoadTrainingConfig(job.config).status();
    if (!valid.ok()) return Fail(valid.WithContext("job " + job.name));
  }
  const JobRunner runner = [&globals](const ScheduledJob& job, const std::string& reason) {
    VIGIL_ASSIGN_OR_RETURN(TrainingConfig training, LoadTrainingConfig(job.config));
    TrainingJobOptions options;
    options.trigger_reason = reason;
    VIGIL_ASSIGN_OR_RETURN(TrainingResult result, TrainOnce(globals, training, options));
    std::cout << "job " << job.name << ": " << result.manifest.name << " v"
              << result.manifest.version << (result.promoted ? " promoted" : " not promoted")
              << " (" << reason << ")" << std::endl;
    return Status::Ok();
  };
  const SystemClock clock;
  Scheduler scheduler(*config, clock, runner);
  for (const ScheduledJob& job : config->jobs) {
    const std::optional<Timestamp> next = scheduler.NextDue(job.name);
    std::cout << "scheduled " << job.name << " (" << job.config.string() << "): "
              << (job.cron ? job.cron->expression() + ", next " + next->ToIso() : "on trigger only")
              << std::endl;
  }
  for (const std::string& job : args.triggers) {
    const Status queued = scheduler.Trigger(job, "manual");
    if (!queued.ok()) return Fail(queued);
  }
  std::signal(SIGINT, RequestStop);
  std::signal(SIGTERM, RequestStop);
  const auto finished = [&] {
    const SchedulerStats stats = scheduler.stats();
    return args.max_runs > 0 && stats.succeeded + stats.failed >= args.max_runs;
  };
  scheduler.Run([&] { return g_stop_requested.load() || finished(); },
                std::chrono::milliseconds(500));
  const SchedulerStats stats = scheduler.stats();
  std::cout << "scheduler stopped: " << stats.succeeded << " succeeded, " << stats.failed
            << " failed" << std::endl;
  return stats.failed > 0 ? kExitPartial : 0;
}

}  // namespace

void AddTrainCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  auto config = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  CLI::App* train = app.add_subcommand(
      "train", "Run one training job: features, labels, walk-forward validation, registry");
  train->add_option("--config", *config, "Training config YAML (see docs/training.md)")->required();
  train->add_option("--name", *name, "Model name (overrides the config's name)");
  train->callback(
      [&globals, config, name, exit_code] { *exit_code = RunTrain(globals, *config, *name); });
}

void AddSchedulerCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  CLI::App* scheduler = app.add_subcommand("scheduler", "Scheduled retraining");
  scheduler->require_subcommand(1);
  auto args = std::make_shared<SchedulerArgs>();
  CLI::App* run =
      scheduler->add_subcommand("run", "Run the scheduler in the foreground until interrupted");
  run->add_option("--config", args->config, "Scheduler YAML (see docs/training.md)")->required();
  run->add_option("--trigger", args->triggers, "Run this job once at start (repeatable)");
  run->add_option("--max-runs", args->max_runs, "Stop after this many finished jobs (0 = never)")
      ->check(CLI::NonNegativeNumber);
  run->callback([&globals, args, exit_code] { *exit_code = RunScheduler(globals, *args); });
}

}  // namespace vigil::cli
