// The Store contract for training jobs (InsertTrainingJob / UpdateTrainingJob /
// ListTrainingJobs in include/vigil/store/store.h) and migration 3, which recreated
// training_jobs, run against every backend like store_conformance_test.cc. Each test gets a
// fresh, empty store. Expected rows are written out by hand, never taken from a store.
#include <gtest/gtest.h>

#include <climits>
#include <string>
#include <vector>

#include "store/test_stores.h"
#include "vigil/store/migrations.h"
#include "vigil/store/store.h"

namespace vigil {
namespace {

// 2024-01-01T00:00:00Z.
constexpr int64_t kT0 = 1'704'067'200LL * kNanosPerSecond;

// A finished job with every field set, distinct per (model, seed).
TrainingJobRow FullJob(const std::string& model, int64_t seed) {
  TrainingJobRow row;
  row.model_name = model;
  row.status = "succeeded";
  row.trigger_reason = "drift: psi 0.3" + std::to_string(seed) + " on rsi_14";
  row.config_json = R"({"l2":0.5,"model":")" + model + R"("})";
  row.metrics_json = R"({"auc":0.7)" + std::to_string(seed) + "}";
  row.model_version = seed;
  row.error = "";
  row.queued_at = Timestamp(kT0 + seed * kNanosPerHour);
  row.started_at = Timestamp(kT0 + seed * kNanosPerHour + kNanosPerSecond);
  row.finished_at = Timestamp(kT0 + seed * kNanosPerHour + kNanosPerMinute);
  return row;
}

// A job just queued: only the required fields, defaults elsewhere, optionals absent.
TrainingJobRow QueuedJob(const std::string& model, int64_t seed) {
  TrainingJobRow row;
  row.model_name = model;
  row.queued_at = Timestamp(kT0 + seed);
  return row;
}

TrainingJobRow WithId(TrainingJobRow row, int64_t job_id) {
  row.job_id = job_id;
  return row;
}

void ExpectJobsEqual(const std::vector<TrainingJobRow>& actual,
                     const std::vector<TrainingJobRow>& expected, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t index = 0; index < expected.size(); ++index) {
    const TrainingJobRow& a = actual[index];
    const TrainingJobRow& e = expected[index];
    SCOPED_TRACE("row " + std::to_string(index) + " (job " + std::to_string(e.job_id) + " of " +
                 e.model_name + ")");
    EXPECT_EQ(a.job_id, e.job_id);
    EXPECT_EQ(a.model_name, e.model_name);
    EXPECT_EQ(a.status, e.status);
    EXPECT_EQ(a.trigger_reason, e.trigger_reason);
    EXPECT_EQ(a.config_json, e.config_json);
    EXPECT_EQ(a.metrics_json, e.metrics_json);
    EXPECT_EQ(a.model_version, e.model_version);
    EXPECT_EQ(a.error, e.error);
    EXPECT_EQ(a.queued_at, e.queued_at);
    EXPECT_EQ(a.started_at, e.started_at);
    EXPECT_EQ(a.finished_at, e.finished_at);
    EXPECT_TRUE(a == e);
  }
}

class TrainingJobsConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store_ = OpenTestStore(GetParam());
    ASSERT_NE(store_, nullptr) << "could not open a " << GetParam() << " test store";
  }

  // The new job_id, or -1 after recording the failure.
  int64_t Insert(const TrainingJobRow& row) {
    Result<int64_t> job_id = store_->InsertTrainingJob(row);
    EXPECT_TRUE(job_id.ok()) << job_id.status().ToString();
    return job_id.value_or(-1);
  }

  void UpdateOk(const TrainingJobRow& row) {
    Status status = store_->UpdateTrainingJob(row);
    ASSERT_TRUE(status.ok()) << status.ToString();
  }

  std::vector<TrainingJobRow> List(const std::string& model_name, int64_t limit = 0) {
    Result<std::vector<TrainingJobRow>> rows = store_->ListTrainingJobs(model_name, limit);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? std::move(rows).value() : std::vector<TrainingJobRow>();
  }

  int64_t Count(const std::string& table) { return CountTableRows(*store_, table); }
  int64_t CountWhere(const std::string& condition) {
    return CountTableRowsWhere(*store_, "training_jobs", condition);
  }

  std::unique_ptr<Store> store_;
};

TEST_P(TrainingJobsConformanceTest, InsertReturnsIncreasingIds) {
  TrainingJobRow ignored_id = QueuedJob("trend", 1);
  ignored_id.job_id = 1000;  // ignored by Insert
  const int64_t first = Insert(ignored_id);
  const int64_t second = Insert(QueuedJob("anomaly", 2));
  const int64_t third = Insert(FullJob("trend", 3));
  EXPECT_GE(first, 1);
  EXPECT_GT(second, first);
  EXPECT_GT(third, second);
  std::vector<int64_t> listed;
  for (const TrainingJobRow& row : List("")) listed.push_back(row.job_id);
  EXPECT_EQ(listed, (std::vector<int64_t>{third, second, first}));

  // An id is never handed out twice, even after the newest job is deleted.
  ASSERT_TRUE(
      store_->Execute("DELETE FROM training_jobs WHERE job_id = " + std::to_string(third)).ok());
  EXPECT_GT(Insert(QueuedJob("trend", 4)), third);
}

TEST_P(TrainingJobsConformanceTest, RoundTripsEveryField) {
  const int64_t full_id = Insert(FullJob("trend", 1));
  const int64_t queued_id = Insert(QueuedJob("trend", 2));
  const std::vector<TrainingJobRow> expected = {WithId(QueuedJob("trend", 2), queued_id),
                                                WithId(FullJob("trend", 1), full_id)};
  ExpectJobsEqual(List("trend"), expected, "by name");
  ExpectJobsEqual(List(""), expected, "every model");
  // The queued job stored its defaults as given.
  EXPECT_EQ(CountWhere("status = 'queued' AND trigger_reason = 'manual' AND config_json = '{}' "
                       "AND metrics_json = '{}' AND error = ''"),
            1);
}

TEST_P(TrainingJobsConformanceTest, AbsentOptionalsAreNullAndZeroIsNot) {
  TrainingJobRow zeros = QueuedJob("trend", 2);
  zeros.status = "running";
  zeros.model_version = 0;          // present and zero is not absent
  zeros.started_at = Timestamp(0);  // likewise
  const int64_t queued_id = Insert(QueuedJob("trend", 1));
  const int64_t zeros_id = Insert(zeros);
  const int64_t full_id = Insert(FullJob("trend", 3));

  EXPECT_EQ(CountWhere("model_version IS NULL AND started_at IS NULL AND finished_at IS NULL"), 1);
  EXPECT_EQ(CountWhere("model_version = 0 AND started_at = 0 AND finished_at IS NULL"), 1);
  EXPECT_EQ(CountWhere("model_version = 3 AND finished_at IS NOT NULL"), 1);
  ExpectJobsEqual(List("trend"),
                  {WithId(FullJob("trend", 3), full_id), WithId(zeros, zeros_id),
                   WithId(QueuedJob("trend", 1), queued_id)},
                  "after the round trip");
}

TEST_P(TrainingJobsConformanceTest, RoundTripsExtremeValuesAndUnicode) {
  TrainingJobRow row = FullJob("модель-🚀", 1);
  row.status = "failed";
  row.model_version = INT64_MIN;  // kMissingInt elsewhere in the store; here a value
  row.queued_at = Timestamp(INT64_MIN);
  row.started_at = Timestamp(-1);
  row.finished_at = Timestamp(INT64_MAX);
  row.trigger_reason = "schedule: \"nightly\" ✓";
  row.config_json = "not json at all";  // not parsed
  row.error = "xgboost: \"bad\" \\ back\tslash\nnewline 'quoted'";
  const int64_t job_id = Insert(row);
  ExpectJobsEqual(List(row.model_name), {WithId(row, job_id)}, "extreme values");
}

TEST_P(TrainingJobsConformanceTest, UpdateOverwritesEveryColumn) {
  const int64_t other_id = Insert(FullJob("anomaly", 7));
  const int64_t job_id = Insert(QueuedJob("trend", 1));

  // queued -> running -> succeeded, each update rewriting the whole row.
  TrainingJobRow running = WithId(QueuedJob("trend", 1), job_id);
  running.status = "running";
  running.started_at = Timestamp(kT0 + kNanosPerSecond);
  UpdateOk(running);
  ExpectJobsEqual(List("trend"), {running}, "running");

  TrainingJobRow done = WithId(FullJob("trend-renamed", 9), job_id);
  UpdateOk(done);
  ExpectJobsEqual(List("trend-renamed"), {done}, "succeeded, every column changed");
  EXPECT_TRUE(List("trend").empty());

  // Back to a row with absent optionals: they are NULL again, not left as they were.
  const TrainingJobRow cleared = WithId(QueuedJob("trend", 5), job_id);
  UpdateOk(cleared);
  ExpectJobsEqual(List("trend"), {cleared}, "cleared");
  EXPECT_EQ(CountWhere("job_id = " + std::to_string(job_id) +
                       " AND model_version IS NULL AND started_at IS NULL AND "
                       "finished_at IS NULL"),
            1);

  // The same row again succeeds (an unchanged row still exists), and the other job is
  // untouched throughout.
  UpdateOk(cleared);
  ExpectJobsEqual(List("anomaly"), {WithId(FullJob("anomaly", 7), other_id)}, "other job");
  EXPECT_EQ(Count("training_jobs"), 2);
}

TEST_P(TrainingJobsConformanceTest, UpdateOfAnUnknownJobIsNotFound) {
  const int64_t job_id = Insert(QueuedJob("trend", 1));
  for (const int64_t unknown : {job_id + 1, int64_t{0}, int64_t{-1}, int64_t{INT64_MAX}}) {
    SCOPED_TRACE("job " + std::to_string(unknown));
    Status status = store_->UpdateTrainingJob(WithId(FullJob("trend", 2), unknown));
    EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
    EXPECT_NE(status.message().find("training job " + std::to_string(unknown)), std::string::npos)
        << status.ToString();
  }
  ExpectJobsEqual(List(""), {WithId(QueuedJob("trend", 1), job_id)}, "nothing written");
}

TEST_P(TrainingJobsConformanceTest, ListFiltersByNameNewestFirstWithALimit) {
  // Interleaved models; "trend" is a prefix of "trend-2", a different model.
  std::vector<TrainingJobRow> trend, other;
  for (int64_t seed = 1; seed <= 4; ++seed) {
    trend.push_back(WithId(FullJob("trend", seed), Insert(FullJob("trend", seed))));
    other.push_back(WithId(QueuedJob("trend-2", seed), Insert(QueuedJob("trend-2", seed))));
  }
  const std::vector<TrainingJobRow> trend_newest = {trend[3], trend[2], trend[1], trend[0]};
  ExpectJobsEqual(List("trend"), trend_newest, "trend, all");
  ExpectJobsEqual(List("trend", -5), trend_newest, "trend, negative limit");
  ExpectJobsEqual(List("trend", 4), trend_newest, "trend, limit = count");
  ExpectJobsEqual(List("trend", 100), trend_newest, "trend, limit > count");
  ExpectJobsEqual(List("trend", 2), {trend[3], trend[2]}, "trend, limit 2");
  ExpectJobsEqual(List("trend-2", 1), {other[3]}, "trend-2, limit 1");
  ExpectJobsEqual(List(""),
                  {other[3], trend[3], other[2], trend[2], other[1], trend[1], other[0], trend[0]},
                  "every model");
  ExpectJobsEqual(List("", 3), {other[3], trend[3], other[2]}, "every model, limit 3");
  EXPECT_TRUE(List("tren").empty());
  EXPECT_TRUE(List("gamma", 10).empty());
}

TEST_P(TrainingJobsConformanceTest, InvalidInputWritesNothing) {
  const TrainingJobRow stored = WithId(FullJob("trend", 1), Insert(FullJob("trend", 1)));
  auto with = [&stored](auto change) {
    TrainingJobRow row = stored;
    change(row);
    return row;
  };
  struct Case {
    std::string what;
    TrainingJobRow row;
  };
  const std::vector<Case> cases = {
      {"empty model_name", with([](TrainingJobRow& r) { r.model_name = ""; })},
      {"unknown status", with([](TrainingJobRow& r) { r.status = "done"; })},
      {"status in the wrong case", with([](TrainingJobRow& r) { r.status = "Queued"; })},
      {"empty status", with([](TrainingJobRow& r) { r.status = ""; })},
      {"status with a NUL byte",
       with([](TrainingJobRow& r) { r.status = std::string("queued\0", 7); })},
      {"empty trigger_reason", with([](TrainingJobRow& r) { r.trigger_reason = ""; })},
      {"empty config_json", with([](TrainingJobRow& r) { r.config_json = ""; })},
      {"empty metrics_json", with([](TrainingJobRow& r) { r.metrics_json = ""; })},
      {"invalid UTF-8 model_name", with([](TrainingJobRow& r) { r.model_name = "tr\xc3"; })},
      {"invalid UTF-8 trigger_reason",
       with([](TrainingJobRow& r) { r.trigger_reason = "drift \xed\xa0\x80"; })},
      {"invalid UTF-8 config_json",
       with([](TrainingJobRow& r) { r.config_json = "{\"a\":\"\xff\"}"; })},
      {"NUL byte in metrics_json",
       with([](TrainingJobRow& r) { r.metrics_json = std::string("{}\0", 3); })},
      {"NUL byte in error", with([](TrainingJobRow& r) { r.error = std::string("a\0b", 3); })},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Result<int64_t> inserted = store_->InsertTrainingJob(c.row);
    EXPECT_EQ(inserted.status().code(), StatusCode::kInvalidArgument)
        << inserted.status().ToString();
    Status updated = store_->UpdateTrainingJob(c.row);
    EXPECT_EQ(updated.code(), StatusCode::kInvalidArgument) << updated.ToString();
    ExpectJobsEqual(List(""), {stored}, "after the refused insert and update");
  }
  // Messages name the job and the field.
  Status named = store_->UpdateTrainingJob(with([](TrainingJobRow& r) { r.trigger_reason = ""; }));
  EXPECT_NE(named.message().find("training job " + std::to_string(stored.job_id) +
                                 " of model 'trend': empty trigger_reason"),
            std::string::npos)
      << named.ToString();
  Result<int64_t> named_insert =
      store_->InsertTrainingJob(with([](TrainingJobRow& r) { r.error = "\xff"; }));
  EXPECT_NE(named_insert.status().message().find(
                "training job of model 'trend': error is not valid UTF-8 (byte 0)"),
            std::string::npos)
      << named_insert.status().ToString();
  // Validation comes before the lookup: an invalid row for an unknown job is invalid.
  Status unknown = store_->UpdateTrainingJob(WithId(QueuedJob("", 1), stored.job_id + 1));
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument) << unknown.ToString();
}

TEST_P(TrainingJobsConformanceTest, BackendFailureIsADatabaseErrorNamingTheJob) {
  const int64_t job_id = Insert(QueuedJob("trend", 1));
  // Every statement on the table now fails in the backend.
  ASSERT_TRUE(store_->Execute("DROP TABLE training_jobs").ok());
  Result<int64_t> inserted = store_->InsertTrainingJob(QueuedJob("trend", 2));
  EXPECT_EQ(inserted.status().code(), StatusCode::kDatabaseError) << inserted.status().ToString();
  EXPECT_NE(inserted.status().message().find("model 'trend'"), std::string::npos)
      << inserted.status().ToString();
  Status updated = store_->UpdateTrainingJob(WithId(QueuedJob("trend", 2), job_id));
  EXPECT_EQ(updated.code(), StatusCode::kDatabaseError) << updated.ToString();
  EXPECT_NE(updated.message().find("training job " + std::to_string(job_id)), std::string::npos)
      << updated.ToString();
  Result<std::vector<TrainingJobRow>> listed = store_->ListTrainingJobs("trend", 0);
  EXPECT_EQ(listed.status().code(), StatusCode::kDatabaseError) << listed.status().ToString();
}

// A store migrated to version 2 before migration 3 existed, its training_jobs table as
// migration 2 created it (started_at NOT NULL, no queued_at), upgrades when opened.
TEST_P(TrainingJobsConformanceTest, UpgradesAStoreAtVersionTwo) {
  const Dialect& dialect = GetParam() == "sqlite" ? SqliteDialect() : PostgresDialect();
  const std::vector<Migration> migrations = Migrations(dialect);
  ASSERT_GE(migrations.size(), 3u);
  ASSERT_EQ(migrations[1].version, 2);
  std::string version_two_table;
  for (const std::string& sql : migrations[1].statements) {
    if (sql.find("CREATE TABLE IF NOT EXISTS training_jobs (") != std::string::npos) {
      version_two_table = sql;
    }
  }
  ASSERT_FALSE(version_two_table.empty()) << "migration 2 creates no training_jobs";
  // Back to version 2, with a row only the old table accepts (no queued_at).
  Status downgraded = store_->Execute(
      "DROP TABLE training_jobs; " + version_two_table +
      "; INSERT INTO training_jobs (model_name, status, started_at) VALUES ('old', 'running', 1)"
      "; DELETE FROM schema_migrations WHERE version > 2");
  ASSERT_TRUE(downgraded.ok()) << downgraded.ToString();
  ASSERT_EQ(store_->SchemaVersion().value_or(-1), 2);

  // The test servers need no password, so the URL (passwords masked) opens the same store.
  const std::string url = store_->url();
  ASSERT_EQ(url.find("***"), std::string::npos) << "cannot reopen a masked URL: " << url;
  store_.reset();
  Result<std::unique_ptr<Store>> reopened = OpenStore(url);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  store_ = std::move(reopened).value();

  EXPECT_EQ(store_->SchemaVersion().value_or(-1), migrations.back().version);
  // Migration 3 drops the old table with its rows (no release wrote to it) and recreates it
  // with the new columns: a queued job with no started_at is storable now.
  EXPECT_EQ(Count("training_jobs"), 0);
  const int64_t job_id = Insert(QueuedJob("trend", 1));
  ExpectJobsEqual(List(""), {WithId(QueuedJob("trend", 1), job_id)}, "after the upgrade");
  EXPECT_EQ(CountWhere("queued_at = " + std::to_string(kT0 + 1) + " AND started_at IS NULL"), 1);
  // And with its index: the name is taken.
  EXPECT_FALSE(
      store_->Execute("CREATE INDEX training_jobs_by_model ON training_jobs (job_id)").ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, TrainingJobsConformanceTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace vigil
