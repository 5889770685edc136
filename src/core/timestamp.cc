#include "vigil/core/timestamp.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace vigil {
namespace {

// Reads exactly `n` digits at text[*pos]; advances *pos.
bool ReadDigits(std::string_view text, size_t* pos, int n, int64_t* out) {
  if (*pos + n > text.size()) return false;
  int64_t value = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *pos += n;
  *out = value;
  return true;
}

bool Expect(std::string_view text, size_t* pos, char c) {
  if (*pos < text.size() && text[*pos] == c) {
    ++*pos;
    return true;
  }
  return false;
}

Status BadTime(std::string_view text, std::string_view why) {
  return ParseError("bad timestamp '" + std::string(text) + "': " + std::string(why));
}

// Parses the optional "Z" / "+hh:mm" / "-hhmm" suffix into an offset in seconds.
bool ParseZone(std::string_view text, size_t* pos, int64_t* offset_seconds) {
  *offset_seconds = 0;
  if (*pos == text.size()) return true;
  if (text[*pos] == 'Z' || text[*pos] == 'z') {
    ++*pos;
    return *pos == text.size();
  }
  if (text[*pos] != '+' && text[*pos] != '-') return false;
  int sign = text[*pos] == '-' ? -1 : 1;
  ++*pos;
  int64_t hours = 0, minutes = 0;
  if (!ReadDigits(text, pos, 2, &hours)) return false;
  Expect(text, pos, ':');
  if (*pos < text.size() && !ReadDigits(text, pos, 2, &minutes)) return false;
  *offset_seconds = sign * (hours * 3600 + minutes * 60);
  return *pos == text.size();
}

// Parses "hh:mm[:ss[.fffffffff]]" into nanoseconds of the day.
bool ParseClock(std::string_view text, size_t* pos, int64_t* nanos_of_day) {
  int64_t hour = 0, minute = 0, second = 0, fraction = 0;
  if (!ReadDigits(text, pos, 2, &hour) || !Expect(text, pos, ':') ||
      !ReadDigits(text, pos, 2, &minute)) {
    return false;
  }
  if (Expect(text, pos, ':') && !ReadDigits(text, pos, 2, &second)) return false;
  if (Expect(text, pos, '.') || Expect(text, pos, ',')) {
    int digits = 0;
    while (*pos < text.size() && text[*pos] >= '0' && text[*pos] <= '9') {
      if (digits < 9) {
        fraction = fraction * 10 + (text[*pos] - '0');
        ++digits;
      }
      ++*pos;
    }
    if (digits == 0) return false;
    for (; digits < 9; ++digits) fraction *= 10;
  }
  if (hour > 23 || minute > 59 || second > 60) return false;
  *nanos_of_day = (hour * 3600 + minute * 60 + second) * kNanosPerSecond + fraction;
  return true;
}

}  // namespace

int64_t NanosPerUnit(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::kSeconds:
      return kNanosPerSecond;
    case TimeUnit::kMilliseconds:
      return kNanosPerMilli;
    case TimeUnit::kMicroseconds:
      return kNanosPerMicro;
    default:
      return 1;
  }
}

TimeUnit EpochUnitForMagnitude(double value) {
  const double magnitude = std::fabs(value);
  if (magnitude < 1e11) return TimeUnit::kSeconds;
  if (magnitude < 1e14) return TimeUnit::kMilliseconds;
  if (magnitude < 1e17) return TimeUnit::kMicroseconds;
  return TimeUnit::kNanoseconds;
}

Result<TimeUnit> ParseTimeUnit(std::string_view text) {
  if (text == "auto") return TimeUnit::kAuto;
  if (text == "s") return TimeUnit::kSeconds;
  if (text == "ms") return TimeUnit::kMilliseconds;
  if (text == "us") return TimeUnit::kMicroseconds;
  if (text == "ns") return TimeUnit::kNanoseconds;
  return InvalidArgument("unknown time unit '" + std::string(text) + "' (auto|s|ms|us|ns)");
}

int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t days, int64_t* year, unsigned* month, unsigned* day) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = static_cast<int64_t>(yoe) + era * 400 + (*month <= 2);
}

Result<Timestamp> Timestamp::ParseIso(std::string_view text) {
  size_t pos = 0;
  int64_t year = 0, month = 0, day = 0;
  if (!ReadDigits(text, &pos, 4, &year) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &month) || !Expect(text, &pos, '-') ||
      !ReadDigits(text, &pos, 2, &day)) {
    return BadTime(text, "expected YYYY-MM-DD");
  }
  if (month < 1 || month > 12 || day < 1 || day > 31) return BadTime(text, "date out of range");
  int64_t nanos_of_day = 0;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ' || text[pos] == 't')) {
    ++pos;
    if (!ParseClock(text, &pos, &nanos_of_day)) return BadTime(text, "expected hh:mm[:ss[.f]]");
  }
  int64_t offset_seconds = 0;
  if (!ParseZone(text, &pos, &offset_seconds)) return BadTime(text, "bad time zone suffix");
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return Timestamp(days * kNanosPerDay + nanos_of_day - offset_seconds * kNanosPerSecond);
}

Result<Timestamp> Timestamp::ParseEpoch(std::string_view text, TimeUnit unit) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  int64_t whole = 0;
  auto [ptr, ec] = std::from_chars(begin, end, whole);
  if (ec == std::errc() && ptr == end) {
    if (unit == TimeUnit::kAuto) unit = EpochUnitForMagnitude(static_cast<double>(whole));
    int64_t scale = NanosPerUnit(unit);
    int64_t nanos = 0;
    if (__builtin_mul_overflow(whole, scale, &nanos)) return BadTime(text, "out of range");
    return Timestamp(nanos);
  }
  double value = 0;
  auto [dptr, dec] = std::from_chars(begin, end, value);
  if (dec != std::errc() || dptr != end || !std::isfinite(value)) {
    return BadTime(text, "not an epoch number");
  }
  if (unit == TimeUnit::kAuto) unit = EpochUnitForMagnitude(value);
  double nanos = value * static_cast<double>(NanosPerUnit(unit));
  if (std::fabs(nanos) > 9.2e18) return BadTime(text, "out of range");
  return Timestamp(static_cast<int64_t>(std::llround(nanos)));
}

Result<Timestamp> Timestamp::Parse(std::string_view text, TimeUnit unit) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '"')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '"' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (text.empty()) return BadTime(text, "empty");
  // An ISO date has '-' at index 4; an epoch number never does.
  if (text.size() >= 10 && text[4] == '-') return ParseIso(text);
  return ParseEpoch(text, unit);
}

std::string Timestamp::ToIso() const {
  int64_t days = FloorDiv(nanos_, kNanosPerDay);
  int64_t nanos_of_day = nanos_ - days * kNanosPerDay;
  int64_t year = 0;
  unsigned month = 0, day = 0;
  CivilFromDays(days, &year, &month, &day);
  int64_t secs = nanos_of_day / kNanosPerSecond;
  int64_t frac = nanos_of_day % kNanosPerSecond;
  char buf[64];
  int n =
      std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                    static_cast<long long>(year), month, day, static_cast<long long>(secs / 3600),
                    static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  if (frac % kNanosPerMilli == 0) {
    std::snprintf(buf + n, sizeof(buf) - n, ".%03lldZ",
                  static_cast<long long>(frac / kNanosPerMilli));
  } else if (frac % kNanosPerMicro == 0) {
    std::snprintf(buf + n, sizeof(buf) - n, ".%06lldZ",
                  static_cast<long long>(frac / kNanosPerMicro));
  } else {
    std::snprintf(buf + n, sizeof(buf) - n, ".%09lldZ", static_cast<long long>(frac));
  }
  return buf;
}

Result<int64_t> ParseDuration(std::string_view text) {
  int64_t count = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
  std::string_view unit(ptr, text.data() + text.size() - ptr);
  if (ec != std::errc() || count <= 0 || unit.empty()) {
    return InvalidArgument("bad duration '" + std::string(text) + "' (e.g. 1m, 5m, 1h, 1d)");
  }
  int64_t scale = 0;
  if (unit == "ns")
    scale = 1;
  else if (unit == "us")
    scale = kNanosPerMicro;
  else if (unit == "ms")
    scale = kNanosPerMilli;
  else if (unit == "s")
    scale = kNanosPerSecond;
  else if (unit == "m" || unit == "min")
    scale = kNanosPerMinute;
  else if (unit == "h")
    scale = kNanosPerHour;
  else if (unit == "d")
    scale = kNanosPerDay;
  else if (unit == "w")
    scale = 7 * kNanosPerDay;
  else
    return InvalidArgument("bad duration unit in '" + std::string(text) + "'");
  return count * scale;
}

std::string FormatDuration(int64_t nanos) {
  struct Unit {
    int64_t scale;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{7 * kNanosPerDay, "w"}, {kNanosPerDay, "d"},
                                    {kNanosPerHour, "h"},    {kNanosPerMinute, "m"},
                                    {kNanosPerSecond, "s"},  {kNanosPerMilli, "ms"},
                                    {kNanosPerMicro, "us"}};
  for (const Unit& unit : kUnits) {
    if (nanos > 0 && nanos % unit.scale == 0)
      return std::to_string(nanos / unit.scale) + unit.suffix;
  }
  return std::to_string(nanos) + "ns";
}

}  // namespace vigil
