// The HTTP server's common behaviour (api_server.cc, api_request.cc, api_response.cc,
// api_service.cc): the error shape, strict JSON, API keys, body size, rate limits, unknown
// routes, refused names and instruments, no internal detail in 500s, graceful stop, /health,
// /metrics and /openapi.json against the routes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "serve/api_internal.h"
#include "serve/api_test_client.h"
#include "vigil/serve/auth.h"

namespace vigil {
namespace {

using testing::ApiClient;
using testing::ExpectError;
using testing::HttpReply;
using testing::ReadOnly;
using testing::StartApi;
using testing::TestApi;
using testing::TestApiOptions;

constexpr const char* kKey = "ops-key-0123456789abcdef";

TestApiOptions WithKey(bool require_for_reads = false) {
  TestApiOptions options;
  Result<ApiKeyEntry> entry = MakeApiKeyEntry("ops", kKey);
  EXPECT_TRUE(entry.ok()) << entry.status().ToString();
  if (entry.ok()) options.server.api_keys = {*entry};
  options.server.require_key_for_reads = require_for_reads;
  return options;
}

TEST(ApiServerTest, UnknownRoutesAnswer404InTheErrorShape) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  ApiClient client = api->Client();
  ExpectError(client.Get("/v1/nothing"), 404, "not_found", "GET /v1/nothing");
  ExpectError(client.Post("/health", std::string("{}")), 404, "not_found", "POST /health");
  ExpectError(client.Get("/openapiXjson"), 404, "not_found");
}

TEST(ApiServerTest, BadJsonIs400NamingTheField) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  ApiClient client = api->Client();
  const std::string path = "/v1/models/risk_clf/promote";
  ExpectError(client.Post(path, std::string("{\"version\": 1,")), 400, "invalid_argument",
              "body: not valid JSON");
  ExpectError(client.Post(path, std::string("[1]")), 400, "invalid_argument",
              "body: expected a JSON object");
  ExpectError(client.Post(path, std::string("")), 400, "invalid_argument", "body:");
  ExpectError(client.Post(path, std::string(R"({"version": 1, "version": 2})")), 400,
              "invalid_argument", "key 'version' appears twice");
  ExpectError(client.Post(path, std::string(R"({"version": "1"})")), 400, "invalid_argument",
              "version:");
  ExpectError(client.Post(path, std::string(R"({"version": 1, "extra": true})")), 400,
              "invalid_argument", "unknown field 'extra'");
  ExpectError(client.Post(path, std::string(R"({"version": 1} // comment)")), 400,
              "invalid_argument", "body: not valid JSON");
}

TEST(ApiServerTest, MutatingRoutesNeedAValidKeyWhenKeysAreConfigured) {
  auto api = StartApi(WithKey());
  ASSERT_NE(api, nullptr);
  ApiClient client = api->Client();
  const std::string path = "/v1/models/risk_clf/rollback";
  HttpReply missing = client.Post(path, std::string("{}"));
  ExpectError(missing, 401, "unauthorized", "missing API key");
  EXPECT_EQ(missing.Header("WWW-Authenticate"), "Bearer");
  ExpectError(client.Post(path, std::string("{}"), {{"X-API-Key", "wrong-key-0123456789"}}), 401,
              "unauthorized", "invalid API key");
  ExpectError(client.Post(path, std::string("{}"), {{"Authorization", "Bearer nope"}}), 401,
              "unauthorized", "invalid API key");
  // Accepted keys reach the handler: rollback without an earlier version is a conflict.
  ExpectError(client.Post(path, std::string("{}"), {{"X-API-Key", kKey}}), 409, "conflict");
  client.SetApiKey(kKey);
  ExpectError(client.Post(path, std::string("{}")), 409, "conflict");
  // Reads stay open unless require_key_for_reads.
  EXPECT_EQ(api->Client().Get("/v1/models").status, 200);
}

TEST(ApiServerTest, ReadsNeedAKeyWhenRequired) {
  auto api = StartApi(WithKey(/*require_for_reads=*/true));
  ASSERT_NE(api, nullptr);
  ExpectError(api->Client().Get("/v1/models"), 401, "unauthorized", "missing API key");
  ApiClient keyed = api->Client();
  keyed.SetApiKey(kKey);
  EXPECT_EQ(keyed.Get("/v1/models").status, 200);
  // Probes stay open; the metrics do not.
  EXPECT_EQ(api->Client().Get("/health").status, 200);
  EXPECT_EQ(api->Client().Get("/openapi.json").status, 200);
  ExpectError(api->Client().Get("/metrics"), 401, "unauthorized", "missing API key");
}

// A non-loopback address of this machine, or "" when it has none.
std::string NonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string found;
  for (ifaddrs* it = list; it != nullptr && found.empty(); it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    char text[INET_ADDRSTRLEN];
    const auto* address = reinterpret_cast<const sockaddr_in*>(it->ifa_addr);
    if (inet_ntop(AF_INET, &address->sin_addr, text, sizeof(text)) == nullptr) continue;
    if (!std::string(text).starts_with("127.")) found = text;
  }
  freeifaddrs(list);
  return found;
}

TEST(ApiServerTest, WithoutKeysMutatingRoutesAreLoopbackOnly) {
  const std::string address = NonLoopbackAddress();
  if (address.empty()) GTEST_SKIP() << "no non-loopback IPv4 address on this machine";
  TestApiOptions options;
  options.server.host = "0.0.0.0";
  auto api = StartApi(options);
  ASSERT_NE(api, nullptr);
  ApiClient remote(address, api->port());
  ExpectError(remote.Post("/v1/models/risk_clf/rollback", std::string("{}")), 401, "unauthorized",
              "loopback");
  EXPECT_EQ(remote.Get("/v1/models").status, 200);
  ApiClient local("127.0.0.1", api->port());
  ExpectError(local.Post("/v1/models/risk_clf/rollback", std::string("{}")), 409, "conflict");
}

TEST(ApiServerTest, BodiesOverTheLimitAre413) {
  TestApiOptions options;
  options.server.max_body_bytes = 1024;
  auto api = StartApi(options);
  ASSERT_NE(api, nullptr);
  const std::string big = R"({"rows": [)" + std::string(4096, ' ') + "]}";
  ExpectError(api->Client().Post("/v1/predict/risk_clf", big), 413, "payload_too_large", "1024");
  // A body within the limit is read and judged on its content.
  ExpectError(api->Client().Post("/v1/predict/risk_clf", std::string(R"({"rows": []})")), 400,
              "invalid_argument", "rows:");
}

TEST(ApiServerTest, RateLimitAnswers429WithRetryAfter) {
  ManualClock clock(Timestamp::FromSeconds(1'700'000'000));
  TestApiOptions options = WithKey();
  options.clock = &clock;
  options.server.anonymous_rate_limit = {0.5, 2};  // a token every 2 s
  options.server.api_keys[0].rate = 1;
  options.server.api_keys[0].burst = 1;
  auto api = StartApi(options);
  ASSERT_NE(api, nullptr);
  ApiClient client = api->Client();
  EXPECT_EQ(client.Get("/v1/models").status, 200);
  EXPECT_EQ(client.Get("/v1/models").status, 200);
  HttpReply limited = client.Get("/v1/models");
  ExpectError(limited, 429, "rate_limited");
  EXPECT_EQ(limited.Header("Retry-After"), "2");
  // The key has its own bucket (1 per second).
  ApiClient keyed = api->Client();
  keyed.SetApiKey(kKey);
  EXPECT_EQ(keyed.Get("/v1/models").status, 200);
  HttpReply keyed_limited = keyed.Get("/v1/models");
  ExpectError(keyed_limited, 429, "rate_limited");
  EXPECT_EQ(keyed_limited.Header("Retry-After"), "1");
  clock.Advance(2 * kNanosPerSecond);
  EXPECT_EQ(client.Get("/v1/models").status, 200);
  EXPECT_EQ(keyed.Get("/v1/models").status, 200);
}

TEST(ApiServerTest, NamesAndInstrumentsCannotTraversePaths) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  ApiClient client = api->Client();
  ExpectError(client.Get("/v1/models/.."), 400, "invalid_argument", "model:");
  ExpectError(client.Get("/v1/models/%2E%2E"), 400, "invalid_argument", "model:");
  ExpectError(client.Get("/v1/models/.hidden"), 400, "invalid_argument", "model:");
  ExpectError(client.Get("/v1/models/a%00b"), 400, "invalid_argument", "model:");
  // An encoded '/' is decoded before routing, so no route matches at all.
  ExpectError(client.Get("/v1/models/..%2F..%2Fetc"), 404, "not_found");
  const std::string predict = "/v1/predict/risk_clf";
  for (const char* instrument : {"sim:../../etc", "sim:a\\b", "sim:a\u0001b", "nocolon"}) {
    HttpReply reply = client.Post(predict, nlohmann::json{{"instrument", instrument}});
    ExpectError(reply, 400, "invalid_argument", "instrument:");
  }
  EXPECT_TRUE(serve_internal::InstrumentText("sim:BTC-PERP", "instrument").ok());
  // '/' belongs to real symbols: accepted in bodies and queries (nothing stored here).
  EXPECT_TRUE(serve_internal::InstrumentText("binance:BTC/USDT", "instrument").ok());
  ExpectError(client.Post(predict, nlohmann::json{{"instrument", "binance:BTC/USDT"}}), 404,
              "not_found");
  EXPECT_FALSE(serve_internal::InstrumentText("sim:..", "instrument").ok());
}

TEST(ApiServerTest, InternalErrorsCarryNoDetail) {
  const serve_internal::ApiResponse direct =
      serve_internal::StatusResponse(IoError("/secret/home/vigil.db: disk I/O error"), "unit test");
  EXPECT_EQ(direct.status, 500);
  EXPECT_EQ(direct.body.find("secret"), std::string::npos) << direct.body;

  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  std::ofstream(api->world().models_dir / "risk_clf" / "aliases.json") << "{not json";
  HttpReply reply = api->Client().Get("/v1/models");
  ExpectError(reply, 500, "internal");
  EXPECT_EQ(reply.body.find("aliases"), std::string::npos) << reply.body;
  EXPECT_EQ(reply.body.find(api->world().home.string()), std::string::npos) << reply.body;
}

TEST(ApiServerTest, StopLetsARequestInFlightFinish) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> first{true};
  TestApiOptions options = ReadOnly();
  options.readiness = [&] {
    if (first.exchange(false)) {
      entered.set_value();
      released.wait();
    }
    return std::string();
  };
  auto api = StartApi(options);
  ASSERT_NE(api, nullptr);
  const int port = api->port();
  std::future<HttpReply> slow = std::async(std::launch::async, [port] {
    ApiClient client("127.0.0.1", port);
    return client.Get("/health");
  });
  entered.get_future().wait();
  std::future<void> stopped = std::async(std::launch::async, [&] { api->server().Stop(); });
  // Stop closes the listening socket first: wait until new connections are refused.
  while (ApiClient("127.0.0.1", port).Get("/v1/models").status != 0) std::this_thread::yield();
  EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  release.set_value();
  HttpReply reply = slow.get();
  stopped.get();
  EXPECT_EQ(reply.status, 200) << reply.error;
  EXPECT_EQ(reply.Json()["status"], "ok");
}

TEST(ApiServerTest, HealthIsReadyOrSays503WithReasons) {
  std::atomic<bool> replaying{false};
  TestApiOptions options;
  options.store_connections = 1;
  options.readiness = [&] { return replaying ? std::string("replaying stored data") : ""; };
  auto api = StartApi(options);
  ASSERT_NE(api, nullptr);
  HttpReply ok = api->Client().Get("/health");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Json()["status"], "ok");
  EXPECT_EQ(ok.Json()["store"], "ok");
  EXPECT_EQ(ok.Json()["models"].size(), 4u);
  EXPECT_EQ(ok.Json()["models"]["risk_clf"]["version"], 1);

  replaying = true;
  ExpectError(api->Client().Get("/health"), 503, "unavailable", "replaying stored data");
  replaying = false;

  {  // A connection whose schema is gone no longer answers the ping.
    Result<StorePool::Lease> lease = api->store().Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    ASSERT_TRUE((*lease)->Execute("DROP TABLE schema_migrations").ok());
  }
  HttpReply down = api->Client().Get("/health");
  ExpectError(down, 503, "unavailable", "store unreachable");
  EXPECT_EQ(down.Json()["store"], "unreachable");
  EXPECT_EQ(down.Json()["status"], "unavailable");
}

TEST(ApiServerTest, MetricsCountRequestsPerRouteAndModelVersions) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  ApiClient client = api->Client();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(client.Get("/v1/models").status, 200);
  ASSERT_EQ(client.Get("/v1/models/nope").status, 404);
  ASSERT_EQ(client.Get("/no/such/route").status, 404);
  HttpReply metrics = client.Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_TRUE(metrics.Header("Content-Type").starts_with("text/plain"))
      << metrics.Header("Content-Type");
  const std::string& text = metrics.body;
  EXPECT_EQ(testing::MetricValue(text, "vigil_http_requests_total",
                                 {"route=\"/v1/models\"", "method=\"GET\"", "status=\"200\""}),
            3);
  EXPECT_EQ(testing::MetricValue(text, "vigil_http_requests_total",
                                 {"route=\"/v1/models/{name}\"", "status=\"404\""}),
            1);
  EXPECT_EQ(testing::MetricValue(text, "vigil_http_requests_total",
                                 {"route=\"unmatched\"", "status=\"404\""}),
            1);
  EXPECT_EQ(
      testing::MetricValue(text, "vigil_http_request_seconds_count", {"route=\"/v1/models\""}), 3);
  EXPECT_EQ(testing::MetricValue(text, "vigil_model_version", {"model=\"risk_clf\""}), 1);
  EXPECT_EQ(testing::MetricValue(text, "vigil_model_fallback", {"model=\"liq_long\""}), 0);
  EXPECT_GE(testing::MetricValue(text, "vigil_cache_misses_total", {}), 0);
  EXPECT_NE(text.find("# TYPE vigil_http_request_seconds histogram"), std::string::npos);
}

TEST(ApiServerTest, OpenApiDocumentsEveryRoute) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  HttpReply served = api->Client().Get("/openapi.json");
  ASSERT_EQ(served.status, 200);
  EXPECT_EQ(served.body, std::string(OpenApiDocument()));
  const nlohmann::json document = served.Json();
  ASSERT_TRUE(document.is_object()) << "docs/openapi.json does not parse";
  EXPECT_TRUE(document["openapi"].get<std::string>().starts_with("3."));
  EXPECT_TRUE(document["components"]["schemas"].contains("Error"));
  EXPECT_TRUE(document["components"]["securitySchemes"].contains("bearerAuth"));
  size_t documented = 0;
  for (const auto& [path, methods] : document["paths"].items()) documented += methods.size();
  const std::vector<std::string> routes = api->server().RouteNames();
  EXPECT_EQ(documented, routes.size());
  for (const std::string& route : routes) {
    const size_t space = route.find(' ');
    std::string method = route.substr(0, space);
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    const std::string path = route.substr(space + 1);
    ASSERT_TRUE(document["paths"].contains(path)) << route << " is not documented";
    ASSERT_TRUE(document["paths"][path].contains(method)) << route << " is not documented";
    const nlohmann::json& responses = document["paths"][path][method]["responses"];
    EXPECT_TRUE(responses.contains("200")) << route;
    EXPECT_TRUE(responses.contains("400")) << route;
  }
  EXPECT_EQ(routes.size(), 16u);
}

TEST(ApiServerTest, BindReportsAPortInUseAndBadTlsFiles) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  TestApiOptions options = ReadOnly();
  options.server.port = api->port();
  Result<std::unique_ptr<TestApi>> clash = TestApi::Start(options);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), StatusCode::kIoError) << clash.status().ToString();

  options.server.port = 0;
  options.server.tls = {"/nonexistent/cert.pem", "/nonexistent/key.pem"};
  Result<std::unique_ptr<TestApi>> tls = TestApi::Start(options);
  ASSERT_FALSE(tls.ok());
  EXPECT_EQ(tls.status().code(), StatusCode::kInvalidArgument) << tls.status().ToString();
}

TEST(ApiServerTest, ServesHttpsWithTlsFiles) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("vigil-api-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string cert = (dir / "cert.pem").string();
  const std::string key = (dir / "key.pem").string();
  const std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost"
      " -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) GTEST_SKIP() << "no openssl command to make a certificate";
  TestApiOptions options = ReadOnly();
  options.server.tls = {cert, key};
  auto api = StartApi(options);
  ASSERT_NE(api, nullptr);
  EXPECT_TRUE(api->server().base_url().starts_with("https://127.0.0.1:"));
  httplib::SSLClient client("127.0.0.1", api->port());
  client.enable_server_certificate_verification(false);
  httplib::Result reply = client.Get("/health");
  ASSERT_TRUE(reply) << httplib::to_string(reply.error());
  EXPECT_EQ(reply->status, 200) << reply->body;
  // Plain HTTP to the TLS port gets no answer.
  EXPECT_EQ(api->Client().Get("/health").status, 0);
  api.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil
