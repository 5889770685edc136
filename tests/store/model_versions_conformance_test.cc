// The Store contract for the model registry's mirror (ReplaceModelVersions /
// ListModelVersions in include/vigil/store/store.h), run against every backend like
// store_conformance_test.cc. Each test gets a fresh, empty store. Expected rows are
// written out by hand, never taken from a store.
#include <gtest/gtest.h>

#include <climits>
#include <string>
#include <vector>

#include "store/test_stores.h"
#include "vigil/store/store.h"

namespace vigil {
namespace {

// 2024-01-01T00:00:00Z.
constexpr int64_t kT0 = 1'704'067'200LL * kNanosPerSecond;

// A row with every field set, distinct per (name, version).
ModelVersionRow FullRow(const std::string& name, int64_t version) {
  ModelVersionRow row;
  row.name = name;
  row.version = version;
  row.family = "logistic";
  row.task = "classification";
  row.stage = "production,latest";
  row.config_json = R"({"l2":0.5,"name":")" + name + R"("})";
  row.metrics_json = R"({"auc":0.7)" + std::to_string(version) + "}";
  row.feature_set = "momentum@" + std::to_string(1000 + version);
  row.artifact_path = "models/" + name + "/v" + std::to_string(version);
  row.artifact_sha256 = std::string(64, 'a');
  row.train_from = Timestamp(kT0);
  row.train_to = Timestamp(kT0 + version * kNanosPerDay);
  row.created_at = Timestamp(kT0 + 40 * kNanosPerDay + version);
  row.promoted_at = Timestamp(kT0 + 41 * kNanosPerDay + version);
  return row;
}

// A row with only the required fields: optionals absent, stage and sha256 empty.
ModelVersionRow MinimalRow(const std::string& name, int64_t version) {
  ModelVersionRow row;
  row.name = name;
  row.version = version;
  row.family = "iforest";
  row.task = "anomaly";
  row.created_at = Timestamp(kT0 + version);
  return row;
}

void ExpectRowsEqual(const std::vector<ModelVersionRow>& actual,
                     const std::vector<ModelVersionRow>& expected, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t index = 0; index < expected.size(); ++index) {
    const ModelVersionRow& a = actual[index];
    const ModelVersionRow& e = expected[index];
    SCOPED_TRACE("row " + std::to_string(index) + " (" + e.name + " v" + std::to_string(e.version) +
                 ")");
    EXPECT_EQ(a.name, e.name);
    EXPECT_EQ(a.version, e.version);
    EXPECT_EQ(a.family, e.family);
    EXPECT_EQ(a.task, e.task);
    EXPECT_EQ(a.stage, e.stage);
    EXPECT_EQ(a.config_json, e.config_json);
    EXPECT_EQ(a.metrics_json, e.metrics_json);
    EXPECT_EQ(a.feature_set, e.feature_set);
    EXPECT_EQ(a.artifact_path, e.artifact_path);
    EXPECT_EQ(a.artifact_sha256, e.artifact_sha256);
    EXPECT_EQ(a.train_from, e.train_from);
    EXPECT_EQ(a.train_to, e.train_to);
    EXPECT_EQ(a.created_at, e.created_at);
    EXPECT_EQ(a.promoted_at, e.promoted_at);
    EXPECT_TRUE(a == e);
  }
}

class ModelVersionsConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = OpenTestStore(GetParam());
    ASSERT_NE(store_, nullptr) << "could not open a " << GetParam() << " test store";
  }

  void ReplaceOk(const std::string& name, const std::vector<ModelVersionRow>& rows) {
    Status status = store_->ReplaceModelVersions(name, rows);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  std::vector<ModelVersionRow> List(const std::string& name) {
    Result<std::vector<ModelVersionRow>> rows = store_->ListModelVersions(name);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? std::move(rows).value() : std::vector<ModelVersionRow>();
  }

  int64_t Count(const std::string& table) { return CountTableRows(*store_, table); }
  int64_t CountWhere(const std::string& condition) {
    return CountTableRowsWhere(*store_, "model_versions", condition);
  }

  std::unique_ptr<Store> store_;
};

TEST_P(ModelVersionsConformanceTest, RoundTripsEveryField) {
  const std::vector<ModelVersionRow> rows = {FullRow("trend", 1), MinimalRow("trend", 2)};
  ReplaceOk("trend", rows);
  ExpectRowsEqual(List("trend"), rows, "by name");
  ExpectRowsEqual(List(""), rows, "every model");
  EXPECT_EQ(Count("model_versions"), 2);
}

TEST_P(ModelVersionsConformanceTest, AbsentTimestampsAreNullAndStageIsStoredAsGiven) {
  ModelVersionRow only_promoted = MinimalRow("trend", 3);
  only_promoted.promoted_at = Timestamp(0);  // present and zero is not absent
  only_promoted.stage = "staging";
  ReplaceOk("trend", {FullRow("trend", 1), MinimalRow("trend", 2), only_promoted});

  EXPECT_EQ(CountWhere("train_from IS NULL AND train_to IS NULL"), 2);
  EXPECT_EQ(CountWhere("promoted_at IS NULL"), 1);
  EXPECT_EQ(CountWhere("promoted_at = 0"), 1);
  // "" stays "", not the column default 'staging'.
  EXPECT_EQ(CountWhere("stage = ''"), 1);
  EXPECT_EQ(CountWhere("stage = 'staging'"), 1);
  EXPECT_EQ(CountWhere("artifact_sha256 = ''"), 2);
  ExpectRowsEqual(List("trend"), {FullRow("trend", 1), MinimalRow("trend", 2), only_promoted},
                  "after the round trip");
}

TEST_P(ModelVersionsConformanceTest, RoundTripsExtremeValuesAndUnicode) {
  ModelVersionRow row = FullRow("модель-🚀", 1);
  row.version = INT64_MAX;
  // INT64_MIN is kMissingInt elsewhere in the store; here it is a timestamp like any other.
  row.train_from = Timestamp(INT64_MIN);
  row.train_to = Timestamp(-1);
  row.created_at = Timestamp(INT64_MAX);
  row.promoted_at = Timestamp(INT64_MIN);
  row.family = "ensemble \"quoted\" \\ back\tslash\nnewline";
  row.config_json = "not json at all";  // not parsed
  row.stage = "production,latest,canary";
  ReplaceOk(row.name, {row});
  ExpectRowsEqual(List(row.name), {row}, "extreme values");
}

TEST_P(ModelVersionsConformanceTest, ReplaceRemovesVersionsNotInTheNewList) {
  ReplaceOk("trend", {FullRow("trend", 1), FullRow("trend", 2), FullRow("trend", 3)});
  ModelVersionRow changed = FullRow("trend", 2);
  changed.stage = "";
  changed.metrics_json = R"({"auc":0.9})";
  changed.promoted_at.reset();
  ReplaceOk("trend", {FullRow("trend", 4), changed});
  ExpectRowsEqual(List("trend"), {changed, FullRow("trend", 4)}, "after the replace");
  EXPECT_EQ(Count("model_versions"), 2);

  // The same rows again change nothing.
  ReplaceOk("trend", {changed, FullRow("trend", 4)});
  ExpectRowsEqual(List("trend"), {changed, FullRow("trend", 4)}, "after a repeat");
}

TEST_P(ModelVersionsConformanceTest, OtherModelsAreUntouched) {
  ReplaceOk("anomaly", {MinimalRow("anomaly", 1), MinimalRow("anomaly", 2)});
  ReplaceOk("trend", {FullRow("trend", 1)});
  ReplaceOk("trend", {FullRow("trend", 2)});
  // A name that is a prefix of another is a different model.
  ReplaceOk("anomal", {MinimalRow("anomal", 7)});
  ExpectRowsEqual(List("anomaly"), {MinimalRow("anomaly", 1), MinimalRow("anomaly", 2)}, "anomaly");
  ExpectRowsEqual(List("trend"), {FullRow("trend", 2)}, "trend");
  ExpectRowsEqual(List("anomal"), {MinimalRow("anomal", 7)}, "anomal");
}

TEST_P(ModelVersionsConformanceTest, ListsSortedByNameThenVersion) {
  // Versions out of order and past 9 (numeric, not text, order); names in bytewise order
  // whatever the database collation: "Zeta" < "alpha" < "alpha-2" < "beta".
  ReplaceOk("beta", {MinimalRow("beta", 10), MinimalRow("beta", 2), MinimalRow("beta", 1)});
  ReplaceOk("alpha", {FullRow("alpha", 3)});
  ReplaceOk("Zeta", {MinimalRow("Zeta", 5)});
  ReplaceOk("alpha-2", {FullRow("alpha-2", 1)});
  ExpectRowsEqual(List(""),
                  {MinimalRow("Zeta", 5), FullRow("alpha", 3), FullRow("alpha-2", 1),
                   MinimalRow("beta", 1), MinimalRow("beta", 2), MinimalRow("beta", 10)},
                  "every model");
  ExpectRowsEqual(List("beta"),
                  {MinimalRow("beta", 1), MinimalRow("beta", 2), MinimalRow("beta", 10)}, "beta");
  EXPECT_TRUE(List("gamma").empty());
}

TEST_P(ModelVersionsConformanceTest, EmptyRowsRemoveTheModel) {
  ReplaceOk("trend", {FullRow("trend", 1), FullRow("trend", 2)});
  ReplaceOk("anomaly", {MinimalRow("anomaly", 1)});
  ReplaceOk("trend", {});
  EXPECT_TRUE(List("trend").empty());
  ExpectRowsEqual(List(""), {MinimalRow("anomaly", 1)}, "what is left");
  // Removing a model that was never stored is not an error.
  ReplaceOk("never-stored", {});
  EXPECT_EQ(Count("model_versions"), 1);
}

TEST_P(ModelVersionsConformanceTest, InvalidInputWritesNothing) {
  const std::vector<ModelVersionRow> stored = {FullRow("trend", 1), MinimalRow("trend", 2)};
  ReplaceOk("trend", stored);
  ReplaceOk("other", {MinimalRow("other", 1)});

  auto with = [](ModelVersionRow row, auto change) {
    change(row);
    return row;
  };
  struct Case {
    std::string what;
    std::string name;
    std::vector<ModelVersionRow> rows;
  };
  const std::vector<Case> cases = {
      {"empty name", "", {}},
      {"empty name with rows", "", {MinimalRow("", 1)}},
      {"row of another name", "trend", {FullRow("trend", 3), FullRow("other", 4)}},
      {"version 0", "trend", {FullRow("trend", 3), MinimalRow("trend", 0)}},
      {"negative version", "trend", {MinimalRow("trend", -1)}},
      {"duplicate version", "trend", {FullRow("trend", 3), MinimalRow("trend", 3)}},
      {"empty config_json",
       "trend",
       {with(FullRow("trend", 3), [](ModelVersionRow& r) { r.config_json = ""; })}},
      {"empty metrics_json",
       "trend",
       {with(FullRow("trend", 3), [](ModelVersionRow& r) { r.metrics_json = ""; })}},
      {"invalid UTF-8",
       "trend",
       {with(FullRow("trend", 3), [](ModelVersionRow& r) { r.family = "bad\xff"; })}},
      {"NUL byte",
       "trend",
       {with(FullRow("trend", 3),
             [](ModelVersionRow& r) { r.artifact_path = std::string("a\0b", 3); })}},
      {"invalid UTF-8 name", "tr\xc3", {MinimalRow("tr\xc3", 1)}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Status status = store_->ReplaceModelVersions(c.name, c.rows);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
    ExpectRowsEqual(List("trend"), stored, "trend after the refused replace");
    EXPECT_EQ(Count("model_versions"), 3);
  }
}

TEST_P(ModelVersionsConformanceTest, BackendFailureMidReplaceWritesNothing) {
  const std::vector<ModelVersionRow> stored = {FullRow("trend", 1), FullRow("trend", 2)};
  ReplaceOk("trend", stored);
  // The delete and the first insert succeed; the second insert then breaks this index.
  ASSERT_TRUE(
      store_->Execute("CREATE UNIQUE INDEX probe_unique_path ON model_versions (artifact_path)")
          .ok());
  ModelVersionRow clash = FullRow("trend", 4);
  clash.artifact_path = FullRow("trend", 3).artifact_path;
  const std::vector<ModelVersionRow> rows = {FullRow("trend", 3), clash};
  Status status = store_->ReplaceModelVersions("trend", rows);
  EXPECT_EQ(status.code(), StatusCode::kDatabaseError) << status.ToString();
  EXPECT_NE(status.message().find("model 'trend' version 4"), std::string::npos)
      << status.ToString();
  ExpectRowsEqual(List("trend"), stored, "after the failed replace");
  // The store is usable afterwards (no transaction left open).
  ReplaceOk("trend", {FullRow("trend", 5)});
  ExpectRowsEqual(List("trend"), {FullRow("trend", 5)}, "after a later replace");
}

INSTANTIATE_TEST_SUITE_P(Backends, ModelVersionsConformanceTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace vigil
