// Cron expressions: when a scheduled training job is due.
//
// Five fields, as in Vixie cron (crontab(5)), evaluated in UTC:
//   minute (0-59)  hour (0-23)  day-of-month (1-31)  month (1-12 or jan-dec)
//   day-of-week (0-7 or sun-sat; 0 and 7 are Sunday)
// Each field is "*", a value, a range "a-b", a step "*/n" or "a-b/n" or "a/n" (from a to the
// field's maximum), or a comma-separated list of those. Names are case-insensitive. As in
// cron, when both day-of-month and day-of-week are restricted (neither starts with "*"), a
// day matches if either does. Macros: @yearly (@annually), @monthly, @weekly, @daily
// (@midnight), @hourly.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::CronSchedule every_6h, vigil::CronSchedule::Parse("0 */6 * *
//   *")); vigil::Timestamp next = every_6h.Next(clock.Now());  // strictly after now
//
// Thread-safety: a parsed CronSchedule is immutable.
#pragma once

#include <bitset>
#include <chrono>
#include <string>
#include <string_view>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"

namespace vigil {

class CronSchedule {
 public:
  // InvalidArgument naming the field (e.g. "cron \"0 25 * * *\": hour: 25 is out of range
  // 0-23") for a wrong field count, an unknown name or macro, a value out of range, a
  // reversed range, a zero step, or an empty list item.
  static Result<CronSchedule> Parse(std::string_view expression);

  // The first whole minute strictly after `after` that matches (seconds and below are
  // zero). Timestamp::Max() when none exists within the next 8 years (e.g. "0 0 30 2 *").
  Timestamp Next(Timestamp after) const;
  // Whether the minute containing `t` matches.
  bool Matches(Timestamp t) const;

  const std::string& expression() const { return expression_; }

 private:
  CronSchedule() = default;
  // Month and day (day-of-month / day-of-week with cron's OR rule) of a UTC date.
  bool MatchesDay(std::chrono::sys_days day) const;

  std::string expression_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // bit 0 unused
  std::bitset<13> months_;         // bit 0 unused
  std::bitset<7> days_of_week_;    // 0 = Sunday
  bool day_of_month_restricted_ = false;
  bool day_of_week_restricted_ = false;
};

}  // namespace vigil
