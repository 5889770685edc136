// vigil run --config FILE [--port P] [--keep-serving]
//
// Runs the live loop (live_runner.h) over the configured source and serves the HTTP API
// from the same process. The first line on stdout is "listening on http://HOST:PORT". The
// run ends when the source ends (or, with --keep-serving, at SIGINT / SIGTERM after that)
// or at SIGINT / SIGTERM: predictions and alerts are flushed, the API stops gracefully, a
// summary goes to stderr (with --json also as one JSON line on stdout), and it exits 0.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

#include "serve_support.h"
#include "vigil/core/logging.h"
#include "vigil/pipeline/training_job.h"
#include "vigil/serve/api_server.h"
#include "vigil/serve/live_runner.h"
#include "vigil/serve/source.h"
#include "vigil/serve/webhook.h"

namespace vigil::cli {
namespace {

struct RunArgs {
  std::string config;
  int port = 0;
  bool port_given = false;
  bool keep_serving = false;
};

// A paced source sleeps until each event is due (up to a bar's length at speed 1); the sleep
// is cut short, in slices of this length, once a stop is requested.
constexpr std::chrono::milliseconds kStopCheck{50};

// Sleeps `duration`, or less once *stopping is set.
void SleepUnlessStopping(std::chrono::nanoseconds duration, const std::atomic<bool>& stopping) {
  const auto until = std::chrono::steady_clock::now() + duration;
  while (!stopping.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(
        std::min<std::chrono::nanoseconds>(kStopCheck, until - std::chrono::steady_clock::now()));
  }
}

Result<std::unique_ptr<MarketSource>> OpenSource(
    const SourceConfig& config, StorePool& pool,
    std::shared_ptr<const std::atomic<bool>> stopping) {
  PaceOptions pace;
  pace.speed = config.speed;
  pace.sleep = [stopping](std::chrono::nanoseconds duration) {
    SleepUnlessStopping(duration, *stopping);
  };
  switch (config.kind) {
    case SourceKind::kStore: {
      StoreReplayOptions options = config.store;
      options.pace = pace;
      VIGIL_ASSIGN_OR_RETURN(StorePool::Lease store, pool.Acquire());
      return OpenStoreReplay(*store, options);
    }
    case SourceKind::kFiles:
      return OpenFileReplay(config.files, pace);
    case SourceKind::kSimulator:
      return OpenSimulatorSource(config.simulation, pace, nullptr);
  }
  return InvalidArgument("source.kind: unknown");
}

// A scheduled job of the live process: the same training job as `vigil train`, on the
// served store and the --home registry, each run on connections of its own.
std::function<Status(const std::filesystem::path&, const std::string&)> TrainingJobRunner(
    const GlobalOptions& globals, const std::string& store_url) {
  return [&globals, store_url](const std::filesystem::path& path, const std::string& reason) {
    VIGIL_ASSIGN_OR_RETURN(TrainingConfig config, LoadTrainingConfig(path));
    VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, OpenStore(store_url, globals.store));
    VIGIL_ASSIGN_OR_RETURN(ModelRegistry registry, OpenHomeRegistry(globals));
    TrainingJobOptions options;
    options.trigger_reason = reason;
    VIGIL_ASSIGN_OR_RETURN(TrainingResult result,
                           RunTrainingJob(config, *store, registry, options));
    VIGIL_LOG_INFO("job {}: {} v{} {}", path.stem().string(), result.manifest.name,
                   result.manifest.version, result.promoted ? "promoted" : "not promoted");
    return Status::Ok();
  };
}

void PrintSummary(const GlobalOptions& globals, const LiveRunnerStats& stats) {
  char line[256];
  std::snprintf(line, sizeof(line),
                "run: %lld events, %lld predictions, %lld alerts, scoring lag median %.3f ms, "
                "p99 %.3f ms",
                static_cast<long long>(stats.events),
                static_cast<long long>(stats.predictions_written),
                static_cast<long long>(stats.alerts_raised), stats.lag_median_seconds * 1e3,
                stats.lag_p99_seconds * 1e3);
  std::cerr << line << std::endl;
  if (!globals.json) return;
  PrintJson({{"events", stats.events},
             {"rows_scored", stats.rows_scored},
             {"predictions", stats.predictions_written},
             {"alerts", stats.alerts_raised},
             {"model_swaps", stats.model_swaps},
             {"lag_median_seconds", stats.lag_median_seconds},
             {"lag_p99_seconds", stats.lag_p99_seconds}});
}

// Everything after the config is loaded: start the API, run the source, shut down.
int RunLive(const GlobalOptions& globals, RunConfig& config, bool keep_serving) {
  Result<std::unique_ptr<ServingStack>> opened = OpenServingStack(globals, &config.serve);
  if (!opened.ok()) return Fail(opened.status());
  ServingStack& stack = **opened;
  std::unique_ptr<WebhookDispatcher> webhooks;
  if (!config.webhooks.empty()) {
    webhooks = std::make_unique<WebhookDispatcher>(config.webhooks, stack.metrics.get());
  }
  auto stopping = std::make_shared<std::atomic<bool>>(false);
  Result<std::unique_ptr<MarketSource>> source = OpenSource(config.source, *stack.pool, stopping);
  if (!source.ok()) return Fail(source.status());
  std::unique_ptr<ApiServer> server;
  LiveRunnerDependencies deps{stack.models.get(), stack.pool.get(), stack.metrics.get(),
                              webhooks.get()};
  deps.on_event = [&server] { server->NotifyDataChanged(); };
  deps.run_training_job = TrainingJobRunner(globals, stack.store_url);
  LiveRunner runner(config, std::move(deps));
  ApiDependencies api{stack.models.get(), stack.pool.get(), stack.metrics.get()};
  api.readiness = [&runner] { return runner.Ready(); };
  Result<std::unique_ptr<ApiServer>> created =
      ApiServer::Create(config.serve.server, config.serve.models, std::move(api));
  if (!created.ok()) return Fail(created.status());
  server = std::move(*created);
  // The runner polls it between events; the source's pacing sleep wakes on it.
  StopSignal stop([stopping] { stopping->store(true); });
  // Promotions made elsewhere are picked up between events by the runner, and by this
  // thread too, so they also reach the API once the source has ended (--keep-serving).
  const PeriodicRefresh refresh(*stack.models, config.refresh_models);
  if (Status started = server->Start(); !started.ok()) return Fail(started);
  std::cout << "listening on " << server->base_url() << std::endl;
  const Status ran = runner.Run(**source, [&stop] { return stop.requested(); });
  PrintSummary(globals, runner.stats());
  while (keep_serving && ran.ok() && !stop.requested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  server->Stop();
  if (!ran.ok()) return Fail(ran, 1);
  return 0;
}

int RunCommand(const GlobalOptions& globals, const RunArgs& args) {
  Result<RunConfig> config = LoadRunConfig(args.config);
  if (!config.ok()) return Fail(config.status());
  if (args.port_given) config->serve.server.port = args.port;
  return RunLive(globals, *config, args.keep_serving);
}

}  // namespace

void AddLiveRunCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* run = app.add_subcommand(
      "run", "Live scoring: replay or simulate events, score, alert, and serve the API");
  run->add_option("--config", args->config, "Run config YAML (see docs/serving.md)")->required();
  CLI::Option* port = run->add_option("--port", args->port, "API port (0 = any free port)")
                          ->check(CLI::Range(0, 65535));
  run->add_flag("--keep-serving", args->keep_serving,
                "After the source ends, keep serving the API until SIGINT / SIGTERM");
  run->callback([&globals, args, port, exit_code] {
    args->port_given = port->count() > 0;
    *exit_code = RunCommand(globals, *args);
  });
}

}  // namespace vigil::cli
