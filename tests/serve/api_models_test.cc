// The model routes (api_models.cc): list, show, promote and rollback, with their 400, 404
// and 409 answers; a promotion swaps the live snapshot before the answer.
#include <gtest/gtest.h>

#include "serve/api_test_client.h"

namespace vigil {
namespace {

using testing::ApiClient;
using testing::ExpectError;
using testing::HttpReply;
using testing::ReadOnly;
using testing::StartApi;
using testing::TestApi;
using testing::TestApiOptions;

TEST(ApiModelsTest, ListsEveryModelWithVersionsAliasesAndTheServedSnapshot) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  HttpReply reply = api->Client().Get("/v1/models");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const nlohmann::json models = reply.Json()["models"];
  ASSERT_EQ(models.size(), api->world().model_names.size());
  for (size_t i = 0; i < models.size(); ++i) {
    const nlohmann::json& model = models[i];
    EXPECT_EQ(model["name"], api->world().model_names[i]);  // sorted
    EXPECT_EQ(model["versions"], nlohmann::json::array({1}));
    EXPECT_EQ(model["aliases"]["production"], 1);
    EXPECT_EQ(model["aliases"]["latest"], 1);
    EXPECT_EQ(model["serving"]["version"], 1);
    EXPECT_EQ(model["serving"]["alias"], "production");
    EXPECT_EQ(model["serving"]["fallback"], false);
  }
}

TEST(ApiModelsTest, ShowsTheManifest) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  ApiClient client = api->Client();
  HttpReply reply = client.Get("/v1/models/liq_long");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const nlohmann::json body = reply.Json();
  EXPECT_EQ(body["name"], "liq_long");
  EXPECT_EQ(body["manifest"]["name"], "liq_long");
  EXPECT_EQ(body["manifest"]["version"], 1);
  EXPECT_EQ(body["manifest"]["feature_set"]["name"], "ta");
  EXPECT_EQ(body["serving"]["version"], 1);
  Result<Manifest> stored = api->registry().Show("liq_long@1");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(body["manifest"]["feature_set"]["features"],
            nlohmann::json(stored->feature_set.features));
  EXPECT_EQ(client.Get("/v1/models/liq_long?version=1").Json()["manifest"]["version"], 1);

  ExpectError(client.Get("/v1/models/liq_long?version=7"), 404, "not_found");
  ExpectError(client.Get("/v1/models/liq_long?version=1.5"), 400, "invalid_argument", "version");
  ExpectError(client.Get("/v1/models/liq_long?version=x"), 400, "invalid_argument", "version");
  ExpectError(client.Get("/v1/models/no_such_model"), 404, "not_found", "no_such_model");
  ExpectError(client.Get("/v1/models/bad%20name"), 400, "invalid_argument", "model:");
}

TEST(ApiModelsTest, PromoteSwapsTheLiveModelAtOnceAndRollbackReturns) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  Result<int64_t> added = testing::AddVersionFrom(api->registry(), "risk_xgb", "risk_clf");
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  ASSERT_EQ(*added, 2);
  ApiClient client = api->Client();

  HttpReply promoted = client.Post("/v1/models/risk_clf/promote",
                                   nlohmann::json{{"version", 2}, {"alias", "production"}});
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(promoted.Json()["version"], 2);
  EXPECT_EQ(promoted.Json()["previous"], 1);
  EXPECT_EQ(promoted.Json()["serving"]["version"], 2);
  ASSERT_NE(api->models().Get("risk_clf"), nullptr);
  EXPECT_EQ(api->models().Get("risk_clf")->version, 2);
  EXPECT_EQ(api->models().Get("risk_clf")->model().kind(), "xgboost");
  HttpReply listed = client.Get("/v1/models/risk_clf");
  EXPECT_EQ(listed.Json()["aliases"]["production"], 2);
  EXPECT_EQ(listed.Json()["versions"], nlohmann::json::array({1, 2}));

  HttpReply rolled = client.Post("/v1/models/risk_clf/rollback", std::string());
  ASSERT_EQ(rolled.status, 200) << rolled.body;
  EXPECT_EQ(rolled.Json()["version"], 1);
  EXPECT_EQ(rolled.Json()["alias"], "production");
  EXPECT_EQ(api->models().Get("risk_clf")->version, 1);

  // Another alias is only a registry change: the served snapshot stays.
  HttpReply staged = client.Post("/v1/models/risk_clf/promote",
                                 nlohmann::json{{"version", 2}, {"alias", "staging"}});
  ASSERT_EQ(staged.status, 200) << staged.body;
  EXPECT_EQ(staged.Json()["previous"], nullptr);
  EXPECT_EQ(api->models().Get("risk_clf")->version, 1);
  EXPECT_EQ(*api->registry().Resolve("risk_clf@staging"), 2);
}

TEST(ApiModelsTest, PromoteRefusesBadRequests) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  ApiClient client = api->Client();
  const std::string path = "/v1/models/risk_clf/promote";
  ExpectError(client.Post(path, nlohmann::json{{"version", 9}}), 404, "not_found", "no version 9");
  ExpectError(client.Post("/v1/models/ghost/promote", nlohmann::json{{"version", 1}}), 404,
              "not_found", "ghost");
  ExpectError(client.Post(path, nlohmann::json::object()), 400, "invalid_argument",
              "version: required");
  ExpectError(client.Post(path, nlohmann::json{{"version", 0}}), 400, "invalid_argument",
              "version:");
  ExpectError(client.Post(path, nlohmann::json{{"version", 1.5}}), 400, "invalid_argument",
              "version:");
  ExpectError(client.Post(path, nlohmann::json{{"version", 1}, {"alias", "latest"}}), 400,
              "invalid_argument", "alias:");
  ExpectError(client.Post(path, nlohmann::json{{"version", 1}, {"alias", "a/b"}}), 400,
              "invalid_argument", "alias:");
  ExpectError(client.Post(path, nlohmann::json{{"version", 1}, {"alias", 3}}), 400,
              "invalid_argument", "alias:");
  ExpectError(client.Post(path, nlohmann::json{{"version", 1}, {"force", true}}), 400,
              "invalid_argument", "unknown field 'force'");
  ExpectError(client.Get(path), 404, "not_found");  // POST only
  EXPECT_EQ(api->models().Get("risk_clf")->version, 1);
}

TEST(ApiModelsTest, RollbackWithoutAnEarlierVersionIsAConflict) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  ApiClient client = api->Client();
  ExpectError(client.Post("/v1/models/oracle_anom/rollback", std::string()), 409, "conflict");
  ExpectError(
      client.Post("/v1/models/oracle_anom/rollback", nlohmann::json{{"alias", "production"}}), 409,
      "conflict");
  ExpectError(client.Post("/v1/models/oracle_anom/rollback", nlohmann::json{{"to", 1}}), 400,
              "invalid_argument", "unknown field 'to'");
  ExpectError(client.Post("/v1/models/ghost/rollback", std::string()), 404, "not_found");
  EXPECT_EQ(api->models().Get("oracle_anom")->version, 1);
}

}  // namespace
}  // namespace vigil
