// GET /v1/risk/{instrument}, /v1/liquidation/{instrument}, /v1/anomaly/{instrument} and
// /v1/anomaly/scan through a real server over the serve world: every number is checked
// against the model scored directly on the same stored feature row.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "serve/api_internal.h"
#include "serve/api_test_client.h"
#include "vigil/models/multi_horizon.h"
#include "vigil/models/probability_calibration.h"
#include "vigil/models/risk_levels.h"
#include "vigil/serve/scoring.h"

namespace vigil {
namespace {

using serve_internal::FeatureRowAt;
using testing::ReadOnly;
using testing::StartApi;
using testing::StoredRow;
using testing::TestApi;
using testing::TestApiOptions;
using testing::UrlEncode;

ScoredRows Score(const ServedModel& served, const FeatureMatrix& x, bool explain = false) {
  ScoreOptions options;
  options.explain = explain;
  Result<ScoredRows> scored = ScoreRows(served, x, options);
  EXPECT_TRUE(scored.ok()) << scored.status().ToString();
  return std::move(*scored);
}

// The time of the last stored 1m candle of `instrument`.
Timestamp LastCandle(TestApi& api, const std::string& instrument) {
  Result<StorePool::Lease> store = api.store().Acquire();
  SeriesKey series{*Instrument::Parse(instrument), DataKind::kCandles, "1m"};
  Result<Frame> bars = (*store)->Query(series, Timestamp::Min(), Timestamp::Max());
  EXPECT_TRUE(bars.ok() && !bars->empty());
  return bars->time(bars->rows() - 1);
}

void WritePredictions(TestApi& api, const std::vector<PredictionRow>& rows) {
  Result<StorePool::Lease> store = api.store().Acquire();
  ASSERT_TRUE(store.ok());
  Result<int64_t> written = (*store)->WritePredictions(rows);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
}

PredictionRow Prediction(const ServedModel& served, Timestamp ts, std::string horizon, double p) {
  PredictionRow row;
  row.model_name = served.name;
  row.model_version = served.version;
  row.instrument = "sim:BTC-PERP";
  row.ts = ts;
  row.horizon = std::move(horizon);
  row.value = p;
  row.score = 100 * p;
  row.label = std::string(RiskLevelName(RiskLevelOf(p, served.cutpoints)));
  row.created_at = ts;
  return row;
}

TEST(ApiRiskTest, ComputesTheLatestStoredRowWhenNoPredictionIsStored) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  testing::HttpReply reply = api->Client().Get("/v1/risk/" + UrlEncode("sim:BTC-PERP"));
  ASSERT_EQ(reply.status, 200) << reply.body;
  const nlohmann::json body = reply.Json();

  std::shared_ptr<const ServedModel> served = api->models().Get("risk_clf");
  const FeatureRowAt row = StoredRow(*api, *served, "sim:BTC-PERP");
  const ScoredRows scored = Score(*served, row.x);
  EXPECT_EQ(body["source"], "computed");
  EXPECT_EQ(body["instrument"], "sim:BTC-PERP");
  EXPECT_EQ(body["model"], "risk_clf");
  EXPECT_EQ(body["version"], served->version);
  EXPECT_EQ(body["as_of"], LastCandle(*api, "sim:BTC-PERP").ToIso());
  EXPECT_EQ(body["as_of"], row.ts.ToIso());
  EXPECT_DOUBLE_EQ(body["probability"].get<double>(), scored.Probability(0));
  EXPECT_DOUBLE_EQ(body["score"].get<double>(), scored.Score(0));
  EXPECT_EQ(body["risk_level"], RiskLevelName(scored.levels[0]));
  EXPECT_DOUBLE_EQ(body["confidence"].get<double>(), scored.confidence[0]);
}

TEST(ApiRiskTest, AnswersTheLatestStoredPredictionOnceDataChanged) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  const std::string path = "/v1/risk/" + UrlEncode("sim:BTC-PERP");
  ASSERT_EQ(api->Client().Get(path).Json()["source"], "computed");

  std::shared_ptr<const ServedModel> served = api->models().Get("risk_clf");
  const Timestamp last = LastCandle(*api, "sim:BTC-PERP");
  WritePredictions(*api, {Prediction(*served, last - 60 * kNanosPerSecond, "", 0.1),
                          Prediction(*served, last, "", 0.8)});
  api->server().NotifyDataChanged();  // the live runner does this after writing
  const nlohmann::json body = api->Client().Get(path).Json();
  EXPECT_EQ(body["source"], "predictions");
  EXPECT_EQ(body["as_of"], last.ToIso());
  EXPECT_DOUBLE_EQ(body["probability"].get<double>(), 0.8);
  EXPECT_DOUBLE_EQ(body["score"].get<double>(), 80.0);
  EXPECT_EQ(body["risk_level"], "critical");
  // risk_clf is Platt-calibrated: the evidence is every held-out row.
  const auto& calibrated = dynamic_cast<const CalibratedClassifier&>(served->model());
  const double expected =
      AssessRisk(0.8, served->cutpoints, calibrated.calibrator().Evidence(0.8)).confidence;
  EXPECT_DOUBLE_EQ(body["confidence"].get<double>(), expected);
}

// A prediction older than the stored data (bars ingested after the last live run) is not
// the latest answer: the route computes from the stored data instead.
TEST(ApiRiskTest, ComputesWhenStoredDataIsNewerThanTheLatestPrediction) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  std::shared_ptr<const ServedModel> served = api->models().Get("risk_clf");
  const Timestamp last = LastCandle(*api, "sim:BTC-PERP");
  WritePredictions(*api, {Prediction(*served, last - 60 * kNanosPerSecond, "", 0.8)});
  api->server().NotifyDataChanged();
  const nlohmann::json body = api->Client().Get("/v1/risk/" + UrlEncode("sim:BTC-PERP")).Json();
  EXPECT_EQ(body["source"], "computed") << body;
  EXPECT_EQ(body["as_of"], last.ToIso());
}

PredictionRow WithRecordedConfidence(PredictionRow row, double confidence) {
  row.explanation_json = nlohmann::json{{"confidence", confidence}}.dump();
  return row;
}

// Regression: the stored probability is calibrated, but a calibrator's evidence is indexed
// by the uncalibrated one, so an isotonic model's confidence cannot be recomputed from the
// row: it is the one the runner recorded, else null (it used to be Evidence(calibrated)).
TEST(ApiRiskTest, StoredConfidenceIsTheRecordedOneUnderIsotonicCalibration) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  const int64_t isotonic =
      testing::TrainVariant(api->world(), "risk_clf", "method: platt", "method: isotonic");
  ASSERT_TRUE(api->models().Promote("risk_clf", isotonic, "production").ok());
  std::shared_ptr<const ServedModel> served = api->models().Get("risk_clf");
  ASSERT_EQ(served->version, isotonic);
  const auto& calibrated = dynamic_cast<const CalibratedClassifier&>(served->model());
  ASSERT_EQ(calibrated.calibrator().method(), CalibrationMethod::kIsotonic);

  const std::string path = "/v1/risk/" + UrlEncode("sim:BTC-PERP");
  const Timestamp last = LastCandle(*api, "sim:BTC-PERP");
  WritePredictions(*api, {Prediction(*served, last, "", 0.8)});
  api->server().NotifyDataChanged();
  nlohmann::json body = api->Client().Get(path).Json();
  EXPECT_EQ(body["source"], "predictions");
  EXPECT_TRUE(body["confidence"].is_null()) << body;

  WritePredictions(*api, {WithRecordedConfidence(Prediction(*served, last, "", 0.8), 0.42)});
  api->server().NotifyDataChanged();
  body = api->Client().Get(path).Json();
  EXPECT_EQ(body["as_of"], last.ToIso());
  EXPECT_DOUBLE_EQ(body["confidence"].get<double>(), 0.42);
}

// A server whose risk model is the multi-horizon liq_long (uncalibrated logistic per
// horizon, primary the first: 5m), over a private copy of the world.
std::unique_ptr<TestApi> StartWithMultiHorizonRisk() {
  TestApiOptions options;
  options.models.risk = "liq_long";
  return StartApi(std::move(options));
}

// A multi-horizon risk model answers its primary horizon (the first, 5m: what ScoreRows'
// probability is), not the first stored row in text order (15m).
TEST(ApiRiskTest, AMultiHorizonModelAnswersItsPrimaryHorizon) {
  auto api = StartWithMultiHorizonRisk();
  ASSERT_NE(api, nullptr);
  std::shared_ptr<const ServedModel> served = api->models().Get("liq_long");
  const Timestamp last = LastCandle(*api, "sim:BTC-PERP");
  WritePredictions(*api,
                   {Prediction(*served, last, "15m", 0.2), Prediction(*served, last, "1h", 0.9),
                    WithRecordedConfidence(Prediction(*served, last, "5m", 0.1), 0.7),
                    Prediction(*served, last, "30m", 0.6)});
  const nlohmann::json body = api->Client().Get("/v1/risk/" + UrlEncode("sim:BTC-PERP")).Json();
  EXPECT_EQ(body["source"], "predictions");
  EXPECT_DOUBLE_EQ(body["probability"].get<double>(), 0.1);
  EXPECT_EQ(body["risk_level"], RiskLevelName(RiskLevelOf(0.1, served->cutpoints)));
  EXPECT_DOUBLE_EQ(body["confidence"].get<double>(), 0.7);
}

TEST(ApiRiskTest, StoredConfidenceOfAnUncalibratedPrimaryHorizonIsZeroAsWhenComputed) {
  auto api = StartWithMultiHorizonRisk();
  ASSERT_NE(api, nullptr);
  const std::string path = "/v1/risk/" + UrlEncode("sim:BTC-PERP");
  const nlohmann::json computed = api->Client().Get(path).Json();
  ASSERT_EQ(computed["source"], "computed");
  EXPECT_DOUBLE_EQ(computed["confidence"].get<double>(), 0.0);  // no evidence behind it

  std::shared_ptr<const ServedModel> served = api->models().Get("liq_long");
  PredictionRow row = Prediction(*served, LastCandle(*api, "sim:BTC-PERP"), "5m", 0.3);
  WritePredictions(*api, {row});
  api->server().NotifyDataChanged();
  EXPECT_DOUBLE_EQ(api->Client().Get(path).Json()["confidence"].get<double>(), 0.0);
  // A row of a version no longer loaded: its calibration is unknown.
  row.model_version = served->version + 1;
  row.ts = row.ts + kNanosPerSecond;
  WritePredictions(*api, {row});
  api->server().NotifyDataChanged();
  EXPECT_TRUE(api->Client().Get(path).Json()["confidence"].is_null());
}

// The value of an unlabelled counter in the /metrics text.
double MetricValue(TestApi& api, const std::string& name) {
  const std::string text = api.Client().Get("/metrics").body;
  const size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + name.size() + 2));
}

TEST(ApiRiskTest, RepeatsComeFromTheCacheUntilAModelIsPromoted) {
  ManualClock clock(Timestamp::FromSeconds(1'700'000'000));  // the cache's TTL never runs out
  TestApiOptions options;
  options.clock = &clock;
  auto api = StartApi(std::move(options));
  ASSERT_NE(api, nullptr);
  const std::string path = "/v1/risk/" + UrlEncode("sim:BTC-PERP");
  const std::string first = api->Client().Get(path).body;
  const double hits = MetricValue(*api, "vigil_cache_hits_total");
  EXPECT_EQ(api->Client().Get(path).body, first);
  EXPECT_EQ(MetricValue(*api, "vigil_cache_hits_total"), hits + 1);

  // A new version of risk_clf, promoted live: the cached answer of the old one is dropped.
  Result<LoadedModel> loaded = api->registry().Load("risk_clf@production");
  ASSERT_TRUE(loaded.ok());
  Result<Manifest> stored = api->registry().Register(*loaded->model, loaded->manifest);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_TRUE(api->models().Promote("risk_clf", stored->version, "production").ok());
  const nlohmann::json after = api->Client().Get(path).Json();
  EXPECT_EQ(after["version"], stored->version);
  EXPECT_EQ(after["probability"], nlohmann::json::parse(first)["probability"]);
}

TEST(ApiRiskTest, RefusesUnknownAndMalformedInstruments) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  testing::ApiClient client = api->Client();
  EXPECT_EQ(client.Get("/v1/risk/" + UrlEncode("sim:DOGE-PERP")).status, 404);
  testing::HttpReply bad = client.Get("/v1/risk/no-colon");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.ErrorMessage().find("instrument"), std::string::npos);
  testing::HttpReply unknown = client.Get("/v1/risk/" + UrlEncode("sim:BTC-PERP") + "?x=1");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.ErrorMessage().find("'x'"), std::string::npos);
}

TEST(ApiRiskTest, IsUnavailableWithoutARiskModel) {
  TestApiOptions options = ReadOnly();
  options.models.risk = "";
  auto api = StartApi(std::move(options));
  ASSERT_NE(api, nullptr);
  testing::HttpReply reply = api->Client().Get("/v1/risk/" + UrlEncode("sim:BTC-PERP"));
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.ErrorCode(), "unavailable");
}

TEST(ApiLiquidationTest, AnswersEveryHorizonOfTheMatchingModel) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  testing::HttpReply reply =
      api->Client().Get("/v1/liquidation/" + UrlEncode("sim:ETH-PERP") + "?leverage=20&side=long");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const nlohmann::json body = reply.Json();
  ASSERT_EQ(body["models"].size(), 1u);
  const nlohmann::json& answer = body["models"][0];
  EXPECT_EQ(answer["model"], "liq_long");
  EXPECT_EQ(answer["side"], "long");
  EXPECT_DOUBLE_EQ(answer["leverage"].get<double>(), 20.0);
  EXPECT_EQ(answer["source"], "computed");

  std::shared_ptr<const ServedModel> served = api->models().Get("liq_long");
  const FeatureRowAt row = StoredRow(*api, *served, "sim:ETH-PERP");
  const auto& model = dynamic_cast<const MultiHorizonClassifier&>(served->model());
  Result<std::vector<double>> expected = model.PredictHorizons(row.x);
  ASSERT_TRUE(expected.ok());
  const std::vector<std::string> names = {"5m", "15m", "30m", "1h"};
  ASSERT_EQ(answer["horizons"].size(), names.size());
  for (size_t k = 0; k < names.size(); ++k) {
    const nlohmann::json& horizon = answer["horizons"][k];
    EXPECT_EQ(horizon["horizon"], names[k]);
    EXPECT_DOUBLE_EQ(horizon["probability"].get<double>(), (*expected)[k]);
    EXPECT_EQ(horizon["risk_level"], RiskLevelName(RiskLevelOf((*expected)[k], served->cutpoints)));
  }
  EXPECT_EQ(answer["as_of"], row.ts.ToIso());
  // Without leverage and side every served combination answers.
  EXPECT_EQ(api->Client().Get("/v1/liquidation/" + UrlEncode("sim:ETH-PERP")).Json()["models"],
            body["models"]);
}

TEST(ApiLiquidationTest, NamesTheBadParameterOrTheServedCombinations) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  testing::ApiClient client = api->Client();
  const std::string path = "/v1/liquidation/" + UrlEncode("sim:ETH-PERP");
  for (const char* query : {"?leverage=abc", "?leverage=1", "?leverage=-5"}) {
    testing::HttpReply reply = client.Get(path + query);
    EXPECT_EQ(reply.status, 400) << query;
    EXPECT_EQ(reply.ErrorMessage().rfind("leverage", 0), 0u) << reply.ErrorMessage();
  }
  testing::HttpReply side = client.Get(path + "?side=sideways");
  EXPECT_EQ(side.status, 400);
  EXPECT_EQ(side.ErrorMessage().rfind("side", 0), 0u) << side.ErrorMessage();
  for (const char* query : {"?leverage=10&side=long", "?side=short"}) {
    testing::HttpReply reply = client.Get(path + query);
    EXPECT_EQ(reply.status, 404) << query;
    EXPECT_NE(reply.ErrorMessage().find("liq_long (20x long)"), std::string::npos)
        << reply.ErrorMessage();
  }
}

TEST(ApiLiquidationTest, ListsStoredHorizonPredictionsByDuration) {
  auto api = StartApi();
  ASSERT_NE(api, nullptr);
  std::shared_ptr<const ServedModel> served = api->models().Get("liq_long");
  const Timestamp last = LastCandle(*api, "sim:BTC-PERP");
  // Written in text order; answered 5m, 15m, 30m, 1h.
  WritePredictions(*api,
                   {Prediction(*served, last, "15m", 0.2), Prediction(*served, last, "1h", 0.9),
                    Prediction(*served, last, "30m", 0.6), Prediction(*served, last, "5m", 0.1)});
  const nlohmann::json body =
      api->Client().Get("/v1/liquidation/" + UrlEncode("sim:BTC-PERP") + "?leverage=20").Json();
  const nlohmann::json& answer = body["models"][0];
  EXPECT_EQ(answer["source"], "predictions");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"5m", "low"}, {"15m", "low"}, {"30m", "high"}, {"1h", "critical"}};
  ASSERT_EQ(answer["horizons"].size(), expected.size());
  for (size_t k = 0; k < expected.size(); ++k) {
    EXPECT_EQ(answer["horizons"][k]["horizon"], expected[k].first);
    EXPECT_EQ(answer["horizons"][k]["risk_level"], expected[k].second);
  }
}

TEST(ApiAnomalyTest, ScanScoresEveryInstrumentMostAnomalousFirst) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  testing::HttpReply reply = api->Client().Get("/v1/anomaly/scan");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const nlohmann::json body = reply.Json();
  ASSERT_EQ(body["detectors"].size(), 1u);
  const nlohmann::json& detector = body["detectors"][0];
  EXPECT_EQ(detector["model"], "oracle_anom");
  EXPECT_EQ(detector["driver"], "oracle");
  ASSERT_EQ(detector["results"].size(), 2u) << detector.dump();

  std::shared_ptr<const ServedModel> served = api->models().Get("oracle_anom");
  std::set<std::string> instruments;
  double previous = 101.0;
  for (const nlohmann::json& result : detector["results"]) {
    const std::string instrument = result["instrument"];
    instruments.insert(instrument);
    const FeatureRowAt row = StoredRow(*api, *served, instrument);
    const ScoredRows scored = Score(*served, row.x, true);
    EXPECT_DOUBLE_EQ(result["score"].get<double>(), scored.scores[0]) << instrument;
    EXPECT_EQ(result["is_anomaly"], scored.flags[0] != 0);
    EXPECT_EQ(result["as_of"], row.ts.ToIso());
    EXPECT_LE(result["score"].get<double>(), previous);
    previous = result["score"].get<double>();
    EXPECT_LE(result["top_features"].size(), 3u);
    for (const nlohmann::json& share : result["top_features"]) {
      EXPECT_GT(share["contribution"].get<double>(), 0.0);
    }
  }
  EXPECT_EQ(instruments, (std::set<std::string>{"sim:BTC-PERP", "sim:ETH-PERP"}));
}

TEST(ApiAnomalyTest, InstrumentAnswerAgreesWithTheScan) {
  auto api = StartApi(ReadOnly());
  ASSERT_NE(api, nullptr);
  testing::ApiClient client = api->Client();
  const nlohmann::json scan = client.Get("/v1/anomaly/scan?model=oracle_anom").Json();
  ASSERT_EQ(scan["detectors"].size(), 1u);
  for (const nlohmann::json& result : scan["detectors"][0]["results"]) {
    const std::string instrument = result["instrument"];
    const nlohmann::json body = client.Get("/v1/anomaly/" + UrlEncode(instrument)).Json();
    ASSERT_EQ(body["detectors"].size(), 1u) << body.dump();
    const nlohmann::json& reading = body["detectors"][0];
    EXPECT_EQ(reading["model"], "oracle_anom");
    EXPECT_DOUBLE_EQ(reading["score"].get<double>(), result["score"].get<double>());
    EXPECT_EQ(reading["is_anomaly"], result["is_anomaly"]);
    EXPECT_EQ(reading["top_features"], result["top_features"]);
  }
  EXPECT_EQ(client.Get("/v1/anomaly/" + UrlEncode("sim:DOGE-PERP")).status, 404);
  EXPECT_EQ(client.Get("/v1/anomaly/scan?model=risk_clf").status, 404);
  EXPECT_EQ(client.Get("/v1/anomaly/scan?limit=3").status, 400);
}

TEST(ApiAnomalyTest, IsUnavailableWithoutDetectors) {
  TestApiOptions options = ReadOnly();
  options.models.anomaly.clear();
  auto api = StartApi(std::move(options));
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->Client().Get("/v1/anomaly/scan").status, 503);
  EXPECT_EQ(api->Client().Get("/v1/anomaly/" + UrlEncode("sim:BTC-PERP")).status, 503);
}

}  // namespace
}  // namespace vigil
