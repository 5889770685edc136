#include "vigil/pipeline/cron.h"

#include <array>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace vigil {
namespace {

namespace chrono = std::chrono;

constexpr int64_t kMinutesPerDay = 24 * 60;
// The largest minute index whose start is still a representable Timestamp.
constexpr int64_t kLastMinuteIndex = INT64_MAX / kNanosPerMinute;
// How far Next looks before it gives up: long enough that every date that exists at all
// (29 February, even across the non-leap year 2100) comes round at least once.
constexpr chrono::years kSearchHorizon{8};

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDayNames = {"sun", "mon", "tue", "wed",
                                                       "thu", "fri", "sat"};

struct CronField {
  std::string_view name;
  int min;
  int max;
  std::span<const std::string_view> names;  // names[i] stands for min + i
};

constexpr CronField kMinuteField{"minute", 0, 59, {}};
constexpr CronField kHourField{"hour", 0, 23, {}};
constexpr CronField kDayOfMonthField{"day-of-month", 1, 31, {}};
constexpr CronField kMonthField{"month", 1, 12, kMonthNames};
constexpr CronField kDayOfWeekField{"day-of-week", 0, 7, kDayNames};

struct Macro {
  std::string_view name;
  std::string_view fields;
};
constexpr std::array<Macro, 7> kMacros = {{{"@yearly", "0 0 1 1 *"},
                                           {"@annually", "0 0 1 1 *"},
                                           {"@monthly", "0 0 1 * *"},
                                           {"@weekly", "0 0 * * 0"},
                                           {"@daily", "0 0 * * *"},
                                           {"@midnight", "0 0 * * *"},
                                           {"@hourly", "0 * * * *"}}};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::vector<std::string_view> SplitWhitespace(std::string_view text) {
  std::vector<std::string_view> words;
  size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    const size_t start = pos;
    while (pos < text.size() && !std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    if (pos > start) words.push_back(text.substr(start, pos - start));
  }
  return words;
}

Status FieldError(const CronField& field, const std::string& problem) {
  return InvalidArgument(std::string(field.name) + ": " + problem);
}

// Digits only; nullopt for anything else or more digits than a field could ever need.
std::optional<int> ParseNumber(std::string_view text) {
  constexpr size_t kMaxDigits = 9;  // fits an int without overflow checks
  if (text.empty() || text.size() > kMaxDigits) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// A number or (month, day-of-week) a three-letter name, within the field's range.
Result<int> ParseValue(const CronField& field, std::string_view text, std::string_view item) {
  if (text.empty()) {
    return FieldError(field, "missing a value in '" + std::string(item) + "'");
  }
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    std::optional<int> number = ParseNumber(text);
    if (!number || *number < field.min || *number > field.max) {
      return FieldError(field, std::string(text) + " is out of range " + std::to_string(field.min) +
                                   "-" + std::to_string(field.max));
    }
    return *number;
  }
  const std::string lower = Lower(text);
  for (size_t i = 0; i < field.names.size(); ++i) {
    if (field.names[i] == lower) return field.min + static_cast<int>(i);
  }
  return FieldError(field, field.names.empty() ? "'" + std::string(text) + "' is not a number"
                                               : "unknown name '" + std::string(text) + "'");
}

// One list item: "*", "a", "a-b", each optionally followed by "/step".
Result<uint64_t> ParseItem(const CronField& field, std::string_view item) {
  if (item.empty()) return FieldError(field, "empty list item");
  const size_t slash = item.find('/');
  const std::string_view range = item.substr(0, slash);
  int step = 1;
  if (slash != std::string_view::npos) {
    const std::string_view step_text = item.substr(slash + 1);
    std::optional<int> parsed = ParseNumber(step_text);
    if (!parsed) {
      return FieldError(field, "step '" + std::string(step_text) + "' in '" + std::string(item) +
                                   "' is not a number");
    }
    if (*parsed == 0) return FieldError(field, "zero step in '" + std::string(item) + "'");
    step = *parsed;
  }
  int first = field.min;
  int last = field.max;
  if (range != "*") {
    const size_t dash = range.find('-');
    VIGIL_ASSIGN_OR_RETURN(first, ParseValue(field, range.substr(0, dash), item));
    if (dash != std::string_view::npos) {
      VIGIL_ASSIGN_OR_RETURN(last, ParseValue(field, range.substr(dash + 1), item));
      if (first > last) {
        return FieldError(field, "reversed range '" + std::string(range) + "'");
      }
    } else if (slash == std::string_view::npos) {
      last = first;  // "a/n" runs to the field's maximum; a bare "a" is just a
    }
  }
  uint64_t bits = 0;
  for (int value = first; value <= last; value += step) bits |= uint64_t{1} << value;
  return bits;
}

Result<uint64_t> ParseField(const CronField& field, std::string_view text) {
  uint64_t bits = 0;
  for (std::string_view item : Split(text, ',')) {
    VIGIL_ASSIGN_OR_RETURN(uint64_t item_bits, ParseItem(field, item));
    bits |= item_bits;
  }
  return bits;
}

// The five fields after macro expansion; an error message without the "cron ..." prefix.
Result<std::vector<std::string_view>> FieldTexts(std::string_view expression) {
  std::vector<std::string_view> fields = SplitWhitespace(expression);
  if (fields.size() == 1 && fields[0].starts_with('@')) {
    const std::string lower = Lower(fields[0]);
    for (const Macro& macro : kMacros) {
      if (macro.name == lower) return SplitWhitespace(macro.fields);
    }
    return InvalidArgument("unknown macro '" + std::string(fields[0]) +
                           "' (expected @yearly, @annually, @monthly, @weekly, @daily, "
                           "@midnight or @hourly)");
  }
  if (fields.size() != 5) {
    return InvalidArgument("expected 5 fields (minute hour day-of-month month day-of-week), got " +
                           std::to_string(fields.size()));
  }
  return fields;
}

// The first minute of the day at or after `from` (minutes since midnight) whose hour and
// minute both match.
std::optional<int> FirstMatchingMinute(const std::bitset<24>& hours, const std::bitset<60>& minutes,
                                       int from) {
  for (int hour = from / 60; hour < 24; ++hour) {
    if (!hours[hour]) continue;
    for (int minute = hour == from / 60 ? from % 60 : 0; minute < 60; ++minute) {
      if (minutes[minute]) return hour * 60 + minute;
    }
  }
  return std::nullopt;
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view expression) {
  const std::string where = "cron \"" + std::string(expression) + "\"";
  Result<std::vector<std::string_view>> fields = FieldTexts(expression);
  if (!fields.ok()) return fields.status().WithContext(where);
  const std::array<const CronField*, 5> specs = {&kMinuteField, &kHourField, &kDayOfMonthField,
                                                 &kMonthField, &kDayOfWeekField};
  std::array<uint64_t, 5> bits{};
  for (size_t field_idx = 0; field_idx < specs.size(); ++field_idx) {
    Result<uint64_t> parsed = ParseField(*specs[field_idx], (*fields)[field_idx]);
    if (!parsed.ok()) return parsed.status().WithContext(where);
    bits[field_idx] = *parsed;
  }
  CronSchedule schedule;
  schedule.expression_ = std::string(expression);
  schedule.minutes_ = std::bitset<60>(bits[0]);
  schedule.hours_ = std::bitset<24>(bits[1]);
  schedule.days_of_month_ = std::bitset<32>(bits[2]);
  schedule.months_ = std::bitset<13>(bits[3]);
  // Day-of-week 7 is Sunday again.
  const uint64_t sunday_twice = (bits[4] >> 7) & 1;
  schedule.days_of_week_ = std::bitset<7>(bits[4] | sunday_twice);
  // Vixie cron's rule: a field counts as restricted unless its text starts with '*'.
  schedule.day_of_month_restricted_ = !(*fields)[2].starts_with('*');
  schedule.day_of_week_restricted_ = !(*fields)[4].starts_with('*');
  return schedule;
}

bool CronSchedule::MatchesDay(std::chrono::sys_days day) const {
  const chrono::year_month_day date{day};
  if (!months_[static_cast<unsigned>(date.month())]) return false;
  const bool day_of_month = days_of_month_[static_cast<unsigned>(date.day())];
  const bool day_of_week = days_of_week_[chrono::weekday{day}.c_encoding()];
  if (day_of_month_restricted_ && day_of_week_restricted_) return day_of_month || day_of_week;
  return day_of_month && day_of_week;
}

bool CronSchedule::Matches(Timestamp t) const {
  const int64_t minute_index = FloorDiv(t.nanos(), kNanosPerMinute);
  const int64_t day_index = FloorDiv(minute_index, kMinutesPerDay);
  const int64_t minute_of_day = minute_index - day_index * kMinutesPerDay;
  return minutes_[minute_of_day % 60] && hours_[minute_of_day / 60] &&
         MatchesDay(chrono::sys_days{chrono::days{day_index}});
}

Timestamp CronSchedule::Next(Timestamp after) const {
  const int64_t start_minute = FloorDiv(after.nanos(), kNanosPerMinute) + 1;
  if (start_minute > kLastMinuteIndex) return Timestamp::Max();
  const int64_t start_day_index = FloorDiv(start_minute, kMinutesPerDay);
  chrono::sys_days day{chrono::days{start_day_index}};
  const chrono::sys_days horizon{chrono::year_month_day{day} + kSearchHorizon};
  int from_minute_of_day = static_cast<int>(start_minute - start_day_index * kMinutesPerDay);
  // Whole months and days that cannot match are skipped, so this takes at most a few
  // thousand steps even when nothing matches.
  while (day <= horizon) {
    const chrono::year_month_day date{day};
    if (!months_[static_cast<unsigned>(date.month())]) {
      const chrono::year_month next_month = date.year() / date.month() + chrono::months{1};
      day = chrono::sys_days{next_month / 1};
      from_minute_of_day = 0;
      continue;
    }
    if (MatchesDay(day)) {
      const std::optional<int> minute_of_day =
          FirstMatchingMinute(hours_, minutes_, from_minute_of_day);
      if (minute_of_day) {
        const int64_t minute_index =
            day.time_since_epoch().count() * kMinutesPerDay + *minute_of_day;
        if (minute_index > kLastMinuteIndex) return Timestamp::Max();
        return Timestamp(minute_index * kNanosPerMinute);
      }
    }
    day += chrono::days{1};
    from_minute_of_day = 0;
  }
  return Timestamp::Max();
}

}  // namespace vigil
