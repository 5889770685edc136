// A TTL cache of response bodies for repeated read queries (/v1/risk, /v1/anomaly/..., and
// predictions by instrument and time).
//
//   vigil::TtlCache cache({.ttl = std::chrono::milliseconds(1000), .max_entries = 10000}, clock);
//   if (auto hit = cache.Get(key, generation)) return *hit;
//   cache.Put(key, body, generation);
//
// An entry is returned only while it is younger than `ttl` by the injected clock (at
// exactly `ttl` it has expired) and was stored under the same `generation`; callers pass a
// number that changes whenever an answer may change (new data ingested, a model swapped),
// so a stale answer is never served after either. A Get that finds an expired or
// other-generation entry drops it. Put replaces the value and restarts its ttl.
// InvalidateAll() drops everything. Beyond max_entries the least recently used entry (by
// Get hit or Put) is evicted. ttl 0 disables the cache (Get always misses, Put stores
// nothing). Options out of range are clamped (validate them first with Validate()).
// Counters hits()/misses() feed /metrics.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "vigil/core/clock.h"
#include "vigil/core/status.h"

namespace vigil {

struct CacheOptions {
  std::chrono::milliseconds ttl{1000};  // 0..1 h; 0 = disabled
  int64_t max_entries = 10000;          // 1..10'000'000
  Status Validate() const;
};

class TtlCache {
 public:
  // `clock` must outlive the cache.
  TtlCache(CacheOptions options, const Clock& clock);

  std::optional<std::string> Get(const std::string& key, uint64_t generation);
  void Put(const std::string& key, std::string value, uint64_t generation);
  void InvalidateAll();

  int64_t hits() const { return hits_.load(); }
  int64_t misses() const { return misses_.load(); }
  int64_t size() const;

 private:
  struct Entry {
    std::string value;
    uint64_t generation = 0;
    Timestamp stored;
    std::list<std::string>::iterator lru;
  };
  // Both with mutex_ held.
  bool IsFresh(const Entry& entry, uint64_t generation) const;
  void EvictBeyondCapacity();

  CacheOptions options_;
  const Clock& clock_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recent first
  std::atomic<int64_t> hits_{0}, misses_{0};
};

}  // namespace vigil
