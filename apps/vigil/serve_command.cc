// vigil serve [--host H] [--port P] [--config FILE]
// vigil serve hash-key NAME        (the key on stdin)
//
// `serve` runs the HTTP API (api_server.h) over a store and the model registry until
// SIGINT / SIGTERM, then stops gracefully and exits 0. The first line on stdout is
// "listening on http://HOST:PORT" (with --port 0 the port picked). `hash-key` prints the
// api_keys entry of a key for the config, with a fresh salt.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <iostream>
#include <set>

#include "serve_support.h"
#include "vigil/core/logging.h"
#include "vigil/pipeline/fallback.h"
#include "vigil/serve/api_server.h"
#include "vigil/serve/auth.h"

namespace vigil::cli {
namespace {

// --- signals: the handler only sets a flag and writes to a pipe the watcher reads ---

std::atomic<bool> g_stop_requested{false};
int g_stop_pipe[2] = {-1, -1};
constexpr char kSignalled = 1, kQuit = 0;

void OnStopSignal(int) {
  g_stop_requested.store(true);
  const char byte = kSignalled;
  // write() is async-signal-safe; a full pipe already holds a wake-up.
  [[maybe_unused]] const ssize_t ignored = write(g_stop_pipe[1], &byte, 1);
}

// --- which models to serve without a config ---

bool HasProductionAlias(const ModelRegistry& registry, const std::string& name) {
  Result<std::map<std::string, int64_t>> aliases = registry.Aliases(name);
  return aliases.ok() && aliases->count("production") > 0;
}

// Classifiers -> predict (the first crash / protocol_risk one also -> risk); multi_horizon
// -> liquidation; anomaly detectors -> anomaly; the rest -> predict. Risk tasks' recorded
// fallbacks become the task's fallback.
Status DiscoverServedModels(const ModelRegistry& registry, ServedModelsConfig* out) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> names, registry.Names());
  for (const std::string& name : names) {
    if (!HasProductionAlias(registry, name)) continue;
    Result<Manifest> manifest = registry.Show(name + "@production");
    if (!manifest.ok()) {
      VIGIL_LOG_WARN("not serving {}: {}", name, manifest.status().message());
      continue;
    }
    const std::string task = manifest->details.value("task", std::string());
    if (manifest->kind == "multi_horizon") {
      out->liquidation.push_back(name);
    } else if (manifest->task == Task::kAnomaly) {
      out->anomaly.push_back(name);
    } else {
      out->predict.push_back(name);
      if (out->risk.empty() && manifest->task == Task::kClassification &&
          (task == "crash" || task == "protocol_risk")) {
        out->risk = name;
      }
    }
    Result<std::string> fallback = RecordedFallback(registry, name + "@production");
    if (fallback.ok() && !task.empty()) out->fallbacks.by_task_name.emplace(task, *fallback);
  }
  return Status::Ok();
}

Status AddServedModels(const ServedModelsConfig& config, bool discovered, LiveModels& models) {
  for (const std::string& name : config.AllNames()) {
    const Status added = models.Add(name);
    if (added.ok()) continue;
    if (!discovered) return added.WithContext("serving model " + name);
    VIGIL_LOG_WARN("not serving {}: {}", name, added.message());
  }
  return Status::Ok();
}

// --- vigil serve ---

// How often `vigil serve` looks for promotions made elsewhere (docs/serving.md).
constexpr std::chrono::seconds kServeRefreshInterval{5};

struct ServeArgs {
  std::string host;
  int port = 0;
  bool port_given = false;
  std::string config;
};

int RunServe(const GlobalOptions& globals, const ServeArgs& args) {
  Result<ServeConfig> config =
      args.config.empty() ? Result<ServeConfig>(ServeConfig{}) : LoadServeConfig(args.config);
  if (!config.ok()) return Fail(config.status());
  if (!args.host.empty()) config->server.host = args.host;
  if (args.port_given) config->server.port = args.port;
  if (Status valid = config->server.Validate(); !valid.ok()) return Fail(valid);
  Result<std::unique_ptr<ServingStack>> stack = OpenServingStack(globals, &*config);
  if (!stack.ok()) return Fail(stack.status());
  ApiDependencies deps{(*stack)->models.get(), (*stack)->pool.get(), (*stack)->metrics.get()};
  Result<std::unique_ptr<ApiServer>> server =
      ApiServer::Create(config->server, config->models, std::move(deps));
  if (!server.ok()) return Fail(server.status());
  // Installed before the port is announced, so a signal sent on seeing it is never lost
  // (a Stop before Serve makes Serve return at once).
  StopSignal stop([&server] { (*server)->Stop(); });
  const PeriodicRefresh refresh(*(*stack)->models, kServeRefreshInterval);
  if (Status bound = (*server)->Bind(); !bound.ok()) return Fail(bound);
  std::cout << "listening on " << (*server)->base_url() << std::endl;
  (*server)->Serve();
  VIGIL_LOG_INFO("server stopped");
  return 0;
}

int RunHashKey(const std::string& name) {
  std::string key;
  std::getline(std::cin, key);
  while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
  Result<ApiKeyEntry> entry = MakeApiKeyEntry(name, key);
  if (!entry.ok()) return Fail(entry.status());
  std::cout << "- {name: " << entry->name << ", salt: " << entry->salt_hex
            << ", sha256: " << entry->sha256_hex << "}\n";
  return 0;
}

}  // namespace

Result<std::unique_ptr<ServingStack>> OpenServingStack(const GlobalOptions& globals,
                                                       ServeConfig* config) {
  auto stack = std::make_unique<ServingStack>();
  if (config->store_url.empty()) {
    // Creates the home directory and migrates the store, as every command on --home does.
    VIGIL_RETURN_IF_ERROR(OpenHomeStore(globals).status());
    stack->store_url = DatabaseUrl(globals);
  } else {
    stack->store_url = config->store_url;
  }
  VIGIL_ASSIGN_OR_RETURN(ModelRegistry registry, OpenHomeRegistry(globals));
  stack->registry = std::make_unique<ModelRegistry>(std::move(registry));
  // One connection per worker at most, but SQLite gains nothing from dozens of them.
  const int connections = std::clamp(config->server.threads, 2, 16);
  VIGIL_ASSIGN_OR_RETURN(StorePool pool, StorePool::Open(stack->store_url, connections));
  stack->pool = std::make_unique<StorePool>(std::move(pool));
  stack->metrics = std::make_unique<MetricsRegistry>();
  const bool discover = config->models.AllNames().empty();
  if (discover) VIGIL_RETURN_IF_ERROR(DiscoverServedModels(*stack->registry, &config->models));
  stack->models =
      std::make_unique<LiveModels>(*stack->registry, config->models.fallbacks, config->models.live);
  VIGIL_RETURN_IF_ERROR(AddServedModels(config->models, discover, *stack->models));
  VIGIL_LOG_INFO("serving {} model(s) over {}", stack->models->Names().size(), stack->store_url);
  return stack;
}

StopSignal::StopSignal(std::function<void()> on_stop) : on_stop_(std::move(on_stop)) {
  if (g_stop_pipe[0] < 0 && pipe2(g_stop_pipe, O_CLOEXEC) != 0) {
    VIGIL_LOG_ERROR("no self-pipe for signals; SIGINT / SIGTERM will end the process at once");
    return;
  }
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  watcher_ = std::thread([this] {
    char byte = kQuit;
    while (read(g_stop_pipe[0], &byte, 1) < 0 && errno == EINTR) {
    }
    if (byte == kSignalled && on_stop_) on_stop_();
  });
}

StopSignal::~StopSignal() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (!watcher_.joinable()) return;
  const char byte = kQuit;
  [[maybe_unused]] const ssize_t ignored = write(g_stop_pipe[1], &byte, 1);
  watcher_.join();
}

bool StopSignal::requested() const { return g_stop_requested.load(); }

void AddServeCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* serve = app.add_subcommand("serve", "Serve the HTTP API over the store and registry");
  serve->require_subcommand(0, 1);
  serve->add_option("--host", args->host, "Address to bind (default 127.0.0.1 or the config's)");
  CLI::Option* port =
      serve->add_option("--port", args->port, "Port (0 = any free port; default 8080)")
          ->check(CLI::Range(0, 65535));
  serve->add_option("--config", args->config, "Serve config YAML (see docs/serving.md)");
  auto key_name = std::make_shared<std::string>();
  CLI::App* hash_key = serve->add_subcommand(
      "hash-key", "Read an API key on stdin and print its api_keys entry (salted SHA-256)");
  hash_key->add_option("NAME", *key_name, "Who the key is for")->required();
  hash_key->callback([key_name, exit_code] { *exit_code = RunHashKey(*key_name); });
  serve->callback([&globals, args, port, serve, hash_key, exit_code] {
    if (serve->got_subcommand(hash_key)) return;
    args->port_given = port->count() > 0;
    *exit_code = RunServe(globals, *args);
  });
}

}  // namespace vigil::cli
