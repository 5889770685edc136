#include "vigil/core/timestamp.h"

#include <gtest/gtest.h>

namespace vigil {
namespace {

// 2024-01-29T19:55:35Z = 1706558135 s (the Chainlink BTC/USD example in the data notes).
constexpr int64_t kExampleSeconds = 1706558135;

TEST(TimestampTest, ParsesIsoForms) {
  EXPECT_EQ(Timestamp::Parse("2024-01-29T19:55:35Z")->seconds(), kExampleSeconds);
  EXPECT_EQ(Timestamp::Parse("2024-01-29 19:55:35")->seconds(), kExampleSeconds);
  EXPECT_EQ(Timestamp::Parse("2024-01-29T21:55:35+02:00")->seconds(), kExampleSeconds);
  EXPECT_EQ(Timestamp::Parse("2024-01-29T19:55:35.123456789Z")->nanos(),
            kExampleSeconds * kNanosPerSecond + 123456789);
  EXPECT_EQ(Timestamp::Parse("2023-02-02 09:20:00.138000+00:00")->nanos(),
            Timestamp::FromMillis(1675329600138).nanos());
  EXPECT_EQ(Timestamp::Parse("1970-01-01")->nanos(), 0);
  EXPECT_EQ(Timestamp::Parse("1995-01-03")->seconds(), 789091200);
}

TEST(TimestampTest, ParsesEpochUnitsByMagnitudeOrExplicitly) {
  EXPECT_EQ(Timestamp::Parse("1706558135")->seconds(), kExampleSeconds);
  EXPECT_EQ(Timestamp::Parse("1706558135000")->seconds(), kExampleSeconds);
  EXPECT_EQ(Timestamp::Parse("1706558135000000")->seconds(), kExampleSeconds);
  EXPECT_EQ(Timestamp::Parse("1706558135000000000")->seconds(), kExampleSeconds);
  EXPECT_EQ(Timestamp::Parse("1762795433.9717445")->nanos(), 1762795433971744512);
  EXPECT_EQ(Timestamp::Parse("5", TimeUnit::kMilliseconds)->nanos(), 5 * kNanosPerMilli);
}

TEST(TimestampTest, RejectsGarbageWithQuotedText) {
  auto bad = Timestamp::Parse("2024-13-01");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("2024-13-01"), std::string::npos);
  EXPECT_FALSE(Timestamp::Parse("").ok());
  EXPECT_FALSE(Timestamp::Parse("yesterday").ok());
  EXPECT_FALSE(Timestamp::Parse("2024-01-29T25:00:00").ok());
  EXPECT_FALSE(Timestamp::Parse("2024-01-29T10:00:00Zjunk").ok());
  EXPECT_FALSE(Timestamp::Parse("99999999999999999999999").ok());
}

TEST(TimestampTest, PrintsIsoWithMillisecondsOrFinerWhenNeeded) {
  EXPECT_EQ(Timestamp::FromSeconds(kExampleSeconds).ToIso(), "2024-01-29T19:55:35.000Z");
  EXPECT_EQ(Timestamp(kExampleSeconds * kNanosPerSecond + 1500).ToIso(),
            "2024-01-29T19:55:35.000001500Z");
  EXPECT_EQ(Timestamp(-1).ToIso(), "1969-12-31T23:59:59.999999999Z");
}

TEST(TimestampTest, IsoRoundTripsOverManyDates) {
  // int64 nanoseconds span 1677-09-21 to 2262-04-11, about +/-106,751 days.
  for (int64_t day = -106000; day < 106000; day += 97) {
    Timestamp t(day * kNanosPerDay + 12345 * kNanosPerMilli);
    auto back = Timestamp::ParseIso(t.ToIso());
    ASSERT_TRUE(back.ok()) << t.ToIso();
    EXPECT_EQ(back->nanos(), t.nanos());
  }
}

TEST(DurationTest, ParsesAndFormatsTimeframes) {
  EXPECT_EQ(*ParseDuration("1m"), kNanosPerMinute);
  EXPECT_EQ(*ParseDuration("5m"), 5 * kNanosPerMinute);
  EXPECT_EQ(*ParseDuration("8h"), 8 * kNanosPerHour);
  EXPECT_EQ(*ParseDuration("1d"), kNanosPerDay);
  EXPECT_FALSE(ParseDuration("m").ok());
  EXPECT_FALSE(ParseDuration("0m").ok());
  EXPECT_FALSE(ParseDuration("5x").ok());
  EXPECT_EQ(FormatDuration(30 * kNanosPerMinute), "30m");
  EXPECT_EQ(FormatDuration(kNanosPerHour), "1h");
  EXPECT_EQ(FormatDuration(kNanosPerDay), "1d");
}

TEST(CivilDateTest, MatchesKnownEpochDays) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  int64_t year = 0;
  unsigned month = 0, day = 0;
  CivilFromDays(19751, &year, &month, &day);  // 2024-01-29
  EXPECT_EQ(year, 2024);
  EXPECT_EQ(month, 1u);
  EXPECT_EQ(day, 29u);
}

}  // namespace
}  // namespace vigil
