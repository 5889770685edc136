#include "vigil/core/frame.h"

#include <gtest/gtest.h>

#include <cmath>

namespace vigil {
namespace {

Frame MakeSample() {
  Frame frame({{"close", ColumnType::kDouble},
               {"id", ColumnType::kInt64},
               {"volume", ColumnType::kDouble}});
  for (int64_t i = 0; i < 10; ++i) {
    double doubles[] = {100.0 + static_cast<double>(i), static_cast<double>(i) * 2};
    int64_t ints[] = {1000 + i};
    frame.AppendRow(i * 60, doubles, ints);
  }
  return frame;
}

TEST(FrameTest, StoresColumnsContiguouslyWithZeroCopyViews) {
  Frame frame = MakeSample();
  EXPECT_EQ(frame.rows(), 10);
  auto close = frame.Doubles("close");
  ASSERT_EQ(close.size(), 10u);
  EXPECT_EQ(close[3], 103.0);
  EXPECT_EQ(frame.Int64s("id")[9], 1009);
  // A view aliases the frame's storage: no copy.
  EXPECT_EQ(close.data(), frame.DoublesAt(0).data());
  EXPECT_TRUE(frame.Doubles("id").empty());
  EXPECT_FALSE(frame.DoubleColumn("missing").ok());
  EXPECT_FALSE(frame.DoubleColumn("id").ok());
  EXPECT_TRUE(frame.CheckConsistent().ok());
}

TEST(FrameTest, SliceIsHalfOpenAndZeroCopy) {
  Frame frame = MakeSample();
  FrameView view = frame.Slice(Timestamp(120), Timestamp(300));
  ASSERT_EQ(view.rows(), 3);  // ts 120, 180, 240
  EXPECT_EQ(view.timestamps()[0], 120);
  EXPECT_EQ(view.Doubles("close")[2], 104.0);
  EXPECT_EQ(view.Doubles("close").data(), frame.Doubles("close").data() + 2);
  EXPECT_EQ(frame.Slice(Timestamp(1000), Timestamp(2000)).rows(), 0);
  EXPECT_EQ(view.ToFrame().rows(), 3);
}

TEST(FrameTest, AppendChecksSchema) {
  Frame a = MakeSample();
  Frame b = MakeSample();
  ASSERT_TRUE(a.Append(b).ok());
  EXPECT_EQ(a.rows(), 20);
  Frame other({{"close", ColumnType::kDouble}});
  EXPECT_FALSE(a.Append(other).ok());
}

TEST(FrameTest, FilterSortAndTakeKeepColumnsAligned) {
  Frame frame({{"v", ColumnType::kDouble}, {"k", ColumnType::kInt64}});
  const int64_t ts[] = {30, 10, 20, 10};
  for (int i = 0; i < 4; ++i) {
    double d[] = {static_cast<double>(ts[i]) / 10};
    int64_t k[] = {i};
    frame.AppendRow(ts[i], d, k);
  }
  EXPECT_FALSE(frame.IsSorted());
  frame.SortByTime();
  ASSERT_TRUE(frame.IsSorted());
  // Stable: the two rows at ts=10 keep their order (k=1 then k=3).
  EXPECT_EQ(frame.Int64s("k")[0], 1);
  EXPECT_EQ(frame.Int64s("k")[1], 3);
  for (int64_t row = 0; row < frame.rows(); ++row) {
    EXPECT_EQ(frame.Doubles("v")[row], static_cast<double>(frame.timestamps()[row]) / 10);
  }
  frame.Filter({true, false, true, false});
  EXPECT_EQ(frame.rows(), 2);
  EXPECT_EQ(frame.timestamps()[1], 20);
}

TEST(FrameTest, MissingValuesAreNaN) {
  Frame frame({{"x", ColumnType::kDouble}});
  double d[] = {std::nan("")};
  frame.AppendRow(0, d);
  EXPECT_TRUE(std::isnan(frame.Doubles("x")[0]));
}

}  // namespace
}  // namespace vigil
