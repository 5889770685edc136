// The Store contract for predictions and alerts (WritePredictions, QueryPredictions,
// LatestPredictions, WriteAlerts, QueryAlerts in include/vigil/store/store.h) and migration
// 4, run against every backend like store_conformance_test.cc. Each test gets a fresh,
// empty store. Expected rows are written out by hand, never taken from a store.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "store/test_stores.h"
#include "vigil/store/store.h"

namespace vigil {
namespace {

// 2024-01-01T00:00:00Z.
constexpr int64_t kT0 = 1'704'067'200LL * kNanosPerSecond;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Timestamp Minute(int64_t minute) { return Timestamp(kT0 + minute * kNanosPerMinute); }

// A prediction with every field set; text that COPY and SQL must escape.
PredictionRow FullPrediction(const std::string& model, const std::string& instrument,
                             int64_t minute, const std::string& horizon = "15m") {
  PredictionRow row;
  row.model_name = model;
  row.model_version = 7;
  row.instrument = instrument;
  row.ts = Minute(minute);
  row.horizon = horizon;
  row.value = 0.1 + 1e-17 * static_cast<double>(minute);  // needs all 17 digits
  row.score = 87.5 + static_cast<double>(minute);
  row.label = "high\tvol\\é";
  row.explanation_json = R"({"top":[["rsi_14",0.25]],"note":"line1\nline2 € 😀"})";
  row.created_at = Timestamp(kT0 + minute * kNanosPerMinute + 123);
  return row;
}

// Only the required fields: NaN value and score, "" label and explanation.
PredictionRow BarePrediction(const std::string& model, const std::string& instrument,
                             int64_t minute, const std::string& horizon = "") {
  PredictionRow row;
  row.model_name = model;
  row.instrument = instrument;
  row.ts = Minute(minute);
  row.horizon = horizon;
  row.created_at = Minute(minute);
  return row;
}

AlertRow FullAlert(const std::string& instrument, int64_t minute) {
  AlertRow row;
  row.rule = "liq-15m > 0.8";
  row.instrument = instrument;
  row.ts = Minute(minute);
  row.severity = "critical";
  row.score = 93.25;
  row.message = "liquidation probability 0.93 ≥ 0.8\n(15m, 20x long)";
  row.features_json = R"({"rsi_14":71.5,"tab":"a\tb"})";
  row.model_name = "liq";
  row.model_version = 0;  // zero is a version, not NULL
  row.acknowledged = true;
  row.created_at = Timestamp(kT0 + minute * kNanosPerMinute + 5);
  return row;
}

AlertRow BareAlert(const std::string& instrument, int64_t minute) {
  AlertRow row;
  row.rule = "anomaly x3";
  row.instrument = instrument;
  row.ts = Minute(minute);
  row.severity = "info";
  row.message = "3 consecutive anomalies";
  row.created_at = Minute(minute);
  return row;
}

// Doubles equal bit for bit, or both NaN (stored as NULL).
bool SameDouble(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || (a == b && std::signbit(a) == std::signbit(b));
}

void ExpectPredictionsEqual(const std::vector<PredictionRow>& actual,
                            const std::vector<PredictionRow>& expected, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t index = 0; index < expected.size(); ++index) {
    const PredictionRow& a = actual[index];
    const PredictionRow& e = expected[index];
    SCOPED_TRACE("row " + std::to_string(index));
    EXPECT_EQ(a.model_name, e.model_name);
    EXPECT_EQ(a.model_version, e.model_version);
    EXPECT_EQ(a.instrument, e.instrument);
    EXPECT_EQ(a.ts, e.ts);
    EXPECT_EQ(a.horizon, e.horizon);
    EXPECT_TRUE(SameDouble(a.value, e.value)) << a.value << " vs " << e.value;
    EXPECT_TRUE(SameDouble(a.score, e.score)) << a.score << " vs " << e.score;
    EXPECT_EQ(a.label, e.label);
    EXPECT_EQ(a.explanation_json, e.explanation_json);
    EXPECT_EQ(a.created_at, e.created_at);
  }
}

void ExpectAlertsEqual(const std::vector<AlertRow>& actual, const std::vector<AlertRow>& expected,
                       const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t index = 0; index < expected.size(); ++index) {
    const AlertRow& a = actual[index];
    const AlertRow& e = expected[index];
    SCOPED_TRACE("alert " + std::to_string(index));
    EXPECT_EQ(a.alert_id, e.alert_id);
    EXPECT_EQ(a.rule, e.rule);
    EXPECT_EQ(a.instrument, e.instrument);
    EXPECT_EQ(a.ts, e.ts);
    EXPECT_EQ(a.severity, e.severity);
    EXPECT_TRUE(SameDouble(a.score, e.score)) << a.score << " vs " << e.score;
    EXPECT_EQ(a.message, e.message);
    EXPECT_EQ(a.features_json, e.features_json);
    EXPECT_EQ(a.model_name, e.model_name);
    EXPECT_EQ(a.model_version, e.model_version);
    EXPECT_EQ(a.acknowledged, e.acknowledged);
    EXPECT_EQ(a.created_at, e.created_at);
  }
}

AlertRow WithId(AlertRow row, int64_t alert_id) {
  row.alert_id = alert_id;
  return row;
}

class PredictionsAlertsConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = OpenTestStore(GetParam());
    ASSERT_NE(store_, nullptr) << "could not open a " << GetParam() << " test store";
  }

  void WriteOk(const std::vector<PredictionRow>& rows) {
    Result<int64_t> written = store_->WritePredictions(rows);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    EXPECT_EQ(*written, static_cast<int64_t>(rows.size()));
  }

  std::vector<int64_t> WriteAlertsOk(const std::vector<AlertRow>& rows) {
    Result<std::vector<int64_t>> ids = store_->WriteAlerts(rows);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    if (!ids.ok()) return std::vector<int64_t>(rows.size(), -1);
    EXPECT_EQ(ids->size(), rows.size());
    return *ids;
  }

  std::vector<PredictionRow> Query(const PredictionQuery& query) {
    Result<std::vector<PredictionRow>> rows = store_->QueryPredictions(query);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? std::move(rows).value() : std::vector<PredictionRow>();
  }

  std::vector<PredictionRow> Latest(const std::string& instrument, const std::string& model) {
    Result<std::vector<PredictionRow>> rows = store_->LatestPredictions(instrument, model);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? std::move(rows).value() : std::vector<PredictionRow>();
  }

  std::vector<AlertRow> Alerts(const AlertQuery& query) {
    Result<std::vector<AlertRow>> rows = store_->QueryAlerts(query);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? std::move(rows).value() : std::vector<AlertRow>();
  }

  int64_t Count(const std::string& table) { return CountTableRows(*store_, table); }

  std::unique_ptr<Store> store_;
};

TEST_P(PredictionsAlertsConformanceTest, RoundTripsEveryPredictionField) {
  PredictionRow extremes = FullPrediction("risk", "binance:ETH/USDT", 2, "");
  extremes.value = 5e-324;  // the smallest denormal
  extremes.score = -std::numeric_limits<double>::infinity();
  extremes.model_version = std::numeric_limits<int64_t>::min();  // kMissingInt is a version too
  const std::vector<PredictionRow> rows = {FullPrediction("liq", "binance:BTC/USDT", 1),
                                           BarePrediction("anomaly", "okx:SOL-USDT", 1), extremes};
  WriteOk(rows);
  ExpectPredictionsEqual(Query({}), rows, "every row, ascending by ts then write order");
  // NaN and "" explanation are NULL; "" label and horizon are stored as given.
  EXPECT_EQ(CountTableRowsWhere(*store_, "predictions",
                                "value IS NULL AND score IS NULL AND explanation_json IS NULL AND "
                                "label = '' AND horizon = ''"),
            1);
}

TEST_P(PredictionsAlertsConformanceTest, AnEmptyBatchWritesNothing) {
  WriteOk({});
  Result<std::vector<int64_t>> ids = store_->WriteAlerts({});
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_TRUE(ids->empty());
  EXPECT_EQ(Count("predictions"), 0);
  EXPECT_EQ(Count("alerts"), 0);
}

TEST_P(PredictionsAlertsConformanceTest, WritesALiveRunnersBatch) {
  std::vector<PredictionRow> batch;
  for (int instrument = 0; instrument < 1000; ++instrument) {
    batch.push_back(FullPrediction("liq", "sim:I" + std::to_string(instrument), 5));
  }
  WriteOk(batch);
  EXPECT_EQ(Count("predictions"), 1000);
  ExpectPredictionsEqual(Latest("sim:I999", "liq"), {batch.back()}, "the last instrument");
}

TEST_P(PredictionsAlertsConformanceTest, QueryFiltersByInstrumentModelAndHalfOpenTime) {
  const PredictionRow a1 = BarePrediction("a", "x:1", 1), a2 = BarePrediction("a", "x:1", 2);
  const PredictionRow b2 = BarePrediction("b", "x:1", 2), a3 = BarePrediction("a", "x:2", 3);
  const PredictionRow a0 = BarePrediction("a", "x:1", 0);
  WriteOk({a1, a2, b2, a3, a0});
  ExpectPredictionsEqual(Query({}), {a0, a1, a2, b2, a3}, "all, by ts then write order");
  ExpectPredictionsEqual(Query({.instrument = "x:1"}), {a0, a1, a2, b2}, "instrument");
  ExpectPredictionsEqual(Query({.model_name = "a"}), {a0, a1, a2, a3}, "model");
  ExpectPredictionsEqual(Query({.instrument = "x:1", .model_name = "b"}), {b2}, "both");
  ExpectPredictionsEqual(Query({.from = Minute(1), .to = Minute(3)}), {a1, a2, b2}, "[1, 3)");
  ExpectPredictionsEqual(Query({.instrument = "x:9"}), {}, "unknown instrument");
  ExpectPredictionsEqual(Query({.from = Minute(3), .to = Minute(3)}), {}, "empty range");
}

TEST_P(PredictionsAlertsConformanceTest, LimitKeepsTheNewestRowsInAscendingOrder) {
  const PredictionRow r1 = BarePrediction("a", "x:1", 1), r2 = BarePrediction("a", "x:1", 2);
  const PredictionRow r2b = BarePrediction("a", "x:1", 2, "5m");
  const PredictionRow r3 = BarePrediction("a", "x:1", 3);
  WriteOk({r3, r1, r2, r2b});
  ExpectPredictionsEqual(Query({.limit = 2}), {r2b, r3}, "newest 2 (ties by write order)");
  ExpectPredictionsEqual(Query({.limit = 3}), {r2, r2b, r3}, "newest 3");
  ExpectPredictionsEqual(Query({.to = Minute(3), .limit = 1}), {r2b}, "newest before 3");
  ExpectPredictionsEqual(Query({.limit = 100}), {r1, r2, r2b, r3}, "more than stored");
  ExpectPredictionsEqual(Query({.limit = -1}), {r1, r2, r2b, r3}, "negative = all");
}

TEST_P(PredictionsAlertsConformanceTest, LatestReturnsOneRowPerHorizonAtTheLatestTime) {
  const std::vector<PredictionRow> old = {FullPrediction("liq", "x:1", 1, "5m"),
                                          FullPrediction("liq", "x:1", 1, "15m")};
  const PredictionRow m5 = FullPrediction("liq", "x:1", 2, "5m");
  const PredictionRow m60 = FullPrediction("liq", "x:1", 2, "60m");
  const PredictionRow m15 = FullPrediction("liq", "x:1", 2, "15m");
  const PredictionRow risk = BarePrediction("risk", "x:1", 1);
  const PredictionRow other_instrument = FullPrediction("liq", "x:2", 9, "5m");
  WriteOk(old);
  WriteOk({m5, m60, m15, risk, other_instrument});
  // Bytewise: "15m" < "5m" < "60m".
  ExpectPredictionsEqual(Latest("x:1", "liq"), {m15, m5, m60}, "liq at minute 2");
  ExpectPredictionsEqual(Latest("x:1", "risk"), {risk}, "risk at minute 1");
  ExpectPredictionsEqual(Latest("x:1", ""), {m15, m5, m60}, "every model at the latest ts");
  ExpectPredictionsEqual(Latest("x:1", "nope"), {}, "unknown model");
  ExpectPredictionsEqual(Latest("x:3", ""), {}, "unknown instrument");

  // A newer risk row joins the latest ts; ties on horizon are ordered by model name.
  const PredictionRow risk_now = BarePrediction("risk", "x:1", 2, "5m");
  WriteOk({risk_now});
  ExpectPredictionsEqual(Latest("x:1", ""), {m15, m5, risk_now, m60}, "two models");
}

TEST_P(PredictionsAlertsConformanceTest, LatestKeepsTheRowWrittenLastForARescoredBar) {
  PredictionRow first = FullPrediction("liq", "x:1", 4, "5m");
  PredictionRow rescored = first;
  rescored.model_version = 8;
  rescored.value = 0.75;
  WriteOk({first});
  WriteOk({rescored});
  ExpectPredictionsEqual(Latest("x:1", "liq"), {rescored}, "after a re-score");
  ExpectPredictionsEqual(Query({}), {first, rescored}, "both are kept");
}

TEST_P(PredictionsAlertsConformanceTest, AnInvalidPredictionWritesNothingAndNamesTheField) {
  struct Case {
    std::string field;
    void (*spoil)(PredictionRow&);
  };
  const Case cases[] = {
      {"model_name is empty", [](PredictionRow& r) { r.model_name = ""; }},
      {"instrument is empty", [](PredictionRow& r) { r.instrument = ""; }},
      {"instrument contains a NUL",
       [](PredictionRow& r) { r.instrument = std::string("a\0b", 3); }},
      {"model_name is not valid UTF-8", [](PredictionRow& r) { r.model_name = "m\xff"; }},
      {"horizon is not valid UTF-8", [](PredictionRow& r) { r.horizon = "\xc0\xaf"; }},
      {"label contains a NUL", [](PredictionRow& r) { r.label = std::string("\0", 1); }},
      {"explanation_json is not valid UTF-8",
       [](PredictionRow& r) { r.explanation_json = "\xed\xa0\x80"; }},
  };
  for (const Case& one : cases) {
    SCOPED_TRACE(one.field);
    PredictionRow bad = FullPrediction("liq", "x:1", 2);
    one.spoil(bad);
    const std::vector<PredictionRow> batch = {FullPrediction("liq", "x:1", 1), bad,
                                              FullPrediction("liq", "x:1", 3)};
    Result<int64_t> written = store_->WritePredictions(batch);
    ASSERT_FALSE(written.ok());
    EXPECT_EQ(written.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(written.status().message().find(one.field), std::string::npos)
        << written.status().ToString();
    EXPECT_NE(written.status().message().find("prediction 1 "), std::string::npos)
        << written.status().ToString();
    EXPECT_EQ(Count("predictions"), 0);
  }
}

TEST_P(PredictionsAlertsConformanceTest, ABackendFailureIsADatabaseErrorAndWritesNothing) {
  WriteOk({BarePrediction("a", "x:1", 1)});
  // A constraint only the database knows about fails the second row of the batch.
  ASSERT_TRUE(
      store_->Execute("CREATE UNIQUE INDEX one_per_ts ON predictions (instrument, ts)").ok());
  Result<int64_t> written =
      store_->WritePredictions({{BarePrediction("a", "x:1", 2), BarePrediction("a", "x:1", 1)}});
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.status().code(), StatusCode::kDatabaseError) << written.status().ToString();
  EXPECT_NE(written.status().message().find("writing 2 predictions"), std::string::npos)
      << written.status().ToString();
  EXPECT_EQ(Count("predictions"), 1);
  // The store stays usable.
  WriteOk({BarePrediction("a", "x:1", 3)});
}

TEST_P(PredictionsAlertsConformanceTest, RoundTripsEveryAlertFieldWithIncreasingIds) {
  const std::vector<int64_t> first = WriteAlertsOk({FullAlert("x:1", 2), BareAlert("x:2", 1)});
  const std::vector<int64_t> second = WriteAlertsOk({BareAlert("x:1", 3)});
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_GE(first[0], 1);
  EXPECT_GT(first[1], first[0]);
  EXPECT_GT(second[0], first[1]);
  ExpectAlertsEqual(Alerts({.limit = 0}),
                    {WithId(BareAlert("x:2", 1), first[1]), WithId(FullAlert("x:1", 2), first[0]),
                     WithId(BareAlert("x:1", 3), second[0])},
                    "ascending by ts");
  // NaN score, "" features_json and model_name, and an absent version are NULL; 0 is not.
  EXPECT_EQ(CountTableRowsWhere(*store_, "alerts",
                                "score IS NULL AND features_json IS NULL AND model_name IS NULL "
                                "AND model_version IS NULL AND acknowledged = 0"),
            2);
  EXPECT_EQ(CountTableRowsWhere(*store_, "alerts", "model_version = 0 AND acknowledged = 1"), 1);

  // An id is never handed out twice, even after the newest alert is deleted.
  ASSERT_TRUE(
      store_->Execute("DELETE FROM alerts WHERE alert_id = " + std::to_string(second[0])).ok());
  EXPECT_GT(WriteAlertsOk({BareAlert("x:1", 4)}).at(0), second[0]);
}

TEST_P(PredictionsAlertsConformanceTest, QueryAlertsFiltersAndKeepsTheNewest) {
  const std::vector<int64_t> ids = WriteAlertsOk(
      {BareAlert("x:1", 1), BareAlert("x:2", 2), BareAlert("x:1", 3), BareAlert("x:1", 3)});
  const AlertRow a1 = WithId(BareAlert("x:1", 1), ids[0]), b2 = WithId(BareAlert("x:2", 2), ids[1]);
  const AlertRow a3 = WithId(BareAlert("x:1", 3), ids[2]),
                 a3b = WithId(BareAlert("x:1", 3), ids[3]);
  ExpectAlertsEqual(Alerts({}), {a1, b2, a3, a3b}, "default query");
  ExpectAlertsEqual(Alerts({.since = Minute(2)}), {b2, a3, a3b}, "since is inclusive");
  ExpectAlertsEqual(Alerts({.instrument = "x:1"}), {a1, a3, a3b}, "instrument");
  ExpectAlertsEqual(Alerts({.since = Minute(2), .instrument = "x:2"}), {b2}, "both");
  ExpectAlertsEqual(Alerts({.limit = 2}), {a3, a3b}, "newest 2, ascending");
  ExpectAlertsEqual(Alerts({.instrument = "x:1", .limit = 2}), {a3, a3b}, "newest of x:1");
  ExpectAlertsEqual(Alerts({.since = Minute(4)}), {}, "nothing since");
}

TEST_P(PredictionsAlertsConformanceTest, AnInvalidAlertWritesNothingAndNamesTheField) {
  struct Case {
    std::string field;
    void (*spoil)(AlertRow&);
  };
  const Case cases[] = {
      {"rule is empty", [](AlertRow& r) { r.rule = ""; }},
      {"instrument is empty", [](AlertRow& r) { r.instrument = ""; }},
      {"message is empty", [](AlertRow& r) { r.message = ""; }},
      {"severity 'fatal'", [](AlertRow& r) { r.severity = "fatal"; }},
      {"severity ''", [](AlertRow& r) { r.severity = ""; }},
      {"features_json is not valid UTF-8",
       [](AlertRow& r) { r.features_json = "{\"a\":\"\xfe\"}"; }},
      {"model_name contains a NUL", [](AlertRow& r) { r.model_name = std::string("m\0", 2); }},
      {"message is not valid UTF-8", [](AlertRow& r) { r.message = "\x80"; }},
  };
  for (const Case& one : cases) {
    SCOPED_TRACE(one.field);
    AlertRow bad = FullAlert("x:1", 2);
    one.spoil(bad);
    Result<std::vector<int64_t>> ids = store_->WriteAlerts({{BareAlert("x:1", 1), bad}});
    ASSERT_FALSE(ids.ok());
    EXPECT_EQ(ids.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(ids.status().message().find(one.field), std::string::npos) << ids.status().ToString();
    EXPECT_NE(ids.status().message().find("alert 1 "), std::string::npos)
        << ids.status().ToString();
    EXPECT_EQ(Count("alerts"), 0);
  }
}

TEST_P(PredictionsAlertsConformanceTest, MigrationFourIndexesServingReads) {
  EXPECT_GE(store_->SchemaVersion().value_or(-1), 4);
  // Creating an index of the same name fails only when migration 4 created it.
  for (const char* index : {"predictions_by_model", "alerts_by_instrument"}) {
    EXPECT_FALSE(store_->Execute("CREATE INDEX " + std::string(index) + " ON alerts (ts)").ok())
        << index << " is missing";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, PredictionsAlertsConformanceTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace vigil
