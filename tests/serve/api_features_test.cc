// GET /v1/features/importance and /v1/features/shap/{instrument} through a real server:
// importance as the manifest recorded it (or the model's own when it recorded none) and
// SHAP equal to the model's attributions of the stored feature row.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "serve/api_internal.h"
#include "serve/api_test_client.h"
#include "vigil/models/model.h"

namespace vigil {
namespace {

using serve_internal::FeatureRowAt;
using testing::ReadOnly;
using testing::StartApi;
using testing::StoredRow;
using testing::TestApi;
using testing::TestApiOptions;
using testing::UrlEncode;

TEST(ApiImportanceTest, AnswersWhatTheTrainingJobRecorded) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  testing::HttpReply reply = api->Client().Get("/v1/features/importance?model=risk_xgb");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const nlohmann::json body = reply.Json();
  Result<Manifest> manifest = api->registry().Show("risk_xgb@production");
  ASSERT_TRUE(manifest.ok());
  EXPECT_EQ(body["source"], "manifest");
  EXPECT_EQ(body["version"], manifest->version);
  EXPECT_EQ(body["methods"], manifest->details["importance"]["methods"]);
  EXPECT_TRUE(body["methods"].contains("gain")) << body.dump();
}

TEST(ApiImportanceTest, FallsBackToTheModelsOwnImportance) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  // A new version of risk_xgb whose manifest records no importance, promoted live.
  Result<LoadedModel> loaded = api->registry().Load("risk_xgb@production");
  ASSERT_TRUE(loaded.ok());
  Manifest manifest = loaded->manifest;
  manifest.details.erase("importance");
  Result<Manifest> stored = api->registry().Register(*loaded->model, manifest);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_TRUE(api->models().Promote("risk_xgb", stored->version, "production").ok());

  const nlohmann::json body = api->Client().Get("/v1/features/importance?model=risk_xgb").Json();
  EXPECT_EQ(body["source"], "model");
  EXPECT_EQ(body["version"], stored->version);
  Result<FeatureImportance> own = AsExplainable(loaded->model.get())->Importance();
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(body["methods"].size(), own->by_method.size());
  for (const auto& [method, values] : own->by_method) {
    const nlohmann::json& listed = body["methods"][method];
    ASSERT_EQ(listed.size(), values.size()) << method;
    for (size_t i = 0; i < listed.size(); ++i) {
      const std::string feature = listed[i]["feature"];
      const size_t column =
          std::find(own->features.begin(), own->features.end(), feature) - own->features.begin();
      ASSERT_LT(column, values.size());
      EXPECT_DOUBLE_EQ(listed[i]["value"].get<double>(), values[column]);
      if (i > 0) {
        EXPECT_LE(listed[i]["value"].get<double>(), listed[i - 1]["value"].get<double>());
      }
    }
  }
}

TEST(ApiImportanceTest, NamesWhatIsWrongWithTheModelAsked) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  testing::ApiClient client = api->Client();
  testing::HttpReply missing = client.Get("/v1/features/importance");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.ErrorMessage().rfind("model", 0), 0u) << missing.ErrorMessage();
  EXPECT_EQ(client.Get("/v1/features/importance?model=..bad").status, 400);
  EXPECT_EQ(client.Get("/v1/features/importance?model=risk_xgb&top=3").status, 400);
  EXPECT_EQ(client.Get("/v1/features/importance?model=nope").status, 404);
  testing::HttpReply detector = client.Get("/v1/features/importance?model=oracle_anom");
  EXPECT_EQ(detector.status, 409);
  EXPECT_NE(detector.ErrorMessage().find("cannot explain"), std::string::npos);
}

TEST(ApiShapTest, ExplainsTheLatestStoredRow) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  testing::HttpReply reply =
      api->Client().Get("/v1/features/shap/" + UrlEncode("sim:BTC-PERP") + "?model=risk_xgb");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const nlohmann::json body = reply.Json();

  std::shared_ptr<const ServedModel> served = api->models().Get("risk_xgb");
  const FeatureRowAt row = StoredRow(*api, *served, "sim:BTC-PERP");
  const ExplainableModel& model = *AsExplainable(&served->model());
  Result<Attributions> shap = model.Shap(row.x);
  Result<std::vector<double>> margin = model.RawMargin(row.x);
  ASSERT_TRUE(shap.ok() && margin.ok());
  EXPECT_EQ(body["as_of"], row.ts.ToIso());
  EXPECT_DOUBLE_EQ(body["margin"].get<double>(), (*margin)[0]);
  EXPECT_DOUBLE_EQ(body["bias"].get<double>(), shap->at(0, 0, shap->features.size()));
  ASSERT_EQ(body["features"].size(), row.x.cols());
  double sum = body["bias"].get<double>();
  for (const nlohmann::json& feature : body["features"]) {
    const std::string name = feature["feature"];
    const size_t j =
        std::find(shap->features.begin(), shap->features.end(), name) - shap->features.begin();
    ASSERT_LT(j, shap->features.size()) << name;
    EXPECT_DOUBLE_EQ(feature["contribution"].get<double>(), shap->at(0, 0, j));
    EXPECT_DOUBLE_EQ(feature["value"].get<double>(), row.x.at(0, j));
    sum += feature["contribution"].get<double>();
  }
  EXPECT_NEAR(sum, (*margin)[0], 1e-4);  // TreeSHAP's additivity, up to float rounding
  // Largest |contribution| first.
  EXPECT_GE(std::abs(body["features"][0]["contribution"].get<double>()),
            std::abs(body["features"][1]["contribution"].get<double>()));
}

TEST(ApiShapTest, ExplainsTheRowAsOfATimeAndEveryHorizon) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  std::shared_ptr<const ServedModel> served = api->models().Get("liq_long");
  const Timestamp latest = StoredRow(*api, *served, "sim:ETH-PERP").ts;
  // Between two bars: the row of the bar before.
  const Timestamp asked = latest - 90 * kNanosPerMinute - 30 * kNanosPerSecond;
  const FeatureRowAt row = StoredRow(*api, *served, "sim:ETH-PERP", asked);
  EXPECT_LT(row.ts, asked);

  testing::HttpReply reply = api->Client().Get("/v1/features/shap/" + UrlEncode("sim:ETH-PERP") +
                                               "?model=liq_long&timestamp=" + asked.ToIso());
  ASSERT_EQ(reply.status, 200) << reply.body;
  const nlohmann::json body = reply.Json();
  EXPECT_EQ(body["as_of"], row.ts.ToIso());
  EXPECT_FALSE(body.contains("margin"));  // several outputs: no flat answer
  Result<std::vector<double>> margins = AsExplainable(&served->model())->RawMargin(row.x);
  ASSERT_TRUE(margins.ok());
  const std::vector<std::string> names = {"5m", "15m", "30m", "1h"};
  ASSERT_EQ(body["outputs"].size(), names.size());
  for (size_t k = 0; k < names.size(); ++k) {
    EXPECT_EQ(body["outputs"][k]["output"], names[k]);
    EXPECT_DOUBLE_EQ(body["outputs"][k]["margin"].get<double>(), (*margins)[k]);
  }
}

TEST(ApiShapTest, RefusesBadParameters) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  testing::ApiClient client = api->Client();
  const std::string path = "/v1/features/shap/" + UrlEncode("sim:BTC-PERP");
  testing::HttpReply time = client.Get(path + "?model=risk_xgb&timestamp=yesterday");
  EXPECT_EQ(time.status, 400);
  EXPECT_EQ(time.ErrorMessage().rfind("timestamp", 0), 0u) << time.ErrorMessage();
  EXPECT_EQ(client.Get(path).status, 400);
  EXPECT_EQ(client.Get(path + "?model=oracle_anom").status, 409);
  EXPECT_EQ(
      client.Get("/v1/features/shap/" + UrlEncode("sim:DOGE-PERP") + "?model=risk_xgb").status,
      404);
  // Before any stored data.
  EXPECT_EQ(client.Get(path + "?model=risk_xgb&timestamp=2000-01-01T00:00:00Z").status, 404);
}

}  // namespace
}  // namespace vigil
