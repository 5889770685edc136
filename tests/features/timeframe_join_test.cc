#include "vigil/features/timeframe_join.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "features/ta_test_util.h"
#include "vigil/core/timestamp.h"
#include "vigil/features/resample.h"
#include "vigil/features/ta.h"

namespace vigil {
namespace {

using testing_util::SharedCandles;

constexpr int64_t kMinute = kNanosPerMinute;
constexpr int64_t kFive = 5 * kNanosPerMinute;
constexpr int64_t kHour = kNanosPerHour;
const int64_t kT0 = DaysFromCivil(2024, 1, 1) * kNanosPerDay;

int64_t At(int hour, int minute) { return kT0 + hour * kHour + minute * kMinute; }

// Four full hours of 1m bars; every minute of hour h closes at 100 + 10 h, so the hourly
// closes are 100, 110, 120, 130 and SMA(3) of them is NaN, NaN, 110, 120.
std::vector<Bar> FourHoursOfMinutes() {
  std::vector<Bar> bars;
  for (int hour = 0; hour < 4; ++hour) {
    const double close = 100 + 10 * hour;
    for (int minute = 0; minute < 60; ++minute) {
      bars.push_back(Bar{At(hour, minute), close, close, close, close, 1});
    }
  }
  return bars;
}

std::vector<std::unique_ptr<FeatureKernel>> Kernels() {
  std::vector<std::unique_ptr<FeatureKernel>> kernels;
  kernels.push_back(MakeSma(3));
  kernels.push_back(MakeSma(1));  // the hourly close itself
  return kernels;
}

TEST(AsOfJoinClosedTest, HourlySmaBecomesVisibleOnTheFiveMinuteBarThatClosesTheHour) {
  const std::vector<Bar> minutes = FourHoursOfMinutes();
  auto hourly = ResampleBars(minutes, kMinute, kHour, false);
  auto five = ResampleBars(minutes, kMinute, kFive, false);
  ASSERT_TRUE(hourly.ok());
  ASSERT_TRUE(five.ok());
  ASSERT_EQ(hourly->size(), 4u);
  ASSERT_EQ(five->size(), 48u);
  Frame features = ComputeOverBars(Kernels(), BarsOf(*hourly));
  std::vector<int64_t> base_ts;
  for (const ClosedBar& bar : *five) base_ts.push_back(bar.bar.ts);

  auto joined = AsOfJoinClosed(base_ts, kFive, features, CloseTimesOf(*hourly), "_1h");
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  ASSERT_EQ(joined->rows(), 48);
  std::span<const double> sma = joined->Doubles("sma_3_1h");
  std::span<const double> close = joined->Doubles("sma_1_1h");
  ASSERT_EQ(sma.size(), 48u);
  ASSERT_EQ(close.size(), 48u);
  auto row = [&](int hour, int minute) { return static_cast<size_t>((hour * 60 + minute) / 5); };

  // 00:50 closes at 00:55: no hour has closed yet.
  EXPECT_TRUE(std::isnan(close[row(0, 50)]));
  // 00:55 closes at 01:00, exactly when hour 0 closes: its close (100) is visible.
  EXPECT_EQ(close[row(0, 55)], 100);
  EXPECT_EQ(close[row(1, 50)], 100);  // hour 1 (close 110) not final until 02:00
  EXPECT_EQ(close[row(1, 55)], 110);
  // SMA(3) needs hours 0-2; hour 2 closes at 03:00, so it appears on the 02:55 bar.
  EXPECT_TRUE(std::isnan(sma[row(2, 50)]));
  EXPECT_EQ(sma[row(2, 55)], 110);  // (100 + 110 + 120) / 3
  EXPECT_EQ(sma[row(3, 0)], 110);
  EXPECT_EQ(sma[row(3, 50)], 110);
  EXPECT_EQ(sma[row(3, 55)], 120);  // (110 + 120 + 130) / 3, hour 3 closes at 04:00
  EXPECT_EQ(joined->timestamps()[row(2, 55)], At(2, 55));
}

TEST(AsOfJoinClosedTest, RejectsInputsItCannotJoin) {
  Frame higher({{"x", ColumnType::kDouble}});
  higher.AppendRow(At(0, 0), std::vector<double>{1.0});
  higher.AppendRow(At(1, 0), std::vector<double>{2.0});
  const std::vector<int64_t> base = {At(0, 0)};
  const std::vector<int64_t> one_close = {At(1, 0)};
  const std::vector<int64_t> unsorted = {At(2, 0), At(1, 0)};
  const std::vector<int64_t> sorted = {At(1, 0), At(2, 0)};
  EXPECT_FALSE(AsOfJoinClosed(base, kFive, higher, one_close).ok());
  EXPECT_FALSE(AsOfJoinClosed(base, kFive, higher, unsorted).ok());
  EXPECT_FALSE(AsOfJoinClosed(base, 0, higher, sorted).ok());
  EXPECT_TRUE(AsOfJoinClosed(base, kFive, higher, sorted).ok());
  Frame ints({{"n", ColumnType::kInt64}});
  ints.AppendRow(At(0, 0), {}, std::vector<int64_t>{1});
  EXPECT_FALSE(AsOfJoinClosed(base, kFive, ints, one_close).ok());
}

// On real data, tag every hourly row with its own close time (in minutes, exact as a
// double) and check that each 5m row received the newest hour closed by its own close,
// never one closing later.
TEST(AsOfJoinClosedTest, RealDataNeverUsesAHigherBarClosingAfterTheBaseBar) {
  const std::vector<Bar> minutes = SharedCandles("candles/XRP_ETH-1m.csv");
  const std::vector<Bar> five = SharedCandles("candles/XRP_ETH-5m.csv");
  ASSERT_FALSE(minutes.empty());
  ASSERT_FALSE(five.empty());
  auto hourly = ResampleBars(minutes, kMinute, kHour, true);
  ASSERT_TRUE(hourly.ok());
  const std::vector<int64_t> close_ts = CloseTimesOf(*hourly);
  Frame higher = ComputeOverBars(Kernels(), BarsOf(*hourly));
  Frame tagged({{"close_minute", ColumnType::kDouble}, {"sma_3", ColumnType::kDouble}});
  for (size_t i = 0; i < close_ts.size(); ++i) {
    const double tag = static_cast<double>(close_ts[i] / kMinute);
    tagged.AppendRow(higher.timestamps()[i], std::vector<double>{tag, higher.Doubles("sma_3")[i]});
  }
  std::vector<int64_t> base_ts;
  for (const Bar& bar : five) base_ts.push_back(bar.ts);

  auto joined = AsOfJoinClosed(base_ts, kFive, tagged, close_ts);
  ASSERT_TRUE(joined.ok());
  std::span<const double> tag = joined->Doubles("close_minute");
  std::span<const double> sma = joined->Doubles("sma_3");
  int visible = 0;
  for (size_t row = 0; row < base_ts.size(); ++row) {
    const int64_t base_close = base_ts[row] + kFive;
    // The expected row by a plain scan, independent of the binary search.
    int64_t want = -1;
    for (size_t h = 0; h < close_ts.size(); ++h) {
      if (close_ts[h] <= base_close) want = static_cast<int64_t>(h);
    }
    if (want < 0) {
      EXPECT_TRUE(std::isnan(tag[row])) << "row " << row;
      continue;
    }
    ++visible;
    const int64_t used_close = static_cast<int64_t>(tag[row]) * kMinute;
    EXPECT_LE(used_close, base_close) << "row " << row << " sees the future";
    EXPECT_EQ(used_close, close_ts[want]) << "row " << row << " sees a stale hour";
    const double want_sma = higher.Doubles("sma_3")[want];
    if (std::isnan(want_sma)) {
      EXPECT_TRUE(std::isnan(sma[row]));
    } else {
      EXPECT_EQ(sma[row], want_sma);
    }
  }
  EXPECT_GT(visible, 600);
}

}  // namespace
}  // namespace vigil
