// JSON-lines reader: one flat JSON object per line, keys found like CSV headers. Each
// object is flattened to (key, text) cells and handed to the same RowAssembler as CSV,
// so both formats accept the same names and reject the same values. A line that is not
// valid JSON is a rejected row, not a failed file.
#include <charconv>
#include <nlohmann/json.hpp>

#include "data/readers/field_aliases.h"
#include "data/readers/format_readers.h"
#include "data/readers/row_assembler.h"
#include "vigil/core/text_file.h"

namespace vigil::data_internal {
namespace {

constexpr size_t kProgressEveryRows = size_t{1} << 14;

// Text of a scalar the way a CSV would hold it: numbers exactly (shortest round-trip
// digits), strings unquoted, null empty. Nested values keep their JSON text so that a
// reject shows what was there.
std::string CellText(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::string:
      return value.get_ref<const std::string&>();
    case nlohmann::json::value_t::null:
      return std::string();
    case nlohmann::json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::number_integer:
      return std::to_string(value.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return std::to_string(value.get<uint64_t>());
    case nlohmann::json::value_t::number_float: {
      char buffer[64];
      auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value.get<double>());
      return ec == std::errc() ? std::string(buffer, end) : std::string();
    }
    default:
      return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

// The keys and cell texts of one record, with views for the shared row code.
struct FlatRecord {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  std::vector<std::string_view> key_views;
  std::vector<std::string_view> value_views;

  void Fill(const nlohmann::json& object) {
    keys.clear();
    values.clear();
    for (const auto& [key, value] : object.items()) {
      keys.push_back(key);
      values.push_back(CellText(value));
    }
    key_views.assign(keys.begin(), keys.end());
    value_views.assign(values.begin(), values.end());
  }
};

// Tracks the key set the current plan was built for; objects usually share one.
class PlanCache {
 public:
  // Installs the plan for `record`'s keys when they changed. The returned Status is
  // the plan problem for this key set (a rejected line); `fatal` a file-level failure.
  Status Update(const FlatRecord& record, const ReadOptions& options, RowAssembler* rows,
                Status* fatal) {
    if (valid_ && record.keys == keys_) return plan_status_;
    keys_ = record.keys;
    valid_ = true;
    Result<ColumnPlan> plan = PlanColumns(record.key_views, options);
    plan_status_ = plan.status();
    if (plan.ok()) *fatal = rows->SetPlan(*std::move(plan));
    return plan_status_;
  }

 private:
  bool valid_ = false;
  std::vector<std::string> keys_;
  Status plan_status_;
};

// Parses one line; on failure records the reason in *problem.
bool ParseObject(std::string_view line, nlohmann::json* record, std::string* problem) {
  try {
    *record = nlohmann::json::parse(line.begin(), line.end());
  } catch (const nlohmann::json::exception& e) {
    *problem = std::string("not valid JSON: ") + e.what();
    return false;
  }
  if (!record->is_object()) {
    *problem = "not a JSON object (found " + std::string(record->type_name()) + ")";
    return false;
  }
  return true;
}

bool IsBlankLine(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

Status ReadJsonl(std::string_view text, BatchSink* sink) {
  LineCursor lines(text);
  std::string_view line;
  RowAssembler rows(sink);
  PlanCache plans;
  FlatRecord record;
  nlohmann::json object;
  int64_t usable = 0;
  int64_t records = 0;
  std::string first_problem;
  while (lines.Next(&line)) {
    if (IsBlankLine(line)) continue;
    sink->CountRead();
    if (++records % kProgressEveryRows == 0) sink->ReportProgress(lines.offset(), text.size());
    std::string problem;
    if (ParseObject(line, &object, &problem)) {
      record.Fill(object);
      Status fatal;
      Status plan = plans.Update(record, sink->options(), &rows, &fatal);
      VIGIL_RETURN_IF_ERROR(fatal);
      if (plan.ok()) {
        ++usable;
        VIGIL_RETURN_IF_ERROR(rows.Add(record.value_views, lines.line_number(), line));
        continue;
      }
      problem = plan.message();
    }
    if (first_problem.empty()) {
      first_problem = "line " + std::to_string(lines.line_number()) + ": " + problem;
    }
    sink->Reject(lines.line_number(), "", "", std::move(problem), line);
  }
  sink->ReportProgress(text.size(), text.size());
  if (records > 0 && usable == 0) {
    return ParseError("no line is a usable JSON object (first problem: " + first_problem + ")");
  }
  return Status::Ok();
}

}  // namespace vigil::data_internal
