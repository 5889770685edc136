#include "detect_io.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <map>
#include <set>

#include "vigil/core/text_file.h"
#include "vigil/models/robust_zscore.h"

namespace vigil::cli {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> SplitFields(std::string_view line, char separator) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  while (true) {
    const size_t end = line.find(separator, start);
    fields.push_back(Trim(line.substr(start, end == std::string_view::npos ? end : end - start)));
    if (end == std::string_view::npos) return fields;
    start = end + 1;
  }
}

// The whole text as a double; nullopt when it is not one.
std::optional<double> ParseDouble(std::string_view text) {
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<int64_t> ParseInteger(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// What each column of the file is.
struct CsvLayout {
  std::vector<std::string> names;
  int timestamp = -1;
  int label = -1;
};

Result<CsvLayout> ReadHeader(std::string_view line, const std::string& path,
                             const std::string& label_column) {
  CsvLayout layout;
  std::set<std::string_view> seen;
  for (std::string_view name : SplitFields(line, ',')) {
    const int index = static_cast<int>(layout.names.size());
    if (name.empty()) {
      return InvalidArgument(path + ":1: column " + std::to_string(index + 1) + " has no name");
    }
    if (!seen.insert(name).second) {
      return InvalidArgument(path + ":1: column '" + std::string(name) + "' appears twice");
    }
    if (name == kTimestampColumn) layout.timestamp = index;
    if (!label_column.empty() && name == label_column) layout.label = index;
    layout.names.emplace_back(name);
  }
  if (!label_column.empty() && layout.label < 0) {
    return InvalidArgument(path + ": no label column '" + label_column + "' in the header");
  }
  return layout;
}

Status FieldError(const std::string& path, int64_t line, std::string_view field,
                  std::string_view problem, std::string_view text) {
  return ParseError(path + ":" + std::to_string(line) + ": field '" + std::string(field) +
                    "': " + std::string(problem) + ": '" + std::string(text) + "'");
}

Status AppendRow(const CsvLayout& layout, std::span<const std::string_view> fields, int64_t line,
                 DetectInput& input) {
  for (size_t col = 0; col < fields.size(); ++col) {
    const std::string_view text = fields[col];
    const std::string& name = layout.names[col];
    if (static_cast<int>(col) == layout.timestamp) {
      Result<Timestamp> time = Timestamp::Parse(text);
      if (!time.ok()) return FieldError(input.path, line, name, "not a timestamp", text);
      input.keys.emplace_back(text);
      input.times.push_back(*time);
    } else if (static_cast<int>(col) == layout.label) {
      const std::optional<double> label = ParseDouble(text);
      if (!label || (*label != 0.0 && *label != 1.0)) {
        return FieldError(input.path, line, name, "a label must be 0 or 1", text);
      }
      input.labels.push_back(*label == 1.0 ? 1 : 0);
    } else {
      const std::optional<double> value =
          text.empty() ? std::numeric_limits<double>::quiet_NaN() : ParseDouble(text);
      if (!value) return FieldError(input.path, line, name, "not a number", text);
      input.x.values.push_back(*value);
    }
  }
  if (layout.timestamp < 0) input.keys.push_back(std::to_string(input.x.rows));
  input.lines.push_back(line);
  ++input.x.rows;
  return Status::Ok();
}

char HexDigit(unsigned value) { return "0123456789abcdef"[value & 0xf]; }

std::string AnomalyKindList() {
  std::string list;
  for (const auto& [kind, task] : ModelKinds()) {
    if (task == Task::kAnomaly) list += (list.empty() ? "" : ", ") + kind;
  }
  return list;
}

}  // namespace

Result<DetectInput> ReadDetectCsv(const std::string& path, const std::string& label_column) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  LineCursor lines(text);
  std::string_view line;
  if (!lines.Next(&line) || Trim(line).empty()) {
    return InvalidArgument(path + ": empty file (expected a header line)");
  }
  VIGIL_ASSIGN_OR_RETURN(CsvLayout layout, ReadHeader(line, path, label_column));
  DetectInput input;
  input.path = path;
  input.has_timestamp = layout.timestamp >= 0;
  if (layout.label >= 0) input.label = label_column;
  for (size_t col = 0; col < layout.names.size(); ++col) {
    const int index = static_cast<int>(col);
    if (index != layout.timestamp && index != layout.label) {
      input.x.columns.push_back(layout.names[col]);
    }
  }
  if (input.x.columns.empty()) return InvalidArgument(path + ": no feature column");
  while (lines.Next(&line)) {
    if (Trim(line).empty()) continue;
    const std::vector<std::string_view> fields = SplitFields(line, ',');
    if (fields.size() != layout.names.size()) {
      return InvalidArgument(path + ":" + std::to_string(lines.line_number()) + ": " +
                             std::to_string(fields.size()) + " fields, the header has " +
                             std::to_string(layout.names.size()));
    }
    VIGIL_RETURN_IF_ERROR(AppendRow(layout, fields, lines.line_number(), input));
  }
  if (input.x.rows == 0) return InvalidArgument(path + ": no data rows");
  return input;
}

Result<nlohmann::json> ParseDetectorParams(std::string_view text) {
  nlohmann::json params = nlohmann::json::object();
  if (Trim(text).empty()) return params;
  for (std::string_view pair : SplitFields(text, ',')) {
    const size_t eq = pair.find('=');
    const std::string_view key = Trim(pair.substr(0, eq));
    const std::string_view value = eq == std::string_view::npos ? "" : Trim(pair.substr(eq + 1));
    if (eq == std::string_view::npos || key.empty() || value.empty()) {
      return InvalidArgument("--params: expected KEY=VALUE, got '" + std::string(pair) + "'");
    }
    const std::string name(key);
    if (params.contains(name)) return InvalidArgument("--params: '" + name + "' given twice");
    if (value == "true" || value == "false") {
      params[name] = value == "true";
    } else if (const std::optional<int64_t> integer = ParseInteger(value)) {
      params[name] = *integer;
    } else if (const std::optional<double> number = ParseDouble(value);
               number && std::isfinite(*number)) {
      params[name] = *number;
    } else {
      params[name] = std::string(value);
    }
  }
  return params;
}

Status SetSeedParam(uint64_t seed, nlohmann::json* params) {
  const auto given = params->find("seed");
  if (given != params->end() && !(given->is_number_integer() && given->get<int64_t>() >= 0 &&
                                  given->get<uint64_t>() == seed)) {
    return InvalidArgument("--seed " + std::to_string(seed) +
                           " and --params seed=" + given->dump() + " disagree: give the seed once");
  }
  (*params)["seed"] = seed;
  return Status::Ok();
}

Result<FeatureMatrix> SelectColumns(const FeatureMatrix& x, const std::vector<std::string>& names,
                                    const std::string& source) {
  std::map<std::string_view, size_t> index;
  for (size_t col = 0; col < x.cols(); ++col) index.emplace(x.columns[col], col);
  std::vector<size_t> picked;
  std::string missing;
  for (const std::string& name : names) {
    const auto found = index.find(name);
    if (found == index.end()) {
      missing += (missing.empty() ? "'" : ", '") + name + "'";
    } else {
      picked.push_back(found->second);
    }
  }
  if (!missing.empty()) {
    return InvalidArgument(source + ": missing the model's feature column(s) " + missing);
  }
  FeatureMatrix out;
  out.columns = names;
  out.rows = x.rows;
  out.values.reserve(static_cast<size_t>(x.rows) * names.size());
  for (int64_t row = 0; row < x.rows; ++row) {
    for (size_t col : picked) out.values.push_back(x.at(row, col));
  }
  return out;
}

std::vector<FeatureShare> TopFeatures(std::span<const double> shares,
                                      const std::vector<std::string>& names) {
  std::vector<size_t> order;
  for (size_t col = 0; col < shares.size(); ++col) {
    if (shares[col] > 0.0) order.push_back(col);
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return shares[a] > shares[b]; });
  std::vector<FeatureShare> top;
  for (size_t i = 0; i < order.size() && i < kTopFeatures; ++i) {
    top.push_back({names[order[i]], shares[order[i]]});
  }
  return top;
}

std::string TopFeaturesText(const std::vector<FeatureShare>& top) {
  std::string text;
  for (const FeatureShare& share : top) {
    char number[32];
    std::snprintf(number, sizeof number, "%.4g", share.contribution);
    text += (text.empty() ? "" : ";") + share.feature + ":" + number;
  }
  return text;
}

std::string NumberText(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Inf" : "-Inf";
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, end);
}

std::string QuotedCsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

Status WriteTextOutput(const std::string& out, const std::string& text) {
  if (out == "-") {
    std::cout << text << std::flush;
    return Status::Ok();
  }
  return WriteFileAtomically(out, text);
}

nlohmann::ordered_json MetricOrNull(const Result<double>& metric, const char* name) {
  if (metric.ok()) return *metric;
  std::cerr << "vigil: warning: " << name << " undefined: " << metric.status().message() << "\n";
  return nullptr;
}

std::string ScoresCsv(const std::vector<std::string>& keys, bool has_timestamp,
                      const AnomalyScores& scores, const std::vector<std::string>& features) {
  std::string out = std::string(has_timestamp ? kTimestampColumn : kRowColumn) +
                    ",score,raw,is_anomaly,top_features\n";
  const size_t cols = features.size();
  for (size_t row = 0; row < scores.raw.size(); ++row) {
    out += row < keys.size() ? QuotedCsvField(keys[row]) : std::to_string(row);
    out += "," + NumberText(scores.score[row]) + "," + NumberText(scores.raw[row]) + ",";
    out += scores.flag[row] ? '1' : '0';
    out += ',';
    if (scores.contributions.size() == scores.raw.size() * cols) {
      const std::span<const double> shares(scores.contributions.data() + row * cols, cols);
      out += QuotedCsvField(TopFeaturesText(TopFeatures(shares, features)));
    }
    out += '\n';
  }
  return out;
}

int64_t DropIncompleteRows(DetectInput& input, int64_t* first_line) {
  *first_line = 0;
  const size_t cols = input.x.cols();
  int64_t kept = 0;
  for (int64_t row = 0; row < input.x.rows; ++row) {
    const std::span<const double> values = input.x.row(row);
    if (!std::all_of(values.begin(), values.end(), [](double v) { return std::isfinite(v); })) {
      if (*first_line == 0 && static_cast<size_t>(row) < input.lines.size()) {
        *first_line = input.lines[row];
      }
      continue;
    }
    std::copy(values.begin(), values.end(), input.x.values.begin() + kept * cols);
    auto keep = [&](auto& per_row) {
      if (static_cast<size_t>(row) < per_row.size()) per_row[kept] = per_row[row];
    };
    keep(input.keys);
    keep(input.times);
    keep(input.lines);
    keep(input.labels);
    ++kept;
  }
  const int64_t dropped = input.x.rows - kept;
  input.x.rows = kept;
  input.x.values.resize(static_cast<size_t>(kept) * cols);
  auto shrink = [&](auto& per_row) {
    if (per_row.size() > static_cast<size_t>(kept)) per_row.resize(kept);
  };
  shrink(input.keys);
  shrink(input.times);
  shrink(input.lines);
  shrink(input.labels);
  return dropped;
}

bool AcceptsMissingValues(std::string_view kind) { return kind == RobustZscore::kKind; }

Status PrepareRowsFor(std::string_view kind, DetectInput& input) {
  if (AcceptsMissingValues(kind)) return Status::Ok();
  int64_t first_line = 0;
  const int64_t dropped = DropIncompleteRows(input, &first_line);
  if (dropped == 0) return Status::Ok();
  std::cerr << "vigil: " << dropped << " row(s) of " << input.path
            << " with a missing or infinite feature value left out (first: line " << first_line
            << "); kind '" << kind << "' needs complete rows\n";
  if (input.x.rows == 0) {
    return InvalidArgument(input.path + ": no row has every feature value");
  }
  return Status::Ok();
}

std::string MatrixFingerprint(const FeatureMatrix& x, std::span<const std::string> keys) {
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  EVP_DigestInit_ex(context, EVP_sha256(), nullptr);
  // Every string goes in with its NUL, so ("ab","c") and ("a","bc") differ.
  for (const std::string& column : x.columns) {
    EVP_DigestUpdate(context, column.c_str(), column.size() + 1);
  }
  for (const std::string& key : keys) EVP_DigestUpdate(context, key.c_str(), key.size() + 1);
  EVP_DigestUpdate(context, x.values.data(), x.values.size() * sizeof(double));
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(context, digest.data(), &length);
  EVP_MD_CTX_free(context);
  std::string hex = "sha256:";
  for (unsigned int i = 0; i < length; ++i) {
    hex += HexDigit(digest[i] >> 4);
    hex += HexDigit(digest[i]);
  }
  return hex;
}

Result<std::unique_ptr<Model>> CreateDetector(const DetectorArgs& args) {
  VIGIL_ASSIGN_OR_RETURN(nlohmann::json params, ParseDetectorParams(args.params));
  if (args.seed_given) VIGIL_RETURN_IF_ERROR(SetSeedParam(args.seed, &params));
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, CreateModel(args.kind, params));
  if (AsAnomalyDetector(model.get()) == nullptr) {
    return InvalidArgument(
        "--model: '" + args.kind + "' is a " + std::string(TaskName(model->task())) +
        " model, not an anomaly detector (anomaly kinds: " + AnomalyKindList() + ")");
  }
  return model;
}

int64_t CountFlagged(const AnomalyScores& scores) {
  return std::count(scores.flag.begin(), scores.flag.end(), true);
}

void AddDetectorOptions(CLI::App* command, DetectorArgs& args, const std::string& model_help) {
  command->add_option("--model", args.kind, model_help)->required();
  command->add_option("--params", args.params,
                      "Detector config as k=v,k=v (numbers, true/false, else text)");
  command->add_option("--seed", args.seed, "Random seed (the kind's `seed` key)")
      ->check(CLI::NonNegativeNumber)
      ->each([&args](const std::string&) { args.seed_given = true; });
}

}  // namespace vigil::cli
