// Validation on ingest: the rules every row must pass before it is stored.
//
// Per series (instrument + kind + timeframe):
//   - timestamps must be increasing: out-of-order rows are sorted (OrderPolicy::kSort)
//     or rejected (kReject);
//   - a row repeating an earlier row's key (ts, plus trade id / side+level) is rejected
//     as a duplicate;
//   - required fields must be present; numbers must be finite (no NaN/Inf);
//   - prices > 0, volumes / sizes / notionals >= 0, sides in {-1, 0, 1};
//   - candles: high >= low, open and close within [low, high];
//   - gaps in regular series (candles) are counted and reported, not rejected.
//
//   std::vector<vigil::RejectedRow> rejects;
//   vigil::SeriesReport report = vigil::ValidateBatch(&batch, options, "file.csv", &rejects);
//
// Thread-safety: pure functions over the arguments.
#pragma once

#include <string>
#include <vector>

#include "vigil/data/records.h"

namespace vigil {

enum class OrderPolicy { kSort, kReject };
Result<OrderPolicy> ParseOrderPolicy(std::string_view text);  // "sort" | "reject"

struct ValidationOptions {
  OrderPolicy order = OrderPolicy::kSort;
};

// Removes invalid rows from `batch` (appending them to `rejects`, named after `source`)
// and sorts it by time. Returns the series' quality report.
SeriesReport ValidateBatch(RecordBatch* batch, const ValidationOptions& options,
                           const std::string& source, std::vector<RejectedRow>* rejects);

// Number of missing intervals between sorted timestamps for a series with a fixed
// interval `step_nanos` (a jump of k steps counts k-1 missing bars).
int64_t CountGaps(std::span<const int64_t> sorted_ts, int64_t step_nanos);

// Checks one row of `batch` against the kind's field rules; returns an empty string when
// valid, else the reason; `*field` receives the offending field.
std::string CheckRow(const RecordBatch& batch, int64_t row, std::string* field);

}  // namespace vigil
