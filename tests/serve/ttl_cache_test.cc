#include "vigil/serve/ttl_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace vigil {
namespace {

using std::chrono::milliseconds;

class TtlCacheTest : public ::testing::Test {
 protected:
  ManualClock clock_{Timestamp::FromSeconds(1'700'000'000)};
};

TEST_F(TtlCacheTest, EntryExpiresExactlyAtTtl) {
  TtlCache cache({.ttl = milliseconds(1000), .max_entries = 10}, clock_);
  cache.Put("risk:sim:BTC-PERP", "{\"score\":0.5}", 1);
  clock_.Advance(999 * kNanosPerMilli + 999'999);  // 1 ns short of the ttl
  EXPECT_EQ(cache.Get("risk:sim:BTC-PERP", 1), "{\"score\":0.5}");
  clock_.Advance(1);  // exactly ttl old: no longer younger than ttl
  EXPECT_EQ(cache.Get("risk:sim:BTC-PERP", 1), std::nullopt);
  EXPECT_EQ(cache.size(), 0);  // the expired entry is dropped
  EXPECT_EQ(cache.hits(), 1);
  EXPECT_EQ(cache.misses(), 1);
}

TEST_F(TtlCacheTest, PutRefreshesTheTimeAndValue) {
  TtlCache cache({.ttl = milliseconds(100), .max_entries = 10}, clock_);
  cache.Put("k", "old", 1);
  clock_.Advance(80 * kNanosPerMilli);
  cache.Put("k", "new", 1);
  clock_.Advance(80 * kNanosPerMilli);
  EXPECT_EQ(cache.Get("k", 1), "new");
  EXPECT_EQ(cache.size(), 1);
}

TEST_F(TtlCacheTest, GenerationMismatchMisses) {
  TtlCache cache({.ttl = milliseconds(1000), .max_entries = 10}, clock_);
  cache.Put("k", "v", 7);
  EXPECT_EQ(cache.Get("k", 8), std::nullopt);
  // The stale entry is gone even for its own generation.
  EXPECT_EQ(cache.Get("k", 7), std::nullopt);
  cache.Put("k", "v8", 8);
  EXPECT_EQ(cache.Get("k", 8), "v8");
  EXPECT_EQ(cache.hits(), 1);
  EXPECT_EQ(cache.misses(), 2);
}

TEST_F(TtlCacheTest, EvictsTheLeastRecentlyUsed) {
  TtlCache cache({.ttl = milliseconds(1000), .max_entries = 3}, clock_);
  cache.Put("a", "A", 0);
  cache.Put("b", "B", 0);
  cache.Put("c", "C", 0);
  EXPECT_EQ(cache.Get("a", 0), "A");  // a is now the most recent; b the least
  cache.Put("d", "D", 0);
  EXPECT_EQ(cache.size(), 3);
  EXPECT_EQ(cache.Get("b", 0), std::nullopt);
  cache.Put("c", "C2", 0);  // overwriting counts as use: a is now the least recent
  cache.Put("e", "E", 0);
  EXPECT_EQ(cache.Get("a", 0), std::nullopt);
  EXPECT_EQ(cache.Get("c", 0), "C2");
  EXPECT_EQ(cache.Get("d", 0), "D");
  EXPECT_EQ(cache.Get("e", 0), "E");
}

TEST_F(TtlCacheTest, ZeroTtlDisablesTheCache) {
  TtlCache cache({.ttl = milliseconds(0), .max_entries = 10}, clock_);
  cache.Put("k", "v", 0);
  EXPECT_EQ(cache.Get("k", 0), std::nullopt);
  EXPECT_EQ(cache.size(), 0);
  EXPECT_EQ(cache.misses(), 1);
  EXPECT_EQ(cache.hits(), 0);
}

TEST_F(TtlCacheTest, InvalidateAllDropsEverything) {
  TtlCache cache({.ttl = milliseconds(1000), .max_entries = 10}, clock_);
  cache.Put("a", "A", 0);
  cache.Put("b", "B", 0);
  cache.InvalidateAll();
  EXPECT_EQ(cache.size(), 0);
  EXPECT_EQ(cache.Get("a", 0), std::nullopt);
  cache.Put("a", "A2", 0);  // still usable afterwards
  EXPECT_EQ(cache.Get("a", 0), "A2");
}

TEST_F(TtlCacheTest, OptionsAreValidatedNamingTheField) {
  EXPECT_TRUE((CacheOptions{}).Validate().ok());
  EXPECT_TRUE((CacheOptions{.ttl = milliseconds(0)}).Validate().ok());
  Status negative = CacheOptions{.ttl = milliseconds(-1)}.Validate();
  EXPECT_EQ(negative.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(negative.message().find("cache.ttl"), std::string::npos);
  EXPECT_FALSE((CacheOptions{.ttl = std::chrono::hours(2)}).Validate().ok());
  Status empty = CacheOptions{.max_entries = 0}.Validate();
  EXPECT_NE(empty.message().find("cache.max_entries"), std::string::npos);
  EXPECT_FALSE((CacheOptions{.max_entries = 10'000'001}).Validate().ok());
}

TEST_F(TtlCacheTest, InvalidOptionsAreClampedNotTrusted) {
  TtlCache cache({.ttl = milliseconds(1000), .max_entries = -5}, clock_);
  cache.Put("a", "A", 0);
  cache.Put("b", "B", 0);
  EXPECT_EQ(cache.size(), 1);  // at least one entry, never a negative capacity
  EXPECT_EQ(cache.Get("b", 0), "B");
}

TEST_F(TtlCacheTest, ConcurrentUseKeepsCountsAndCapacity) {
  constexpr int kThreads = 8;
  constexpr int kOpsPerThread = 20'000;
  constexpr int64_t kCapacity = 50;
  TtlCache cache({.ttl = milliseconds(1000), .max_entries = kCapacity}, clock_);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < kOpsPerThread; ++i) {
        // 40 hot keys fit in the cache, so every thread hits once they are in.
        const std::string key = "k" + std::to_string((i * 7 + t) % 40);
        if (auto hit = cache.Get(key, 0)) {
          EXPECT_EQ(*hit, "value of " + key);  // never another key's value
        } else {
          cache.Put(key, "value of " + key, 0);
        }
        // And keys used once, which push the cache past its capacity.
        if (i % 50 == 0) cache.Put("once-" + std::to_string(t) + "-" + std::to_string(i), "x", 0);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(cache.hits() + cache.misses(), int64_t{kThreads} * kOpsPerThread);
  EXPECT_GT(cache.hits(), 0);
  EXPECT_EQ(cache.size(), kCapacity);
}

}  // namespace
}  // namespace vigil
