// The API tests' tools: a tiny HTTP client, and an ApiServer started on 127.0.0.1 (a free
// port) over the shared serve world (serve_fixture.h) or a private copy of it.
//
//   auto api = vigil::testing::TestApi::Start();           // Result<std::unique_ptr<TestApi>>
//   ASSERT_TRUE(api.ok()) << api.status().ToString();
//   vigil::testing::HttpReply reply = (*api)->Client().Get("/v1/models");
//   EXPECT_EQ(reply.status, 200);
//   EXPECT_EQ(reply.Json()["models"].size(), 4u);
//   reply = (*api)->Client().Post("/v1/predict/risk_clf", R"({"rows":[...]})");
//   EXPECT_EQ(reply.ErrorCode(), "invalid_argument");
//   auto shared = vigil::testing::StartApi(vigil::testing::ReadOnly());  // nullptr + failure
//   vigil::testing::ExpectError(shared->Client().Get("/v1/x"), 404, "not_found");
//
// TestApiOptions defaults: copy_world true (each TestApi gets its own copy under the temp
// directory, removed when it is destroyed; promotions and writes stay private), the four
// world models served (DefaultServedModels), 16 worker threads, rate limits high enough
// never to trigger, no API keys, the system clock. Tests of limits set their own.
// Thread-safety: an ApiClient may be used from one thread at a time (make one per
// thread); TestApi's accessors from any thread.
#pragma once

#include <httplib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "serve/api_internal.h"
#include "serve/serve_fixture.h"
#include "vigil/core/clock.h"
#include "vigil/core/status.h"
#include "vigil/registry/registry.h"
#include "vigil/serve/api_server.h"
#include "vigil/serve/live_models.h"
#include "vigil/serve/metrics.h"
#include "vigil/serve/serve_config.h"
#include "vigil/serve/store_pool.h"

namespace vigil::testing {

struct HttpReply {
  int status = 0;     // 0 when the request failed below HTTP (see error)
  std::string error;  // httplib's error name then
  std::string body;
  httplib::Headers headers;

  // The body parsed; a null json when it is not JSON.
  nlohmann::json Json() const;
  // body.error.code of an error response ("" otherwise).
  std::string ErrorCode() const;
  std::string ErrorMessage() const;
  std::string Header(const std::string& name) const;
};

class ApiClient {
 public:
  ApiClient(std::string host, int port);

  // Sent with every request as "Authorization: Bearer KEY" ("" = none).
  void SetApiKey(std::string key) { api_key_ = std::move(key); }

  HttpReply Get(const std::string& path, const httplib::Headers& headers = {});
  HttpReply Post(const std::string& path, const std::string& body,
                 const httplib::Headers& headers = {});
  HttpReply Post(const std::string& path, const nlohmann::json& body,
                 const httplib::Headers& headers = {});

 private:
  httplib::Headers WithKey(const httplib::Headers& headers) const;
  std::string host_;
  int port_;
  std::string api_key_;
  std::unique_ptr<httplib::Client> client_;
};

// The value of the first series of metric `name` in Prometheus text whose line holds every
// one of `labels` (e.g. "route=\"/v1/models\""); -1 when there is none.
double MetricValue(const std::string& text, const std::string& name,
                   const std::vector<std::string>& labels = {});

// Percent-encodes everything but unreserved characters: "sim:BTC-PERP" -> "sim%3ABTC-PERP".
std::string UrlEncode(std::string_view text);

// Registers the model of `source` (its production version) as a new version of `target`,
// with target's name in the manifest; returns the new version. The world's risk_xgb and
// risk_clf are both crash classifiers on the feature set "ta", so
// AddVersionFrom(registry, "risk_xgb", "risk_clf") gives risk_clf a version that answers
// differently for the same rows.
Result<int64_t> AddVersionFrom(ModelRegistry& registry, const std::string& source,
                               const std::string& target);

// risk: risk_clf, liquidation: [liq_long], anomaly: [oracle_anom], predict: [risk_xgb].
ServedModelsConfig DefaultServedModels();

struct TestApiOptions {
  TestApiOptions();
  ServerOptions server;  // host 127.0.0.1, port 0, threads 16, limits 1e6/s
  ServedModelsConfig models = DefaultServedModels();
  const Clock* clock = nullptr;  // nullptr = the system clock
  std::function<std::string()> readiness;
  std::function<void(const std::vector<std::string>&)> on_ingest;
  bool copy_world = true;  // false: serve SharedWorld() in place (read-only tests)
  int store_connections = 4;
};

class TestApi;
// TestApi::Start that fails the running test and returns nullptr when the start fails.
std::unique_ptr<TestApi> StartApi(TestApiOptions options = {});
// Options serving the shared world in place (copy_world false): for tests that change
// nothing on disk.
TestApiOptions ReadOnly();
// Expects an error answer: `status`, error code `code`, a message containing
// `message_part`, served as JSON.
void ExpectError(const HttpReply& reply, int status, const std::string& code,
                 const std::string& message_part = "");

// serve_internal::StoredFeatureRow over the api's store (the row the server scores for
// `instrument` as of `as_of`); fails the running test and returns an empty row on error.
serve_internal::FeatureRowAt StoredRow(TestApi& api, const ServedModel& served,
                                       const std::string& instrument,
                                       Timestamp as_of = Timestamp::Max());

class TestApi {
 public:
  // Builds the world on first use, copies it (copy_world), opens the registry, live models
  // and store pool, creates the server and Start()s it.
  static Result<std::unique_ptr<TestApi>> Start(TestApiOptions options = {});
  ~TestApi();  // stops the server, then removes the copy
  TestApi(const TestApi&) = delete;
  TestApi& operator=(const TestApi&) = delete;

  ApiClient Client() const { return ApiClient("127.0.0.1", server_->port()); }
  int port() const { return server_->port(); }
  const ServeWorld& world() const { return world_; }
  ApiServer& server() { return *server_; }
  LiveModels& models() { return *models_; }
  ModelRegistry& registry() { return *registry_; }
  StorePool& store() { return *store_; }
  MetricsRegistry& metrics() { return *metrics_; }

 private:
  TestApi() = default;
  ServeWorld world_;
  std::filesystem::path copy_dir_;  // empty when serving the shared world
  std::unique_ptr<ModelRegistry> registry_;
  std::unique_ptr<LiveModels> models_;
  std::unique_ptr<StorePool> store_;
  std::unique_ptr<MetricsRegistry> metrics_;
  std::unique_ptr<ApiServer> server_;
};

}  // namespace vigil::testing
