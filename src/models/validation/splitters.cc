#include "vigil/models/splitters.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace vigil {
namespace {

// Time arithmetic (ts + horizon, t0 + f * step) is done in 128 bits so that extreme but
// valid int64 inputs cannot overflow.
__extension__ typedef __int128 Wide;  // __extension__: silences -Wpedantic

Status CheckNonDecreasing(std::span<const int64_t> timestamps, std::string_view what) {
  for (size_t row = 1; row < timestamps.size(); ++row) {
    if (timestamps[row] < timestamps[row - 1]) {
      return InvalidArgument(std::string(what) + ": row " + std::to_string(row) + ": timestamp " +
                             std::to_string(timestamps[row]) + " is before the previous row's " +
                             std::to_string(timestamps[row - 1]) + " (must be non-decreasing)");
    }
  }
  return Status::Ok();
}

std::vector<int64_t> Range(int64_t begin, int64_t end) {
  std::vector<int64_t> rows;
  rows.reserve(static_cast<size_t>(std::max<int64_t>(0, end - begin)));
  for (int64_t row = begin; row < end; ++row) rows.push_back(row);
  return rows;
}

// Walk-forward purge: training rows all precede the test fold, so a label window overlaps
// the test span exactly when it reaches the test fold's first timestamp.
Status PurgeBeforeTest(const LabelWindows& windows, int64_t test_first_row, int64_t fold_idx,
                       Fold& fold) {
  const int64_t test_start_ts = windows.start_ts[test_first_row];
  const size_t before = fold.train.size();
  std::erase_if(fold.train, [&](int64_t row) { return windows.end_ts[row] >= test_start_ts; });
  fold.purged = static_cast<int64_t>(before - fold.train.size());
  if (fold.train.empty()) {
    return InvalidArgument("fold " + std::to_string(fold_idx) +
                           ": purging removed every training row (label windows reach the test "
                           "fold); increase the training window or the gap");
  }
  return Status::Ok();
}

}  // namespace

Status LabelWindows::Validate() const {
  if (end_ts.size() != start_ts.size()) {
    return InvalidArgument("LabelWindows: end_ts has " + std::to_string(end_ts.size()) +
                           " rows, start_ts has " + std::to_string(start_ts.size()));
  }
  if (!complete.empty() && complete.size() != start_ts.size()) {
    return InvalidArgument("LabelWindows: complete has " + std::to_string(complete.size()) +
                           " rows, start_ts has " + std::to_string(start_ts.size()));
  }
  VIGIL_RETURN_IF_ERROR(CheckNonDecreasing(start_ts, "LabelWindows.start_ts"));
  for (size_t row = 0; row < start_ts.size(); ++row) {
    if (end_ts[row] < start_ts[row]) {
      return InvalidArgument("LabelWindows: row " + std::to_string(row) + ": end_ts " +
                             std::to_string(end_ts[row]) + " is before start_ts " +
                             std::to_string(start_ts[row]));
    }
  }
  return Status::Ok();
}

Result<LabelWindows> LabelWindows::FromHorizonBars(std::span<const int64_t> timestamps,
                                                   int64_t horizon_bars) {
  if (horizon_bars < 0) {
    return InvalidArgument("FromHorizonBars: horizon_bars must be >= 0, got " +
                           std::to_string(horizon_bars));
  }
  VIGIL_RETURN_IF_ERROR(CheckNonDecreasing(timestamps, "FromHorizonBars: timestamps"));
  const int64_t n = static_cast<int64_t>(timestamps.size());
  LabelWindows windows;
  windows.start_ts.assign(timestamps.begin(), timestamps.end());
  windows.end_ts.resize(n);
  windows.complete.resize(n);
  for (int64_t row = 0; row < n; ++row) {
    const bool complete = horizon_bars <= n - 1 - row;
    windows.end_ts[row] = timestamps[complete ? row + horizon_bars : n - 1];
    windows.complete[row] = complete;
  }
  return windows;
}

Result<LabelWindows> LabelWindows::FromHorizonTime(std::span<const int64_t> timestamps,
                                                   int64_t horizon_ns) {
  if (horizon_ns < 0) {
    return InvalidArgument("FromHorizonTime: horizon_ns must be >= 0, got " +
                           std::to_string(horizon_ns));
  }
  VIGIL_RETURN_IF_ERROR(CheckNonDecreasing(timestamps, "FromHorizonTime: timestamps"));
  const size_t n = timestamps.size();
  LabelWindows windows;
  windows.start_ts.assign(timestamps.begin(), timestamps.end());
  windows.end_ts.resize(n);
  windows.complete.resize(n);
  // The last row read only moves forward as rows advance, so one pointer suffices.
  size_t last_read = 0;
  for (size_t row = 0; row < n; ++row) {
    const Wide limit = static_cast<Wide>(timestamps[row]) + horizon_ns;
    last_read = std::max(last_read, row);
    while (last_read + 1 < n && timestamps[last_read + 1] <= limit) ++last_read;
    windows.end_ts[row] = timestamps[last_read];
    windows.complete[row] = limit <= timestamps[n - 1];
  }
  return windows;
}

void RemoveIncompleteLabelRows(const LabelWindows& windows, std::vector<Fold>& folds) {
  if (windows.complete.empty()) return;
  const auto incomplete = [&](int64_t row) { return !windows.label_complete(row); };
  for (Fold& fold : folds) {
    std::erase_if(fold.train, incomplete);
    std::erase_if(fold.test, incomplete);
  }
}

// ---------------------------------------------------------------------------------------
// Walk-forward
// ---------------------------------------------------------------------------------------

Status WalkForwardOptions::Validate() const {
  if (train_size < 1) return InvalidArgument("WalkForwardOptions.train_size must be >= 1");
  if (test_size < 1) return InvalidArgument("WalkForwardOptions.test_size must be >= 1");
  if (step < 0) return InvalidArgument("WalkForwardOptions.step must be >= 0 (0 = test_size)");
  if (gap < 0) return InvalidArgument("WalkForwardOptions.gap must be >= 0");
  if (max_folds < 0) return InvalidArgument("WalkForwardOptions.max_folds must be >= 0");
  return Status::Ok();
}

Result<std::vector<Fold>> WalkForwardSplit(const WalkForwardOptions& options, int64_t n) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  if (n < 0) return InvalidArgument("WalkForwardSplit: n must be >= 0");
  // Compared in 128 bits: the three sizes are user input and may sum past int64.
  if (static_cast<Wide>(options.train_size) + options.gap + options.test_size > n) {
    return InvalidArgument("WalkForwardSplit: train_size (" + std::to_string(options.train_size) +
                           ") + gap (" + std::to_string(options.gap) + ") + test_size (" +
                           std::to_string(options.test_size) + ") exceeds the " +
                           std::to_string(n) + " rows");
  }
  const int64_t step = options.effective_step();
  std::vector<Fold> folds;
  for (int64_t fold_idx = 0; options.max_folds == 0 || fold_idx < options.max_folds; ++fold_idx) {
    const Wide test_begin = options.train_size + options.gap + static_cast<Wide>(fold_idx) * step;
    if (test_begin + options.test_size > n) break;
    const int64_t s = static_cast<int64_t>(test_begin);
    const int64_t train_end = s - options.gap;
    const int64_t train_begin =
        options.mode == WindowMode::kExpanding ? 0 : train_end - options.train_size;
    folds.push_back(Fold{Range(train_begin, train_end), Range(s, s + options.test_size)});
  }
  return folds;
}

Result<std::vector<Fold>> WalkForwardSplit(const WalkForwardOptions& options,
                                           const LabelWindows& windows) {
  VIGIL_RETURN_IF_ERROR(windows.Validate());
  VIGIL_ASSIGN_OR_RETURN(std::vector<Fold> folds, WalkForwardSplit(options, windows.size()));
  for (size_t fold_idx = 0; fold_idx < folds.size(); ++fold_idx) {
    Fold& fold = folds[fold_idx];
    VIGIL_RETURN_IF_ERROR(
        PurgeBeforeTest(windows, fold.test.front(), static_cast<int64_t>(fold_idx), fold));
  }
  return folds;
}

Status WalkForwardTimeOptions::Validate() const {
  if (train_ns <= 0) return InvalidArgument("WalkForwardTimeOptions.train_ns must be > 0");
  if (test_ns <= 0) return InvalidArgument("WalkForwardTimeOptions.test_ns must be > 0");
  if (step_ns < 0) {
    return InvalidArgument("WalkForwardTimeOptions.step_ns must be >= 0 (0 = test_ns)");
  }
  if (gap_ns < 0) return InvalidArgument("WalkForwardTimeOptions.gap_ns must be >= 0");
  if (max_folds < 0) return InvalidArgument("WalkForwardTimeOptions.max_folds must be >= 0");
  return Status::Ok();
}

namespace {

// First row with timestamp >= t.
int64_t LowerRow(std::span<const int64_t> timestamps, Wide t) {
  return std::partition_point(timestamps.begin(), timestamps.end(),
                              [t](int64_t ts) { return static_cast<Wide>(ts) < t; }) -
         timestamps.begin();
}

Result<std::vector<Fold>> TimeSplit(const WalkForwardTimeOptions& options,
                                    std::span<const int64_t> timestamps,
                                    const LabelWindows* windows) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(CheckNonDecreasing(timestamps, "WalkForwardTimeSplit: timestamps"));
  if (timestamps.empty()) return InvalidArgument("WalkForwardTimeSplit: no rows");
  const Wide t0 = timestamps.front();
  const Wide data_end = static_cast<Wide>(timestamps.back()) + 1;  // exclusive
  const Wide step = options.effective_step();
  const Wide first_test = t0 + options.train_ns + options.gap_ns;
  if (first_test + options.test_ns > data_end) {
    return InvalidArgument(
        "WalkForwardTimeSplit: train_ns + gap_ns + test_ns exceeds the data's time span [" +
        std::to_string(timestamps.front()) + ", " + std::to_string(timestamps.back()) + "]");
  }
  std::vector<Fold> folds;
  for (Wide fold_idx = 0;; ++fold_idx) {
    const Wide test_begin = first_test + fold_idx * step;
    if (test_begin + options.test_ns > data_end) break;
    const int64_t test_lo = LowerRow(timestamps, test_begin);
    const int64_t test_hi = LowerRow(timestamps, test_begin + options.test_ns);
    if (test_lo == test_hi) {
      // A data gap: jump to the first fold whose test window reaches the next row.
      if (test_lo == static_cast<int64_t>(timestamps.size())) break;
      const Wide needed = timestamps[test_lo] - options.test_ns + 1 - first_test;
      const Wide next_idx = (needed + step - 1) / step;
      fold_idx = std::max(fold_idx, next_idx - 1);
      continue;
    }
    const Wide train_end_ts = test_begin - options.gap_ns;
    const Wide train_begin_ts =
        options.mode == WindowMode::kExpanding ? t0 : train_end_ts - options.train_ns;
    Fold fold{Range(LowerRow(timestamps, train_begin_ts), LowerRow(timestamps, train_end_ts)),
              Range(test_lo, test_hi)};
    const int64_t emitted = static_cast<int64_t>(folds.size());
    if (fold.train.empty()) {
      return InvalidArgument("WalkForwardTimeSplit: fold " + std::to_string(emitted) +
                             ": the training window holds no rows (a data gap?)");
    }
    if (windows != nullptr)
      VIGIL_RETURN_IF_ERROR(PurgeBeforeTest(*windows, test_lo, emitted, fold));
    folds.push_back(std::move(fold));
    if (options.max_folds != 0 && static_cast<int64_t>(folds.size()) == options.max_folds) break;
  }
  return folds;
}

}  // namespace

Result<std::vector<Fold>> WalkForwardTimeSplit(const WalkForwardTimeOptions& options,
                                               std::span<const int64_t> timestamps) {
  return TimeSplit(options, timestamps, nullptr);
}

Result<std::vector<Fold>> WalkForwardTimeSplit(const WalkForwardTimeOptions& options,
                                               const LabelWindows& windows) {
  VIGIL_RETURN_IF_ERROR(windows.Validate());
  return TimeSplit(options, windows.start_ts, &windows);
}

// ---------------------------------------------------------------------------------------
// Purged k-fold (López de Prado 2018, ch. 7)
// ---------------------------------------------------------------------------------------

Status PurgedKFoldOptions::Validate() const {
  if (k < 2) return InvalidArgument("PurgedKFoldOptions.k must be >= 2, got " + std::to_string(k));
  if (!(embargo_fraction >= 0.0 && embargo_fraction < 1.0)) {
    return InvalidArgument("PurgedKFoldOptions.embargo_fraction must be in [0, 1)");
  }
  if (embargo_rows < 0) return InvalidArgument("PurgedKFoldOptions.embargo_rows must be >= 0");
  if (embargo_rows > 0 && embargo_fraction > 0.0) {
    return InvalidArgument(
        "PurgedKFoldOptions: set either embargo_fraction or embargo_rows, not both");
  }
  return Status::Ok();
}

int64_t PurgedKFoldOptions::EmbargoRows(int64_t n) const {
  if (embargo_rows > 0) return embargo_rows;
  // floor, as in the book's snippet 7.2 (int(n * pctEmbargo)).
  return static_cast<int64_t>(std::floor(embargo_fraction * static_cast<double>(n)));
}

Result<std::vector<Fold>> PurgedKFoldSplit(const PurgedKFoldOptions& options,
                                           const LabelWindows& windows) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(windows.Validate());
  const int64_t n = windows.size();
  if (options.k > n) {
    return InvalidArgument("PurgedKFoldSplit: k = " + std::to_string(options.k) + " exceeds the " +
                           std::to_string(n) + " rows");
  }
  const int64_t embargo = options.EmbargoRows(n);
  std::vector<Fold> folds;
  folds.reserve(options.k);
  int64_t test_begin = 0;
  for (int64_t fold_idx = 0; fold_idx < options.k; ++fold_idx) {
    const int64_t test_end = test_begin + n / options.k + (fold_idx < n % options.k ? 1 : 0);
    const int64_t t_lo = windows.start_ts[test_begin];
    const int64_t t_hi =
        *std::max_element(windows.end_ts.begin() + test_begin, windows.end_ts.begin() + test_end);
    // Rows after the fold overlap the span iff they start at or before t_hi; start_ts is
    // sorted, so they form a prefix of the rows after the fold and the embargo follows it.
    int64_t first_clear = test_end;
    while (first_clear < n && windows.start_ts[first_clear] <= t_hi) ++first_clear;
    const int64_t embargo_end = first_clear + std::min(embargo, n - first_clear);

    Fold fold;
    fold.test = Range(test_begin, test_end);
    for (int64_t row = 0; row < test_begin; ++row) {
      if (windows.end_ts[row] >= t_lo) {
        ++fold.purged;  // before the fold: start <= t_lo <= t_hi, so only the end can overlap
      } else {
        fold.train.push_back(row);
      }
    }
    fold.purged += first_clear - test_end;
    fold.embargoed = embargo_end - first_clear;
    for (int64_t row = embargo_end; row < n; ++row) fold.train.push_back(row);
    if (fold.train.empty()) {
      return InvalidArgument("PurgedKFoldSplit: fold " + std::to_string(fold_idx) +
                             ": purging and embargo removed every training row");
    }
    folds.push_back(std::move(fold));
    test_begin = test_end;
  }
  return folds;
}

}  // namespace vigil
