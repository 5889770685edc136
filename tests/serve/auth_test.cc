#include "vigil/serve/auth.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <string>
#include <thread>
#include <vector>

namespace vigil {
namespace {

constexpr char kSalt[] = "000102030405060708090a0b0c0d0e0f";
constexpr char kKey[] = "correct horse battery staple";

// ---- hashing ----

TEST(HashApiKeyTest, MatchesAnIndependentSha256) {
  // Expected from coreutils, not from OpenSSL:
  //   { printf '000102030405060708090a0b0c0d0e0f' | xxd -r -p;
  //     printf '%s' 'correct horse battery staple'; } | sha256sum
  Result<std::string> hash = HashApiKey(kKey, kSalt);
  ASSERT_TRUE(hash.ok()) << hash.status().ToString();
  EXPECT_EQ(*hash, "3d3ecd0750760383a5cd6a31d4d8294add1829ac0d7be0647083f73847dd325e");
  //   { printf 'DEADBEEFdeadbeef0011223344556677' | xxd -r -p;
  //     printf '%s' 'vigil-demo-key-0001'; } | sha256sum
  EXPECT_EQ(*HashApiKey("vigil-demo-key-0001", "DEADBEEFdeadbeef0011223344556677"),
            "2ba1cdaadacabe52f28d2b8c91b81b6c582beaa76eb31f369176336830d9326b");
  //   printf '000102030405060708090a0b0c0d0e0f' | xxd -r -p | sha256sum
  EXPECT_EQ(*HashApiKey("", kSalt),
            "be45cb2605bf36bebde684841a28f0fd43c69850a3dce5fedba69928ee3a8991");
}

TEST(HashApiKeyTest, MalformedSaltIsRefused) {
  for (const char* salt :
       {"", "0001", "000102030405060708090a0b0c0d0e0", "zz0102030405060708090a0b0c0d0e0f",
        "000102030405060708090a0b0c0d0e0f00"}) {
    Result<std::string> hash = HashApiKey(kKey, salt);
    ASSERT_FALSE(hash.ok()) << salt;
    EXPECT_EQ(hash.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(hash.status().message().find("salt"), std::string::npos);
  }
}

TEST(MakeApiKeyEntryTest, MakesAValidEntryWithAFreshSalt) {
  Result<ApiKeyEntry> first = MakeApiKeyEntry("ops", kKey);
  Result<ApiKeyEntry> second = MakeApiKeyEntry("ops", kKey);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(first->Validate().ok());
  EXPECT_EQ(first->name, "ops");
  EXPECT_EQ(first->salt_hex.size(), 32u);
  EXPECT_NE(first->salt_hex, second->salt_hex);
  EXPECT_NE(first->sha256_hex, second->sha256_hex);
  EXPECT_EQ(first->sha256_hex, *HashApiKey(kKey, first->salt_hex));
}

TEST(MakeApiKeyEntryTest, ShortKeysAndBadNamesAreRefused) {
  Result<ApiKeyEntry> short_key = MakeApiKeyEntry("ops", "fifteen-chars!!");
  ASSERT_FALSE(short_key.ok());
  EXPECT_NE(short_key.status().message().find("key"), std::string::npos);
  EXPECT_TRUE(MakeApiKeyEntry("ops", "sixteen-chars!!!").ok());
  EXPECT_FALSE(MakeApiKeyEntry("", kKey).ok());
  EXPECT_FALSE(MakeApiKeyEntry("../etc", kKey).ok());
  EXPECT_FALSE(MakeApiKeyEntry(std::string(65, 'a'), kKey).ok());
}

TEST(ApiKeyEntryTest, ValidateNamesTheField) {
  ApiKeyEntry entry{.name = "ops", .salt_hex = kSalt, .sha256_hex = std::string(64, 'a')};
  EXPECT_TRUE(entry.Validate().ok());
  auto message_of = [](ApiKeyEntry changed) { return changed.Validate().message(); };
  ApiKeyEntry bad = entry;
  bad.name = "a b";
  EXPECT_NE(message_of(bad).find("name"), std::string::npos);
  bad = entry;
  bad.salt_hex = "xyz";
  EXPECT_NE(message_of(bad).find("salt"), std::string::npos);
  bad = entry;
  bad.sha256_hex = std::string(63, 'a');
  EXPECT_NE(message_of(bad).find("sha256"), std::string::npos);
  bad = entry;
  bad.sha256_hex = std::string(63, 'a') + "g";
  EXPECT_NE(message_of(bad).find("sha256"), std::string::npos);
  bad = entry;
  bad.rate = -1;
  EXPECT_NE(message_of(bad).find("rate"), std::string::npos);
  bad = entry;
  bad.burst = 0.5;
  EXPECT_NE(message_of(bad).find("burst"), std::string::npos);
}

// ---- authentication ----

ApiKeyEntry EntryFor(const std::string& name, const std::string& key, const std::string& salt) {
  return ApiKeyEntry{.name = name, .salt_hex = salt, .sha256_hex = *HashApiKey(key, salt)};
}

TEST(ApiKeysTest, AuthenticatesTheRightEntry) {
  ApiKeys keys({EntryFor("ops", kKey, kSalt), EntryFor("reader", "another key, long enough",
                                                       "ffeeddccbbaa99887766554433221100")});
  EXPECT_FALSE(keys.empty());
  EXPECT_EQ(keys.Authenticate(kKey), "ops");
  EXPECT_EQ(keys.Authenticate("another key, long enough"), "reader");
  EXPECT_EQ(keys.Authenticate("correct horse battery stapler"), std::nullopt);
  EXPECT_EQ(keys.Authenticate("Correct horse battery staple"), std::nullopt);
  EXPECT_EQ(keys.Authenticate(""), std::nullopt);
  EXPECT_EQ(keys.Authenticate(std::string(5000, 'k')), std::nullopt);
  EXPECT_TRUE(ApiKeys({}).empty());
  EXPECT_EQ(ApiKeys({}).Authenticate(kKey), std::nullopt);
}

TEST(ApiKeysTest, UppercaseHexInConfigStillMatches) {
  ApiKeyEntry entry = EntryFor("ops", kKey, "DEADBEEFdeadbeef0011223344556677");
  for (char& c : entry.sha256_hex) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(ApiKeys({entry}).Authenticate(kKey), "ops");
}

TEST(ApiKeysTest, AKeyHashedWithAnotherEntrysSaltDoesNotMatch) {
  // "b"'s hash is the hash of a's key under a's salt, but filed under b's salt: a key must
  // match with its own entry's salt.
  const std::string salt_b = "ffeeddccbbaa99887766554433221100";
  ApiKeyEntry crossed{.name = "b", .salt_hex = salt_b, .sha256_hex = *HashApiKey(kKey, kSalt)};
  ApiKeys keys({crossed});
  EXPECT_EQ(keys.Authenticate(kKey), std::nullopt);
}

TEST(ApiKeysTest, MalformedEntriesNeverMatch) {
  ApiKeyEntry good = EntryFor("good", kKey, kSalt);
  ApiKeyEntry bad_hex = good;
  bad_hex.name = "bad_hex";
  bad_hex.sha256_hex[10] = 'x';
  ApiKeyEntry short_salt = good;
  short_salt.name = "short_salt";
  short_salt.salt_hex = "0001";
  ApiKeyEntry empty_hash{.name = "empty", .salt_hex = kSalt, .sha256_hex = ""};
  EXPECT_EQ(ApiKeys({bad_hex, short_salt, empty_hash}).Authenticate(kKey), std::nullopt);
  // The good entry still authenticates behind malformed ones.
  EXPECT_EQ(ApiKeys({bad_hex, short_salt, empty_hash, good}).Authenticate(kKey), "good");
}

TEST(ApiKeysTest, ShortPresentedKeysAreRefused) {
  // An entry hashed from a short key (hand-written config) still refuses it.
  const std::string short_key = "tiny";
  ApiKeys keys({EntryFor("tiny", short_key, kSalt)});
  EXPECT_EQ(keys.Authenticate(short_key), std::nullopt);
}

TEST(ApiKeysTest, FindByName) {
  ApiKeys keys({EntryFor("ops", kKey, kSalt)});
  ASSERT_NE(keys.Find("ops"), nullptr);
  EXPECT_EQ(keys.Find("ops")->salt_hex, kSalt);
  EXPECT_EQ(keys.Find("OPS"), nullptr);
  EXPECT_EQ(keys.Find(""), nullptr);
}

// ---- rate limiting ----

class RateLimiterTest : public ::testing::Test {
 protected:
  ManualClock clock_{Timestamp::FromSeconds(1'700'000'000)};
};

TEST_F(RateLimiterTest, BurstThenRefusalWithExactRetryAfter) {
  RateLimiter limiter({.rate = 2.0, .burst = 3.0}, clock_);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("ops").allowed) << i;
  RateLimiter::Decision refused = limiter.Take("ops");
  EXPECT_FALSE(refused.allowed);
  EXPECT_DOUBLE_EQ(refused.retry_after_seconds, 0.5);  // one token at 2/s
  clock_.Advance(200 * kNanosPerMilli);                // 0.4 tokens back
  refused = limiter.Take("ops");
  EXPECT_FALSE(refused.allowed);
  EXPECT_NEAR(refused.retry_after_seconds, 0.3, 1e-12);
}

TEST_F(RateLimiterTest, RefillsOverTimeUpToTheBurst) {
  RateLimiter limiter({.rate = 10.0, .burst = 5.0}, clock_);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.Take("c").allowed);
  ASSERT_FALSE(limiter.Take("c").allowed);
  clock_.Advance(100 * kNanosPerMilli);  // exactly one token
  EXPECT_TRUE(limiter.Take("c").allowed);
  EXPECT_FALSE(limiter.Take("c").allowed);
  clock_.Advance(10 * kNanosPerSecond);  // far more than the burst: capped at 5
  int allowed = 0;
  while (limiter.Take("c").allowed) ++allowed;
  EXPECT_EQ(allowed, 5);
}

TEST_F(RateLimiterTest, ClientsAreIsolated) {
  RateLimiter limiter({.rate = 1.0, .burst = 1.0}, clock_);
  EXPECT_TRUE(limiter.Take("a").allowed);
  EXPECT_FALSE(limiter.Take("a").allowed);
  EXPECT_TRUE(limiter.Take("b").allowed);
  EXPECT_TRUE(limiter.Take("ip:127.0.0.1").allowed);
  EXPECT_FALSE(limiter.Take("b").allowed);
}

TEST_F(RateLimiterTest, PerKeyOverride) {
  RateLimiter limiter({.rate = 1.0, .burst = 1.0}, clock_);
  ApiKeyEntry fast{.name = "fast", .rate = 100.0, .burst = 10.0};
  const RateLimit fast_limit = fast.LimitOr({.rate = 1.0, .burst = 1.0});
  EXPECT_EQ(fast_limit.rate, 100.0);
  EXPECT_EQ(fast_limit.burst, 10.0);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.Take("fast", fast_limit).allowed) << i;
  RateLimiter::Decision refused = limiter.Take("fast", fast_limit);
  EXPECT_FALSE(refused.allowed);
  EXPECT_DOUBLE_EQ(refused.retry_after_seconds, 0.01);
  // Unset fields fall back; an invalid override falls back to the default limit.
  ApiKeyEntry rate_only{.name = "r", .rate = 5.0};
  EXPECT_EQ(rate_only.LimitOr({.rate = 1.0, .burst = 7.0}).burst, 7.0);
  EXPECT_TRUE(limiter.Take("broken", RateLimit{.rate = 0.0, .burst = 0.0}).allowed);
  RateLimiter::Decision fallback = limiter.Take("broken", RateLimit{.rate = 0.0, .burst = 0.0});
  EXPECT_FALSE(fallback.allowed);
  EXPECT_DOUBLE_EQ(fallback.retry_after_seconds, 1.0);
}

TEST_F(RateLimiterTest, IdleFullBucketsAreSwept) {
  RateLimiter limiter({.rate = 1.0, .burst = 2.0}, clock_);
  EXPECT_TRUE(limiter.Take("idle").allowed);
  // A slow bucket: after a minute it is still far from full, so it must be kept.
  EXPECT_TRUE(limiter.Take("slow", RateLimit{.rate = 0.001, .burst = 5.0}).allowed);
  EXPECT_EQ(limiter.tracked_clients(), 2u);
  clock_.Advance(kNanosPerMinute);
  EXPECT_TRUE(limiter.Take("active").allowed);  // triggers the sweep
  EXPECT_EQ(limiter.tracked_clients(), 2u);     // "slow" and "active"
  // The kept bucket did not reset: 4 tokens + 0.06 refilled, so 4 more are allowed.
  const RateLimit slow{.rate = 0.001, .burst = 5.0};
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter.Take("slow", slow).allowed) << i;
  EXPECT_FALSE(limiter.Take("slow", slow).allowed);
}

TEST_F(RateLimiterTest, ClockSteppingBackRefillsNothing) {
  RateLimiter limiter({.rate = 1.0, .burst = 1.0}, clock_);
  EXPECT_TRUE(limiter.Take("c").allowed);
  clock_.Advance(-10 * kNanosPerSecond);
  EXPECT_FALSE(limiter.Take("c").allowed);
}

TEST_F(RateLimiterTest, ConcurrentTakesNeverExceedTheBurst) {
  RateLimiter limiter({.rate = 1.0, .burst = 1000.0}, clock_);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) allowed += limiter.Take("shared").allowed ? 1 : 0;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 1000);  // the clock never moved
}

TEST(RateLimitTest, ValidateNamesTheField) {
  EXPECT_TRUE((RateLimit{}).Validate().ok());
  EXPECT_NE((RateLimit{.rate = 0}).Validate().message().find("rate"), std::string::npos);
  EXPECT_NE((RateLimit{.rate = 1, .burst = 0.5}).Validate().message().find("burst"),
            std::string::npos);
}

}  // namespace
}  // namespace vigil
