#include "vigil/models/splitters.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <span>
#include <vector>

namespace vigil {
namespace {

using Rows = std::vector<int64_t>;

Rows Range(int64_t begin, int64_t end) {
  Rows rows;
  for (int64_t row = begin; row < end; ++row) rows.push_back(row);
  return rows;
}

Rows Iota(int64_t n) { return Range(0, n); }

void ExpectFold(const Fold& fold, const Rows& train, const Rows& test) {
  EXPECT_EQ(fold.train, train);
  EXPECT_EQ(fold.test, test);
}

// The closed span [min start, max end] of a fold's test rows.
std::pair<int64_t, int64_t> TestSpan(const LabelWindows& windows, const Rows& test) {
  int64_t lo = windows.start_ts[test.front()];
  int64_t hi = windows.end_ts[test.front()];
  for (int64_t row : test) {
    lo = std::min(lo, windows.start_ts[row]);
    hi = std::max(hi, windows.end_ts[row]);
  }
  return {lo, hi};
}

bool Overlaps(const LabelWindows& windows, int64_t row, std::pair<int64_t, int64_t> span) {
  return windows.start_ts[row] <= span.second && windows.end_ts[row] >= span.first;
}

int64_t CountOverlapping(const LabelWindows& windows, const Fold& fold) {
  const auto span = TestSpan(windows, fold.test);
  return std::count_if(fold.train.begin(), fold.train.end(),
                       [&](int64_t row) { return Overlaps(windows, row, span); });
}

void ExpectSortedDisjoint(const Fold& fold) {
  EXPECT_TRUE(std::is_sorted(fold.train.begin(), fold.train.end()));
  EXPECT_TRUE(std::is_sorted(fold.test.begin(), fold.test.end()));
  Rows both;
  std::set_intersection(fold.train.begin(), fold.train.end(), fold.test.begin(), fold.test.end(),
                        std::back_inserter(both));
  EXPECT_TRUE(both.empty());
}

// Non-decreasing timestamps with ties and irregular gaps.
Rows RandomTimestamps(std::mt19937_64& rng, int64_t n) {
  std::uniform_int_distribution<int64_t> step(0, 3);
  Rows ts(n);
  int64_t t = 1'700'000'000'000'000'000;
  for (int64_t row = 0; row < n; ++row) {
    t += step(rng) * 1'000;
    ts[row] = t;
  }
  return ts;
}

// Random windows: forward-looking by bars, by time, or arbitrary (non-monotone ends).
LabelWindows RandomWindows(std::mt19937_64& rng, const Rows& ts) {
  const int kind = std::uniform_int_distribution<int>(0, 2)(rng);
  if (kind == 0) {
    return *LabelWindows::FromHorizonBars(ts, std::uniform_int_distribution<int64_t>(0, 12)(rng));
  }
  if (kind == 1) {
    return *LabelWindows::FromHorizonTime(
        ts, std::uniform_int_distribution<int64_t>(0, 20)(rng) * 1'000);
  }
  LabelWindows windows;
  windows.start_ts = ts;
  for (int64_t t : ts) {
    windows.end_ts.push_back(t + std::uniform_int_distribution<int64_t>(0, 30'000)(rng));
  }
  return windows;
}

// ---------------------------------------------------------------------------------------
// LabelWindows
// ---------------------------------------------------------------------------------------

TEST(SplittersLabelWindows, FromHorizonBarsClampsAndFlagsTheTail) {
  const Rows ts = {0, 10, 20, 30, 40};
  auto windows = LabelWindows::FromHorizonBars(ts, 2);
  ASSERT_TRUE(windows.ok()) << windows.status().ToString();
  EXPECT_EQ(windows->start_ts, ts);
  EXPECT_EQ(windows->end_ts, (Rows{20, 30, 40, 40, 40}));
  EXPECT_EQ(windows->complete, (std::vector<bool>{true, true, true, false, false}));
  EXPECT_TRUE(windows->Validate().ok());

  auto zero = LabelWindows::FromHorizonBars(ts, 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->end_ts, ts);
  EXPECT_EQ(zero->complete, std::vector<bool>(5, true));
}

TEST(SplittersLabelWindows, FromHorizonTimeUsesTheLastRowWithinTheHorizon) {
  const Rows ts = {0, 10, 10, 25, 40, 45};
  auto windows = LabelWindows::FromHorizonTime(ts, 15);
  ASSERT_TRUE(windows.ok()) << windows.status().ToString();
  EXPECT_EQ(windows->end_ts, (Rows{10, 25, 25, 40, 45, 45}));
  // complete iff ts + 15 <= 45
  EXPECT_EQ(windows->complete, (std::vector<bool>{true, true, true, true, false, false}));
}

TEST(SplittersLabelWindows, RejectsBadInput) {
  EXPECT_EQ(LabelWindows::FromHorizonBars(Rows{0, 10, 5}, 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(LabelWindows::FromHorizonTime(Rows{0, 10, 5}, 1).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(LabelWindows::FromHorizonBars(Rows{0, 1}, -1).ok());
  EXPECT_FALSE(LabelWindows::FromHorizonTime(Rows{0, 1}, -1).ok());

  LabelWindows end_before_start{{0, 10, 20}, {5, 9, 30}, {}};
  Status status = end_before_start.Validate();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("row 1"), std::string::npos) << status.message();

  EXPECT_FALSE((LabelWindows{{0, 10}, {0}, {}}).Validate().ok());
  EXPECT_FALSE((LabelWindows{{0, 10}, {0, 10}, {true}}).Validate().ok());
  EXPECT_FALSE((LabelWindows{{10, 0}, {10, 0}, {}}).Validate().ok());
}

TEST(SplittersLabelWindows, RemoveIncompleteLabelRows) {
  auto windows = LabelWindows::FromHorizonBars(Iota(6), 2);  // rows 4, 5 incomplete
  ASSERT_TRUE(windows.ok());
  std::vector<Fold> folds = {{{0, 1, 4}, {2, 3, 5}}};
  RemoveIncompleteLabelRows(*windows, folds);
  ExpectFold(folds[0], {0, 1}, {2, 3});
}

// ---------------------------------------------------------------------------------------
// Walk-forward: hand-computed folds
// ---------------------------------------------------------------------------------------

TEST(SplittersWalkForward, Expanding) {
  WalkForwardOptions options;
  options.train_size = 4;
  options.test_size = 2;
  auto folds = WalkForwardSplit(options, 10);
  ASSERT_TRUE(folds.ok()) << folds.status().ToString();
  ASSERT_EQ(folds->size(), 3u);
  ExpectFold((*folds)[0], Range(0, 4), {4, 5});
  ExpectFold((*folds)[1], Range(0, 6), {6, 7});
  ExpectFold((*folds)[2], Range(0, 8), {8, 9});
}

TEST(SplittersWalkForward, SlidingDropsThePartialLastFold) {
  WalkForwardOptions options;
  options.mode = WindowMode::kSliding;
  options.train_size = 3;
  options.test_size = 2;
  auto folds = WalkForwardSplit(options, 10);
  ASSERT_TRUE(folds.ok());
  ASSERT_EQ(folds->size(), 3u);  // a fourth would test rows 9, 10
  ExpectFold((*folds)[0], {0, 1, 2}, {3, 4});
  ExpectFold((*folds)[1], {2, 3, 4}, {5, 6});
  ExpectFold((*folds)[2], {4, 5, 6}, {7, 8});
}

TEST(SplittersWalkForward, Step) {
  WalkForwardOptions options;
  options.train_size = 4;
  options.test_size = 2;
  options.step = 3;
  auto folds = WalkForwardSplit(options, 10);
  ASSERT_TRUE(folds.ok());
  ASSERT_EQ(folds->size(), 2u);
  ExpectFold((*folds)[0], Range(0, 4), {4, 5});
  ExpectFold((*folds)[1], Range(0, 7), {7, 8});
}

TEST(SplittersWalkForward, StepSmallerThanTestOverlapsTests) {
  WalkForwardOptions options;
  options.mode = WindowMode::kSliding;
  options.train_size = 2;
  options.test_size = 2;
  options.step = 1;
  auto folds = WalkForwardSplit(options, 6);
  ASSERT_TRUE(folds.ok());
  ASSERT_EQ(folds->size(), 3u);
  ExpectFold((*folds)[0], {0, 1}, {2, 3});
  ExpectFold((*folds)[1], {1, 2}, {3, 4});
  ExpectFold((*folds)[2], {2, 3}, {4, 5});
}

TEST(SplittersWalkForward, Gap) {
  WalkForwardOptions options;
  options.mode = WindowMode::kSliding;
  options.train_size = 3;
  options.test_size = 2;
  options.gap = 1;
  auto folds = WalkForwardSplit(options, 10);
  ASSERT_TRUE(folds.ok());
  ASSERT_EQ(folds->size(), 3u);
  ExpectFold((*folds)[0], {0, 1, 2}, {4, 5});
  ExpectFold((*folds)[1], {2, 3, 4}, {6, 7});
  ExpectFold((*folds)[2], {4, 5, 6}, {8, 9});
}

TEST(SplittersWalkForward, MaxFoldsKeepsTheEarliest) {
  WalkForwardOptions options;
  options.train_size = 4;
  options.test_size = 2;
  options.max_folds = 2;
  auto folds = WalkForwardSplit(options, 10);
  ASSERT_TRUE(folds.ok());
  ASSERT_EQ(folds->size(), 2u);
  ExpectFold((*folds)[0], Range(0, 4), {4, 5});
  ExpectFold((*folds)[1], Range(0, 6), {6, 7});
}

TEST(SplittersWalkForward, PurgesTrainingLabelsThatReachTheTest) {
  // ts = 10 * row; the label of row i reads up to row i + 2.
  Rows ts;
  for (int64_t row = 0; row < 10; ++row) ts.push_back(10 * row);
  auto windows = LabelWindows::FromHorizonBars(ts, 2);
  ASSERT_TRUE(windows.ok());
  WalkForwardOptions options;
  options.train_size = 4;
  options.test_size = 2;
  auto folds = WalkForwardSplit(options, *windows);
  ASSERT_TRUE(folds.ok()) << folds.status().ToString();
  ASSERT_EQ(folds->size(), 3u);
  // Fold 0 tests rows 4, 5 (ts 40): rows 2 and 3 read ts 40 and 50.
  ExpectFold((*folds)[0], {0, 1}, {4, 5});
  EXPECT_EQ((*folds)[0].purged, 2);
  ExpectFold((*folds)[1], {0, 1, 2, 3}, {6, 7});
  ExpectFold((*folds)[2], Range(0, 6), {8, 9});

  // A gap as long as the horizon makes purging unnecessary.
  options.gap = 2;
  options.train_size = 2;
  folds = WalkForwardSplit(options, *windows);
  ASSERT_TRUE(folds.ok());
  ExpectFold((*folds)[0], {0, 1}, {4, 5});
  EXPECT_EQ((*folds)[0].purged, 0);
}

TEST(SplittersWalkForward, FailsWhenPurgingEmptiesTheTrainingSet) {
  auto windows = LabelWindows::FromHorizonBars(Iota(10), 3);
  ASSERT_TRUE(windows.ok());
  WalkForwardOptions options;
  options.mode = WindowMode::kSliding;
  options.train_size = 2;
  options.test_size = 2;
  auto folds = WalkForwardSplit(options, *windows);
  EXPECT_EQ(folds.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(folds.status().message().find("fold 0"), std::string::npos);
}

TEST(SplittersWalkForward, RejectsInvalidOptions) {
  WalkForwardOptions good;
  good.train_size = 4;
  good.test_size = 2;
  ASSERT_TRUE(WalkForwardSplit(good, 6).ok());
  EXPECT_FALSE(WalkForwardSplit(good, 5).ok());  // 4 + 2 > 5
  EXPECT_FALSE(WalkForwardSplit(good, -1).ok());

  auto expect_invalid = [](WalkForwardOptions options, const char* field) {
    Status status = options.Validate();
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << field;
    EXPECT_NE(status.message().find(field), std::string::npos) << status.message();
    EXPECT_FALSE(WalkForwardSplit(options, 100).ok());
  };
  WalkForwardOptions options = good;
  options.train_size = 0;
  expect_invalid(options, "train_size");
  options = good;
  options.test_size = 0;
  expect_invalid(options, "test_size");
  options = good;
  options.step = -1;
  expect_invalid(options, "step");
  options = good;
  options.gap = -1;
  expect_invalid(options, "gap");
  options = good;
  options.max_folds = -1;
  expect_invalid(options, "max_folds");

  options = good;
  options.gap = 1;
  EXPECT_FALSE(WalkForwardSplit(options, 6).ok());  // 4 + 1 + 2 > 6
  options = good;
  options.train_size = std::numeric_limits<int64_t>::max();
  EXPECT_FALSE(WalkForwardSplit(options, 6).ok());  // no overflow

  LabelWindows bad{{0, 10, 20, 30, 40, 50}, {0, 10, 20, 30, 40, 45}, {}};
  bad.end_ts[2] = 15;
  EXPECT_FALSE(WalkForwardSplit(good, bad).ok());
  bad.end_ts[2] = 20;
  bad.start_ts[3] = 5;
  bad.end_ts[3] = 5;
  EXPECT_FALSE(WalkForwardSplit(good, bad).ok());  // start_ts decreases
}

// ---------------------------------------------------------------------------------------
// Walk-forward: properties over random configurations
// ---------------------------------------------------------------------------------------

TEST(SplittersWalkForward, PropertiesOverRandomConfigurations) {
  std::mt19937_64 rng(20240611);
  int checked_folds = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const int64_t n = std::uniform_int_distribution<int64_t>(2, 200)(rng);
    WalkForwardOptions options;
    options.mode = trial % 2 == 0 ? WindowMode::kExpanding : WindowMode::kSliding;
    options.train_size = std::uniform_int_distribution<int64_t>(1, n / 2 + 1)(rng);
    options.test_size = std::uniform_int_distribution<int64_t>(1, n / 4 + 1)(rng);
    options.step = std::uniform_int_distribution<int64_t>(0, n / 4 + 1)(rng);
    options.gap = std::uniform_int_distribution<int64_t>(0, 5)(rng);
    options.max_folds = std::uniform_int_distribution<int64_t>(0, 4)(rng);
    const bool fits = options.train_size + options.gap + options.test_size <= n;
    auto folds = WalkForwardSplit(options, n);
    ASSERT_EQ(folds.ok(), fits) << "trial " << trial;
    if (!fits) continue;

    // How many whole test folds fit, capped.
    const int64_t step = options.effective_step();
    int64_t expected = (n - options.train_size - options.gap - options.test_size) / step + 1;
    if (options.max_folds > 0) expected = std::min(expected, options.max_folds);
    ASSERT_EQ(static_cast<int64_t>(folds->size()), expected) << "trial " << trial;

    const Rows ts = RandomTimestamps(rng, n);
    const LabelWindows windows = RandomWindows(rng, ts);
    auto purged = WalkForwardSplit(options, windows);

    for (size_t fold_idx = 0; fold_idx < folds->size(); ++fold_idx) {
      const Fold& fold = (*folds)[fold_idx];
      ExpectSortedDisjoint(fold);
      ASSERT_FALSE(fold.train.empty());
      ASSERT_EQ(static_cast<int64_t>(fold.test.size()), options.test_size);
      EXPECT_LT(fold.train.back(), fold.test.front());  // every test index > every train index
      EXPECT_EQ(fold.test.front() - fold.train.back() - 1, options.gap);
      if (options.mode == WindowMode::kSliding) {
        EXPECT_EQ(static_cast<int64_t>(fold.train.size()), options.train_size);
      } else {
        EXPECT_EQ(fold.train.front(), 0);
      }
      if (fold_idx > 0 && step >= options.test_size) {
        EXPECT_GT(fold.test.front(), (*folds)[fold_idx - 1].test.back());
      }
      ++checked_folds;
    }

    // With windows: exactly the overlapping training rows are dropped, or the call fails
    // because a fold lost all of them.
    bool some_fold_emptied = false;
    for (const Fold& fold : *folds) {
      Fold kept = fold;
      const auto span = TestSpan(windows, fold.test);
      std::erase_if(kept.train, [&](int64_t row) { return Overlaps(windows, row, span); });
      some_fold_emptied |= kept.train.empty();
    }
    ASSERT_EQ(purged.ok(), !some_fold_emptied) << "trial " << trial;
    if (!purged.ok()) continue;
    ASSERT_EQ(purged->size(), folds->size());
    for (size_t fold_idx = 0; fold_idx < folds->size(); ++fold_idx) {
      const Fold& plain = (*folds)[fold_idx];
      const Fold& fold = (*purged)[fold_idx];
      ExpectSortedDisjoint(fold);
      EXPECT_EQ(fold.test, plain.test);
      EXPECT_EQ(CountOverlapping(windows, fold), 0) << "trial " << trial;
      EXPECT_EQ(fold.purged, CountOverlapping(windows, plain));
      EXPECT_EQ(static_cast<int64_t>(fold.train.size()) + fold.purged,
                static_cast<int64_t>(plain.train.size()));
      EXPECT_TRUE(std::includes(plain.train.begin(), plain.train.end(), fold.train.begin(),
                                fold.train.end()));
    }
  }
  EXPECT_GT(checked_folds, 500);
}

// The reason purging exists: with horizon-h labels an unpurged walk-forward trains on labels
// that read the test period.
TEST(SplittersWalkForward, HorizonLabelsOverlapTheTestUnlessPurged) {
  constexpr int64_t kHorizon = 5;
  auto windows = LabelWindows::FromHorizonBars(Iota(120), kHorizon);
  ASSERT_TRUE(windows.ok());
  WalkForwardOptions options;
  options.train_size = 40;
  options.test_size = 20;

  auto plain = WalkForwardSplit(options, windows->size());
  ASSERT_TRUE(plain.ok());
  int64_t leaking = 0;
  for (const Fold& fold : *plain) leaking += CountOverlapping(*windows, fold);
  EXPECT_EQ(leaking, kHorizon * static_cast<int64_t>(plain->size()));

  auto purged = WalkForwardSplit(options, *windows);
  ASSERT_TRUE(purged.ok());
  for (const Fold& fold : *purged) {
    EXPECT_EQ(CountOverlapping(*windows, fold), 0);
    EXPECT_EQ(fold.purged, kHorizon);
  }
}

// ---------------------------------------------------------------------------------------
// Walk-forward by time
// ---------------------------------------------------------------------------------------

TEST(SplittersWalkForwardTime, MatchesRowsOnARegularGrid) {
  constexpr int64_t kMinute = 60'000'000'000;
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t n = std::uniform_int_distribution<int64_t>(2, 120)(rng);
    // One timestamp more than rows: a time window is whole only once the data reaches its
    // end, so the time split needs the bar after the last test row to be present.
    Rows ts;
    for (int64_t row = 0; row <= n; ++row) ts.push_back(1'700'000'000'000'000'000 + row * kMinute);
    WalkForwardOptions rows;
    rows.mode = trial % 2 == 0 ? WindowMode::kExpanding : WindowMode::kSliding;
    rows.train_size = std::uniform_int_distribution<int64_t>(1, n / 2 + 1)(rng);
    rows.test_size = std::uniform_int_distribution<int64_t>(1, n / 4 + 1)(rng);
    rows.step = std::uniform_int_distribution<int64_t>(0, 5)(rng);
    rows.gap = std::uniform_int_distribution<int64_t>(0, 3)(rng);
    rows.max_folds = std::uniform_int_distribution<int64_t>(0, 3)(rng);
    WalkForwardTimeOptions time;
    time.mode = rows.mode;
    time.train_ns = rows.train_size * kMinute;
    time.test_ns = rows.test_size * kMinute;
    time.step_ns = rows.step * kMinute;
    time.gap_ns = rows.gap * kMinute;
    time.max_folds = rows.max_folds;

    auto by_rows = WalkForwardSplit(rows, n);
    auto by_time = WalkForwardTimeSplit(time, ts);
    ASSERT_EQ(by_rows.ok(), by_time.ok()) << "trial " << trial;
    if (!by_rows.ok()) continue;
    ASSERT_EQ(by_rows->size(), by_time->size()) << "trial " << trial;
    for (size_t fold_idx = 0; fold_idx < by_rows->size(); ++fold_idx) {
      EXPECT_EQ((*by_time)[fold_idx].train, (*by_rows)[fold_idx].train);
      EXPECT_EQ((*by_time)[fold_idx].test, (*by_rows)[fold_idx].test);
    }

    auto windows = LabelWindows::FromHorizonBars(std::span(ts).first(n), 3);
    auto time_windows = LabelWindows::FromHorizonBars(ts, 3);
    ASSERT_TRUE(windows.ok() && time_windows.ok());
    auto purged_rows = WalkForwardSplit(rows, *windows);
    auto purged_time = WalkForwardTimeSplit(time, *time_windows);
    ASSERT_EQ(purged_rows.ok(), purged_time.ok());
    if (!purged_rows.ok()) continue;
    for (size_t fold_idx = 0; fold_idx < purged_rows->size(); ++fold_idx) {
      EXPECT_EQ((*purged_time)[fold_idx].train, (*purged_rows)[fold_idx].train);
      EXPECT_EQ((*purged_time)[fold_idx].purged, (*purged_rows)[fold_idx].purged);
    }
  }
}

TEST(SplittersWalkForwardTime, SkipsTestWindowsInADataGap) {
  const Rows ts = {0, 1, 2, 3, 4, 5, 20, 21, 22, 23};
  WalkForwardTimeOptions options;
  options.train_ns = 4;
  options.test_ns = 2;
  auto folds = WalkForwardTimeSplit(options, ts);
  ASSERT_TRUE(folds.ok()) << folds.status().ToString();
  ASSERT_EQ(folds->size(), 3u);
  ExpectFold((*folds)[0], {0, 1, 2, 3}, {4, 5});
  ExpectFold((*folds)[1], Range(0, 6), {6, 7});  // test window [20, 22)
  ExpectFold((*folds)[2], Range(0, 8), {8, 9});

  options.mode = WindowMode::kSliding;  // fold 1 would train on [16, 20): no rows
  EXPECT_EQ(WalkForwardTimeSplit(options, ts).status().code(), StatusCode::kInvalidArgument);
}

TEST(SplittersWalkForwardTime, RejectsInvalidInput) {
  const Rows ts = Iota(10);
  WalkForwardTimeOptions good;
  good.train_ns = 4;
  good.test_ns = 2;
  ASSERT_TRUE(WalkForwardTimeSplit(good, ts).ok());
  WalkForwardTimeOptions options = good;
  options.train_ns = 0;
  EXPECT_FALSE(WalkForwardTimeSplit(options, ts).ok());
  options = good;
  options.test_ns = -1;
  EXPECT_FALSE(WalkForwardTimeSplit(options, ts).ok());
  options = good;
  options.step_ns = -1;
  EXPECT_FALSE(WalkForwardTimeSplit(options, ts).ok());
  options = good;
  options.gap_ns = -1;
  EXPECT_FALSE(WalkForwardTimeSplit(options, ts).ok());
  options = good;
  options.train_ns = 9;  // 9 + 2 > the 10 ns the data spans
  EXPECT_FALSE(WalkForwardTimeSplit(options, ts).ok());
  options.train_ns = std::numeric_limits<int64_t>::max();
  EXPECT_FALSE(WalkForwardTimeSplit(options, ts).ok());
  EXPECT_FALSE(WalkForwardTimeSplit(good, Rows{}).ok());
  EXPECT_FALSE(WalkForwardTimeSplit(good, Rows{0, 1, 2, 1, 4, 5, 6, 7, 8, 9}).ok());
}

// ---------------------------------------------------------------------------------------
// Purged k-fold
// ---------------------------------------------------------------------------------------

TEST(SplittersPurgedKFold, HandComputedWithEmbargo) {
  // ts = row; each label reads the next row. Folds [0, 4), [4, 7), [7, 10).
  auto windows = LabelWindows::FromHorizonBars(Iota(10), 1);
  ASSERT_TRUE(windows.ok());
  PurgedKFoldOptions options;
  options.k = 3;
  options.embargo_rows = 2;
  auto folds = PurgedKFoldSplit(options, *windows);
  ASSERT_TRUE(folds.ok()) << folds.status().ToString();
  ASSERT_EQ(folds->size(), 3u);
  // Fold 0: span [0, 4]; row 4 starts at 4 (purged); rows 5, 6 embargoed.
  ExpectFold((*folds)[0], {7, 8, 9}, {0, 1, 2, 3});
  EXPECT_EQ((*folds)[0].purged, 1);
  EXPECT_EQ((*folds)[0].embargoed, 2);
  // Fold 1: span [4, 7]; row 3 ends at 4 and row 7 starts at 7 (purged); rows 8, 9 embargoed.
  ExpectFold((*folds)[1], {0, 1, 2}, {4, 5, 6});
  EXPECT_EQ((*folds)[1].purged, 2);
  EXPECT_EQ((*folds)[1].embargoed, 2);
  // Fold 2: span [7, 9]; row 6 ends at 7 (purged); nothing after the fold to embargo.
  ExpectFold((*folds)[2], Range(0, 6), {7, 8, 9});
  EXPECT_EQ((*folds)[2].purged, 1);
  EXPECT_EQ((*folds)[2].embargoed, 0);
}

TEST(SplittersPurgedKFold, EmbargoFractionFloorsAndZeroHorizonIsPlainKFold) {
  LabelWindows windows{Iota(10), Iota(10), {}};
  PurgedKFoldOptions options;
  options.k = 5;
  options.embargo_fraction = 0.15;  // floor(1.5) = 1 row
  EXPECT_EQ(options.EmbargoRows(10), 1);
  auto folds = PurgedKFoldSplit(options, windows);
  ASSERT_TRUE(folds.ok());
  ExpectFold((*folds)[0], Range(3, 10), {0, 1});
  ExpectFold((*folds)[2], {0, 1, 2, 3, 7, 8, 9}, {4, 5});
  ExpectFold((*folds)[4], Range(0, 8), {8, 9});

  options.embargo_fraction = 0.0;
  folds = PurgedKFoldSplit(options, windows);
  ASSERT_TRUE(folds.ok());
  ExpectFold((*folds)[2], {0, 1, 2, 3, 6, 7, 8, 9}, {4, 5});
  EXPECT_EQ((*folds)[2].purged, 0);
}

TEST(SplittersPurgedKFold, RejectsInvalidInput) {
  auto windows = LabelWindows::FromHorizonBars(Iota(10), 1);
  ASSERT_TRUE(windows.ok());
  PurgedKFoldOptions options;
  options.k = 1;
  EXPECT_EQ(PurgedKFoldSplit(options, *windows).status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(options.Validate().message().find("k must be >= 2"), std::string::npos);
  options.k = 11;
  EXPECT_FALSE(PurgedKFoldSplit(options, *windows).ok());
  options.k = 10;
  EXPECT_TRUE(PurgedKFoldSplit(options, *windows).ok());
  options.k = 2;
  options.embargo_fraction = 1.0;
  EXPECT_FALSE(PurgedKFoldSplit(options, *windows).ok());
  options.embargo_fraction = -0.1;
  EXPECT_FALSE(PurgedKFoldSplit(options, *windows).ok());
  options.embargo_fraction = std::nan("");
  EXPECT_FALSE(PurgedKFoldSplit(options, *windows).ok());
  options.embargo_fraction = 0.1;
  options.embargo_rows = 1;
  EXPECT_FALSE(PurgedKFoldSplit(options, *windows).ok());  // both embargo fields
  options.embargo_fraction = 0.0;
  options.embargo_rows = -1;
  EXPECT_FALSE(PurgedKFoldSplit(options, *windows).ok());

  options.embargo_rows = 0;
  LabelWindows end_before_start = *windows;
  end_before_start.end_ts[3] = 2;
  EXPECT_FALSE(PurgedKFoldSplit(options, end_before_start).ok());
  LabelWindows unsorted = *windows;
  unsorted.start_ts[5] = 3;
  EXPECT_FALSE(PurgedKFoldSplit(options, unsorted).ok());

  // Every label reads to the end: no fold keeps a training row.
  LabelWindows everything{Iota(10), Rows(10, 9), {}};
  EXPECT_FALSE(PurgedKFoldSplit(options, everything).ok());
}

TEST(SplittersPurgedKFold, PropertiesOverRandomConfigurations) {
  std::mt19937_64 rng(1234567);
  int checked_folds = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const int64_t n = std::uniform_int_distribution<int64_t>(2, 250)(rng);
    const Rows ts = RandomTimestamps(rng, n);
    const LabelWindows windows = RandomWindows(rng, ts);
    PurgedKFoldOptions options;
    options.k = std::uniform_int_distribution<int64_t>(2, std::min<int64_t>(n, 10))(rng);
    if (trial % 2 == 0) {
      options.embargo_rows = std::uniform_int_distribution<int64_t>(0, 6)(rng);
    } else {
      options.embargo_fraction = std::uniform_real_distribution<double>(0.0, 0.05)(rng);
    }
    const int64_t embargo = options.EmbargoRows(n);
    auto folds = PurgedKFoldSplit(options, windows);
    if (!folds.ok()) {
      EXPECT_NE(folds.status().message().find("removed every training row"), std::string::npos)
          << folds.status().ToString();
      continue;
    }
    ASSERT_EQ(static_cast<int64_t>(folds->size()), options.k);

    std::vector<int> times_tested(n, 0);
    for (const Fold& fold : *folds) {
      ExpectSortedDisjoint(fold);
      ASSERT_FALSE(fold.test.empty());
      EXPECT_EQ(fold.test, Range(fold.test.front(), fold.test.back() + 1));  // contiguous
      const int64_t size = static_cast<int64_t>(fold.test.size());
      EXPECT_TRUE(size == n / options.k || size == n / options.k + 1);
      for (int64_t row : fold.test) ++times_tested[row];

      EXPECT_EQ(CountOverlapping(windows, fold), 0) << "trial " << trial;

      // Brute force from the definition: the first row after the fold that does not
      // overlap, then the embargo after it.
      const auto span = TestSpan(windows, fold.test);
      int64_t first_clear = fold.test.back() + 1;
      while (first_clear < n && Overlaps(windows, first_clear, span)) ++first_clear;
      const std::set<int64_t> train(fold.train.begin(), fold.train.end());
      for (int64_t row = first_clear; row < std::min(n, first_clear + embargo); ++row) {
        EXPECT_EQ(train.count(row), 0u) << "embargoed row " << row << " trial " << trial;
      }
      // Every other row not tested and not overlapping is kept.
      int64_t overlapping = 0;
      for (int64_t row = 0; row < n; ++row) {
        const bool in_test = row >= fold.test.front() && row <= fold.test.back();
        const bool embargoed = row >= first_clear && row < first_clear + embargo;
        const bool overlaps = !in_test && Overlaps(windows, row, span);
        overlapping += overlaps ? 1 : 0;
        EXPECT_EQ(train.count(row) == 1, !in_test && !overlaps && !embargoed)
            << "row " << row << " trial " << trial;
      }
      EXPECT_EQ(fold.purged, overlapping);
      EXPECT_EQ(fold.embargoed, std::min(embargo, n - first_clear));
      ++checked_folds;
    }
    for (int64_t row = 0; row < n; ++row) {
      EXPECT_EQ(times_tested[row], 1) << "row " << row << " trial " << trial;
    }
  }
  EXPECT_GT(checked_folds, 1000);
}

// Without purging, a contiguous k-fold trains on labels that read the test fold; purged
// k-fold trains on none.
TEST(SplittersPurgedKFold, HorizonLabelsOverlapTheTestUnlessPurged) {
  constexpr int64_t kHorizon = 4;
  const Rows ts = Iota(100);
  auto windows = LabelWindows::FromHorizonBars(ts, kHorizon);
  ASSERT_TRUE(windows.ok());
  PurgedKFoldOptions options;
  options.k = 5;

  // Plain k-fold: the same folds computed as if labels did not look forward.
  LabelWindows no_lookahead{ts, ts, {}};
  auto plain = PurgedKFoldSplit(options, no_lookahead);
  ASSERT_TRUE(plain.ok());
  int64_t leaking = 0;
  for (const Fold& fold : *plain) leaking += CountOverlapping(*windows, fold);
  // Each of the k - 1 inner fold boundaries leaks kHorizon training rows on either side: the
  // rows before it whose labels read into the next fold, and the first rows after a fold,
  // which start inside the span that fold's labels read.
  EXPECT_EQ(leaking, 2 * kHorizon * (options.k - 1));

  auto purged = PurgedKFoldSplit(options, *windows);
  ASSERT_TRUE(purged.ok());
  for (const Fold& fold : *purged) EXPECT_EQ(CountOverlapping(*windows, fold), 0);
}

}  // namespace
}  // namespace vigil
