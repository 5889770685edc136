// Time-series validation splitters: walk-forward (expanding or sliding) and purged k-fold
// with embargo. They turn n time-ordered rows into folds of row indices so a model is never
// scored on rows whose information leaked into its training set.
//
// Leakage here comes from forward-looking labels: the label of row i (e.g. "does price fall
// 5% within the next 12 bars?") reads data up to a later time. LabelWindows records, per
// row, the span of time the label reads; the splitters drop ("purge") training rows whose
// span reaches into the test fold.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::LabelWindows windows,
//                          vigil::LabelWindows::FromHorizonBars(timestamps, /*horizon_bars=*/12));
//   vigil::WalkForwardOptions wf;
//   wf.train_size = 5000;
//   wf.test_size = 1000;
//   VIGIL_ASSIGN_OR_RETURN(std::vector<vigil::Fold> folds, vigil::WalkForwardSplit(wf, windows));
//   vigil::RemoveIncompleteLabelRows(windows, folds);  // rows whose horizon ran off the data
//   for (const vigil::Fold& fold : folds) FitAndScore(fold.train, fold.test);
//
// Conventions: rows are 0..n-1 in time order; timestamps are int64 nanoseconds and
// non-decreasing (ties allowed). Every function is pure and thread-safe, never throws, and
// returns InvalidArgument naming the offending option or row on bad input.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "vigil/core/status.h"

namespace vigil {

// Per row, the closed time span [start_ts, end_ts] of the information its label reads.
// start_ts is the row's own timestamp; end_ts is the timestamp of the last row the label
// reads (end_ts == start_ts for a label that does not look forward).
struct LabelWindows {
  std::vector<int64_t> start_ts;  // non-decreasing; one per row
  std::vector<int64_t> end_ts;    // end_ts[i] >= start_ts[i]; need not be monotonic
  // Optional, empty or one per row: false where the label's horizon ran past the end of the
  // data, so the label was computed from fewer bars/less time than asked for and end_ts was
  // clamped to the last timestamp. Empty means every label is complete.
  std::vector<bool> complete;

  int64_t size() const { return static_cast<int64_t>(start_ts.size()); }
  bool label_complete(int64_t row) const { return complete.empty() || complete[row]; }

  // OK when the sizes agree, start_ts is non-decreasing and end_ts[i] >= start_ts[i];
  // otherwise InvalidArgument naming the first bad row.
  Status Validate() const;

  // Label of row i reads rows i..min(i + horizon_bars, n - 1): end_ts[i] = timestamps of
  // that row. Rows with i + horizon_bars > n - 1 are flagged incomplete (the last
  // horizon_bars rows when horizon_bars > 0). Fails on horizon_bars < 0 or timestamps that
  // decrease.
  static Result<LabelWindows> FromHorizonBars(std::span<const int64_t> timestamps,
                                              int64_t horizon_bars);

  // Label of row i reads every row with timestamp in [ts_i, ts_i + horizon_ns]:
  // end_ts[i] = the largest timestamp <= ts_i + horizon_ns (an actual row's timestamp).
  // Rows with ts_i + horizon_ns > the last timestamp are flagged incomplete. Fails on
  // horizon_ns < 0 or timestamps that decrease.
  static Result<LabelWindows> FromHorizonTime(std::span<const int64_t> timestamps,
                                              int64_t horizon_ns);
};

// One train/test split: row indices, each list sorted ascending, disjoint.
struct Fold {
  std::vector<int64_t> train;
  std::vector<int64_t> test;
  int64_t purged = 0;     // training rows dropped because their label window overlaps the test
  int64_t embargoed = 0;  // training rows dropped by the embargo (purged k-fold only)
};

// Drops rows whose label is incomplete (LabelWindows::complete) from every fold's train and
// test lists. Folds are kept even if a list becomes empty. Precondition: every index in
// `folds` is < windows.size().
void RemoveIncompleteLabelRows(const LabelWindows& windows, std::vector<Fold>& folds);

// ---------------------------------------------------------------------------------------
// Walk-forward
// ---------------------------------------------------------------------------------------

enum class WindowMode {
  kExpanding,  // training always starts at row 0 and grows with each fold
  kSliding,    // training is the train_size rows just before the gap
};

// Row-based walk-forward. Fold f (f = 0, 1, ...) has
//   test  = [s, s + test_size)            with s = train_size + gap + f * step
//   train = [0, s - gap)                   (expanding)
//         = [s - gap - train_size, s - gap) (sliding)
// Folds are emitted while s + test_size <= n (only whole test folds), at most max_folds of
// them (the earliest). So every test index is greater than every train index, and test
// folds do not overlap each other when step >= test_size (with step < test_size they do).
struct WalkForwardOptions {
  WindowMode mode = WindowMode::kExpanding;
  int64_t train_size = 0;  // >= 1; sliding: rows per fold; expanding: rows in fold 0
  int64_t test_size = 0;   // >= 1
  int64_t step = 0;        // >= 0; how far each fold moves forward; 0 means test_size
  int64_t gap = 0;         // >= 0; rows dropped between train and test
  int64_t max_folds = 0;   // >= 0; 0 = as many as fit

  // Checks the bounds above; InvalidArgument naming the field.
  Status Validate() const;
  int64_t effective_step() const { return step == 0 ? test_size : step; }
};

// Splits rows 0..n-1 (no purging). Fails when the options are invalid, n < 0, or
// train_size + gap + test_size > n (not even one fold fits).
Result<std::vector<Fold>> WalkForwardSplit(const WalkForwardOptions& options, int64_t n);

// As above with n = windows.size(), then purges: a training row i is dropped when
// windows.end_ts[i] >= windows.start_ts[s] (its label reads the test fold's first timestamp
// or later). Because training rows precede the test fold, this is exactly "the label window
// overlaps the test fold's span". Fails additionally when `windows` is invalid or purging
// leaves a fold with no training rows (raise train_size or gap).
Result<std::vector<Fold>> WalkForwardSplit(const WalkForwardOptions& options,
                                           const LabelWindows& windows);

// Time-based walk-forward: durations instead of row counts. With t0 = the first timestamp,
// fold f has the half-open test window [a, a + test_ns), a = t0 + train_ns + gap_ns + f * step,
// and the training window [t0, a - gap_ns) (expanding) or [a - gap_ns - train_ns, a - gap_ns)
// (sliding). A row belongs to a window when its timestamp does. Only whole test windows are
// used: folds are emitted while a + test_ns <= last timestamp + 1, i.e. the data reaches the
// window's end (for 1m bars stamped at their open, the bar at a + test_ns - 1m is not enough;
// the one at a + test_ns must exist or the window counts as cut short). A fold whose test
// window holds no rows (a data gap) is skipped and does not count toward max_folds. Purging
// as in the row-based variant.
struct WalkForwardTimeOptions {
  WindowMode mode = WindowMode::kExpanding;
  int64_t train_ns = 0;   // > 0
  int64_t test_ns = 0;    // > 0
  int64_t step_ns = 0;    // >= 0; 0 means test_ns
  int64_t gap_ns = 0;     // >= 0
  int64_t max_folds = 0;  // >= 0; 0 = as many as fit

  Status Validate() const;
  int64_t effective_step() const { return step_ns == 0 ? test_ns : step_ns; }
};

// Fails when the options or timestamps are invalid, when no whole test window fits, or when
// a fold's training window holds no rows (after purging, for the LabelWindows overload).
Result<std::vector<Fold>> WalkForwardTimeSplit(const WalkForwardTimeOptions& options,
                                               std::span<const int64_t> timestamps);
Result<std::vector<Fold>> WalkForwardTimeSplit(const WalkForwardTimeOptions& options,
                                               const LabelWindows& windows);

// ---------------------------------------------------------------------------------------
// Purged k-fold with embargo
// ---------------------------------------------------------------------------------------

// López de Prado, "Advances in Financial Machine Learning" (2018), ch. 7 (snippets 7.1-7.3).
// Rows are cut into k contiguous test folds; the first n % k folds get one extra row. For a
// test fold with rows [a, b):
//   span  = [t_lo, t_hi], t_lo = start_ts[a], t_hi = max(end_ts[a..b-1]).
//   purge: a non-test row i is dropped when [start_ts[i], end_ts[i]] overlaps the span
//          (start_ts[i] <= t_hi && end_ts[i] >= t_lo; closed intervals, so touching counts).
//   embargo: with e = the first row after the fold whose start_ts > t_hi (the first row
//          after the fold not purged), rows [e, e + embargo) are also dropped. Their
//          features may look back over the test period (serial correlation); only rows
//          after the test fold are embargoed, as in the book.
// Training = every remaining row, before and after the test fold.
struct PurgedKFoldOptions {
  int64_t k = 5;                  // >= 2 and <= n
  double embargo_fraction = 0.0;  // in [0, 1); embargo = floor(embargo_fraction * n) rows
  int64_t embargo_rows = 0;       // >= 0; set at most one of the two embargo fields

  Status Validate() const;
  int64_t EmbargoRows(int64_t n) const;  // the embargo in rows for n rows
};

// Fails when the options or windows are invalid, k > n, or a fold is left with no training
// rows after purging and embargo.
Result<std::vector<Fold>> PurgedKFoldSplit(const PurgedKFoldOptions& options,
                                           const LabelWindows& windows);

}  // namespace vigil
