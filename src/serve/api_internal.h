// Private to the serve module: what the API's route files share.
//
// Every route is a Route: its method, an httplib regex pattern, its display name (the
// OpenAPI path, also the `route` label of metrics) and a handler that turns a request into
// an ApiResponse. api_server.cc wraps every handler in the common steps (authentication,
// rate limiting, body size, metrics, exception safety) so handlers only do their work.
// httplib has already URL-decoded the path before matching (req.matches hold decoded
// text) and refused bodies over max_body_bytes (413) before a handler runs.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vigil/core/clock.h"
#include "vigil/core/status.h"
#include "vigil/serve/api_server.h"
#include "vigil/serve/batcher.h"
#include "vigil/serve/scoring.h"
#include "vigil/serve/ttl_cache.h"

namespace vigil::serve_internal {

struct ApiResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Everything a handler may use; one per server, shared by all worker threads.
struct ApiContext {
  ApiContext(ServerOptions server_options, ServedModelsConfig served, ApiDependencies deps,
             const Clock& clock_ref);

  const ServerOptions options;
  const ServedModelsConfig served;
  ApiDependencies deps;
  const Clock& clock;
  MicroBatcher batcher;
  TtlCache cache;
  std::atomic<uint64_t> data_generation{0};  // bumped when data arrives (ingest, the runner)

  LiveModels& models() const { return *deps.models; }
  StorePool& store() const { return *deps.store; }
  MetricsRegistry& metrics() const { return *deps.metrics; }
  // Changes whenever data arrives or a model is swapped (the cache's generation).
  uint64_t CacheGeneration() const;
};

using Handler = std::function<ApiResponse(const httplib::Request&, ApiContext&)>;

struct Route {
  std::string method;   // "GET" or "POST"
  std::string pattern;  // httplib regex, e.g. R"(/v1/models/([^/]+))"
  std::string name;     // "/v1/models/{name}"
  // Changes state (promote, rollback, ingest): always needs a key when keys are configured,
  // loopback only when none are. Other routes, POST /v1/predict included, are reads.
  bool mutating = false;
  Handler handler;
};

// The route groups, one per file.
std::vector<Route> ServiceRoutes();  // api_service.cc: /health, /metrics, /openapi.json
std::vector<Route> ModelRoutes();    // api_models.cc: /v1/models...
std::vector<Route> PredictRoutes();  // api_predict.cc: /v1/predict/{model}
std::vector<Route> MarketRoutes();   // api_market.cc: /v1/risk, /v1/liquidation
std::vector<Route> AnomalyRoutes();  // api_anomaly.cc: /v1/anomaly/scan, /v1/anomaly/{instrument}
std::vector<Route> FeatureRoutes();  // api_features.cc: /v1/features/...
std::vector<Route> AlertRoutes();    // api_alerts.cc: /v1/alerts, /v1/ingest/{kind}

// api_service.cc: adds the /metrics collectors of a server (model versions in use, cache
// hits and misses, fallbacks). They hold `context` weakly, so a registry that outlives the
// server stops reporting them when the server goes.
void AddServiceCollectors(MetricsRegistry& metrics, const std::shared_ptr<ApiContext>& context);

// --- responses (api_response.cc) ---
ApiResponse JsonResponse(const nlohmann::json& body, int status = 200);
// {"error":{"code":code,"message":message}}.
ApiResponse ErrorResponse(int status, std::string_view code, std::string_view message);
// A failed Status as a response without internal detail: InvalidArgument / ParseError /
// DataError -> 400 "invalid_argument" with the message; NotFound -> 404 "not_found";
// AlreadyExists / FailedPrecondition -> 409 "conflict"; anything else -> 500 "internal"
// with a fixed message (the Status is logged with `what`).
ApiResponse StatusResponse(const Status& status, std::string_view what);
// An answer as a 200 JSON response, or its failure as StatusResponse(status, what).
ApiResponse AnswerResponse(const Result<nlohmann::json>& answer, std::string_view what);
// 503 "unavailable": what the route needs (a model, a detector) is not configured or loaded.
ApiResponse UnavailableResponse(std::string_view message);
// The cached body for `key` when it is fresh under the context's generation, else
// `answer()`, cached when it is a 200. The generation is read before `answer` takes its
// model snapshots and reads the store, so an answer computed across new data or a model
// swap is stored under the older generation and never served.
ApiResponse CachedRead(ApiContext& context, const std::string& key,
                       const std::function<ApiResponse()>& answer);

// --- request parsing (api_request.cc) ---
// The body as a JSON object; InvalidArgument "body: ..." when it is not JSON or not an object.
Result<nlohmann::json> ParseJsonObject(const httplib::Request& request);
// InvalidArgument "<where>: unknown field 'x' (expected a, b)" when `object` has a key
// outside `allowed`.
Status CheckFields(const nlohmann::json& object, std::initializer_list<std::string_view> allowed,
                   std::string_view where);
// InvalidArgument "unknown query parameter 'x'" for a parameter outside `known`.
Status CheckQueryParams(const httplib::Request& request,
                        std::initializer_list<std::string_view> known);
// Path segment `index` (1-based regex group), URL-decoded, validated as "venue:symbol"
// (Instrument::Parse; no '/', '..', control characters). InvalidArgument naming the field.
Result<std::string> InstrumentParam(const httplib::Request& request, size_t index);
// The same checks for an instrument given elsewhere (a body or query field named `field`).
Result<std::string> InstrumentText(std::string_view text, std::string_view field);
// Path segment `index` as a model name (ValidateModelName). InvalidArgument naming it.
Result<std::string> ModelNameParam(const httplib::Request& request, size_t index);
// Query parameter `name` parsed as a number / timestamp; nullopt when absent;
// InvalidArgument naming the parameter when malformed.
Result<std::optional<double>> NumberQuery(const httplib::Request& request, const char* name);
Result<std::optional<Timestamp>> TimeQuery(const httplib::Request& request, const char* name);
// Query parameter `name` as a flag: absent = false; "true"/"1" or "false"/"0", else
// InvalidArgument naming it.
Result<bool> BoolQuery(const httplib::Request& request, const char* name);
// The live snapshot of a served model; NotFound "model 'x' is not served" otherwise.
Result<std::shared_ptr<const ServedModel>> ServedSnapshot(const ApiContext& context,
                                                          std::string_view name);

// --- stored features (api_predict.cc) ---
struct FeatureRowAt {
  Timestamp ts;     // the driver row's time
  FeatureMatrix x;  // one row, columns served.features()
};
// The served model's feature row for `instrument` as of `as_of`: the last driver row at or
// before as_of, computed from stored data with ts <= as_of (Timestamp::Max() = the latest
// row). NotFound when the instrument has no driver data at or before as_of;
// FailedPrecondition naming the feature when it is still undefined there (indicator
// warm-up: stored rows are always complete), or when the model has no feature set.
Result<FeatureRowAt> StoredFeatureRow(Store& store, const ServedModel& served,
                                      const std::string& instrument, Timestamp as_of);
// Per-row JSON for a scored row:
//   classification  "probability", "score" (0-100), "risk_level", "confidence", and
//                   "probabilities" (per class) for multiclass, "horizons" {"5m": p, ...}
//                   for multi-horizon models
//   anomaly         "score" (0-100), "is_anomaly", "raw_score"
//   regression      "value"
// and, when explained, "explanation": [{"feature":..,"shap":..}] (anomaly detectors:
// {"feature":..,"share":..}). Non-finite numbers are written as null.
nlohmann::json ScoredRowJson(const ScoredRows& scored, int64_t row);
// What every scoring answer says about the model used: {"model", "version", "alias",
// "fallback"} (+ "served_by": the fallback's registry name when it is one).
nlohmann::json ModelJson(const ServedModel& served);

}  // namespace vigil::serve_internal
