// The HTTP API (JSON, versioned under /v1; docs/serving.md, OpenAPI 3 at /openapi.json and
// in docs/openapi.json).
//
//   VIGIL_ASSIGN_OR_RETURN(auto server, vigil::ApiServer::Create(config.server, config.models,
//   deps)); VIGIL_RETURN_IF_ERROR(server->Bind());            // port 0 picks a free port std::cout
//   << "listening on " << server->base_url() << "\n"; server->Serve(); // until Stop()
//
// Routes: GET /health, /metrics, /openapi.json; /v1/models[/{name}], POST
// /v1/models/{name}/promote|rollback; POST /v1/predict/{model}; GET /v1/risk/{instrument},
// /v1/liquidation/{instrument}, /v1/anomaly/{instrument}, /v1/anomaly/scan,
// /v1/features/importance, /v1/features/shap/{instrument}, /v1/alerts; POST
// /v1/ingest/{kind}. Instruments in paths are URL-encoded "venue:symbol" (decoded once;
// '/', '\\', '..' and control characters are refused, so symbols containing '/' cannot be
// named in a path).
// Errors: {"error":{"code":"...","message":"..."}} with 400 (bad JSON, field or name; the
// message names the field), 401 (missing or wrong API key), 404 (also unknown routes and
// methods), 409, 413 (body over max_body_bytes), 429 (rate limit, with Retry-After in whole
// seconds), 500 (never with internal detail; the detail is logged) and 503 (not ready:
// store unreachable or model not loaded).
// Security: mutating routes (promote, rollback, ingest) always need a key when keys are
// configured, and are refused with 401 when none are configured and the client is not on
// loopback; reads, and POST /v1/predict (it changes nothing), need one when
// require_key_for_reads (except /health and /openapi.json, which never do). A key is
// "Authorization: Bearer KEY" or "X-API-Key: KEY"; a wrong key is 401 on any route. Every request
// takes a token from its client's bucket: the key's (its own rate/burst, else key_rate_limit), or
// its address's (anonymous_rate_limit); a refused key costs its address a token too. Metrics:
// vigil_http_requests_total{route,method,status} (route "unmatched" for what no route took),
// vigil_http_request_seconds{route}, vigil_model_version{model}, vigil_model_fallback{model},
// vigil_model_fallbacks, vigil_cache_hits_total, vigil_cache_misses_total, vigil_cache_entries (and
// the batcher's series). Connections: `threads` workers, each serving one connection at a time;
// keep-alive on (up to 100000 requests per connection, idle connections closed after min(5 s,
// shutdown_grace), at least 1 s). The port is bound without SO_REUSEPORT, so a port in use
// fails Bind.
// Shutdown: Stop() stops accepting, lets in-flight requests finish, waits for idle
// keep-alive connections up to their idle timeout (above), then returns from Serve().
// Thread-safety: Stop and NotifyDataChanged may be called from any thread (including a
// signal-handling thread, but not a request handler); requests are served on `threads`
// worker threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/clock.h"
#include "vigil/core/status.h"
#include "vigil/serve/live_models.h"
#include "vigil/serve/metrics.h"
#include "vigil/serve/serve_config.h"
#include "vigil/serve/store_pool.h"

namespace vigil {

struct ApiDependencies {
  LiveModels* models = nullptr;        // required
  StorePool* store = nullptr;          // required
  MetricsRegistry* metrics = nullptr;  // required
  const Clock* clock = nullptr;        // nullptr = a SystemClock
  // Optional: "" when the caller (the live runner) is ready, else why not (for /health).
  std::function<std::string()> readiness;
  // Optional: called after POST /v1/ingest stored rows, with the instruments written.
  std::function<void(const std::vector<std::string>&)> on_ingest;
};

class ApiServer {
 public:
  // InvalidArgument when an option is out of range (ServerOptions::Validate) or a required
  // dependency (models, store, metrics) is missing. The dependencies must outlive the server
  // (the /metrics collectors it adds stop reporting once it is gone).
  static Result<std::unique_ptr<ApiServer>> Create(ServerOptions options, ServedModelsConfig models,
                                                   ApiDependencies deps);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds host:port. IoError naming the address when it is in use or cannot be bound;
  // InvalidArgument when TLS files cannot be loaded. FailedPrecondition when bound already.
  Status Bind();
  int port() const;              // the bound port (after Bind)
  std::string base_url() const;  // "http://127.0.0.1:8080" (https with TLS)
  // Serves until Stop(); returns after in-flight requests finished. Returns at once when
  // not bound or when Stop() came first.
  void Serve();
  // Bind, then Serve on a thread of its own (tests, `vigil run`).
  Status Start();
  // Graceful stop; idempotent. Joins the Start() thread when there is one.
  void Stop();
  // New data arrived (the live runner, ingest): drops cached answers.
  void NotifyDataChanged();

  // The routes as "METHOD /path/{param}", sorted (tests check them against the OpenAPI
  // document).
  std::vector<std::string> RouteNames() const;

 private:
  struct Impl;
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The OpenAPI 3 document served at /openapi.json (docs/openapi.json, compiled in).
std::string_view OpenApiDocument();

}  // namespace vigil
