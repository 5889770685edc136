#include "models/forecast/forecast_fixture.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>

#include "vigil/core/status.h"
#include "vigil/core/text_file.h"

namespace vigil::forecast_fixture {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// R reads the CSV with its own strtod and C++ with from_chars; they may differ in the last
// bit, which a relative 1e-12 absorbs while any real change of the data does not.
constexpr double kSeriesTolerance = 1e-12;

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream stream(line);
  std::string cell;
  while (std::getline(stream, cell, ',')) cells.push_back(cell);
  return cells;
}

Result<double> ParseCell(const std::string& cell, int64_t line_number) {
  double value = 0;
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (error != std::errc() || end != cell.data() + cell.size()) {
    return DataError("line " + std::to_string(line_number) + ": not a number: " + cell);
  }
  return value;
}

// The `rows` values of `column` starting at data row `first_row` (0 = first after header).
Result<std::vector<double>> ReadColumn(const std::string& path, const std::string& column,
                                       int64_t first_row, int64_t rows) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  std::stringstream stream(text);
  std::string line;
  std::getline(stream, line);
  const std::vector<std::string> header = SplitCsvLine(line);
  size_t column_idx = 0;
  while (column_idx < header.size() && header[column_idx] != column) ++column_idx;
  if (column_idx == header.size()) return DataError(path + ": no column " + column);
  std::vector<double> values;
  for (int64_t row = 0; std::getline(stream, line) && row < first_row + rows; ++row) {
    if (row < first_row) continue;
    const std::vector<std::string> cells = SplitCsvLine(line);
    if (column_idx >= cells.size()) return DataError(path + ": short row");
    VIGIL_ASSIGN_OR_RETURN(double value, ParseCell(cells[column_idx], row + 2));
    values.push_back(value);
  }
  if (static_cast<int64_t>(values.size()) != rows) {
    return DataError(path + ": fewer rows than the fixture needs");
  }
  return values;
}

Result<std::vector<double>> Transform(const std::vector<double>& close,
                                      const std::string& transform) {
  std::vector<double> logs;
  for (double price : close) logs.push_back(std::log(price));
  if (transform == "log") return logs;
  const double scale = transform == "pct_log_return" ? 100.0 : 1.0;
  if (transform != "log_return" && transform != "pct_log_return") {
    return InvalidArgument("unknown transform " + transform);
  }
  std::vector<double> returns;
  for (size_t t = 1; t < logs.size(); ++t) returns.push_back(scale * (logs[t] - logs[t - 1]));
  return returns;
}

Result<std::vector<double>> Rebuild(const nlohmann::json& entry) {
  if (entry.at("source") == "R datasets") return Numbers(entry.at("values"));
  const std::string path =
      std::string(VIGIL_SHARED_DATA) + "/" + entry.at("file").get<std::string>();
  VIGIL_ASSIGN_OR_RETURN(
      std::vector<double> close,
      ReadColumn(path, entry.at("column"), entry.at("first_row"), entry.at("rows")));
  return Transform(close, entry.at("transform"));
}

}  // namespace

nlohmann::json Load(const std::string& file) {
  Result<std::string> text = ReadFileToString(std::string(VIGIL_TEST_DATA) + "/forecast/" + file);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  if (!text.ok()) return nullptr;
  nlohmann::json fixture = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(fixture.is_discarded()) << file << " is not valid JSON";
  return fixture.is_discarded() ? nlohmann::json(nullptr) : fixture;
}

std::map<std::string, std::vector<double>> BuildSeries(const nlohmann::json& fixture) {
  std::map<std::string, std::vector<double>> series;
  if (!fixture.contains("series")) return series;
  for (const auto& entry : fixture.at("series")) {
    const std::string name = entry.at("name");
    SCOPED_TRACE("series " + name);
    Result<std::vector<double>> values = Rebuild(entry);
    EXPECT_TRUE(values.ok()) << values.status().ToString();
    if (!values.ok()) continue;
    EXPECT_EQ(values->size(), entry.at("length").get<size_t>());
    if (values->empty() || values->size() != entry.at("length").get<size_t>()) continue;
    EXPECT_TRUE(Near(values->front(), Number(entry.at("first")), kSeriesTolerance));
    EXPECT_TRUE(Near(values->back(), Number(entry.at("last")), kSeriesTolerance));
    series[name] = std::move(*values);
  }
  return series;
}

double Number(const nlohmann::json& value) { return value.is_null() ? kNaN : value.get<double>(); }

std::vector<double> Numbers(const nlohmann::json& value) {
  if (!value.is_array()) return {Number(value)};
  std::vector<double> numbers;
  for (const auto& item : value) numbers.push_back(Number(item));
  return numbers;
}

std::vector<std::string> Strings(const nlohmann::json& value) {
  if (!value.is_array()) return {value.get<std::string>()};
  return value.get<std::vector<std::string>>();
}

::testing::AssertionResult Near(double actual, double expected, double tolerance, double scale) {
  if (std::isnan(actual) && std::isnan(expected)) return ::testing::AssertionSuccess();
  const double allowed = tolerance * std::max(std::abs(expected), scale);
  if (std::abs(actual - expected) <= allowed) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "actual " << actual << " vs expected " << expected << ": difference "
         << std::abs(actual - expected) << " > allowed " << allowed << " (relative " << tolerance
         << ", floor " << scale << ")";
}

::testing::AssertionResult AllNear(const std::vector<double>& actual,
                                   const std::vector<double>& expected, double tolerance,
                                   const std::vector<double>& scales) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "length " << actual.size() << " vs expected " << expected.size();
  }
  for (size_t i = 0; i < actual.size(); ++i) {
    const double scale = i < scales.size() ? scales[i] : 0.0;
    ::testing::AssertionResult one = Near(actual[i], expected[i], tolerance, scale);
    if (!one) return ::testing::AssertionFailure() << "element " << i << ": " << one.message();
  }
  return ::testing::AssertionSuccess();
}

}  // namespace vigil::forecast_fixture
