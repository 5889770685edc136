#include "vigil/serve/ttl_cache.h"

#include <algorithm>
#include <utility>

namespace vigil {
namespace {

constexpr std::chrono::milliseconds kMaxTtl = std::chrono::hours(1);
constexpr int64_t kMaxEntries = 10'000'000;

}  // namespace

Status CacheOptions::Validate() const {
  if (ttl.count() < 0 || ttl > kMaxTtl) {
    return InvalidArgument("cache.ttl: must be between 0 and 1 h (0 disables the cache), got " +
                           std::to_string(ttl.count()) + " ms");
  }
  if (max_entries < 1 || max_entries > kMaxEntries) {
    return InvalidArgument("cache.max_entries: must be between 1 and 10000000, got " +
                           std::to_string(max_entries));
  }
  return Status::Ok();
}

TtlCache::TtlCache(CacheOptions options, const Clock& clock) : options_(options), clock_(clock) {
  // Options are validated by the config; out-of-range values are clamped, never trusted.
  options_.ttl = std::clamp(options_.ttl, std::chrono::milliseconds(0), kMaxTtl);
  options_.max_entries = std::clamp<int64_t>(options_.max_entries, 1, kMaxEntries);
}

std::optional<std::string> TtlCache::Get(const std::string& key, uint64_t generation) {
  if (options_.ttl.count() == 0) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = entries_.find(key);
  if (found != entries_.end() && !IsFresh(found->second, generation)) {
    // Expired or from another generation: it can never be served again.
    lru_.erase(found->second.lru);
    entries_.erase(found);
    found = entries_.end();
  }
  if (found == entries_.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, found->second.lru);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return found->second.value;
}

void TtlCache::Put(const std::string& key, std::string value, uint64_t generation) {
  if (options_.ttl.count() == 0) return;
  Timestamp now = clock_.Now();
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = entries_.find(key);
  if (found == entries_.end()) {
    lru_.push_front(key);
    found = entries_.emplace(key, Entry{.lru = lru_.begin()}).first;
  } else {
    lru_.splice(lru_.begin(), lru_, found->second.lru);
  }
  found->second.value = std::move(value);
  found->second.generation = generation;
  found->second.stored = now;
  EvictBeyondCapacity();
}

void TtlCache::InvalidateAll() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
  lru_.clear();
}

int64_t TtlCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(entries_.size());
}

bool TtlCache::IsFresh(const Entry& entry, uint64_t generation) const {
  const int64_t ttl_nanos = options_.ttl.count() * kNanosPerMilli;
  return entry.generation == generation && clock_.Now() - entry.stored < ttl_nanos;
}

void TtlCache::EvictBeyondCapacity() {
  while (static_cast<int64_t>(entries_.size()) > options_.max_entries) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
}

}  // namespace vigil
