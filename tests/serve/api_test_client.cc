#include "serve/api_test_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <sstream>

namespace vigil::testing {
namespace fs = std::filesystem;

nlohmann::json HttpReply::Json() const {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

std::string HttpReply::ErrorCode() const {
  nlohmann::json json = Json();
  if (!json.is_object() || !json.contains("error") || !json["error"].is_object()) return "";
  return json["error"].value("code", "");
}

std::string HttpReply::ErrorMessage() const {
  nlohmann::json json = Json();
  if (!json.is_object() || !json.contains("error") || !json["error"].is_object()) return "";
  return json["error"].value("message", "");
}

std::string HttpReply::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

namespace {

HttpReply ToReply(const httplib::Result& result) {
  HttpReply reply;
  if (!result) {
    reply.error = httplib::to_string(result.error());
    return reply;
  }
  reply.status = result->status;
  reply.body = result->body;
  reply.headers = result->headers;
  return reply;
}

}  // namespace

ApiClient::ApiClient(std::string host, int port)
    : host_(std::move(host)),
      port_(port),
      client_(std::make_unique<httplib::Client>(host_, port_)) {
  client_->set_keep_alive(true);
  client_->set_tcp_nodelay(true);  // headers and body go out as two writes
  client_->set_connection_timeout(5);
  client_->set_read_timeout(30);
}

httplib::Headers ApiClient::WithKey(const httplib::Headers& headers) const {
  httplib::Headers all = headers;
  if (!api_key_.empty()) all.emplace("Authorization", "Bearer " + api_key_);
  return all;
}

HttpReply ApiClient::Get(const std::string& path, const httplib::Headers& headers) {
  return ToReply(client_->Get(path, WithKey(headers)));
}

HttpReply ApiClient::Post(const std::string& path, const std::string& body,
                          const httplib::Headers& headers) {
  return ToReply(client_->Post(path, WithKey(headers), body, "application/json"));
}

HttpReply ApiClient::Post(const std::string& path, const nlohmann::json& body,
                          const httplib::Headers& headers) {
  return Post(path, body.dump(), headers);
}

double MetricValue(const std::string& text, const std::string& name,
                   const std::vector<std::string>& labels) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with(name + "{") && !line.starts_with(name + " ")) continue;
    bool all = true;
    for (const std::string& label : labels) all = all && line.find(label) != std::string::npos;
    if (all) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

std::string UrlEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char escaped[4];
      std::snprintf(escaped, sizeof(escaped), "%%%02X", c);
      out += escaped;
    }
  }
  return out;
}

Result<int64_t> AddVersionFrom(ModelRegistry& registry, const std::string& source,
                               const std::string& target) {
  VIGIL_ASSIGN_OR_RETURN(LoadedModel loaded, registry.Load(source + "@production"));
  Manifest manifest = loaded.manifest;
  manifest.name = target;
  manifest.version = 0;
  VIGIL_ASSIGN_OR_RETURN(Manifest stored, registry.Register(*loaded.model, manifest));
  return stored.version;
}

ServedModelsConfig DefaultServedModels() {
  ServedModelsConfig models;
  models.risk = "risk_clf";
  models.liquidation = {"liq_long"};
  models.anomaly = {"oracle_anom"};
  models.predict = {"risk_xgb"};
  return models;
}

TestApiOptions::TestApiOptions() {
  server.host = "127.0.0.1";
  server.port = 0;
  server.threads = 16;
  server.key_rate_limit = {1e6, 1e6};
  server.anonymous_rate_limit = {1e6, 1e6};
  server.shutdown_grace = std::chrono::milliseconds(1000);
}

Result<std::unique_ptr<TestApi>> TestApi::Start(TestApiOptions options) {
  static std::atomic<int> copies{0};
  std::unique_ptr<TestApi> api(new TestApi());
  const ServeWorld& shared = SharedWorld();
  if (options.copy_world) {
    api->copy_dir_ = fs::temp_directory_path() / ("vigil-api-" + std::to_string(::getpid()) + "-" +
                                                  std::to_string(copies.fetch_add(1)));
    fs::remove_all(api->copy_dir_);
    api->world_ = CopyWorld(shared, api->copy_dir_);
  } else {
    api->world_ = shared;
  }
  VIGIL_ASSIGN_OR_RETURN(ModelRegistry registry, ModelRegistry::Open(api->world_.models_dir));
  api->registry_ = std::make_unique<ModelRegistry>(std::move(registry));
  api->models_ =
      std::make_unique<LiveModels>(*api->registry_, options.models.fallbacks, options.models.live);
  for (const std::string& name : options.models.AllNames()) {
    VIGIL_RETURN_IF_ERROR(api->models_->Add(name));
  }
  VIGIL_ASSIGN_OR_RETURN(StorePool pool,
                         StorePool::Open(api->world_.store_url, options.store_connections));
  api->store_ = std::make_unique<StorePool>(std::move(pool));
  api->metrics_ = std::make_unique<MetricsRegistry>();
  ApiDependencies deps;
  deps.models = api->models_.get();
  deps.store = api->store_.get();
  deps.metrics = api->metrics_.get();
  deps.clock = options.clock;
  deps.readiness = options.readiness;
  deps.on_ingest = options.on_ingest;
  VIGIL_ASSIGN_OR_RETURN(api->server_,
                         ApiServer::Create(options.server, options.models, std::move(deps)));
  VIGIL_RETURN_IF_ERROR(api->server_->Start());
  return api;
}

std::unique_ptr<TestApi> StartApi(TestApiOptions options) {
  Result<std::unique_ptr<TestApi>> api = TestApi::Start(std::move(options));
  EXPECT_TRUE(api.ok()) << api.status().ToString();
  return api.ok() ? std::move(*api) : nullptr;
}

TestApiOptions ReadOnly() {
  TestApiOptions options;
  options.copy_world = false;
  return options;
}

void ExpectError(const HttpReply& reply, int status, const std::string& code,
                 const std::string& message_part) {
  EXPECT_EQ(reply.status, status) << reply.body;
  EXPECT_EQ(reply.ErrorCode(), code) << reply.body;
  EXPECT_NE(reply.ErrorMessage().find(message_part), std::string::npos) << reply.body;
  EXPECT_EQ(reply.Header("Content-Type"), "application/json") << reply.body;
}

serve_internal::FeatureRowAt StoredRow(TestApi& api, const ServedModel& served,
                                       const std::string& instrument, Timestamp as_of) {
  Result<StorePool::Lease> store = api.store().Acquire();
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return {};
  Result<serve_internal::FeatureRowAt> row =
      serve_internal::StoredFeatureRow(**store, served, instrument, as_of);
  EXPECT_TRUE(row.ok()) << row.status().ToString();
  return row.ok() ? std::move(*row) : serve_internal::FeatureRowAt{};
}

TestApi::~TestApi() {
  if (server_ != nullptr) server_->Stop();
  server_.reset();
  models_.reset();
  store_.reset();
  if (!copy_dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(copy_dir_, ignored);
  }
}

}  // namespace vigil::testing
