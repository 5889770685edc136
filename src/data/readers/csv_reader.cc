// Generic delimited-text reader. Columns are found by name (field_aliases.h); each line is
// split in place into one reused cell vector and numbers are parsed without allocation
// (ParseDouble), so the hot loop allocates nothing for valid rows.
#include <cmath>

#include "data/readers/field_aliases.h"
#include "data/readers/format_readers.h"
#include "data/readers/row_assembler.h"
#include "vigil/core/text_file.h"

namespace vigil::data_internal {
namespace {

// Progress callbacks cost a std::function call; every 64k rows is several per second
// at the target speed without showing up in a profile.
constexpr size_t kProgressEveryRows = size_t{1} << 16;

std::string_view StripBom(std::string_view text) {
  constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
  if (text.starts_with(kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  return text;
}

bool IsBlankLine(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}

// A first line of numbers (the first may be an ISO time) is data, not a header.
bool LooksLikeDataRow(std::span<const std::string_view> cells) {
  if (cells.size() < 2) return false;
  for (size_t i = 0; i < cells.size(); ++i) {
    double value = 0;
    if (ParseDouble(cells[i], &value) && std::isfinite(value)) continue;
    if (i == 0 && Timestamp::ParseIso(cells[i]).ok()) continue;
    return false;
  }
  return true;
}

// Rows in the file if they were all as long as `first_row` (rows vary by a few bytes).
int64_t EstimateRows(std::string_view text, std::string_view first_row) {
  return static_cast<int64_t>(text.size() / (first_row.size() + 1) + 1);
}

}  // namespace

Status ReadCsv(std::string_view text, BatchSink* sink) {
  text = StripBom(text);
  LineCursor lines(text);
  std::string_view line;
  bool found = false;
  while (!found && lines.Next(&line)) found = !IsBlankLine(line);
  if (!found) return Status::Ok();  // no rows; the caller reports an empty file
  const int64_t first_line = lines.line_number();
  const char delimiter = DetectDelimiter(line);
  std::vector<std::string_view> cells;
  SplitFields(line, delimiter, &cells);
  const bool headerless = LooksLikeDataRow(cells);
  Result<ColumnPlan> plan = headerless ? PlanHeaderless(cells.size(), sink->options())
                                       : PlanColumns(cells, sink->options());
  if (!plan.ok()) return plan.status().WithContext("line " + std::to_string(first_line));
  RowAssembler rows(sink);
  VIGIL_RETURN_IF_ERROR(rows.SetPlan(*std::move(plan)));
  if (headerless) {
    sink->CountRead();
    VIGIL_RETURN_IF_ERROR(rows.Add(cells, first_line, line, lines.last_line_unterminated()));
  }
  size_t count = 0;
  while (lines.Next(&line)) {
    if (IsBlankLine(line)) continue;
    if (count == 0) rows.ReserveRows(EstimateRows(text, line));
    sink->CountRead();
    SplitFields(line, delimiter, &cells);
    VIGIL_RETURN_IF_ERROR(
        rows.Add(cells, lines.line_number(), line, lines.last_line_unterminated()));
    if (++count % kProgressEveryRows == 0) sink->ReportProgress(lines.offset(), text.size());
  }
  sink->ReportProgress(text.size(), text.size());
  return Status::Ok();
}

}  // namespace vigil::data_internal
