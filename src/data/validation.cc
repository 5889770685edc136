// Ingest validation. Phases, in order: per-row field rules (so a garbage row cannot
// pollute the ordering checks), time order (sort or reject), duplicate keys, gaps. Every
// filter or reorder of the frame is applied to RecordBatch::lines as well, so each kept
// row still names its source line.
#include "vigil/data/validation.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

namespace vigil {
namespace {

std::string Number(double value) {
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return ec == std::errc() ? std::string(buffer, end) : std::string("?");
}

// The row as text ("ts,value,...") for RejectedRow::raw: validation runs after parsing,
// so the original line is no longer at hand.
std::string RenderRow(const RecordBatch& batch, int64_t row) {
  const Frame& frame = batch.frame;
  std::string out = frame.time(row).ToIso();
  for (size_t column = 0; column < frame.num_columns(); ++column) {
    out += ',';
    if (frame.columns()[column].type == ColumnType::kDouble) {
      double value = frame.DoublesAt(column)[row];
      if (!std::isnan(value)) out += Number(value);
    } else {
      int64_t value = frame.Int64sAt(column)[row];
      if (value != kMissingInt) out += std::to_string(value);
    }
  }
  return out;
}

void RejectRow(const RecordBatch& batch, int64_t row, const std::string& source, std::string field,
               std::string reason, std::vector<RejectedRow>* rejects) {
  RejectedRow rejected;
  rejected.source = source;
  rejected.line = row < static_cast<int64_t>(batch.lines.size()) ? batch.lines[row] : 0;
  rejected.instrument = batch.series.instrument.ToString();
  rejected.kind = batch.series.kind;
  rejected.field = std::move(field);
  rejected.reason = std::move(reason);
  rejected.raw = RenderRow(batch, row).substr(0, 512);
  rejects->push_back(std::move(rejected));
}

void FilterBatch(RecordBatch* batch, const std::vector<bool>& keep) {
  batch->frame.Filter(keep);
  size_t out = 0;
  for (size_t row = 0; row < batch->lines.size(); ++row) {
    if (keep[row]) batch->lines[out++] = batch->lines[row];
  }
  batch->lines.resize(out);
}

std::string DoubleRuleViolation(const FieldSpec& spec, double value) {
  if (std::isnan(value)) return spec.required ? "missing value (empty or NaN)" : "";
  if (!std::isfinite(value)) return "not a finite number (" + Number(value) + ")";
  if (spec.rule == FieldRule::kPositive && !(value > 0)) {
    return "must be > 0 (got " + Number(value) + ")";
  }
  if (spec.rule == FieldRule::kNonNegative && value < 0) {
    return "must be >= 0 (got " + Number(value) + ")";
  }
  return "";
}

std::string IntRuleViolation(const FieldSpec& spec, int64_t value) {
  if (value == kMissingInt) return spec.required ? "missing value" : "";
  if (spec.rule == FieldRule::kSide && (value < -1 || value > 1)) {
    return "side must be -1, 0 or 1 (got " + std::to_string(value) + ")";
  }
  return "";
}

// Candle shape: low <= open, close <= high. NaN prices were rejected already.
std::string CandleViolation(const Frame& frame, int64_t row, std::string* field) {
  static const KindSchema& kCandles = SchemaOf(DataKind::kCandles);
  static const size_t kOpen = FieldIndex(kCandles, "open");
  static const size_t kHigh = FieldIndex(kCandles, "high");
  static const size_t kLow = FieldIndex(kCandles, "low");
  static const size_t kClose = FieldIndex(kCandles, "close");
  const double open = frame.DoublesAt(kOpen)[row];
  const double high = frame.DoublesAt(kHigh)[row];
  const double low = frame.DoublesAt(kLow)[row];
  const double close = frame.DoublesAt(kClose)[row];
  if (high < low) {
    *field = "high";
    return "high < low (" + Number(high) + " < " + Number(low) + ")";
  }
  for (auto [name, value] : {std::pair{"open", open}, std::pair{"close", close}}) {
    if (value < low || value > high) {
      *field = name;
      return std::string(name) + " outside [low, high] (" + Number(value) + " not in [" +
             Number(low) + ", " + Number(high) + "])";
    }
  }
  return "";
}

// Columns forming the primary key with ts (SchemaOf(kind).key_fields).
std::vector<size_t> KeyColumns(const Frame& frame, const KindSchema& schema) {
  std::vector<size_t> columns;
  for (std::string_view name : schema.key_fields) {
    int column = frame.ColumnIndex(name);
    if (column >= 0) columns.push_back(static_cast<size_t>(column));
  }
  return columns;
}

// Orders rows by (ts, key columns); returns <0, 0, >0.
int CompareRows(const Frame& frame, const std::vector<size_t>& keys, int64_t a, int64_t b) {
  const int64_t ta = frame.timestamps()[a];
  const int64_t tb = frame.timestamps()[b];
  if (ta != tb) return ta < tb ? -1 : 1;
  for (size_t column : keys) {
    if (frame.columns()[column].type == ColumnType::kInt64) {
      const int64_t va = frame.Int64sAt(column)[a];
      const int64_t vb = frame.Int64sAt(column)[b];
      if (va != vb) return va < vb ? -1 : 1;
    } else {
      const double va = frame.DoublesAt(column)[a];
      const double vb = frame.DoublesAt(column)[b];
      if (va != vb) return va < vb ? -1 : 1;
    }
  }
  return 0;
}

void RejectRuleViolations(RecordBatch* batch, const std::string& source,
                          std::vector<RejectedRow>* rejects) {
  std::vector<bool> keep(batch->frame.rows(), true);
  bool any = false;
  for (int64_t row = 0; row < batch->frame.rows(); ++row) {
    std::string field;
    std::string reason = CheckRow(*batch, row, &field);
    if (reason.empty()) continue;
    RejectRow(*batch, row, source, std::move(field), std::move(reason), rejects);
    keep[row] = false;
    any = true;
  }
  if (any) FilterBatch(batch, keep);
}

// kReject: drops rows earlier than a row before them. Both policies count them.
void CheckTimeOrder(RecordBatch* batch, OrderPolicy policy, const std::string& source,
                    std::vector<RejectedRow>* rejects, SeriesReport* report) {
  std::span<const int64_t> ts = batch->frame.timestamps();
  std::vector<bool> keep(ts.size(), true);
  int64_t running_max = INT64_MIN;
  for (size_t row = 0; row < ts.size(); ++row) {
    if (ts[row] >= running_max) {
      running_max = ts[row];
      continue;
    }
    ++report->out_of_order;
    if (policy == OrderPolicy::kReject) {
      keep[row] = false;
      RejectRow(*batch, static_cast<int64_t>(row), source, "ts",
                "timestamp goes backwards (" + Timestamp(ts[row]).ToIso() + " < " +
                    Timestamp(running_max).ToIso() + ")",
                rejects);
    }
  }
  if (report->out_of_order > 0 && policy == OrderPolicy::kReject) FilterBatch(batch, keep);
}

// Stable sort by (ts, key); a no-op for the usual already-sorted file.
void SortBatch(RecordBatch* batch, const std::vector<size_t>& keys) {
  const Frame& frame = batch->frame;
  const int64_t rows = frame.rows();
  bool sorted = true;
  for (int64_t row = 1; row < rows && sorted; ++row) {
    sorted = CompareRows(frame, keys, row - 1, row) <= 0;
  }
  if (sorted) return;
  std::vector<int64_t> order(rows);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return CompareRows(frame, keys, a, b) < 0; });
  batch->frame.TakeRows(order);
  std::vector<int64_t> lines;
  lines.reserve(order.size());
  for (int64_t row : order) lines.push_back(batch->lines[row]);
  batch->lines = std::move(lines);
}

// "duplicate of line 15 (side 1, level 0)": the key values make the reasons of several
// rows of one source line (an order-book line holds a bid and an ask) distinct, so each is
// kept in the rejects table.
std::string DuplicateReason(const RecordBatch& batch, const KindSchema& schema, int64_t kept,
                            int64_t row) {
  std::string reason = "duplicate of line " + std::to_string(batch.lines[kept]);
  std::string values;
  for (std::string_view name : schema.key_fields) {
    std::span<const int64_t> column = batch.frame.Int64s(name);
    if (column.empty()) continue;
    values += (values.empty() ? "" : ", ") + std::string(name) + " " + std::to_string(column[row]);
  }
  return values.empty() ? reason : reason + " (" + values + ")";
}

// After sorting, a row with the key of the row before it repeats it: keep the first.
void RejectDuplicates(RecordBatch* batch, const KindSchema& schema, const std::vector<size_t>& keys,
                      const std::string& source, std::vector<RejectedRow>* rejects,
                      SeriesReport* report) {
  std::string key_name = "ts";
  for (std::string_view name : schema.key_fields) key_name += "," + std::string(name);
  std::vector<bool> keep(batch->frame.rows(), true);
  int64_t kept = 0;
  for (int64_t row = 1; row < batch->frame.rows(); ++row) {
    if (CompareRows(batch->frame, keys, kept, row) != 0) {
      kept = row;
      continue;
    }
    keep[row] = false;
    ++report->duplicates;
    RejectRow(*batch, row, source, key_name, DuplicateReason(*batch, schema, kept, row), rejects);
  }
  if (report->duplicates > 0) FilterBatch(batch, keep);
}

}  // namespace

Result<OrderPolicy> ParseOrderPolicy(std::string_view text) {
  if (text == "sort") return OrderPolicy::kSort;
  if (text == "reject") return OrderPolicy::kReject;
  return InvalidArgument("unknown order policy '" + std::string(text) + "' (sort|reject)");
}

int64_t CountGaps(std::span<const int64_t> sorted_ts, int64_t step_nanos) {
  if (step_nanos <= 0) return 0;
  int64_t missing = 0;
  for (size_t row = 1; row < sorted_ts.size(); ++row) {
    const int64_t jump = sorted_ts[row] - sorted_ts[row - 1];
    if (jump > step_nanos) missing += jump / step_nanos - 1;
  }
  return missing;
}

std::string CheckRow(const RecordBatch& batch, int64_t row, std::string* field) {
  const KindSchema& schema = SchemaOf(batch.series.kind);
  const Frame& frame = batch.frame;
  for (size_t column = 0; column < schema.fields.size(); ++column) {
    const FieldSpec& spec = schema.fields[column];
    std::string reason = spec.type == ColumnType::kDouble
                             ? DoubleRuleViolation(spec, frame.DoublesAt(column)[row])
                             : IntRuleViolation(spec, frame.Int64sAt(column)[row]);
    if (!reason.empty()) {
      *field = std::string(spec.name);
      return reason;
    }
  }
  if (batch.series.kind == DataKind::kCandles) return CandleViolation(frame, row, field);
  return "";
}

SeriesReport ValidateBatch(RecordBatch* batch, const ValidationOptions& options,
                           const std::string& source, std::vector<RejectedRow>* rejects) {
  SeriesReport report;
  report.series = batch->series;
  const KindSchema& schema = SchemaOf(batch->series.kind);
  if (schema.has_timeframe && batch->series.timeframe.empty()) {
    for (int64_t row = 0; row < batch->frame.rows(); ++row) {
      RejectRow(*batch, row, source, "timeframe", "cannot tell the timeframe: pass --timeframe",
                rejects);
    }
    FilterBatch(batch, std::vector<bool>(batch->frame.rows(), false));
    return report;
  }
  RejectRuleViolations(batch, source, rejects);
  CheckTimeOrder(batch, options.order, source, rejects, &report);
  const std::vector<size_t> keys = KeyColumns(batch->frame, schema);
  SortBatch(batch, keys);
  RejectDuplicates(batch, schema, keys, source, rejects, &report);
  if (schema.regular) {
    Result<int64_t> step = ParseDuration(batch->series.timeframe);
    if (step.ok()) report.gaps = CountGaps(batch->frame.timestamps(), *step);
  }
  report.rows = batch->frame.rows();
  return report;
}

}  // namespace vigil
