// MicroBatcher: concurrent requests coalesce into batches whose answers are exactly the
// unbatched ones, never across snapshots, with errors fanned out to the whole batch.
#include "vigil/serve/batcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "serve/serve_fixture.h"

namespace vigil {
namespace {

constexpr int kThreads = 8;

// Row `row` of `x` as a one-row request.
FeatureMatrix OneRow(const FeatureMatrix& x, int64_t row) {
  FeatureMatrix out;
  out.columns = x.columns;
  out.rows = 1;
  const std::span<const double> values = x.row(row);
  out.values.assign(values.begin(), values.end());
  return out;
}

// Every kind scores a row independently of the rows batched with it (linear models take a
// dot product per row), so a batched answer equals the unbatched one bit for bit.
void ExpectEqual(const std::vector<double>& a, const std::vector<double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << i;
}

// Everything a request gets back.
void ExpectSameScores(const ScoredRows& a, const ScoredRows& b) {
  EXPECT_EQ(a.rows, b.rows);
  ExpectEqual(a.probabilities, b.probabilities);
  ExpectEqual(a.horizons, b.horizons);
  EXPECT_EQ(a.horizon_names, b.horizon_names);
  EXPECT_EQ(a.levels, b.levels);
  ExpectEqual(a.confidence, b.confidence);
  ASSERT_EQ(a.explanations.size(), b.explanations.size());
  for (size_t row = 0; row < a.explanations.size(); ++row) {
    ASSERT_EQ(a.explanations[row].size(), b.explanations[row].size());
    for (size_t i = 0; i < a.explanations[row].size(); ++i) {
      EXPECT_EQ(a.explanations[row][i].feature, b.explanations[row][i].feature);
      EXPECT_EQ(a.explanations[row][i].value, b.explanations[row][i].value);
    }
  }
}

class BatcherTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const testing::ServeWorld& world = testing::SharedWorldWithVariant();
    registry_ = new ModelRegistry(*ModelRegistry::Open(world.models_dir));
    rows_ = new FeatureMatrix(testing::WorldFeatureRows(world, "ta", "sim:BTC-PERP", 64));
  }
  static void TearDownTestSuite() {
    delete registry_;
    delete rows_;
  }

  // Requests of 1-3 rows per thread, different for each (thread, request).
  static FeatureMatrix Request(int thread, int request) {
    FeatureMatrix x;
    x.columns = rows_->columns;
    x.rows = 1 + (thread + request) % 3;
    for (int64_t i = 0; i < x.rows; ++i) {
      const std::span<const double> values = rows_->row((thread * 7 + request * 3 + i) % 64);
      x.values.insert(x.values.end(), values.begin(), values.end());
    }
    return x;
  }

  static inline ModelRegistry* registry_ = nullptr;
  static inline FeatureMatrix* rows_ = nullptr;
};

TEST(BatchingOptionsTest, ValidateNamesTheField) {
  EXPECT_TRUE(BatchingOptions{}.Validate().ok());
  BatchingOptions options;
  options.max_batch_rows = 0;
  EXPECT_NE(options.Validate().message().find("max_batch_rows"), std::string::npos);
  options.max_batch_rows = 70000;
  EXPECT_EQ(options.Validate().code(), StatusCode::kInvalidArgument);
  options = {};
  options.max_wait = std::chrono::seconds(2);
  EXPECT_NE(options.Validate().message().find("max_wait"), std::string::npos);
  options.max_wait = std::chrono::microseconds(-1);
  EXPECT_EQ(options.Validate().code(), StatusCode::kInvalidArgument);
}

TEST_F(BatcherTest, ConcurrentRequestsGetExactlyTheirUnbatchedScores) {
  LiveModels live(*registry_, {});
  ASSERT_TRUE(live.Add("liq_long").ok());
  const std::shared_ptr<const ServedModel> served = live.Get("liq_long");
  for (const bool explain : {false, true}) {
    MicroBatcher batcher({.max_batch_rows = 16, .max_wait = std::chrono::microseconds(0)}, nullptr);
    const ScoreOptions options{.explain = explain, .top_k = 3};
    std::vector<std::thread> threads;
    for (int thread = 0; thread < kThreads; ++thread) {
      threads.emplace_back([&, thread] {
        for (int request = 0; request < 25; ++request) {
          const FeatureMatrix x = Request(thread, request);
          auto batched = batcher.Score(served, x, options);
          ASSERT_TRUE(batched.ok()) << batched.status().ToString();
          ExpectSameScores(*batched, *ScoreRows(*served, x, options));
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_GE(batcher.batches(), 1u);
    EXPECT_LE(batcher.batches(), static_cast<uint64_t>(kThreads * 25));
  }
}

// With a long max_wait and a batch size of one row per thread, a batch closes when every
// thread has joined it (a thread cannot join the next batch before its answer), so the
// requests coalesce whatever the scheduling.
TEST_F(BatcherTest, RequestsCoalesceAndMetricsCountTheBatches) {
  LiveModels live(*registry_, {});
  ASSERT_TRUE(live.Add("risk_xgb").ok());
  const std::shared_ptr<const ServedModel> served = live.Get("risk_xgb");
  MetricsRegistry metrics;
  MicroBatcher batcher({.max_batch_rows = kThreads, .max_wait = std::chrono::seconds(1)}, &metrics);
  constexpr int kRequests = 20;
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      for (int request = 0; request < kRequests; ++request) {
        const FeatureMatrix x = OneRow(*rows_, (thread * kRequests + request) % 64);
        auto batched = batcher.Score(served, x);
        ASSERT_TRUE(batched.ok()) << batched.status().ToString();
        EXPECT_EQ(batched->probabilities, ScoreRows(*served, x)->probabilities);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LT(batcher.batches(), static_cast<uint64_t>(kThreads * kRequests));
  const MetricLabels labels = {{"model", "risk_xgb"}};
  EXPECT_EQ(metrics.GetCounter("vigil_batches_total", "", labels).value(),
            static_cast<double>(batcher.batches()));
  Histogram& sizes = metrics.GetHistogram("vigil_batch_rows", "", SizeBuckets(), labels);
  EXPECT_EQ(sizes.count(), batcher.batches());
  EXPECT_EQ(sizes.sum(), static_cast<double>(kThreads * kRequests));
}

TEST_F(BatcherTest, LargeRequestsAreScoredAloneAndMismatchesKeepTheirOwnError) {
  LiveModels live(*registry_, {});
  ASSERT_TRUE(live.Add("risk_clf").ok());
  const std::shared_ptr<const ServedModel> served = live.Get("risk_clf");
  MicroBatcher batcher({.max_batch_rows = 4, .max_wait = std::chrono::seconds(1)}, nullptr);
  // Larger than a batch: scored at once, without waiting for company.
  auto large = batcher.Score(served, *rows_);
  ASSERT_TRUE(large.ok());
  EXPECT_EQ(large->probabilities, ScoreRows(*served, *rows_)->probabilities);
  EXPECT_EQ(batcher.batches(), 1u);
  FeatureMatrix narrow = OneRow(*rows_, 0);
  narrow.columns.pop_back();
  narrow.values.pop_back();
  EXPECT_EQ(batcher.Score(served, narrow).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(batcher.Score(nullptr, narrow).status().code(), StatusCode::kInvalidArgument);
}

// One bad row in a batch fails every request of the batch with the same status.
TEST_F(BatcherTest, AScoringErrorFansOutToTheWholeBatch) {
  LiveModels live(*registry_, {});
  ASSERT_TRUE(live.Add("risk_clf").ok());  // logistic: refuses missing values
  const std::shared_ptr<const ServedModel> served = live.Get("risk_clf");
  MicroBatcher batcher({.max_batch_rows = kThreads, .max_wait = std::chrono::seconds(1)}, nullptr);
  std::vector<Status> statuses(kThreads);
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      FeatureMatrix x = OneRow(*rows_, thread);
      if (thread == 3) x.values[0] = std::nan("");
      statuses[thread] = batcher.Score(served, x).status();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(batcher.batches(), 1u);
  for (const Status& status : statuses) {
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), statuses[3].message());
  }
}

// Threads score through the batcher with whatever snapshot is live while production flips
// between two versions: each answer is its snapshot's version's, so no batch mixed them.
TEST_F(BatcherTest, NeverMixesSnapshotsAcrossAPromotion) {
  const testing::ServeWorld world =
      testing::CopyWorld(testing::SharedWorldWithVariant(), testing::CopyPath("batcher-promote"));
  ModelRegistry registry = *ModelRegistry::Open(world.models_dir);
  LiveModels live(registry, {});
  ASSERT_TRUE(live.Add("risk_clf").ok());
  const int64_t v1 = live.Get("risk_clf")->version;
  const int64_t v2 = *registry.Resolve("risk_clf@latest");
  std::map<int64_t, std::vector<double>> expected;
  for (int64_t version : {v1, v2}) {
    auto loaded = registry.Load("risk_clf@" + std::to_string(version));
    expected[version] = AsClassifier(loaded->model.get())->PredictProba(*rows_)->values;
  }
  ASSERT_NE(expected[v1], expected[v2]);
  MicroBatcher batcher({.max_batch_rows = 32, .max_wait = std::chrono::microseconds(0)}, nullptr);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> wrong{0};
  std::atomic<int64_t> answers{0};
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      for (int64_t request = 0; !stop.load(); ++request) {
        const int64_t row = (thread * 5 + request) % 64;
        const std::shared_ptr<const ServedModel> served = live.Get("risk_clf");
        auto scored = batcher.Score(served, OneRow(*rows_, row));
        const std::vector<double>& want = expected.at(served->version);
        if (!scored.ok() || scored->probabilities[1] != want[row * 2 + 1]) {
          ++wrong;
        }
        ++answers;
      }
    });
  }
  for (int promotion = 0; promotion < 20; ++promotion) {
    // Let the scorers answer a few times on each version before the next swap.
    const int64_t until = answers.load() + kThreads;
    while (answers.load() < until) std::this_thread::yield();
    ASSERT_TRUE(live.Promote("risk_clf", promotion % 2 == 0 ? v2 : v1, "production").ok());
  }
  stop = true;
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(answers.load(), 0);
  std::filesystem::remove_all(world.home);
}

}  // namespace
}  // namespace vigil
