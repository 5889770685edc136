// What `vigil serve` and `vigil run` share (serve_command.cc): opening the store pool, the
// registry and the served models, and turning SIGINT / SIGTERM into a graceful stop.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "cli.h"
#include "vigil/serve/live_models.h"
#include "vigil/serve/metrics.h"
#include "vigil/serve/serve_config.h"
#include "vigil/serve/store_pool.h"

namespace vigil::cli {

// The parts a serving process holds for its whole life; members are declared in the order
// they must be built (and destroyed in reverse).
struct ServingStack {
  std::string store_url;
  std::unique_ptr<ModelRegistry> registry;
  std::unique_ptr<StorePool> pool;
  std::unique_ptr<MetricsRegistry> metrics;
  std::unique_ptr<LiveModels> models;
};

// Opens the store of `config` (the --home store when it names none), the --home registry,
// and starts serving config->models; when it lists no model, every model with a production
// alias is served (discovered into config->models). A configured model that cannot be
// loaded fails; a discovered one is logged and skipped.
Result<std::unique_ptr<ServingStack>> OpenServingStack(const GlobalOptions& globals,
                                                       ServeConfig* config);

// SIGINT / SIGTERM -> `on_stop` on a watcher thread (the handler only sets a flag and writes
// to a self-pipe). One per process; the destructor restores the default handlers.
class StopSignal {
 public:
  explicit StopSignal(std::function<void()> on_stop);
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;
  bool requested() const;

 private:
  std::function<void()> on_stop_;
  std::thread watcher_;
};

}  // namespace vigil::cli
