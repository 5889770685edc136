#include "vigil/pipeline/labels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "vigil/core/rng.h"
#include "vigil/core/timestamp.h"

namespace vigil {
namespace {

constexpr int64_t kMinute = kNanosPerMinute;

std::vector<int64_t> Minutes(std::initializer_list<int64_t> minutes) {
  std::vector<int64_t> ts;
  for (int64_t m : minutes) ts.push_back(m * kMinute);
  return ts;
}

TEST(LabelsTest, DirectionByBars) {
  const std::vector<int64_t> ts = Minutes({0, 1, 2, 3, 4});
  const std::vector<double> price = {100, 101, 99, 102, 102};
  LabelOptions options;
  options.horizon_bars = 2;
  auto labels = ComputeLabels(options, ts, price);
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  // 100 -> 99 down, 101 -> 102 up, 99 -> 102 up, then the horizon runs off the data.
  EXPECT_EQ(labels->values[0], 0.0);
  EXPECT_EQ(labels->values[1], 1.0);
  EXPECT_EQ(labels->values[2], 1.0);
  EXPECT_TRUE(std::isnan(labels->values[3]));
  EXPECT_TRUE(std::isnan(labels->values[4]));
  EXPECT_EQ(labels->windows.end_ts[0], 2 * kMinute);
  EXPECT_FALSE(labels->windows.label_complete(3));
  EXPECT_TRUE(labels->windows.label_complete(2));
}

TEST(LabelsTest, DirectionThresholdIsOnTheLogReturn) {
  const std::vector<int64_t> ts = Minutes({0, 1});
  const std::vector<double> price = {100, 101};
  LabelOptions options;
  options.horizon_bars = 1;
  options.threshold = std::log(1.01);  // exactly the move: not above it
  EXPECT_EQ(ComputeLabels(options, ts, price)->values[0], 0.0);
  options.threshold = std::log(1.0099);
  EXPECT_EQ(ComputeLabels(options, ts, price)->values[0], 1.0);
}

TEST(LabelsTest, ForwardReturnByTimeAcrossAGap) {
  // A gap after minute 2: the 5-minute horizon of minute 1 ends on the last row at or
  // before minute 6, which is minute 2.
  const std::vector<int64_t> ts = Minutes({0, 1, 2, 10, 11, 12, 20});
  const std::vector<double> price = {100, 110, 120, 130, 140, 150, 160};
  LabelOptions options;
  options.kind = LabelKind::kForwardReturn;
  options.horizon_ns = 5 * kMinute;
  auto labels = ComputeLabels(options, ts, price);
  ASSERT_TRUE(labels.ok());
  EXPECT_DOUBLE_EQ(labels->values[0], std::log(120.0 / 100.0));
  EXPECT_DOUBLE_EQ(labels->values[1], std::log(120.0 / 110.0));
  EXPECT_DOUBLE_EQ(labels->values[3], std::log(150.0 / 130.0));
  EXPECT_EQ(labels->windows.end_ts[1], 2 * kMinute);
  // Minute 20's horizon (to 25) passes the data's end (20): incomplete, not shortened.
  EXPECT_TRUE(std::isnan(labels->values[6]));
  // Minute 12's horizon (to 17) is inside the data but holds no later row: no move.
  EXPECT_EQ(labels->values[5], 0.0);
}

TEST(LabelsTest, TiesEndOnTheLastRowOfTheStamp) {
  const std::vector<int64_t> ts = Minutes({0, 1, 1, 2});
  const std::vector<double> price = {100, 90, 110, 100};
  LabelOptions options;
  options.kind = LabelKind::kForwardReturn;
  options.horizon_ns = kMinute;
  auto labels = ComputeLabels(options, ts, price);
  ASSERT_TRUE(labels.ok());
  EXPECT_DOUBLE_EQ(labels->values[0], std::log(110.0 / 100.0));
}

TEST(LabelsTest, NonPositivePricesGiveNaN) {
  const std::vector<int64_t> ts = Minutes({0, 1, 2});
  const std::vector<double> price = {0, 1, std::nan("")};
  LabelOptions options;
  options.horizon_bars = 1;
  auto labels = ComputeLabels(options, ts, price);
  ASSERT_TRUE(labels.ok());
  EXPECT_TRUE(std::isnan(labels->values[0]));
  EXPECT_TRUE(std::isnan(labels->values[1]));
}

TEST(LabelsTest, NoneReadsNoFuture) {
  const std::vector<int64_t> ts = Minutes({0, 1, 2});
  LabelOptions options;
  options.kind = LabelKind::kNone;
  auto labels = ComputeLabels(options, ts, std::vector<double>{1, 2, 3});
  ASSERT_TRUE(labels.ok());
  EXPECT_EQ(labels->values, std::vector<double>(3, 0.0));
  EXPECT_EQ(labels->windows.end_ts, ts);
}

// A label never depends on data after its horizon: labels on any prefix of the data equal
// the full-data labels wherever the prefix has them.
TEST(LabelsTest, PointInTimeOnEveryPrefix) {
  Rng rng(5);
  std::vector<int64_t> ts;
  std::vector<double> price;
  int64_t t = 0;
  double p = 100;
  for (int i = 0; i < 400; ++i) {
    t += (1 + rng.UniformInt(0, 2)) * kMinute;  // irregular spacing
    p *= 1 + (rng.UniformInt(0, 200) - 100) * 1e-4;
    ts.push_back(t);
    price.push_back(p);
  }
  for (LabelOptions options : {LabelOptions{LabelKind::kDirection, 7, 0},
                               LabelOptions{LabelKind::kForwardReturn, 0, 9 * kMinute}}) {
    auto full = ComputeLabels(options, ts, price);
    ASSERT_TRUE(full.ok());
    for (size_t n : {1u, 50u, 199u, 333u}) {
      auto prefix = ComputeLabels(options, std::span(ts).first(n), std::span(price).first(n));
      ASSERT_TRUE(prefix.ok());
      for (size_t row = 0; row < n; ++row) {
        if (std::isnan(prefix->values[row])) continue;
        EXPECT_EQ(prefix->values[row], full->values[row]) << "row " << row << " of " << n;
        EXPECT_EQ(prefix->windows.end_ts[row], full->windows.end_ts[row]);
      }
    }
  }
}

TEST(LabelsTest, Errors) {
  const std::vector<int64_t> ts = Minutes({0, 1});
  const std::vector<double> price = {1, 2};
  LabelOptions none_given;
  EXPECT_NE(ComputeLabels(none_given, ts, price).status().message().find("exactly one"),
            std::string::npos);
  LabelOptions both;
  both.horizon_bars = 1;
  both.horizon_ns = kMinute;
  EXPECT_FALSE(ComputeLabels(both, ts, price).ok());
  LabelOptions ok;
  ok.horizon_bars = 1;
  EXPECT_FALSE(ComputeLabels(ok, ts, std::vector<double>{1}).ok());
  EXPECT_FALSE(ComputeLabels(ok, Minutes({1, 0}), price).ok());
  EXPECT_FALSE(ParseLabelKind("up").ok());
  EXPECT_EQ(*ParseLabelKind("forward_return"), LabelKind::kForwardReturn);
}

}  // namespace
}  // namespace vigil
