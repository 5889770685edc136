// The HTTP server: cpp-httplib with every route wrapped in the common steps (API key,
// rate limit, metrics, exception safety), JSON errors for what httplib refuses itself
// (unknown route, body too large), and a graceful stop.
#include "vigil/serve/api_server.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "serve/api_internal.h"
#include "vigil/core/logging.h"
#include "vigil/serve/auth.h"

namespace vigil {
namespace serve_internal {

ApiContext::ApiContext(ServerOptions server_options, ServedModelsConfig served_models,
                       ApiDependencies dependencies, const Clock& clock_ref)
    : options(std::move(server_options)),
      served(std::move(served_models)),
      deps(std::move(dependencies)),
      clock(clock_ref),
      batcher(options.batching, deps.metrics),
      cache(options.cache, clock_ref) {}

// Both counters only grow, so their sum changes whenever either does.
uint64_t ApiContext::CacheGeneration() const {
  return data_generation.load(std::memory_order_acquire) + models().generation();
}

}  // namespace serve_internal

namespace {

// Debian's libcpp-httplib is built with a listen backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG is
// compiled into the shared library), so a burst of new connections beyond five overflows
// the accept queue and waits for SYN retransmits (1 s, 3 s, ...). Linux lets listen() be
// called again on a listening socket to change its backlog.
void WidenListenBacklog(int socket) {
  if (socket >= 0 && ::listen(socket, SOMAXCONN) != 0) {
    VIGIL_LOG_WARN("could not widen the listen backlog: {}", std::strerror(errno));
  }
}

using serve_internal::ApiContext;
using serve_internal::ApiResponse;
using serve_internal::ErrorResponse;
using serve_internal::Route;

constexpr int kMaxStatus = 600;
// httplib's default (5) would reconnect a benchmark client every fifth request.
constexpr size_t kKeepAliveMaxRequests = 100000;
constexpr std::chrono::seconds kKeepAliveIdle{5};
constexpr size_t kMaxEchoedPath = 200;

// Per-route series, looked up once per status code and then lock-free.
struct RouteMetrics {
  std::string route;
  std::string method;
  Histogram* latency = nullptr;
  std::array<std::atomic<Counter*>, kMaxStatus> by_status{};
};

Counter& RequestCounter(MetricsRegistry& metrics, const std::string& route,
                        const std::string& method, int status) {
  return metrics.GetCounter(
      "vigil_http_requests_total", "HTTP requests by route, method and status",
      {{"route", route}, {"method", method}, {"status", std::to_string(status)}});
}

void CountRequest(MetricsRegistry& metrics, RouteMetrics& series, int status, double seconds) {
  series.latency->Observe(seconds);
  if (status < 0 || status >= kMaxStatus) {
    RequestCounter(metrics, series.route, series.method, status).Increment();
    return;
  }
  Counter* counter = series.by_status[status].load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = &RequestCounter(metrics, series.route, series.method, status);
    series.by_status[status].store(counter, std::memory_order_release);
  }
  counter->Increment();
}

bool IsLoopback(const std::string& address) {
  return address.starts_with("127.") || address == "::1" || address.starts_with("::ffff:127.");
}

// The key from "Authorization: Bearer KEY" or "X-API-Key: KEY"; "" when neither is given.
std::string PresentedKey(const httplib::Request& request) {
  const std::string authorization = request.get_header_value("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size() && authorization.starts_with(kBearer)) {
    return authorization.substr(kBearer.size());
  }
  return request.get_header_value("X-API-Key");
}

ApiResponse Unauthorized(std::string_view message) {
  ApiResponse response = ErrorResponse(401, "unauthorized", message);
  response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

ApiResponse TooManyRequests(double retry_after_seconds) {
  const int64_t seconds =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(retry_after_seconds)));
  ApiResponse response = ErrorResponse(
      429, "rate_limited", "rate limit exceeded; retry after " + std::to_string(seconds) + " s");
  response.headers.emplace_back("Retry-After", std::to_string(seconds));
  return response;
}

// The error body for statuses httplib sets itself (no route matched, body too large, a
// malformed request).
ApiResponse HttpLayerError(int status, const httplib::Request& request, int64_t max_body) {
  if (status == 404) {
    std::string path = request.path.substr(0, kMaxEchoedPath);
    return ErrorResponse(404, "not_found", "no route for " + request.method + " " + path);
  }
  if (status == 413) {
    return ErrorResponse(413, "payload_too_large",
                         "request body is larger than " + std::to_string(max_body) + " bytes");
  }
  if (status == 500) return ErrorResponse(500, "internal", "internal error; see the server log");
  if (status == 400) return ErrorResponse(400, "bad_request", "malformed HTTP request");
  return ErrorResponse(status, "http_error",
                       "request refused (HTTP " + std::to_string(status) + ")");
}

void WriteResponse(ApiResponse response, httplib::Response& out) {
  out.status = response.status;
  for (auto& [name, value] : response.headers) out.set_header(name, value);
  out.set_content(std::move(response.body), response.content_type);
}

}  // namespace

struct ApiServer::Impl {
  Impl(ServerOptions options, ServedModelsConfig models, ApiDependencies deps, const Clock& clock)
      : context(std::make_shared<ApiContext>(options, std::move(models), std::move(deps), clock)),
        keys(options.api_keys),
        limiter(options.key_rate_limit, clock) {}

  std::optional<ApiResponse> Admit(const Route& route, const httplib::Request& request);
  std::optional<RateLimit> KeyLimit(const std::string& name) const;
  ApiResponse Guarded(const Route& route, const httplib::Request& request);
  void Handle(const Route& route, RouteMetrics& series, const httplib::Request& request,
              httplib::Response& response);
  // Configure: the httplib server (TLS or plain), its connection settings, the routes and
  // the handlers of what no route answers.
  Status Configure();
  Status CreateHttpServer();
  void SetConnectionOptions();
  void AddRoutes();
  void SetFallbackHandlers();

  const ServerOptions& options() const { return context->options; }

  std::shared_ptr<ApiContext> context;
  ApiKeys keys;
  RateLimiter limiter;  // keyed clients by key name, anonymous ones by "ip:<address>"
  std::vector<Route> routes;
  std::vector<std::unique_ptr<RouteMetrics>> route_metrics;  // parallel to routes
  std::unique_ptr<httplib::Server> http;
  int port = -1;
  int listen_socket = -1;  // the socket httplib bound (set by the socket-options hook)

  std::mutex mutex;  // guards the serving state below
  std::condition_variable serving_changed;
  bool serving = false;
  bool stop_requested = false;
  std::thread serve_thread;
};

std::optional<RateLimit> ApiServer::Impl::KeyLimit(const std::string& name) const {
  const ApiKeyEntry* entry = keys.Find(name);
  if (entry == nullptr) return std::nullopt;
  RateLimit limit = options().key_rate_limit;
  if (entry->rate > 0) limit.rate = entry->rate;
  if (entry->burst > 0) limit.burst = entry->burst;
  return limit;
}

// Authentication, then a token from the client's bucket. A refused key still costs its
// address a token, so guessing keys is rate limited too.
// Health checks and the API description stay open to clients without a key even when
// reads need one: load balancers and orchestrators probe /health without credentials.
bool IsProbe(const Route& route) {
  return route.name == "/health" || route.name == "/openapi.json";
}

std::optional<ApiResponse> ApiServer::Impl::Admit(const Route& route,
                                                  const httplib::Request& request) {
  const std::string address_bucket = "ip:" + request.remote_addr;
  auto refuse = [&](std::string_view message) -> ApiResponse {
    RateLimiter::Decision decision = limiter.Take(address_bucket, options().anonymous_rate_limit);
    if (!decision.allowed) return TooManyRequests(decision.retry_after_seconds);
    return Unauthorized(message);
  };
  std::optional<std::string> who;
  if (!keys.empty()) {
    const std::string presented = PresentedKey(request);
    if (!presented.empty()) {
      who = keys.Authenticate(presented);
      if (!who) return refuse("invalid API key");
    } else if (route.mutating || (options().require_key_for_reads && !IsProbe(route))) {
      return refuse("missing API key (Authorization: Bearer KEY or X-API-Key: KEY)");
    }
  } else if (route.mutating && !IsLoopback(request.remote_addr)) {
    return refuse(
        "no API keys are configured: mutating routes are served to loopback clients only");
  }
  RateLimiter::Decision decision =
      who ? limiter.Take(*who, KeyLimit(*who))
          : limiter.Take(address_bucket, options().anonymous_rate_limit);
  if (!decision.allowed) return TooManyRequests(decision.retry_after_seconds);
  return std::nullopt;
}

ApiResponse ApiServer::Impl::Guarded(const Route& route, const httplib::Request& request) {
  try {
    if (std::optional<ApiResponse> refusal = Admit(route, request)) return std::move(*refusal);
    return route.handler(request, *context);
  } catch (const std::exception& error) {
    VIGIL_LOG_ERROR("{} {}: uncaught exception: {}", route.method, route.name, error.what());
  } catch (...) {
    VIGIL_LOG_ERROR("{} {}: uncaught non-standard exception", route.method, route.name);
  }
  return ErrorResponse(500, "internal", "internal error; see the server log");
}

void ApiServer::Impl::Handle(const Route& route, RouteMetrics& series,
                             const httplib::Request& request, httplib::Response& response) {
  const auto start = std::chrono::steady_clock::now();
  ApiResponse answer = Guarded(route, request);
  const int status = answer.status;
  WriteResponse(std::move(answer), response);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  CountRequest(context->metrics(), series, status, elapsed.count());
}

Status ApiServer::Impl::Configure() {
  VIGIL_RETURN_IF_ERROR(CreateHttpServer());
  SetConnectionOptions();
  AddRoutes();
  SetFallbackHandlers();
  return Status::Ok();
}

Status ApiServer::Impl::CreateHttpServer() {
  const TlsOptions& tls = options().tls;
  if (!tls.enabled()) {
    http = std::make_unique<httplib::Server>();
    return Status::Ok();
  }
  auto secure = std::make_unique<httplib::SSLServer>(tls.cert.c_str(), tls.key.c_str());
  if (!secure->is_valid()) {
    return InvalidArgument("server.tls: cannot load certificate '" + tls.cert.string() +
                           "' with key '" + tls.key.string() + "'");
  }
  http = std::move(secure);
  return Status::Ok();
}

void ApiServer::Impl::SetConnectionOptions() {
  const size_t threads = static_cast<size_t>(options().threads);
  http->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http->set_payload_max_length(static_cast<size_t>(options().max_body_bytes));
  http->set_keep_alive_max_count(kKeepAliveMaxRequests);
  // Idle keep-alive connections hold a worker until this passes, also during a stop.
  const auto idle = std::clamp<std::chrono::seconds>(
      std::chrono::ceil<std::chrono::seconds>(options().shutdown_grace), std::chrono::seconds(1),
      kKeepAliveIdle);
  http->set_keep_alive_timeout(idle.count());
  http->set_tcp_nodelay(true);
  // httplib's default also sets SO_REUSEPORT, which lets a second server bind a port in use
  // and silently share its connections; SO_REUSEADDR alone still allows a quick restart.
  http->set_socket_options([this](socket_t socket) {
    int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    listen_socket = socket;  // the last one offered is the one that bound
  });
}

void ApiServer::Impl::AddRoutes() {
  for (size_t i = 0; i < routes.size(); ++i) {
    const Route* route = &routes[i];
    RouteMetrics* series = route_metrics[i].get();
    auto handler = [this, route, series](const httplib::Request& request,
                                         httplib::Response& response) {
      Handle(*route, *series, request, response);
    };
    if (route->method == "POST") {
      http->Post(route->pattern, handler);
    } else {
      http->Get(route->pattern, handler);
    }
  }
}

void ApiServer::Impl::SetFallbackHandlers() {
  const int64_t max_body = options().max_body_bytes;
  MetricsRegistry* metrics = &context->metrics();
  using HandlerResponse = httplib::Server::HandlerResponse;
  http->set_error_handler(httplib::Server::HandlerWithResponse(
      [max_body, metrics](const httplib::Request& request, httplib::Response& response) {
        // Our handlers write their own error bodies; only httplib's bare statuses get one.
        if (!response.body.empty()) return HandlerResponse::Unhandled;
        WriteResponse(HttpLayerError(response.status, request, max_body), response);
        RequestCounter(*metrics, "unmatched", request.method, response.status).Increment();
        return HandlerResponse::Handled;
      }));
  http->set_exception_handler([](const httplib::Request&, httplib::Response& response,
                                 std::exception_ptr) {
    WriteResponse(ErrorResponse(500, "internal", "internal error; see the server log"), response);
  });
}

Result<std::unique_ptr<ApiServer>> ApiServer::Create(ServerOptions options,
                                                     ServedModelsConfig models,
                                                     ApiDependencies deps) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  if (deps.models == nullptr || deps.store == nullptr || deps.metrics == nullptr) {
    return InvalidArgument("ApiServer: models, store and metrics are required");
  }
  static const SystemClock kSystemClock;
  const Clock& clock = deps.clock != nullptr ? *deps.clock : kSystemClock;
  auto impl = std::make_unique<Impl>(std::move(options), std::move(models), std::move(deps), clock);
  for (auto group :
       {serve_internal::ServiceRoutes, serve_internal::ModelRoutes, serve_internal::PredictRoutes,
        serve_internal::MarketRoutes, serve_internal::AnomalyRoutes, serve_internal::FeatureRoutes,
        serve_internal::AlertRoutes}) {
    for (Route& route : group()) impl->routes.push_back(std::move(route));
  }
  MetricsRegistry& metrics = impl->context->metrics();
  for (const Route& route : impl->routes) {
    auto series = std::make_unique<RouteMetrics>();
    series->route = route.name;
    series->method = route.method;
    series->latency =
        &metrics.GetHistogram("vigil_http_request_seconds", "HTTP request latency by route",
                              LatencyBuckets(), {{"route", route.name}});
    impl->route_metrics.push_back(std::move(series));
  }
  serve_internal::AddServiceCollectors(metrics, impl->context);
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Bind() {
  if (impl_->http != nullptr) return FailedPrecondition("ApiServer: already bound");
  VIGIL_RETURN_IF_ERROR(impl_->Configure());
  const std::string& host = impl_->options().host;
  const int wanted = impl_->options().port;
  int bound = -1;
  if (wanted == 0) {
    bound = impl_->http->bind_to_any_port(host);
  } else if (impl_->http->bind_to_port(host, wanted)) {
    bound = wanted;
  }
  if (bound <= 0) {
    impl_->http.reset();
    return IoError("cannot listen on " + host + ":" + std::to_string(wanted) +
                   " (address in use or not available)");
  }
  impl_->port = bound;
  WidenListenBacklog(impl_->listen_socket);
  return Status::Ok();
}

int ApiServer::port() const { return impl_->port; }

std::string ApiServer::base_url() const {
  const std::string& host = impl_->options().host;
  const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return (impl_->options().tls.enabled() ? "https://" : "http://") + shown + ":" +
         std::to_string(impl_->port);
}

void ApiServer::Serve() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->stop_requested || impl_->http == nullptr) {
      impl_->serving = false;
      impl_->serving_changed.notify_all();
      return;
    }
    impl_->serving = true;
  }
  // Returns once stopped and every worker finished its request (ThreadPool::shutdown joins).
  impl_->http->listen_after_bind();
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->serving = false;
  impl_->serving_changed.notify_all();
}

Status ApiServer::Start() {
  VIGIL_RETURN_IF_ERROR(Bind());
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->serving = true;  // so a Stop racing with the thread's start waits for Serve
  impl_->serve_thread = std::thread([this] { Serve(); });
  return Status::Ok();
}

void ApiServer::Stop() {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  impl_->stop_requested = true;
  // httplib's stop() does nothing until listening began, so it is repeated until Serve
  // returned (a Stop right after Start would otherwise be lost).
  while (impl_->serving) {
    lock.unlock();
    impl_->http->stop();
    lock.lock();
    impl_->serving_changed.wait_for(lock, std::chrono::milliseconds(5));
  }
  std::thread serve_thread = std::move(impl_->serve_thread);
  lock.unlock();
  if (serve_thread.joinable() && serve_thread.get_id() != std::this_thread::get_id()) {
    serve_thread.join();
  }
}

void ApiServer::NotifyDataChanged() {
  impl_->context->data_generation.fetch_add(1, std::memory_order_acq_rel);
  impl_->context->cache.InvalidateAll();
}

std::vector<std::string> ApiServer::RouteNames() const {
  std::vector<std::string> names;
  for (const Route& route : impl_->routes) names.push_back(route.method + " " + route.name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace vigil
