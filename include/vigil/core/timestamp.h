// Timestamp: a point in time as int64 nanoseconds since the Unix epoch, always UTC.
//
// Parsing accepts the forms market data arrives in:
//   ISO-8601   "2024-01-29T19:55:35Z", "2024-01-29 19:55:35.123+00:00", "2024-01-29"
//   epoch      "1706558135" (s), "1706558135000" (ms), "1706558135000000" (us), ns; with
//              TimeUnit::kAuto the unit is chosen from the magnitude (see ParseEpoch).
//
//   auto ts = vigil::Timestamp::Parse("2024-01-29T19:55:35.5Z");   // Result<Timestamp>
//   std::string s = ts->ToIso();                                     // "2024-01-29T19:55:35.500Z"
//
// Thread-safety: a value type; all functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vigil/core/status.h"

namespace vigil {

enum class TimeUnit { kAuto, kSeconds, kMilliseconds, kMicroseconds, kNanoseconds };

// Parses "auto", "s", "ms", "us", "ns".
Result<TimeUnit> ParseTimeUnit(std::string_view text);

// Nanoseconds in one `unit` (1 for kNanoseconds and kAuto).
int64_t NanosPerUnit(TimeUnit unit);
// The unit an epoch number of this magnitude is taken to be in by kAuto:
// |v| < 1e11 seconds, < 1e14 milliseconds, < 1e17 microseconds, else nanoseconds.
TimeUnit EpochUnitForMagnitude(double value);

inline constexpr int64_t kNanosPerMicro = 1'000;
inline constexpr int64_t kNanosPerMilli = 1'000'000;
inline constexpr int64_t kNanosPerSecond = 1'000'000'000;
inline constexpr int64_t kNanosPerMinute = 60 * kNanosPerSecond;
inline constexpr int64_t kNanosPerHour = 60 * kNanosPerMinute;
inline constexpr int64_t kNanosPerDay = 24 * kNanosPerHour;

class Timestamp {
 public:
  constexpr Timestamp() = default;
  constexpr explicit Timestamp(int64_t nanos) : nanos_(nanos) {}

  static constexpr Timestamp FromSeconds(int64_t s) { return Timestamp(s * kNanosPerSecond); }
  static constexpr Timestamp FromMillis(int64_t ms) { return Timestamp(ms * kNanosPerMilli); }
  static constexpr Timestamp FromMicros(int64_t us) { return Timestamp(us * kNanosPerMicro); }
  static constexpr Timestamp Min() { return Timestamp(INT64_MIN); }
  static constexpr Timestamp Max() { return Timestamp(INT64_MAX); }

  // Parses ISO-8601 or an epoch number (integer or decimal). On failure the status
  // message quotes the text. `unit` applies to epoch numbers only.
  static Result<Timestamp> Parse(std::string_view text, TimeUnit unit = TimeUnit::kAuto);
  // ISO-8601 only: date, optional 'T' or ' ' and time, optional fraction (up to 9
  // digits), optional 'Z' or +hh:mm / -hh:mm offset (converted to UTC).
  static Result<Timestamp> ParseIso(std::string_view text);
  // Epoch number in `unit`. With kAuto: |v| < 1e11 seconds, < 1e14 ms, < 1e17 us, else ns.
  static Result<Timestamp> ParseEpoch(std::string_view text, TimeUnit unit = TimeUnit::kAuto);

  constexpr int64_t nanos() const { return nanos_; }
  constexpr int64_t millis() const { return FloorDiv(nanos_, kNanosPerMilli); }
  constexpr int64_t seconds() const { return FloorDiv(nanos_, kNanosPerSecond); }

  // "2024-01-29T19:55:35.123Z": milliseconds always shown; micro/nanoseconds shown
  // when non-zero.
  std::string ToIso() const;

  constexpr auto operator<=>(const Timestamp&) const = default;
  constexpr Timestamp operator+(int64_t nanos) const { return Timestamp(nanos_ + nanos); }
  constexpr Timestamp operator-(int64_t nanos) const { return Timestamp(nanos_ - nanos); }
  constexpr int64_t operator-(Timestamp other) const { return nanos_ - other.nanos_; }

 private:
  static constexpr int64_t FloorDiv(int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
  }
  int64_t nanos_ = 0;
};

// Durations written as "1m", "5m", "1h", "8h", "1d", "30s", "1w" (the timeframe names
// exchanges use). Returns nanoseconds.
Result<int64_t> ParseDuration(std::string_view text);
// The inverse for whole units: 300e9 -> "5m", 3600e9 -> "1h".
std::string FormatDuration(int64_t nanos);

// Days since 1970-01-01 for a civil date (proleptic Gregorian), and back.
// H. Hinnant, "chrono-Compatible Low-Level Date Algorithms" (days_from_civil).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);
void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day);

}  // namespace vigil
