// API keys and per-client rate limits for the HTTP API.
//
// Keys are never stored: the config holds, per key, a random salt and SHA-256(salt || key)
// in hex (`vigil serve hash-key` prints them). A presented key (header
// "Authorization: Bearer KEY" or "X-API-Key: KEY") is hashed with each entry's salt and
// compared in constant time (CRYPTO_memcmp) with every entry, so the time taken does not
// tell which entry, or how much of a hash, matched.
//
//   const std::string key = "a-long-random-key-0123";  // 16..1024 characters
//   VIGIL_ASSIGN_OR_RETURN(vigil::ApiKeyEntry entry, vigil::MakeApiKeyEntry("ops", key));
//   vigil::ApiKeys keys({entry});
//   std::optional<std::string> who = keys.Authenticate(key);  // "ops"
//
// Rate limiting: a token bucket per client (the key's name, or "ip:<address>" for
// anonymous reads): `rate` tokens per second up to `burst`, a new client starting full; a
// request takes one token or is refused with the exact seconds until one is available (for
// 429 and Retry-After, rounded up to a whole second by the caller):
//
//   vigil::RateLimiter limiter(server_options.key_rate_limit, clock);
//   auto decision = limiter.Take(*who, keys.Find(*who)->LimitOr(server_options.key_rate_limit));
//   if (!decision.allowed) { /* 429, Retry-After: ceil(decision.retry_after_seconds) */ }
//
// Buckets idle for a minute and full again are dropped (checked at most once a minute), so
// dropping one never grants a client more than it would have had.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "vigil/core/clock.h"
#include "vigil/core/status.h"

namespace vigil {

struct RateLimit {
  double rate = 100.0;   // tokens per second, > 0
  double burst = 200.0;  // >= 1
  Status Validate() const;
};

// Presented and new keys are refused outside this length range (in bytes).
inline constexpr size_t kMinApiKeyLength = 16;
inline constexpr size_t kMaxApiKeyLength = 1024;

struct ApiKeyEntry {
  std::string name;         // who: [A-Za-z0-9_.-]{1,64}
  std::string salt_hex;     // 32 hex digits (16 random bytes)
  std::string sha256_hex;   // 64 hex digits: SHA-256(salt bytes || key bytes)
  double rate = 0.0;        // requests/s for this key; 0 = the server default
  double burst = 0.0;       // bucket size; 0 = the server default
  Status Validate() const;  // InvalidArgument naming the field
  // This key's limit: its own rate/burst where set (> 0), `fallback`'s otherwise.
  RateLimit LimitOr(const RateLimit& fallback) const;
};

// Lower-case hex SHA-256 of the salt's bytes (decoded from 32 hex digits, either case)
// followed by the key's bytes. InvalidArgument naming "salt" when it is not 32 hex digits.
Result<std::string> HashApiKey(std::string_view key, std::string_view salt_hex);
// A new entry for `key` with a fresh random salt (OpenSSL RAND_bytes). Keys must be at
// least 16 characters (InvalidArgument otherwise).
Result<ApiKeyEntry> MakeApiKeyEntry(std::string_view name, std::string_view key);

class ApiKeys {
 public:
  // Entries should have passed Validate(); one that did not never matches.
  explicit ApiKeys(std::vector<ApiKeyEntry> entries);
  bool empty() const { return entries_.empty(); }
  // The matching entry's name (the first, if two match), or nullopt; always hashes against
  // every entry. Keys outside [kMinApiKeyLength, kMaxApiKeyLength] are refused unhashed.
  std::optional<std::string> Authenticate(std::string_view presented) const;
  // The entry named `name`, or nullptr; the pointer lives as long as this object.
  const ApiKeyEntry* Find(std::string_view name) const;

 private:
  struct DecodedEntry {
    std::string salt;    // raw bytes; empty when the entry is malformed
    std::string digest;  // raw 32 bytes; empty when the entry is malformed
  };
  std::vector<ApiKeyEntry> entries_;
  std::vector<DecodedEntry> decoded_;  // parallel to entries_
};

class RateLimiter {
 public:
  // `clock` must outlive the limiter.
  RateLimiter(RateLimit default_limit, const Clock& clock);

  struct Decision {
    bool allowed = true;
    double retry_after_seconds = 0.0;  // > 0 when refused
  };
  // Takes one token from `client`'s bucket; `limit` overrides the default when given.
  Decision Take(std::string_view client, const std::optional<RateLimit>& limit = std::nullopt);
  // Clients with a bucket now (idle, full buckets are dropped by the minute).
  size_t tracked_clients() const;

 private:
  struct Bucket {
    double tokens = 0.0;
    Timestamp updated;
    RateLimit limit;  // of the last Take, to know when an idle bucket is full again
  };
  // Both with mutex_ held.
  Bucket& RefilledBucket(std::string_view client, const RateLimit& limit, Timestamp now);
  void SweepIdleBuckets(Timestamp now);

  RateLimit default_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
  Timestamp last_sweep_;
};

}  // namespace vigil
