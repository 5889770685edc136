#include "vigil/features/timeframe_join.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace vigil {
namespace {

Status CheckJoinInputs(int64_t base_step_ns, const Frame& higher,
                       std::span<const int64_t> higher_close_ts) {
  if (base_step_ns <= 0) {
    return InvalidArgument("as-of join: base step must be positive, got " +
                           std::to_string(base_step_ns) + " ns");
  }
  if (static_cast<int64_t>(higher_close_ts.size()) != higher.rows()) {
    return InvalidArgument("as-of join: " + std::to_string(higher_close_ts.size()) +
                           " close times for " + std::to_string(higher.rows()) +
                           " higher-timeframe rows");
  }
  if (!std::is_sorted(higher_close_ts.begin(), higher_close_ts.end())) {
    return InvalidArgument("as-of join: higher-timeframe close times are not sorted");
  }
  for (const ColumnSpec& spec : higher.columns()) {
    if (spec.type != ColumnType::kDouble) {
      return InvalidArgument("as-of join: column '" + spec.name +
                             "' is int64; only double columns can be NaN before the first "
                             "higher bar closes");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Frame> AsOfJoinClosed(std::span<const int64_t> base_ts, int64_t base_step_ns,
                             const Frame& higher, std::span<const int64_t> higher_close_ts,
                             std::string_view suffix) {
  VIGIL_RETURN_IF_ERROR(CheckJoinInputs(base_step_ns, higher, higher_close_ts));

  std::vector<ColumnSpec> specs;
  for (const ColumnSpec& spec : higher.columns()) {
    specs.push_back({spec.name + std::string(suffix), ColumnType::kDouble});
  }
  Frame out(std::move(specs));
  out.mutable_timestamps().assign(base_ts.begin(), base_ts.end());

  // For each base row, the index of the higher row to use, or -1. upper_bound finds the
  // first row closing strictly after the base bar's close; the one before it is the
  // newest row that is final when the base bar is, ties (close == close) included.
  std::vector<int64_t> source_row(base_ts.size());
  for (size_t row = 0; row < base_ts.size(); ++row) {
    const int64_t known_at = base_ts[row] + base_step_ns;
    auto first_later = std::upper_bound(higher_close_ts.begin(), higher_close_ts.end(), known_at);
    source_row[row] = (first_later - higher_close_ts.begin()) - 1;
  }

  const double kMissing = std::numeric_limits<double>::quiet_NaN();
  for (size_t column = 0; column < higher.num_columns(); ++column) {
    std::span<const double> values = higher.DoublesAt(column);
    std::vector<double>& joined = out.MutableDoublesAt(column);
    joined.resize(base_ts.size());
    for (size_t row = 0; row < base_ts.size(); ++row) {
      joined[row] = source_row[row] < 0 ? kMissing : values[source_row[row]];
    }
  }
  VIGIL_RETURN_IF_ERROR(out.CheckConsistent());
  return out;
}

}  // namespace vigil
