#include "vigil/pipeline/cron.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vigil/core/rng.h"

namespace vigil {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Timestamp T(std::string_view iso) {
  Result<Timestamp> t = Timestamp::ParseIso(iso);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.value_or(Timestamp());
}

CronSchedule Cron(std::string_view expression) {
  Result<CronSchedule> cron = CronSchedule::Parse(expression);
  EXPECT_TRUE(cron.ok()) << cron.status().ToString();
  return cron.ok() ? *cron : *CronSchedule::Parse("* * * * *");
}

// The next `count` run times after `start`, as ISO strings without the milliseconds.
std::vector<std::string> Runs(std::string_view expression, std::string_view start, int count) {
  const CronSchedule cron = Cron(expression);
  std::vector<std::string> runs;
  Timestamp t = T(start);
  for (int i = 0; i < count; ++i) {
    t = cron.Next(t);
    if (t == Timestamp::Max()) break;
    const std::string iso = t.ToIso();
    runs.push_back(iso.substr(0, 16));  // "2024-01-01T00:30"
  }
  return runs;
}

std::string ParseErrorOf(std::string_view expression) {
  Result<CronSchedule> cron = CronSchedule::Parse(expression);
  if (cron.ok()) return "parsed";
  EXPECT_EQ(cron.status().code(), StatusCode::kInvalidArgument);
  return cron.status().message();
}

TEST(CronTest, EveryFieldForm) {
  EXPECT_THAT(Runs("* * * * *", "2024-01-01T00:00:30Z", 3),
              ElementsAre("2024-01-01T00:01", "2024-01-01T00:02", "2024-01-01T00:03"));
  EXPECT_THAT(Runs("5 * * * *", "2024-01-01T00:05:00Z", 2),
              ElementsAre("2024-01-01T01:05", "2024-01-01T02:05"));
  EXPECT_THAT(
      Runs("10-12 * * * *", "2024-01-01T00:00:00Z", 4),
      ElementsAre("2024-01-01T00:10", "2024-01-01T00:11", "2024-01-01T00:12", "2024-01-01T01:10"));
  EXPECT_THAT(
      Runs("*/15 * * * *", "2024-01-01T00:00:00Z", 4),
      ElementsAre("2024-01-01T00:15", "2024-01-01T00:30", "2024-01-01T00:45", "2024-01-01T01:00"));
  EXPECT_THAT(
      Runs("10-30/10 * * * *", "2024-01-01T00:00:00Z", 4),
      ElementsAre("2024-01-01T00:10", "2024-01-01T00:20", "2024-01-01T00:30", "2024-01-01T01:10"));
  // "a/n" runs from a to the field's maximum.
  EXPECT_THAT(
      Runs("50/4 * * * *", "2024-01-01T00:00:00Z", 4),
      ElementsAre("2024-01-01T00:50", "2024-01-01T00:54", "2024-01-01T00:58", "2024-01-01T01:50"));
  EXPECT_THAT(Runs("0 1,5-6,*/12 * * *", "2024-01-01T00:00:00Z", 5),
              ElementsAre("2024-01-01T01:00", "2024-01-01T05:00", "2024-01-01T06:00",
                          "2024-01-01T12:00", "2024-01-02T00:00"));
  EXPECT_THAT(Runs("30 4 1,15 * *", "2024-01-10T00:00:00Z", 3),
              ElementsAre("2024-01-15T04:30", "2024-02-01T04:30", "2024-02-15T04:30"));
  EXPECT_THAT(Runs("0 0 1 */4 *", "2024-01-10T00:00:00Z", 3),
              ElementsAre("2024-05-01T00:00", "2024-09-01T00:00", "2025-01-01T00:00"));
  // Whitespace between fields may be several spaces or tabs.
  EXPECT_THAT(Runs("  0\t12   * * *  ", "2024-01-01T00:00:00Z", 1),
              ElementsAre("2024-01-01T12:00"));
}

TEST(CronTest, MonthAndDayNamesAnyCase) {
  EXPECT_THAT(Runs("0 0 1 jan,JUL *", "2024-02-01T00:00:00Z", 2),
              ElementsAre("2024-07-01T00:00", "2025-01-01T00:00"));
  // 2024-01-05 is a Friday.
  EXPECT_THAT(Runs("0 12 * * Mon-fri", "2024-01-05T13:00:00Z", 2),
              ElementsAre("2024-01-08T12:00", "2024-01-09T12:00"));
  EXPECT_THAT(Runs("0 0 * feb-mar/1 sun", "2024-01-01T00:00:00Z", 2),
              ElementsAre("2024-02-04T00:00", "2024-02-11T00:00"));
  EXPECT_EQ(ParseErrorOf("0 0 * * jan"), "cron \"0 0 * * jan\": day-of-week: unknown name 'jan'");
}

TEST(CronTest, DayOfWeekSevenIsSunday) {
  // 2024-01-07 is a Sunday.
  EXPECT_THAT(Runs("0 0 * * 7", "2024-01-01T00:00:00Z", 2),
              ElementsAre("2024-01-07T00:00", "2024-01-14T00:00"));
  EXPECT_THAT(
      Runs("0 0 * * 5-7", "2024-01-01T00:00:00Z", 4),
      ElementsAre("2024-01-05T00:00", "2024-01-06T00:00", "2024-01-07T00:00", "2024-01-12T00:00"));
  EXPECT_THAT(Runs("0 0 * * 0", "2024-01-01T00:00:00Z", 1), ElementsAre("2024-01-07T00:00"));
}

TEST(CronTest, MacrosEqualTheirExpansion) {
  const std::vector<std::pair<std::string, std::string>> macros = {
      {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"}, {"@DAILY", "0 0 * * *"}};
  for (const auto& [macro, fields] : macros) {
    EXPECT_EQ(Runs(macro, "2023-12-30T05:17:00Z", 6), Runs(fields, "2023-12-30T05:17:00Z", 6))
        << macro;
    EXPECT_EQ(Cron(macro).expression(), macro);
  }
  EXPECT_THAT(Runs("@weekly", "2024-01-01T00:00:00Z", 1), ElementsAre("2024-01-07T00:00"));
}

TEST(CronTest, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // The 13th or any Friday; 2024-09-06 is a Friday and 2024-10-13 a Sunday.
  EXPECT_THAT(
      Runs("0 0 13 * fri", "2024-09-01T00:00:00Z", 7),
      ElementsAre("2024-09-06T00:00", "2024-09-13T00:00", "2024-09-20T00:00", "2024-09-27T00:00",
                  "2024-10-04T00:00", "2024-10-11T00:00", "2024-10-13T00:00"));
  // A field starting with '*' does not count as restricted, so both must match:
  // odd days that are Fridays.
  EXPECT_THAT(Runs("0 0 */2 * fri", "2024-09-01T00:00:00Z", 3),
              ElementsAre("2024-09-13T00:00", "2024-09-27T00:00", "2024-10-11T00:00"));
  EXPECT_THAT(
      Runs("0 0 1-3 * *", "2024-09-01T00:00:00Z", 4),
      ElementsAre("2024-09-02T00:00", "2024-09-03T00:00", "2024-10-01T00:00", "2024-10-02T00:00"));
  EXPECT_THAT(Runs("0 0 * * */3", "2024-09-01T00:00:00Z", 3),  // Sun, Wed, Sat
              ElementsAre("2024-09-04T00:00", "2024-09-07T00:00", "2024-09-08T00:00"));
}

TEST(CronTest, NextCrossesMonthYearAndLeapDay) {
  EXPECT_THAT(Runs("0 0 29 2 *", "2025-01-01T00:00:00Z", 2),
              ElementsAre("2028-02-29T00:00", "2032-02-29T00:00"));
  // 2100 is not a leap year: from 2096 the next 29 February is eight years away.
  EXPECT_THAT(Runs("0 0 29 2 *", "2096-03-01T00:00:00Z", 1), ElementsAre("2104-02-29T00:00"));
  EXPECT_THAT(Runs("0 0 31 * *", "2024-04-01T00:00:00Z", 3),
              ElementsAre("2024-05-31T00:00", "2024-07-31T00:00", "2024-08-31T00:00"));
  EXPECT_THAT(Runs("59 23 31 12 *", "2024-12-31T23:59:00Z", 1), ElementsAre("2025-12-31T23:59"));
  EXPECT_THAT(Runs("0 0 1 1 *", "2024-12-31T23:59:30Z", 1), ElementsAre("2025-01-01T00:00"));
  EXPECT_THAT(Runs("* * * * *", "2024-02-28T23:59:00Z", 2),
              ElementsAre("2024-02-29T00:00", "2024-02-29T00:01"));
  EXPECT_THAT(Runs("0 0 1 3 *", "2024-02-28T12:00:00Z", 1), ElementsAre("2024-03-01T00:00"));
  EXPECT_THAT(Runs("0 0 1 1 *", "1969-06-01T12:34:00Z", 1), ElementsAre("1970-01-01T00:00"));
  EXPECT_THAT(Runs("15 * * * *", "1969-12-31T23:20:00Z", 1), ElementsAre("1970-01-01T00:15"));
}

TEST(CronTest, NextIsStrictlyAfterAndIgnoresSeconds) {
  const CronSchedule every_half_hour = Cron("*/30 * * * *");
  EXPECT_EQ(every_half_hour.Next(T("2024-01-01T10:30:00Z")), T("2024-01-01T11:00:00Z"));
  EXPECT_EQ(every_half_hour.Next(T("2024-01-01T10:29:59.999999999Z")), T("2024-01-01T10:30:00Z"));
  EXPECT_EQ(every_half_hour.Next(T("2024-01-01T10:30:45Z")), T("2024-01-01T11:00:00Z"));
  EXPECT_TRUE(every_half_hour.Matches(T("2024-01-01T10:30:00Z")));
  EXPECT_TRUE(every_half_hour.Matches(T("2024-01-01T10:30:59.999Z")));
  EXPECT_FALSE(every_half_hour.Matches(T("2024-01-01T10:31:00Z")));
  EXPECT_FALSE(every_half_hour.Matches(T("2024-01-01T10:29:59.999Z")));
}

TEST(CronTest, ErrorsNameTheField) {
  EXPECT_EQ(ParseErrorOf("0 25 * * *"), "cron \"0 25 * * *\": hour: 25 is out of range 0-23");
  EXPECT_EQ(ParseErrorOf("60 * * * *"), "cron \"60 * * * *\": minute: 60 is out of range 0-59");
  EXPECT_THAT(ParseErrorOf("0 0 0 * *"), HasSubstr("day-of-month: 0 is out of range 1-31"));
  EXPECT_THAT(ParseErrorOf("0 0 32 * *"), HasSubstr("day-of-month: 32 is out of range 1-31"));
  EXPECT_THAT(ParseErrorOf("0 0 * 13 *"), HasSubstr("month: 13 is out of range 1-12"));
  EXPECT_THAT(ParseErrorOf("0 0 * * 8"), HasSubstr("day-of-week: 8 is out of range 0-7"));
  EXPECT_THAT(ParseErrorOf("99999999999 * * * *"), HasSubstr("minute: 99999999999 is out of"));
  EXPECT_THAT(ParseErrorOf("* * * *"),
              HasSubstr("expected 5 fields (minute hour day-of-month month day-of-week), got 4"));
  EXPECT_THAT(ParseErrorOf("* * * * * *"), HasSubstr("got 6"));
  EXPECT_THAT(ParseErrorOf(""), HasSubstr("got 0"));
  EXPECT_THAT(ParseErrorOf("@reboot"), HasSubstr("cron \"@reboot\": unknown macro '@reboot'"));
  EXPECT_THAT(ParseErrorOf("@daily 5"), HasSubstr("expected 5 fields"));
  EXPECT_EQ(ParseErrorOf("0 0 * foo *"), "cron \"0 0 * foo *\": month: unknown name 'foo'");
  EXPECT_THAT(ParseErrorOf("x * * * *"), HasSubstr("minute: 'x' is not a number"));
  EXPECT_THAT(ParseErrorOf("0 mon * * *"), HasSubstr("hour: 'mon' is not a number"));
  EXPECT_EQ(ParseErrorOf("0 0 * * 5-1"), "cron \"0 0 * * 5-1\": day-of-week: reversed range '5-1'");
  EXPECT_THAT(ParseErrorOf("0 0 * dec-jan *"), HasSubstr("month: reversed range 'dec-jan'"));
  EXPECT_EQ(ParseErrorOf("*/0 * * * *"), "cron \"*/0 * * * *\": minute: zero step in '*/0'");
  EXPECT_THAT(ParseErrorOf("0 1-5/0 * * *"), HasSubstr("hour: zero step in '1-5/0'"));
  EXPECT_THAT(ParseErrorOf("*/x * * * *"), HasSubstr("minute: step 'x' in '*/x' is not a number"));
  EXPECT_THAT(ParseErrorOf("*/ * * * *"), HasSubstr("minute: step '' in '*/'"));
  EXPECT_EQ(ParseErrorOf("0 0 1,,2 * *"), "cron \"0 0 1,,2 * *\": day-of-month: empty list item");
  EXPECT_THAT(ParseErrorOf("0 0 1, * *"), HasSubstr("day-of-month: empty list item"));
  EXPECT_THAT(ParseErrorOf("0 0 * * ,1"), HasSubstr("day-of-week: empty list item"));
  EXPECT_THAT(ParseErrorOf("1- * * * *"), HasSubstr("minute: missing a value in '1-'"));
  EXPECT_THAT(ParseErrorOf("-1 * * * *"), HasSubstr("minute: missing a value in '-1'"));
  EXPECT_THAT(ParseErrorOf("1-2-3 * * * *"), HasSubstr("minute: '2-3' is not a number"));
}

TEST(CronTest, ImpossibleDateNeverComes) {
  EXPECT_EQ(Cron("0 0 30 2 *").Next(T("2024-01-01T00:00:00Z")), Timestamp::Max());
  EXPECT_EQ(Cron("0 0 31 4,6,9,11 *").Next(T("2024-01-01T00:00:00Z")), Timestamp::Max());
  // Restricting day-of-week as well makes the day an OR, so it does come.
  EXPECT_EQ(Cron("0 0 30 2 mon").Next(T("2024-01-01T00:00:00Z")), T("2024-02-05T00:00:00Z"));
}

TEST(CronTest, NextNearTheEndsOfTime) {
  const CronSchedule every_minute = Cron("* * * * *");
  EXPECT_EQ(every_minute.Next(Timestamp::Max()), Timestamp::Max());
  const Timestamp last_minute(Timestamp::Max().nanos() / kNanosPerMinute * kNanosPerMinute);
  EXPECT_EQ(every_minute.Next(last_minute - 1), last_minute);
  EXPECT_EQ(every_minute.Next(last_minute), Timestamp::Max());
  const Timestamp first = every_minute.Next(Timestamp::Min());
  EXPECT_GT(first, Timestamp::Min());
  EXPECT_LE(first - Timestamp::Min(), kNanosPerMinute);
  EXPECT_EQ(first.nanos() % kNanosPerMinute, 0);
  // The last representable minute of 2262 passes; a yearly run after it would overflow.
  EXPECT_EQ(Cron("@yearly").Next(T("2262-01-01T00:00:00Z")), Timestamp::Max());
}

// Random cron fields that are valid and, mostly, match often enough for a brute-force scan.
std::string RandomField(Rng& rng, int min, int max, double star_probability) {
  if (rng.Uniform() < star_probability) {
    return rng.Uniform() < 0.5 ? "*" : "*/" + std::to_string(rng.UniformInt(1, max - min + 1));
  }
  const int items = static_cast<int>(rng.UniformInt(1, 3));
  std::string field;
  for (int item = 0; item < items; ++item) {
    const int64_t a = rng.UniformInt(min, max);
    const int64_t b = rng.UniformInt(a, max);
    const int64_t step = rng.UniformInt(1, 7);
    const std::string one = std::to_string(a);
    const std::string range = one + "-" + std::to_string(b);
    const std::vector<std::string> forms = {one, range, range + "/" + std::to_string(step),
                                            one + "/" + std::to_string(step)};
    field += (item == 0 ? "" : ",") + forms[rng.UniformInt(0, forms.size() - 1)];
  }
  return field;
}

TEST(CronTest, NextAgreesWithAMinuteByMinuteScan) {
  constexpr int kCases = 300;
  constexpr int64_t kScanMinutes = 40 * 24 * 60;
  const Timestamp earliest = T("1995-01-01T00:00:00Z");
  const Timestamp latest = T("2110-01-01T00:00:00Z");
  Rng rng(20240229);
  for (int case_idx = 0; case_idx < kCases; ++case_idx) {
    const std::string expression = RandomField(rng, 0, 59, 0.2) + " " +
                                   RandomField(rng, 0, 23, 0.4) + " " +
                                   RandomField(rng, 1, 31, 0.5) + " " +
                                   RandomField(rng, 1, 12, 0.7) + " " + RandomField(rng, 0, 7, 0.5);
    Result<CronSchedule> cron = CronSchedule::Parse(expression);
    ASSERT_TRUE(cron.ok()) << cron.status().ToString();
    const Timestamp after(rng.UniformInt(earliest.nanos(), latest.nanos()));
    const Timestamp next = cron->Next(after);

    Timestamp scanned = Timestamp::Max();
    const Timestamp first_minute((after.nanos() / kNanosPerMinute + 1) * kNanosPerMinute);
    for (int64_t minute = 0; minute < kScanMinutes; ++minute) {
      const Timestamp t = first_minute + minute * kNanosPerMinute;
      if (cron->Matches(t)) {
        scanned = t;
        break;
      }
    }
    const std::string context = "\"" + expression + "\" after " + after.ToIso();
    if (scanned != Timestamp::Max()) {
      EXPECT_EQ(next, scanned) << context << ": next " << next.ToIso() << ", scan "
                               << scanned.ToIso();
    } else {
      EXPECT_GE(next, first_minute + kScanMinutes * kNanosPerMinute) << context;
      EXPECT_TRUE(next == Timestamp::Max() || cron->Matches(next)) << context;
    }
    EXPECT_TRUE(next == Timestamp::Max() || next.nanos() % kNanosPerMinute == 0) << context;
  }
}

}  // namespace
}  // namespace vigil
