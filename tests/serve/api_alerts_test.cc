// GET /v1/alerts and POST /v1/ingest/{kind} through a real server over a private copy of
// the serve world: alert filters, and ingest validating rows as file ingest does.
#include <gtest/gtest.h>

#include <mutex>

#include "serve/api_test_client.h"
#include "vigil/store/store.h"

namespace vigil {
namespace {

using testing::StartApi;
using testing::TestApi;
using testing::TestApiOptions;
using testing::UrlEncode;

const Timestamp kT0 = *Timestamp::Parse("2024-03-01T00:00:00Z");

AlertRow Alert(std::string instrument, Timestamp ts, std::string rule) {
  AlertRow alert;
  alert.rule = std::move(rule);
  alert.instrument = std::move(instrument);
  alert.ts = ts;
  alert.severity = "high";
  alert.score = 91.5;
  alert.message = "risk_clf above 0.75";
  alert.model_name = "risk_clf";
  alert.model_version = 1;
  alert.created_at = ts;
  return alert;
}

std::unique_ptr<TestApi> ApiWithAlerts() {
  auto api = StartApi();
  if (api == nullptr) return nullptr;
  Result<StorePool::Lease> store = api->store().Acquire();
  EXPECT_TRUE(store.ok());
  const std::vector<AlertRow> alerts = {Alert("sim:BTC-PERP", kT0, "crash"),
                                        Alert("sim:ETH-PERP", kT0 + kNanosPerHour, "crash"),
                                        Alert("sim:BTC-PERP", kT0 + 2 * kNanosPerHour, "liq")};
  Result<std::vector<int64_t>> ids = (*store)->WriteAlerts(alerts);
  EXPECT_TRUE(ids.ok()) << ids.status().ToString();
  return api;
}

std::vector<std::string> Rules(const nlohmann::json& body) {
  std::vector<std::string> rules;
  for (const nlohmann::json& alert : body["alerts"]) {
    rules.push_back(alert["rule"].get<std::string>() + "@" +
                    alert["instrument"].get<std::string>());
  }
  return rules;
}

TEST(ApiAlertsTest, FiltersBySinceInstrumentAndLimit) {
  auto api = ApiWithAlerts();
  ASSERT_NE(api, nullptr);
  testing::ApiClient client = api->Client();
  const nlohmann::json all = client.Get("/v1/alerts").Json();
  EXPECT_EQ(all["count"], 3);
  EXPECT_EQ(Rules(all), (std::vector<std::string>{"crash@sim:BTC-PERP", "crash@sim:ETH-PERP",
                                                  "liq@sim:BTC-PERP"}));
  EXPECT_EQ(all["alerts"][0]["severity"], "high");
  EXPECT_EQ(Rules(client.Get("/v1/alerts?instrument=" + UrlEncode("sim:BTC-PERP")).Json()),
            (std::vector<std::string>{"crash@sim:BTC-PERP", "liq@sim:BTC-PERP"}));
  EXPECT_EQ(Rules(client.Get("/v1/alerts?since=2024-03-01T01:00:00Z").Json()),
            (std::vector<std::string>{"crash@sim:ETH-PERP", "liq@sim:BTC-PERP"}));
  EXPECT_EQ(Rules(client.Get("/v1/alerts?limit=1").Json()),
            (std::vector<std::string>{"liq@sim:BTC-PERP"}));
  EXPECT_EQ(client.Get("/v1/alerts?since=2024-03-02T00:00:00Z").Json()["count"], 0);
}

TEST(ApiAlertsTest, RefusesMalformedParametersNamingThem) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  testing::ApiClient client = api->Client();
  for (const auto& [query, name] :
       std::vector<std::pair<std::string, std::string>>{{"?limit=0", "limit"},
                                                        {"?limit=2.5", "limit"},
                                                        {"?since=yesterday", "since"},
                                                        {"?instrument=nocolon", "instrument"},
                                                        {"?severity=high", "'severity'"}}) {
    testing::HttpReply reply = client.Get("/v1/alerts" + query);
    EXPECT_EQ(reply.status, 400) << query;
    EXPECT_NE(reply.ErrorMessage().find(name), std::string::npos) << reply.ErrorMessage();
  }
}

nlohmann::json Candle(const std::string& ts, double open, double high, double low, double close) {
  return {{"ts", ts},   {"open", open},   {"high", high},
          {"low", low}, {"close", close}, {"volume", 12.5}};
}

Frame StoredCandles(TestApi& api, const std::string& instrument) {
  Result<StorePool::Lease> store = api.store().Acquire();
  EXPECT_TRUE(store.ok());
  Result<Frame> bars = (*store)->Query({*Instrument::Parse(instrument), DataKind::kCandles, "1m"},
                                       Timestamp::Min(), Timestamp::Max());
  EXPECT_TRUE(bars.ok());
  return std::move(*bars);
}

TEST(ApiIngestTest, StoresTheValidRowsAndReportsTheRejectedOnes) {
  std::mutex mutex;
  std::vector<std::vector<std::string>> heard;
  TestApiOptions options;
  options.on_ingest = [&](const std::vector<std::string>& instruments) {
    std::lock_guard<std::mutex> lock(mutex);
    heard.push_back(instruments);
  };
  auto api = StartApi(std::move(options));
  ASSERT_NE(api, nullptr);
  const nlohmann::json request = {
      {"venue", "api"},
      {"symbol", "TEST-PERP"},
      {"timeframe", "1m"},
      {"rows",
       {Candle("2024-03-01T00:00:00Z", 100, 101, 99, 100.5),
        Candle("2024-03-01T00:01:00Z", 100.5, 99, 101, 100),  // high < low
        Candle("2024-03-01T00:02:00Z", 100, 102, 99.5, 101.5)}}};
  testing::HttpReply reply = api->Client().Post("/v1/ingest/candles", request);
  ASSERT_EQ(reply.status, 200) << reply.body;
  const nlohmann::json body = reply.Json();
  EXPECT_EQ(body["rows_read"], 3);
  EXPECT_EQ(body["rows_stored"], 2);
  EXPECT_EQ(body["rows_inserted"], 2);
  EXPECT_EQ(body["rows_rejected"], 1);
  ASSERT_EQ(body["rejects"].size(), 1u);
  EXPECT_EQ(body["rejects"][0]["line"], 2);
  EXPECT_FALSE(body["rejects"][0]["reason"].get<std::string>().empty());
  EXPECT_EQ(body["instruments"], nlohmann::json::array({"api:TEST-PERP"}));

  const Frame bars = StoredCandles(*api, "api:TEST-PERP");
  ASSERT_EQ(bars.rows(), 2);
  EXPECT_EQ(bars.time(1), *Timestamp::Parse("2024-03-01T00:02:00Z"));
  EXPECT_DOUBLE_EQ((*bars.DoubleColumn("close"))[1], 101.5);
  Result<StorePool::Lease> store = api->store().Acquire();
  Result<std::vector<StoredReject>> rejects = (*store)->Rejects("api:ingest/candles", 10);
  ASSERT_TRUE(rejects.ok());
  ASSERT_EQ(rejects->size(), 1u);
  EXPECT_EQ((*rejects)[0].row.line, 2);
  {
    std::lock_guard<std::mutex> lock(mutex);
    EXPECT_EQ(heard, (std::vector<std::vector<std::string>>{{"api:TEST-PERP"}}));
  }
  // Posting the same rows again stores nothing new.
  const nlohmann::json again = api->Client().Post("/v1/ingest/candles", request).Json();
  EXPECT_EQ(again["rows_stored"], 2);
  EXPECT_EQ(again["rows_inserted"], 0);
}

TEST(ApiIngestTest, NewDataDropsCachedAnswers) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  const std::string path = "/v1/risk/" + UrlEncode("sim:BTC-PERP");
  const nlohmann::json before = api->Client().Get(path).Json();
  const Frame bars = StoredCandles(*api, "sim:BTC-PERP");
  const Timestamp next = bars.time(bars.rows() - 1) + kNanosPerMinute;
  const double close = (*bars.DoubleColumn("close"))[bars.rows() - 1];
  const nlohmann::json request = {
      {"rows", {Candle(next.ToIso(), close, close * 1.01, close * 0.99, close * 1.005)}},
      {"venue", "sim"},
      {"symbol", "BTC-PERP"},
      {"timeframe", "1m"}};
  ASSERT_EQ(api->Client().Post("/v1/ingest/candles", request).status, 200);
  const nlohmann::json after = api->Client().Get(path).Json();
  EXPECT_NE(before["as_of"], next.ToIso());
  EXPECT_EQ(after["as_of"], next.ToIso());
}

TEST(ApiIngestTest, RefusesBodiesThatStoreNothing) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  testing::ApiClient client = api->Client();
  const nlohmann::json bad_rows = {{"venue", "api"},
                                   {"symbol", "BAD-PERP"},
                                   {"timeframe", "1m"},
                                   {"rows", {Candle("2024-03-01T00:00:00Z", 100, 99, 101, 100)}}};
  testing::HttpReply nothing = client.Post("/v1/ingest/candles", bad_rows);
  EXPECT_EQ(nothing.status, 400);
  EXPECT_NE(nothing.ErrorMessage().find("line 1"), std::string::npos) << nothing.ErrorMessage();
  EXPECT_EQ(StoredCandles(*api, "api:BAD-PERP").rows(), 0);
  Result<StorePool::Lease> store = api->store().Acquire();
  EXPECT_EQ((*store)->Rejects("api:ingest/candles", 10)->size(), 0u);

  for (const auto& [path, body, name] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"/v1/ingest/bananas", R"({"rows":[{"ts":1}]})", "kind"},
           {"/v1/ingest/candles", R"({"rows":[]})", "rows"},
           {"/v1/ingest/candles", R"({"rows":{"ts":1}})", "rows"},
           {"/v1/ingest/candles", R"({"rows":[1]})", "rows[0]"},
           {"/v1/ingest/candles", R"({"rows":[{"ts":1}],"venue":3})", "venue"},
           {"/v1/ingest/candles", R"({"rows":[{"ts":1}],"extra":true})", "extra"},
           {"/v1/ingest/candles", R"({"rows":[{"ts":1}],"venue":"Bad Venue"})", "venue"},
           {"/v1/ingest/candles", "not json", "body"}}) {
    testing::HttpReply reply = client.Post(path, body);
    EXPECT_EQ(reply.status, 400) << path << " " << body;
    EXPECT_NE(reply.ErrorMessage().find(name), std::string::npos) << reply.ErrorMessage();
  }
}

}  // namespace
}  // namespace vigil
