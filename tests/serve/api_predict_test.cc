// POST /v1/predict/{model} (api_predict.cc): rows and instrument forms answer exactly what
// ScoreRows answers directly; explanations; strict validation; the cache of the instrument
// form and its invalidation; and a promotion under load that drops and mixes nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "serve/api_internal.h"
#include "serve/api_test_client.h"

namespace vigil {
namespace {

using serve_internal::FeatureRowAt;
using serve_internal::ScoredRowJson;
using testing::ApiClient;
using testing::ExpectError;
using testing::HttpReply;
using testing::ReadOnly;
using testing::StartApi;
using testing::StoredRow;
using testing::TestApi;
using testing::TestApiOptions;

// The latest stored row of every world instrument, as one matrix.
FeatureMatrix LatestRows(TestApi& api, const ServedModel& served) {
  FeatureMatrix x{served.features(), 0, {}};
  for (const std::string& instrument : api.world().instruments) {
    FeatureRowAt row = StoredRow(api, served, instrument);
    x.values.insert(x.values.end(), row.x.values.begin(), row.x.values.end());
    ++x.rows;
  }
  return x;
}

nlohmann::json RowsBody(const FeatureMatrix& x) {
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t row = 0; row < x.rows; ++row) {
    nlohmann::json object = nlohmann::json::object();
    for (size_t col = 0; col < x.cols(); ++col) object[x.columns[col]] = x.at(row, col);
    rows.push_back(std::move(object));
  }
  return {{"rows", rows}};
}

// What the answer's "rows" must be: ScoreRows of the same snapshot, serialized the same way.
nlohmann::json DirectRows(const ServedModel& served, const FeatureMatrix& x, bool explain = false) {
  Result<ScoredRows> scored = ScoreRows(served, x, ScoreOptions{.explain = explain});
  EXPECT_TRUE(scored.ok()) << scored.status().ToString();
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t row = 0; scored.ok() && row < scored->rows; ++row) {
    rows.push_back(nlohmann::json::parse(ScoredRowJson(*scored, row).dump()));
  }
  return rows;
}

TEST(ApiPredictTest, RowsAnswerWhatScoreRowsAnswers) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  ApiClient client = api->Client();
  for (const std::string name : {"risk_clf", "risk_xgb", "liq_long", "oracle_anom"}) {
    SCOPED_TRACE(name);
    std::shared_ptr<const ServedModel> served = api->models().Get(name);
    ASSERT_NE(served, nullptr);
    const FeatureMatrix x = LatestRows(*api, *served);
    HttpReply reply = client.Post("/v1/predict/" + name, RowsBody(x));
    ASSERT_EQ(reply.status, 200) << reply.body;
    const nlohmann::json body = reply.Json();
    EXPECT_EQ(body["model"], name);
    EXPECT_EQ(body["version"], served->version);
    EXPECT_EQ(body["task"], served->task_name);
    EXPECT_EQ(body["rows"], DirectRows(*served, x));
  }
  const nlohmann::json liquidation =
      client
          .Post("/v1/predict/liq_long", RowsBody(LatestRows(*api, *api->models().Get("liq_long"))))
          .Json();
  EXPECT_EQ(liquidation["rows"][0]["horizons"].size(), 4u);
  EXPECT_TRUE(liquidation["rows"][0]["horizons"].contains("15m"));
  const nlohmann::json anomaly =
      client
          .Post("/v1/predict/oracle_anom",
                RowsBody(LatestRows(*api, *api->models().Get("oracle_anom"))))
          .Json();
  EXPECT_TRUE(anomaly["rows"][0].contains("is_anomaly"));
}

TEST(ApiPredictTest, InstrumentAnswersFromStoredFeaturesAsOfATime) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  std::shared_ptr<const ServedModel> served = api->models().Get("risk_clf");
  ASSERT_NE(served, nullptr);
  const std::string instrument = api->world().instruments.front();
  const FeatureRowAt latest = StoredRow(*api, *served, instrument);
  HttpReply reply =
      api->Client().Post("/v1/predict/risk_clf", nlohmann::json{{"instrument", instrument}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.Json()["instrument"], instrument);
  EXPECT_EQ(reply.Json()["timestamp"], latest.ts.ToIso());
  EXPECT_EQ(reply.Json()["rows"], DirectRows(*served, latest.x));

  const Timestamp earlier = latest.ts - kNanosPerDay - 30 * kNanosPerSecond;
  const FeatureRowAt past = StoredRow(*api, *served, instrument, earlier);
  ASSERT_LE(past.ts, earlier);
  HttpReply then = api->Client().Post(
      "/v1/predict/risk_clf",
      nlohmann::json{{"instrument", instrument}, {"timestamp", earlier.ToIso()}});
  ASSERT_EQ(then.status, 200) << then.body;
  EXPECT_EQ(then.Json()["timestamp"], past.ts.ToIso());
  EXPECT_EQ(then.Json()["rows"], DirectRows(*served, past.x));
  EXPECT_NE(then.Json()["rows"], reply.Json()["rows"]);
}

TEST(ApiPredictTest, ExplainAddsTheTopContributions) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  for (const std::string name : {"risk_xgb", "oracle_anom"}) {
    SCOPED_TRACE(name);
    std::shared_ptr<const ServedModel> served = api->models().Get(name);
    ASSERT_NE(served, nullptr);
    const FeatureMatrix x = LatestRows(*api, *served);
    HttpReply reply = api->Client().Post("/v1/predict/" + name + "?explain=true", RowsBody(x));
    ASSERT_EQ(reply.status, 200) << reply.body;
    const nlohmann::json rows = reply.Json()["rows"];
    EXPECT_EQ(rows, DirectRows(*served, x, /*explain=*/true));
    const nlohmann::json& explanation = rows[0]["explanation"];
    ASSERT_FALSE(explanation.empty());
    EXPECT_LE(explanation.size(), 5u);
    EXPECT_TRUE(explanation[0].contains(name == "risk_xgb" ? "shap" : "share")) << explanation;
  }
  std::shared_ptr<const ServedModel> served = api->models().Get("risk_xgb");
  HttpReply plain =
      api->Client().Post("/v1/predict/risk_xgb?explain=false", RowsBody(LatestRows(*api, *served)));
  EXPECT_FALSE(plain.Json()["rows"][0].contains("explanation"));
}

TEST(ApiPredictTest, RefusesMalformedRequestsNamingTheField) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  ApiClient client = api->Client();
  std::shared_ptr<const ServedModel> served = api->models().Get("risk_clf");
  ASSERT_NE(served, nullptr);
  const std::vector<std::string>& features = served->features();
  ASSERT_GE(features.size(), 2u);
  nlohmann::json good = RowsBody(LatestRows(*api, *served));
  const std::string path = "/v1/predict/risk_clf";

  nlohmann::json unknown = good;
  unknown["rows"][1]["bogus"] = 1.0;
  unknown["rows"][1]["other"] = 2.0;
  ExpectError(client.Post(path, unknown), 400, "invalid_argument",
              "rows[1]: unknown feature(s) 'bogus', 'other'");
  nlohmann::json missing = good;
  missing["rows"][0].erase(features[1]);
  ExpectError(client.Post(path, missing), 400, "invalid_argument",
              "rows[0]: missing feature '" + features[1] + "'");
  nlohmann::json text = good;
  text["rows"][1][features[0]] = "high";
  ExpectError(client.Post(path, text), 400, "invalid_argument",
              "rows[1]." + features[0] + ": expected a number");
  nlohmann::json null_value = good;
  null_value["rows"][0][features[0]] = nullptr;
  ExpectError(client.Post(path, null_value), 400, "invalid_argument", "rows[0]." + features[0]);
  ExpectError(client.Post(path, nlohmann::json{{"rows", {1, 2}}}), 400, "invalid_argument",
              "rows[0]: expected an object");
  ExpectError(client.Post(path, nlohmann::json{{"rows", nlohmann::json::array()}}), 400,
              "invalid_argument", "rows:");
  nlohmann::json both = good;
  both["instrument"] = "sim:BTC-PERP";
  ExpectError(client.Post(path, both), 400, "invalid_argument", "either");
  ExpectError(client.Post(path, nlohmann::json{{"model", "x"}}), 400, "invalid_argument", "either");
  ExpectError(client.Post(path, nlohmann::json{{"instrument", "sim:BTC-PERP"}, {"when", 1}}), 400,
              "invalid_argument", "unknown field 'when'");
  ExpectError(
      client.Post(path, nlohmann::json{{"instrument", "sim:BTC-PERP"}, {"timestamp", "yesterday"}}),
      400, "invalid_argument", "timestamp:");
  ExpectError(client.Post(path, nlohmann::json{{"instrument", 7}}), 400, "invalid_argument",
              "instrument:");
  ExpectError(client.Post(path + "?explain=maybe", good), 400, "invalid_argument", "explain");
  ExpectError(client.Post(path + "?top=3", good), 400, "invalid_argument",
              "unknown query parameter 'top'");
  ExpectError(client.Post("/v1/predict/not_served", good), 404, "not_found", "not_served");
  ExpectError(client.Post("/v1/predict/.x", good), 400, "invalid_argument", "model:");
  ExpectError(client.Post(path, nlohmann::json{{"instrument", "sim:DOGE-PERP"}}), 404, "not_found");
  ExpectError(client.Post(path, nlohmann::json{{"instrument", "sim:BTC-PERP"},
                                               {"timestamp", "2001-01-01"}}),
              404, "not_found");
}

double CacheCount(TestApi& api, const char* name) {
  return testing::MetricValue(api.metrics().Render(), name);
}

TEST(ApiPredictTest, InstrumentAnswersAreCachedUntilPromotionOrNewData) {
  ManualClock clock(Timestamp::FromSeconds(1'700'000'000));  // the TTL never runs out
  TestApiOptions options;
  options.clock = &clock;
  auto api = StartApi(options);
  ASSERT_NE(api, nullptr);
  Result<int64_t> added = testing::AddVersionFrom(api->registry(), "risk_xgb", "risk_clf");
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  ApiClient client = api->Client();
  const nlohmann::json question = {{"instrument", api->world().instruments.front()}};
  const std::string path = "/v1/predict/risk_clf";

  HttpReply first = client.Post(path, question);
  ASSERT_EQ(first.status, 200) << first.body;
  const double hits = CacheCount(*api, "vigil_cache_hits_total");
  const double misses = CacheCount(*api, "vigil_cache_misses_total");
  EXPECT_EQ(client.Post(path, question).body, first.body);
  EXPECT_EQ(CacheCount(*api, "vigil_cache_hits_total"), hits + 1);

  ASSERT_EQ(client.Post("/v1/models/risk_clf/promote", nlohmann::json{{"version", *added}}).status,
            200);
  HttpReply promoted = client.Post(path, question);
  ASSERT_EQ(promoted.status, 200) << promoted.body;
  EXPECT_EQ(promoted.Json()["version"], *added);
  std::shared_ptr<const ServedModel> v2 = api->models().Get("risk_clf");
  EXPECT_EQ(promoted.Json()["rows"],
            DirectRows(*v2, StoredRow(*api, *v2, api->world().instruments.front()).x));
  EXPECT_NE(promoted.Json()["rows"], first.Json()["rows"]);
  EXPECT_EQ(CacheCount(*api, "vigil_cache_misses_total"), misses + 1);

  EXPECT_EQ(client.Post(path, question).body, promoted.body);
  EXPECT_EQ(CacheCount(*api, "vigil_cache_hits_total"), hits + 2);
  api->server().NotifyDataChanged();
  EXPECT_EQ(client.Post(path, question).body, promoted.body);
  EXPECT_EQ(CacheCount(*api, "vigil_cache_hits_total"), hits + 2);
  EXPECT_EQ(CacheCount(*api, "vigil_cache_misses_total"), misses + 2);
}

// 8 clients post predictions without pause while the served model is promoted back and
// forth 20 times: no request fails, and every answer's numbers are exactly those of the
// version it names (a mixed answer would match neither).
TEST(ApiPredictTest, PromotionUnderLoadDropsAndMixesNothing) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  Result<int64_t> v2 = testing::AddVersionFrom(api->registry(), "risk_xgb", "risk_clf");
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  std::shared_ptr<const ServedModel> first = api->models().Get("risk_clf");
  ASSERT_NE(first, nullptr);
  const FeatureMatrix x = LatestRows(*api, *first);
  ASSERT_TRUE(api->models().Promote("risk_clf", *v2, "production").ok());
  std::shared_ptr<const ServedModel> second = api->models().Get("risk_clf");
  ASSERT_EQ(second->features(), first->features());
  ASSERT_TRUE(api->models().Promote("risk_clf", first->version, "production").ok());
  std::map<int64_t, nlohmann::json> expected = {{first->version, DirectRows(*first, x)},
                                                {second->version, DirectRows(*second, x)}};
  ASSERT_NE(expected[first->version], expected[second->version]);
  const std::string body = RowsBody(x).dump();

  std::atomic<bool> stop{false};
  std::atomic<int64_t> answered{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> mixed{0};
  std::mutex seen_mutex;
  std::set<int64_t> seen;
  std::string first_problem;
  std::vector<std::thread> clients;
  // Joins the clients however the test leaves this scope (a failed ASSERT returns early).
  struct StopAndJoin {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~StopAndJoin() {
      stop = true;
      for (std::thread& thread : threads) {
        if (thread.joinable()) thread.join();
      }
    }
  } joiner{stop, clients};
  for (int thread = 0; thread < 8; ++thread) {
    clients.emplace_back([&] {
      ApiClient client = api->Client();
      while (!stop.load()) {
        HttpReply reply = client.Post("/v1/predict/risk_clf", body);
        const nlohmann::json answer = reply.Json();
        const bool ok = reply.status == 200;
        const bool matches = ok && answer["version"].is_number_integer() &&
                             expected.count(answer["version"].get<int64_t>()) == 1 &&
                             answer["rows"] == expected.at(answer["version"].get<int64_t>());
        (ok ? (matches ? answered : mixed) : failed).fetch_add(1);
        std::lock_guard<std::mutex> lock(seen_mutex);
        if (matches) seen.insert(answer["version"].get<int64_t>());
        if (!matches && first_problem.empty())
          first_problem = std::to_string(reply.status) + " " + reply.body + reply.error;
      }
    });
  }
  ApiClient admin = api->Client();
  for (int promotion = 0; promotion < 20; ++promotion) {
    // Let the clients get some answers in between, so every swap happens under load.
    const int64_t before = answered.load() + failed.load() + mixed.load();
    while (answered.load() + failed.load() + mixed.load() < before + 16) std::this_thread::yield();
    const int64_t version = promotion % 2 == 0 ? second->version : first->version;
    HttpReply promoted =
        admin.Post("/v1/models/risk_clf/promote", nlohmann::json{{"version", version}});
    ASSERT_EQ(promoted.status, 200) << promoted.body;
    // The swap is immediate: the next request is answered by the promoted version.
    HttpReply after = admin.Post("/v1/predict/risk_clf", body);
    ASSERT_EQ(after.status, 200) << after.body;
    EXPECT_EQ(after.Json()["version"], version);
    EXPECT_EQ(after.Json()["rows"], expected[version]);
  }
  stop = true;
  for (std::thread& client : clients) client.join();
  std::lock_guard<std::mutex> lock(seen_mutex);
  EXPECT_EQ(failed.load(), 0) << first_problem;
  EXPECT_EQ(mixed.load(), 0) << first_problem;
  EXPECT_GT(answered.load(), 20 * 16);
  EXPECT_EQ(seen.size(), 2u);
}

}  // namespace
}  // namespace vigil
