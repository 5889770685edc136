#include "vigil/serve/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace vigil {
namespace {

constexpr size_t kSaltBytes = 16;
constexpr size_t kDigestBytes = 32;
constexpr size_t kMaxNameLength = 64;
constexpr double kMaxRate = 1e9;  // tokens per second; beyond that a limit means nothing
// A bucket untouched this long, and full again, is dropped: recreating it gives the same.
constexpr int64_t kIdleBucketNanos = kNanosPerMinute;

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The bytes `hex` spells, or nullopt unless it is exactly 2 * `bytes` hex digits.
std::optional<std::string> DecodeHex(std::string_view hex, size_t bytes) {
  if (hex.size() != 2 * bytes) return std::nullopt;
  std::string out(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) {
    int high = HexDigitValue(hex[2 * i]);
    int low = HexDigitValue(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out[i] = static_cast<char>(high * 16 + low);
  }
  return out;
}

std::string EncodeHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 0xF];
  }
  return out;
}

// Raw SHA-256(salt || key); empty only if OpenSSL fails (out of memory).
std::string Sha256(std::string_view salt, std::string_view key) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  &EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), salt.data(), salt.size()) != 1 ||
      EVP_DigestUpdate(context.get(), key.data(), key.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest, &length) != 1 || length != kDigestBytes) {
    return "";
  }
  return std::string(reinterpret_cast<const char*>(digest), length);
}

bool IsValidKeyName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

bool IsKeyLengthAllowed(std::string_view key) {
  return key.size() >= kMinApiKeyLength && key.size() <= kMaxApiKeyLength;
}

}  // namespace

// ---- API keys ----

Status RateLimit::Validate() const {
  if (!(rate > 0) || !(rate <= kMaxRate)) {
    return InvalidArgument("rate: must be > 0 and <= 1e9 requests/s");
  }
  if (!(burst >= 1) || !(burst <= kMaxRate)) {
    return InvalidArgument("burst: must be >= 1 and <= 1e9");
  }
  return Status::Ok();
}

Status ApiKeyEntry::Validate() const {
  if (!IsValidKeyName(name)) {
    return InvalidArgument("name: must be 1 to 64 of [A-Za-z0-9_.-], got '" +
                           name.substr(0, kMaxNameLength) + "'");
  }
  const std::string where = "api key '" + name + "': ";
  if (!DecodeHex(salt_hex, kSaltBytes)) {
    return InvalidArgument(where + "salt: must be 32 hex digits");
  }
  if (!DecodeHex(sha256_hex, kDigestBytes)) {
    return InvalidArgument(where + "sha256: must be 64 hex digits");
  }
  if (!(rate == 0 || (rate > 0 && rate <= kMaxRate))) {
    return InvalidArgument(where + "rate: must be 0 (the default) or in (0, 1e9]");
  }
  if (!(burst == 0 || (burst >= 1 && burst <= kMaxRate))) {
    return InvalidArgument(where + "burst: must be 0 (the default) or in [1, 1e9]");
  }
  return Status::Ok();
}

RateLimit ApiKeyEntry::LimitOr(const RateLimit& fallback) const {
  return RateLimit{.rate = rate > 0 ? rate : fallback.rate,
                   .burst = burst > 0 ? burst : fallback.burst};
}

Result<std::string> HashApiKey(std::string_view key, std::string_view salt_hex) {
  std::optional<std::string> salt = DecodeHex(salt_hex, kSaltBytes);
  if (!salt) return InvalidArgument("salt: must be 32 hex digits");
  std::string digest = Sha256(*salt, key);
  if (digest.empty()) return Internal("SHA-256 failed in OpenSSL");
  return EncodeHex(digest);
}

Result<ApiKeyEntry> MakeApiKeyEntry(std::string_view name, std::string_view key) {
  if (!IsValidKeyName(name)) return InvalidArgument("name: must be 1 to 64 of [A-Za-z0-9_.-]");
  if (!IsKeyLengthAllowed(key)) {
    return InvalidArgument("key: must be 16 to 1024 characters long");
  }
  unsigned char salt[kSaltBytes];
  if (RAND_bytes(salt, sizeof(salt)) != 1) return Internal("no random bytes from OpenSSL");
  ApiKeyEntry entry;
  entry.name = std::string(name);
  entry.salt_hex = EncodeHex(std::string_view(reinterpret_cast<const char*>(salt), kSaltBytes));
  VIGIL_ASSIGN_OR_RETURN(entry.sha256_hex, HashApiKey(key, entry.salt_hex));
  return entry;
}

ApiKeys::ApiKeys(std::vector<ApiKeyEntry> entries) : entries_(std::move(entries)) {
  for (const ApiKeyEntry& entry : entries_) {
    std::optional<std::string> salt = DecodeHex(entry.salt_hex, kSaltBytes);
    std::optional<std::string> digest = DecodeHex(entry.sha256_hex, kDigestBytes);
    if (entry.Validate().ok() && salt && digest) {
      decoded_.push_back({std::move(*salt), std::move(*digest)});
    } else {
      decoded_.push_back({});
    }
  }
}

std::optional<std::string> ApiKeys::Authenticate(std::string_view presented) const {
  if (!IsKeyLengthAllowed(presented)) return std::nullopt;
  static const std::string kNoDigest(kDigestBytes, '\0');
  size_t matched = entries_.size();
  for (size_t i = 0; i < entries_.size(); ++i) {
    const DecodedEntry& entry = decoded_[i];
    // Malformed entries are hashed and compared too, so each entry costs the same.
    std::string digest = Sha256(entry.salt, presented);
    const std::string& expected = entry.digest.empty() ? kNoDigest : entry.digest;
    bool equal = digest.size() == kDigestBytes &&
                 CRYPTO_memcmp(digest.data(), expected.data(), kDigestBytes) == 0;
    bool counts = equal & !entry.digest.empty();
    // No early exit: every entry is hashed whatever matched before.
    if (counts && matched == entries_.size()) matched = i;
  }
  if (matched == entries_.size()) return std::nullopt;
  return entries_[matched].name;
}

const ApiKeyEntry* ApiKeys::Find(std::string_view name) const {
  for (const ApiKeyEntry& entry : entries_) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

// ---- rate limiting ----

RateLimiter::RateLimiter(RateLimit default_limit, const Clock& clock)
    : default_(default_limit.Validate().ok() ? default_limit : RateLimit{}),
      clock_(clock),
      last_sweep_(clock.Now()) {}

RateLimiter::Decision RateLimiter::Take(std::string_view client,
                                        const std::optional<RateLimit>& limit) {
  // An invalid override (rate 0 would divide by zero below) falls back to the default.
  const RateLimit& effective = limit && limit->Validate().ok() ? *limit : default_;
  const Timestamp now = clock_.Now();
  std::lock_guard<std::mutex> lock(mutex_);
  SweepIdleBuckets(now);
  Bucket& bucket = RefilledBucket(client, effective, now);
  if (bucket.tokens >= 1.0) {
    bucket.tokens -= 1.0;
    return Decision{.allowed = true, .retry_after_seconds = 0.0};
  }
  return Decision{.allowed = false, .retry_after_seconds = (1.0 - bucket.tokens) / effective.rate};
}

size_t RateLimiter::tracked_clients() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return buckets_.size();
}

RateLimiter::Bucket& RateLimiter::RefilledBucket(std::string_view client, const RateLimit& limit,
                                                 Timestamp now) {
  auto [found, created] = buckets_.try_emplace(std::string(client));
  Bucket& bucket = found->second;
  if (created) {
    bucket.tokens = limit.burst;
    bucket.updated = now;
  } else {
    // A clock that steps back refills nothing rather than draining the bucket.
    const double elapsed_seconds =
        static_cast<double>(std::max<int64_t>(0, now - bucket.updated)) / kNanosPerSecond;
    bucket.tokens = std::min(limit.burst, bucket.tokens + elapsed_seconds * limit.rate);
  }
  bucket.updated = std::max(bucket.updated, now);
  bucket.limit = limit;
  return bucket;
}

void RateLimiter::SweepIdleBuckets(Timestamp now) {
  if (now - last_sweep_ < kIdleBucketNanos) return;
  last_sweep_ = now;
  std::erase_if(buckets_, [now](const auto& item) {
    const Bucket& bucket = item.second;
    const int64_t idle = now - bucket.updated;
    const double refilled =
        bucket.tokens + static_cast<double>(idle) / kNanosPerSecond * bucket.limit.rate;
    return idle >= kIdleBucketNanos && refilled >= bucket.limit.burst;
  });
}

}  // namespace vigil
