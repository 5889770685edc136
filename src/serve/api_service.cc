// The service routes: GET /health (liveness and readiness), GET /metrics (Prometheus text)
// and GET /openapi.json; and the /metrics collectors of what the server serves.
#include <algorithm>
#include <mutex>

#include "serve/api_internal.h"
#include "vigil/core/logging.h"

namespace vigil::serve_internal {
namespace {

// Ready when the store answers, every configured model is loaded and the caller (the live
// runner) says so. Reasons name the part, never the internal error (that goes to the log).
ApiResponse Health(const httplib::Request&, ApiContext& context) {
  nlohmann::json reasons = nlohmann::json::array();
  const Status ping = context.store().Ping();
  if (!ping.ok()) {
    VIGIL_LOG_WARN("health: store unreachable: {}", ping.ToString());
    reasons.push_back("store unreachable");
  }
  nlohmann::json models = nlohmann::json::object();
  for (const std::string& name : context.served.AllNames()) {
    std::shared_ptr<const ServedModel> snapshot = context.models().Get(name);
    if (snapshot == nullptr) {
      reasons.push_back("model '" + name + "' not loaded");
    } else {
      models[name] = ModelJson(*snapshot);
    }
  }
  if (context.deps.readiness) {
    const std::string why = context.deps.readiness();
    if (!why.empty()) reasons.push_back(why);
  }
  nlohmann::json body = {{"status", reasons.empty() ? "ok" : "unavailable"},
                         {"store", ping.ok() ? "ok" : "unreachable"},
                         {"models", models}};
  if (reasons.empty()) return JsonResponse(body);
  std::string message = "not ready:";
  for (const auto& reason : reasons) message += " " + reason.get<std::string>() + ";";
  message.pop_back();
  body["reasons"] = reasons;
  body["error"] = {{"code", "unavailable"}, {"message", message}};
  return JsonResponse(body, 503);
}

ApiResponse Metrics(const httplib::Request&, ApiContext& context) {
  ApiResponse response;
  response.body = context.metrics().Render();
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return response;
}

ApiResponse OpenApi(const httplib::Request&, ApiContext&) {
  ApiResponse response;
  response.body = std::string(OpenApiDocument());
  return response;
}

// Counters mirror totals kept elsewhere (the cache's); several renders may run at once.
void MirrorTotal(Counter& counter, double total) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  const double missing = total - counter.value();
  if (missing > 0) counter.Increment(missing);
}

void CollectServed(MetricsRegistry& metrics, ApiContext& context) {
  LiveModels& models = context.models();
  for (const std::string& name : models.Names()) {
    std::shared_ptr<const ServedModel> snapshot = models.Get(name);
    if (snapshot == nullptr) continue;
    metrics
        .GetGauge("vigil_model_version", "Version of each served model in use", {{"model", name}})
        .Set(static_cast<double>(snapshot->version));
    metrics
        .GetGauge("vigil_model_fallback", "1 when a served model runs on its fallback",
                  {{"model", name}})
        .Set(snapshot->is_fallback ? 1.0 : 0.0);
  }
  metrics.GetGauge("vigil_model_fallbacks", "Fallbacks reported by the live models")
      .Set(static_cast<double>(models.fallback_count()));
  MirrorTotal(metrics.GetCounter("vigil_cache_hits_total", "Answers served from the TTL cache"),
              static_cast<double>(context.cache.hits()));
  MirrorTotal(metrics.GetCounter("vigil_cache_misses_total", "TTL cache lookups that missed"),
              static_cast<double>(context.cache.misses()));
  metrics.GetGauge("vigil_cache_entries", "Entries in the TTL cache")
      .Set(static_cast<double>(context.cache.size()));
}

}  // namespace

void AddServiceCollectors(MetricsRegistry& metrics, const std::shared_ptr<ApiContext>& context) {
  std::weak_ptr<ApiContext> weak = context;
  metrics.AddCollector([weak](MetricsRegistry& registry) {
    if (std::shared_ptr<ApiContext> alive = weak.lock()) CollectServed(registry, *alive);
  });
}

std::vector<Route> ServiceRoutes() {
  return {
      {"GET", "/health", "/health", false, Health},
      {"GET", "/metrics", "/metrics", false, Metrics},
      {"GET", R"(/openapi\.json)", "/openapi.json", false, OpenApi},
  };
}

}  // namespace vigil::serve_internal
