// StorePool over a temporary SQLite store: lazy opening up to the maximum, reuse, waiting,
// failed opens, Discard, Ping, bad URLs, and many threads leasing at once.
#include "vigil/serve/store_pool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace vigil {
namespace {

// A per-process directory under the test temp dir, removed at exit.
struct TempStoreDir {
  std::filesystem::path path = std::filesystem::path(::testing::TempDir()) /
                               ("vigil-store-pool-" + std::to_string(::getpid()));
  ~TempStoreDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

// A fresh "sqlite:<temp dir>/<n>-<name>.db" per call.
std::string TempStoreUrl(const std::string& name) {
  static TempStoreDir dir;
  static std::atomic<int> counter{0};
  std::filesystem::create_directories(dir.path);
  return "sqlite:" + (dir.path / (std::to_string(counter++) + "-" + name + ".db")).string();
}

// OpenStore, counting the connections it opened; fails the calls listed in `failing`
// (1-based call numbers).
struct CountingOpener {
  std::atomic<int> calls{0};
  std::set<int> failing;

  StorePool::Opener opener() {
    return [this](const std::string& url) -> Result<std::unique_ptr<Store>> {
      const int call = ++calls;
      if (failing.count(call) > 0)
        return DatabaseError("injected failure of open " + std::to_string(call));
      return OpenStore(url);
    };
  }
};

StorePool MustOpen(const std::string& url, int max_connections, CountingOpener& opener) {
  Result<StorePool> pool = StorePool::Open(url, max_connections, opener.opener());
  EXPECT_TRUE(pool.ok()) << pool.status().ToString();
  if (!pool.ok()) std::abort();  // nothing below can run without a pool
  return std::move(pool).value();
}

PredictionRow OnePrediction(int thread, int iteration) {
  PredictionRow row;
  row.model_name = "m";
  row.instrument = "t:" + std::to_string(thread);
  row.ts = Timestamp(iteration);
  row.value = iteration;
  return row;
}

TEST(StorePoolTest, OpensTheFirstConnectionEagerly) {
  CountingOpener opener;
  const std::string url = TempStoreUrl("eager");
  StorePool pool = MustOpen(url, 4, opener);
  EXPECT_EQ(opener.calls, 1);
  EXPECT_EQ(pool.open_connections(), 1);
  EXPECT_EQ(pool.leased_connections(), 0);
  EXPECT_EQ(pool.max_connections(), 4);
  EXPECT_EQ(pool.url(), url);
}

TEST(StorePoolTest, RejectsBadUrlsAndMaximums) {
  const std::string good = TempStoreUrl("bad-args");
  for (int max : {0, -1}) {
    Result<StorePool> pool = StorePool::Open(good, max);
    ASSERT_FALSE(pool.ok());
    EXPECT_EQ(pool.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(pool.status().message().find("max_connections"), std::string::npos);
  }
  Result<StorePool> scheme = StorePool::Open("ftp://example.com/x", 2);
  ASSERT_FALSE(scheme.ok());
  EXPECT_EQ(scheme.status().code(), StatusCode::kInvalidArgument);
  // A database file cannot live under a regular file.
  Result<StorePool> unreachable = StorePool::Open("sqlite:/dev/null/x.db", 2);
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.status().code(), StatusCode::kDatabaseError)
      << unreachable.status().ToString();
  Result<StorePool> no_opener = StorePool::Open(good, 2, StorePool::Opener());
  EXPECT_EQ(no_opener.status().code(), StatusCode::kInvalidArgument);
}

TEST(StorePoolTest, ReusesAReturnedConnection) {
  CountingOpener opener;
  StorePool pool = MustOpen(TempStoreUrl("reuse"), 4, opener);
  Store* first = nullptr;
  for (int round = 0; round < 10; ++round) {
    Result<StorePool::Lease> lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    EXPECT_EQ(pool.leased_connections(), 1);
    if (first == nullptr) first = &**lease;
    EXPECT_EQ(&**lease, first) << "round " << round;
  }
  EXPECT_EQ(opener.calls, 1);
  EXPECT_EQ(pool.open_connections(), 1);
  EXPECT_EQ(pool.leased_connections(), 0);
}

TEST(StorePoolTest, OpensMoreOnlyWhileAllAreLeased) {
  CountingOpener opener;
  StorePool pool = MustOpen(TempStoreUrl("grow"), 3, opener);
  std::vector<StorePool::Lease> leases;
  std::set<Store*> distinct;
  for (int index = 0; index < 3; ++index) {
    Result<StorePool::Lease> lease = pool.Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status().ToString();
    distinct.insert(&**lease);
    leases.push_back(std::move(lease).value());
  }
  EXPECT_EQ(distinct.size(), 3u);
  EXPECT_EQ(opener.calls, 3);
  EXPECT_EQ(pool.open_connections(), 3);
  EXPECT_EQ(pool.leased_connections(), 3);
  // Moving a lease onto another returns the overwritten one's connection.
  leases[0] = std::move(leases[1]);
  EXPECT_EQ(pool.leased_connections(), 2);
  leases.clear();
  EXPECT_EQ(pool.leased_connections(), 0);
  EXPECT_EQ(pool.open_connections(), 3);
}

TEST(StorePoolTest, AcquireWaitsForAReturnedConnection) {
  CountingOpener opener;
  StorePool pool = MustOpen(TempStoreUrl("wait"), 1, opener);
  std::optional<StorePool::Lease> held;
  {
    Result<StorePool::Lease> lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    held.emplace(std::move(lease).value());
  }
  Store* const connection = &**held;
  std::atomic<bool> acquired{false};
  Store* waited_for = nullptr;
  std::thread waiter([&] {
    Result<StorePool::Lease> lease = pool.Acquire();
    if (lease.ok()) waited_for = &**lease;
    acquired = true;
  });
  // Not a timing assertion: a correct pool never lets the waiter in while the only
  // connection is held, however long this sleeps.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(acquired);
  held.reset();
  waiter.join();
  EXPECT_TRUE(acquired);
  EXPECT_EQ(waited_for, connection);
  EXPECT_EQ(opener.calls, 1);
}

TEST(StorePoolTest, AFailedOpenFreesItsSlot) {
  CountingOpener opener;
  opener.failing = {2};
  StorePool pool = MustOpen(TempStoreUrl("failed-open"), 2, opener);
  Result<StorePool::Lease> first = pool.Acquire();
  ASSERT_TRUE(first.ok());
  Result<StorePool::Lease> failed = pool.Acquire();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kDatabaseError);
  EXPECT_NE(failed.status().message().find("injected failure of open 2"), std::string::npos);
  EXPECT_EQ(pool.open_connections(), 1);
  Result<StorePool::Lease> second = pool.Acquire();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(pool.open_connections(), 2);
  EXPECT_EQ(opener.calls, 3);
}

TEST(StorePoolTest, DiscardClosesTheConnectionInsteadOfReusingIt) {
  CountingOpener opener;
  StorePool pool = MustOpen(TempStoreUrl("discard"), 2, opener);
  {
    Result<StorePool::Lease> lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    lease->Discard();
  }
  EXPECT_EQ(pool.open_connections(), 0);
  Result<StorePool::Lease> fresh = pool.Acquire();
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  EXPECT_EQ(opener.calls, 2);
  EXPECT_EQ(pool.open_connections(), 1);
}

TEST(StorePoolTest, PingReportsAndDropsABrokenConnection) {
  CountingOpener opener;
  StorePool pool = MustOpen(TempStoreUrl("ping"), 2, opener);
  EXPECT_TRUE(pool.Ping().ok());
  {
    Result<StorePool::Lease> lease = pool.Acquire();
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*lease)->Execute("DROP TABLE schema_migrations").ok());
  }
  const Status broken = pool.Ping();
  EXPECT_EQ(broken.code(), StatusCode::kDatabaseError) << broken.ToString();
  EXPECT_NE(broken.message().find("ping"), std::string::npos) << broken.ToString();
  EXPECT_EQ(pool.open_connections(), 0);
  // The next connection is new, and migrating it restores the bookkeeping table.
  EXPECT_TRUE(pool.Ping().ok());
  EXPECT_EQ(opener.calls, 2);
}

TEST(StorePoolTest, ALeaseOutlivesThePool) {
  CountingOpener opener;
  auto pool = std::make_unique<StorePool>(MustOpen(TempStoreUrl("outlive"), 1, opener));
  Result<StorePool::Lease> lease = pool->Acquire();
  ASSERT_TRUE(lease.ok());
  pool.reset();
  Result<int> version = (*lease)->SchemaVersion();
  ASSERT_TRUE(version.ok()) << version.status().ToString();
  EXPECT_GE(*version, 1);
}

// Many threads leasing at once: no connection is ever leased twice at the same time, no
// more than the maximum are opened, and every write lands.
TEST(StorePoolTest, ThreadsNeverShareAConnectionOrExceedTheMaximum) {
  constexpr int kMax = 3, kThreads = 8, kIterations = 40;
  CountingOpener opener;
  StorePool pool = MustOpen(TempStoreUrl("threads"), kMax, opener);
  std::mutex mutex;
  std::set<Store*> in_use;  // guarded by mutex
  std::atomic<int> shared_twice{0}, failures{0}, most_open{0};
  auto work = [&](int thread) {
    for (int iteration = 0; iteration < kIterations; ++iteration) {
      Result<StorePool::Lease> lease = pool.Acquire();
      if (!lease.ok()) {
        ++failures;
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (!in_use.insert(&**lease).second) ++shared_twice;
        most_open = std::max(most_open.load(), pool.open_connections());
      }
      const PredictionRow row = OnePrediction(thread, iteration);
      if (!(*lease)->WritePredictions({&row, 1}).ok()) ++failures;
      std::lock_guard<std::mutex> lock(mutex);
      in_use.erase(&**lease);
    }
  };
  std::vector<std::thread> threads;
  for (int thread = 0; thread < kThreads; ++thread) threads.emplace_back(work, thread);
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(shared_twice, 0);
  EXPECT_EQ(failures, 0);
  EXPECT_LE(opener.calls, kMax);
  EXPECT_LE(most_open, kMax);
  EXPECT_LE(pool.open_connections(), kMax);
  EXPECT_EQ(pool.leased_connections(), 0);
  Result<StorePool::Lease> lease = pool.Acquire();
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ((*lease)->CountRows("predictions").value_or(-1), kThreads * kIterations);
}

}  // namespace
}  // namespace vigil
