#include "vigil/features/resample.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "features/ta_test_util.h"
#include "vigil/core/timestamp.h"

namespace vigil {
namespace {

using testing_util::SharedCandles;

constexpr int64_t kMinute = kNanosPerMinute;
constexpr int64_t kFive = 5 * kNanosPerMinute;
// 2024-01-01T00:00:00Z, a UTC midnight.
const int64_t kT0 = DaysFromCivil(2024, 1, 1) * kNanosPerDay;

Bar MinuteBar(int minute, double open, double high, double low, double close, double volume) {
  return Bar{kT0 + minute * kMinute, open, high, low, close, volume};
}

// Bucket 00:00 complete (minutes 0-4); bucket 00:05 has minutes 5, 6 only (7-9 missing);
// bucket 00:10 has minutes 12-14 (10, 11 missing) and ends on its last minute; bucket
// 00:15 has minutes 15, 16 when the data ends (partial).
std::vector<Bar> HandBars() {
  return {
      MinuteBar(0, 10, 11, 9, 10.5, 1),     MinuteBar(1, 10.5, 12, 10, 11, 2),
      MinuteBar(2, 11, 11.5, 8, 9, 3),      MinuteBar(3, 9, 10, 8.5, 9.5, 4),
      MinuteBar(4, 9.5, 10, 9, 9.8, 5),     MinuteBar(5, 20, 21, 19, 20.5, 1),
      MinuteBar(6, 20.5, 22, 20, 21, 1),    MinuteBar(12, 30, 31, 29, 30.5, 2),
      MinuteBar(13, 30.5, 30.6, 28, 29, 2), MinuteBar(14, 29, 33, 29, 32, 2),
      MinuteBar(15, 40, 41, 39, 40, 7),     MinuteBar(16, 40, 42, 38, 41, 1),
  };
}

void ExpectClosedBar(const ClosedBar& actual, int64_t start, double open, double high, double low,
                     double close, double volume, int source_bars, int64_t step = kFive) {
  EXPECT_EQ(actual.bar.ts, start);
  EXPECT_EQ(actual.close_ts, start + step);
  EXPECT_EQ(actual.bar.open, open);
  EXPECT_EQ(actual.bar.high, high);
  EXPECT_EQ(actual.bar.low, low);
  EXPECT_EQ(actual.bar.close, close);
  EXPECT_EQ(actual.bar.volume, volume);
  EXPECT_EQ(actual.source_bars, source_bars);
}

bool SameClosedBar(const ClosedBar& a, const ClosedBar& b) {
  return a.bar.ts == b.bar.ts && a.close_ts == b.close_ts && a.bar.open == b.bar.open &&
         a.bar.high == b.bar.high && a.bar.low == b.bar.low && a.bar.close == b.bar.close &&
         a.bar.volume == b.bar.volume && a.source_bars == b.source_bars;
}

BarResampler MakeResampler(int64_t source, int64_t target) {
  auto resampler = BarResampler::Create(source, target);
  EXPECT_TRUE(resampler.ok()) << resampler.status().ToString();
  return *resampler;
}

TEST(BarResamplerTest, CreateRejectsStepsThatAreNotPositiveMultiples) {
  EXPECT_FALSE(BarResampler::Create(kMinute, 90 * kNanosPerSecond).ok());
  EXPECT_FALSE(BarResampler::Create(kFive, kMinute).ok());
  EXPECT_FALSE(BarResampler::Create(0, kFive).ok());
  EXPECT_FALSE(BarResampler::Create(kMinute, -kFive).ok());
  EXPECT_TRUE(BarResampler::Create(kMinute, kMinute).ok());
  EXPECT_TRUE(BarResampler::Create(kMinute, kNanosPerDay).ok());
  EXPECT_FALSE(ResampleBars(HandBars(), kMinute, 7 * kNanosPerSecond, true).ok());
}

TEST(BarResamplerTest, HandBarsToFiveMinutesWithGapAndPartialLastBucket) {
  auto bars = ResampleBars(HandBars(), kMinute, kFive, /*include_partial_last=*/true);
  ASSERT_TRUE(bars.ok());
  ASSERT_EQ(bars->size(), 4u);
  // open = first open, high = max, low = min, close = last close, volume = sum.
  ExpectClosedBar((*bars)[0], kT0, 10, 12, 8, 9.8, 15, 5);
  ExpectClosedBar((*bars)[1], kT0 + kFive, 20, 22, 19, 21, 2, 2);      // 7-9 missing
  ExpectClosedBar((*bars)[2], kT0 + 2 * kFive, 30, 33, 28, 32, 6, 3);  // 10-11 missing
  ExpectClosedBar((*bars)[3], kT0 + 3 * kFive, 40, 42, 38, 41, 8, 2);  // partial

  auto final_only = ResampleBars(HandBars(), kMinute, kFive, /*include_partial_last=*/false);
  ASSERT_TRUE(final_only.ok());
  ASSERT_EQ(final_only->size(), 3u);
  EXPECT_TRUE(SameClosedBar((*final_only)[2], (*bars)[2]));
}

TEST(BarResamplerTest, StreamingEmitsOnTheLastMinuteNeverEarlier) {
  BarResampler resampler = MakeResampler(kMinute, kFive);
  const std::vector<Bar> bars = HandBars();
  // minute -> start of the bucket that must be emitted on that minute's update.
  const std::map<int, int64_t> expected_emissions = {
      {4, kT0},                // its own last minute
      {12, kT0 + kFive},       // minute 12 is the first proof that 00:05 is over (gap)
      {14, kT0 + 2 * kFive}};  // its own last minute, despite the missing 10, 11
  for (const Bar& bar : bars) {
    const int minute = static_cast<int>((bar.ts - kT0) / kMinute);
    std::vector<ClosedBar> closed = resampler.Update(bar);
    auto expected = expected_emissions.find(minute);
    if (expected == expected_emissions.end()) {
      EXPECT_TRUE(closed.empty()) << "emitted early on minute " << minute;
    } else {
      ASSERT_EQ(closed.size(), 1u) << "minute " << minute;
      EXPECT_EQ(closed[0].bar.ts, expected->second);
    }
  }
  std::optional<ClosedBar> partial = resampler.Flush();
  ASSERT_TRUE(partial.has_value());
  EXPECT_EQ(partial->bar.ts, kT0 + 3 * kFive);
  EXPECT_FALSE(resampler.Flush().has_value());  // Flush forgets the bucket
}

TEST(BarResamplerTest, GapBarThatEndsItsOwnBucketEmitsTwoBars) {
  BarResampler resampler = MakeResampler(kMinute, kFive);
  EXPECT_TRUE(resampler.Update(MinuteBar(0, 1, 2, 0.5, 1.5, 3)).empty());
  // Minute 9 closes bucket 00:00 (minutes 1-4 missing) and is the last minute of 00:05.
  std::vector<ClosedBar> closed = resampler.Update(MinuteBar(9, 5, 6, 4, 5.5, 7));
  ASSERT_EQ(closed.size(), 2u);
  ExpectClosedBar(closed[0], kT0, 1, 2, 0.5, 1.5, 3, 1);
  ExpectClosedBar(closed[1], kT0 + kFive, 5, 6, 4, 5.5, 7, 1);
  EXPECT_FALSE(resampler.Flush().has_value());
}

TEST(BarResamplerTest, DailyBucketsAreUtcDays) {
  // 23:58 and 23:59 of 2024-01-01, then 00:00-00:02 of 2024-01-02 (UTC).
  const int64_t day = kNanosPerDay;
  std::vector<Bar> bars;
  for (int minute = 24 * 60 - 2; minute < 24 * 60 + 3; ++minute) {
    bars.push_back(MinuteBar(minute, minute, minute + 1, minute - 1, minute + 0.5, 1));
  }
  BarResampler resampler = MakeResampler(kMinute, day);
  EXPECT_TRUE(resampler.Update(bars[0]).empty());
  std::vector<ClosedBar> closed = resampler.Update(bars[1]);  // 23:59 ends the UTC day
  ASSERT_EQ(closed.size(), 1u);
  ExpectClosedBar(closed[0], kT0, 1438, 1440, 1437, 1439.5, 2, 2, day);
  for (size_t i = 2; i < bars.size(); ++i) EXPECT_TRUE(resampler.Update(bars[i]).empty());
  std::optional<ClosedBar> partial = resampler.Flush();
  ASSERT_TRUE(partial.has_value());
  ExpectClosedBar(*partial, kT0 + day, 1440, 1443, 1439, 1442.5, 3, 3, day);
}

const std::vector<int64_t>& Timeframes() {
  static const std::vector<int64_t> kTimeframes = {5 * kMinute, 15 * kMinute, kNanosPerHour,
                                                   4 * kNanosPerHour, kNanosPerDay};
  return kTimeframes;
}

TEST(BarResamplerTest, RealDataEpochAlignedAndEmittedExactlyAtClose) {
  const std::vector<Bar> minutes = SharedCandles("candles/XRP_ETH-1m.csv");
  ASSERT_GT(minutes.size(), 2000u);
  for (int64_t target : Timeframes()) {
    SCOPED_TRACE(FormatDuration(target));
    BarResampler resampler = MakeResampler(kMinute, target);
    for (size_t i = 0; i < minutes.size(); ++i) {
      for (const ClosedBar& closed : resampler.Update(minutes[i])) {
        EXPECT_EQ(closed.bar.ts % target, 0);
        EXPECT_EQ(closed.close_ts, closed.bar.ts + target);
        const int64_t last_minute = closed.close_ts - kMinute;
        if (minutes[i].ts == last_minute) continue;  // emitted on its own last minute
        // Otherwise the last minute is missing and this is the first bar after the bucket.
        EXPECT_GE(minutes[i].ts, closed.close_ts);
        ASSERT_GT(i, 0u);
        EXPECT_LT(minutes[i - 1].ts, last_minute);
      }
    }
  }
}

TEST(BarResamplerTest, BatchEqualsStreaming) {
  const std::vector<Bar> minutes = SharedCandles("candles/XRP_ETH-1m.csv");
  ASSERT_FALSE(minutes.empty());
  for (int64_t target : Timeframes()) {
    SCOPED_TRACE(FormatDuration(target));
    BarResampler resampler = MakeResampler(kMinute, target);
    std::vector<ClosedBar> streamed;
    for (const Bar& bar : minutes) {
      for (const ClosedBar& closed : resampler.Update(bar)) streamed.push_back(closed);
    }
    if (auto partial = resampler.Flush()) streamed.push_back(*partial);
    auto batch = ResampleBars(minutes, kMinute, target, true);
    ASSERT_TRUE(batch.ok());
    ASSERT_EQ(batch->size(), streamed.size());
    for (size_t i = 0; i < streamed.size(); ++i) {
      EXPECT_TRUE(SameClosedBar((*batch)[i], streamed[i])) << "bar " << i;
    }
  }
}

// The exchange's own 5m file must agree with our 1m -> 5m aggregation. Where a bucket
// has all five 1m bars the aggregates are fully determined and must match exactly. Where
// 1m bars are missing (676 minutes in this file) the two can differ in general: a minute
// absent from the 1m file because of a feed gap may still have traded, and then the
// exchange's 5m bar includes trades we never saw (another open, extreme or volume). On
// this exchange a missing minute means "no trades", so those buckets agree as well; we
// check them too, but separately, so a failure says which kind of bucket broke.
TEST(BarResamplerTest, RealOneMinuteToFiveMinutesMatchesExchangeFiveMinuteFile) {
  const std::vector<Bar> minutes = SharedCandles("candles/XRP_ETH-1m.csv");
  const std::vector<Bar> exchange = SharedCandles("candles/XRP_ETH-5m.csv");
  ASSERT_FALSE(minutes.empty());
  ASSERT_FALSE(exchange.empty());
  auto ours = ResampleBars(minutes, kMinute, kFive, /*include_partial_last=*/false);
  ASSERT_TRUE(ours.ok());
  std::map<int64_t, Bar> exchange_by_ts;
  for (const Bar& bar : exchange) exchange_by_ts[bar.ts] = bar;

  int complete = 0;
  int incomplete_differing = 0;
  for (const ClosedBar& closed : *ours) {
    auto it = exchange_by_ts.find(closed.bar.ts);
    ASSERT_NE(it, exchange_by_ts.end()) << "no exchange bar at " << closed.bar.ts;
    const Bar& want = it->second;
    const bool same = closed.bar.open == want.open && closed.bar.high == want.high &&
                      closed.bar.low == want.low && closed.bar.close == want.close &&
                      closed.bar.volume == want.volume;
    if (closed.source_bars == 5) {
      ++complete;
      EXPECT_TRUE(same) << "complete bucket " << Timestamp(closed.bar.ts).ToIso();
    } else if (!same) {
      ++incomplete_differing;
    }
  }
  EXPECT_GT(complete, 100);
  EXPECT_EQ(incomplete_differing, 0);
  // Every exchange bar is one of ours: the exchange emits no bar for a 5m window without
  // trades, and neither do we (no 1m bars, no bucket).
  EXPECT_EQ(ours->size(), exchange.size());
}

TEST(BarResamplerTest, TruncatingTheInputNeverChangesAnEmittedBar) {
  const std::vector<Bar> minutes = SharedCandles("candles/XRP_ETH-1m.csv");
  ASSERT_FALSE(minutes.empty());
  std::mt19937_64 rng(20240101);
  std::uniform_int_distribution<size_t> cut_at(1, minutes.size() - 1);
  for (int64_t target : Timeframes()) {
    SCOPED_TRACE(FormatDuration(target));
    auto full = ResampleBars(minutes, kMinute, target, false);
    ASSERT_TRUE(full.ok());
    for (int cut = 0; cut < 20; ++cut) {
      const size_t keep = cut_at(rng);
      std::span<const Bar> prefix(minutes.data(), keep);
      auto truncated = ResampleBars(prefix, kMinute, target, false);
      ASSERT_TRUE(truncated.ok());
      // Bars final on the prefix are a prefix of the full run's bars, unchanged.
      ASSERT_LE(truncated->size(), full->size());
      for (size_t i = 0; i < truncated->size(); ++i) {
        EXPECT_TRUE(SameClosedBar((*truncated)[i], (*full)[i])) << "cut " << keep << " bar " << i;
      }
      // And nothing final was held back: the next full bar needs data beyond the cut.
      if (truncated->size() < full->size()) {
        const ClosedBar& next = (*full)[truncated->size()];
        EXPECT_GT(next.close_ts, prefix.back().ts + kMinute) << "cut " << keep;
      }
    }
  }
}

}  // namespace
}  // namespace vigil
