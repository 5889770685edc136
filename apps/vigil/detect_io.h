// Private to the vigil app: the inputs and outputs the `vigil detect` subcommands share.
// The numeric CSV they fit and score on, the detector flags (--model, --params, --seed), and
// the SCORES.csv / top-features text they print.
//
//   VIGIL_ASSIGN_OR_RETURN(DetectInput input, ReadDetectCsv("rows.csv", "is_attack"));
//   VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, CreateDetector(args));
//   std::string csv = ScoresCsv(input.keys, input.has_timestamp, scores, input.x.columns);
//
// Thread-safety: pure functions.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"
#include "vigil/models/model.h"

namespace vigil::cli {

// The key column of a detect CSV; without it rows are keyed by their index in `row`.
inline constexpr std::string_view kTimestampColumn = "timestamp";
inline constexpr std::string_view kRowColumn = "row";
// How many features `top_features` lists.
inline constexpr size_t kTopFeatures = 3;

// A numeric CSV as `vigil detect` reads it: a header, then one row per line.
struct DetectInput {
  std::string path;
  bool has_timestamp = false;
  // Per row: the timestamp text as written, or without a timestamp column the 0-based row
  // index, so a row keeps its key when incomplete rows are left out.
  std::vector<std::string> keys;
  std::vector<Timestamp> times;      // per row: the parsed timestamp (when has_timestamp)
  std::vector<int64_t> lines;        // per row: its line in the file (0 when not from a file)
  FeatureMatrix x;                   // every column but the timestamp and the label
  std::optional<std::string> label;  // the label column's name, when one was asked for
  std::vector<int> labels;           // per row, 0 or 1 (when label)
};

// Reads `path`. Columns: an optional `timestamp` (ISO-8601 or epoch; kept verbatim as the
// row key), the label column when `label_column` is not empty (values 0 or 1), and numeric
// features (anything std::from_chars reads as a double, including nan/inf; an empty cell is
// NaN, a missing value). Fails naming the place: ParseError "FILE:LINE: field 'NAME': not a
// number: 'abc'"; InvalidArgument for a missing label column, duplicate or empty header
// names, a row with the wrong number of fields, or a file with no feature column or no row.
Result<DetectInput> ReadDetectCsv(const std::string& path, const std::string& label_column);

// Leaves out the rows with a missing (NaN) or infinite feature value, keeping keys, times,
// labels and lines aligned. Returns how many were left out; `first_line` gets the first
// one's line (0 if none).
int64_t DropIncompleteRows(DetectInput& input, int64_t* first_line);
// Whether a kind scores rows with missing values itself (zscore skips a NaN feature); for
// every other kind `vigil detect` leaves incomplete rows out, with a note on stderr.
bool AcceptsMissingValues(std::string_view kind);
// Drops incomplete rows unless `kind` accepts them, and says so on stderr naming the file
// and the first line; InvalidArgument when no complete row is left.
Status PrepareRowsFor(std::string_view kind, DetectInput& input);

// "k=v,k=v" -> a JSON object: "true"/"false" -> bool, an integer -> integer, another number
// -> double, anything else -> string. Empty text -> an empty object. InvalidArgument on a
// pair without '=', an empty key or value, or a repeated key.
Result<nlohmann::json> ParseDetectorParams(std::string_view text);

// Sets params["seed"] = seed; InvalidArgument when --params already set a different seed.
Status SetSeedParam(uint64_t seed, nlohmann::json* params);

// The detector flags: --model KIND, --params k=v,..., --seed S.
struct DetectorArgs {
  std::string kind;
  std::string params;
  uint64_t seed = 0;
  bool seed_given = false;
};
// Adds --model (required, described by `model_help`), --params and --seed to `command`;
// `args` must outlive the parse.
void AddDetectorOptions(CLI::App* command, DetectorArgs& args, const std::string& model_help);
// A new, unfitted detector: the factory's errors name the kind and key; a kind of another
// task is InvalidArgument listing the anomaly kinds.
Result<std::unique_ptr<Model>> CreateDetector(const DetectorArgs& args);

// Rows flagged as anomalies.
int64_t CountFlagged(const AnomalyScores& scores);

// The columns `names` of `x`, in that order; extra columns are ignored. InvalidArgument
// naming `source` and every missing column.
Result<FeatureMatrix> SelectColumns(const FeatureMatrix& x, const std::vector<std::string>& names,
                                    const std::string& source);

// One feature's share of a row's score.
struct FeatureShare {
  std::string feature;
  double contribution = 0.0;
};
// The `kTopFeatures` largest non-zero shares of one row, largest first (ties: column order).
std::vector<FeatureShare> TopFeatures(std::span<const double> shares,
                                      const std::vector<std::string>& names);
// "name:share;name:share" (shares with 4 significant digits; "" when none).
std::string TopFeaturesText(const std::vector<FeatureShare>& top);

// SCORES.csv: header `timestamp` (when has_timestamp; else `row`, the 0-based row index in
// the input), `score`, `raw`, `is_anomaly`, `top_features`; one line per row of `scores`,
// keyed by `keys`. Fields holding
// ',' or '"' are quoted (RFC 4180).
std::string ScoresCsv(const std::vector<std::string>& keys, bool has_timestamp,
                      const AnomalyScores& scores, const std::vector<std::string>& features);

// Shortest text that reads back as the same double ("NaN", "Inf", "-Inf" for non-finite).
std::string NumberText(double value);

// A CSV field: `text` as is, or quoted (RFC 4180) when it holds ',', '"' or a newline.
std::string QuotedCsvField(const std::string& text);

// Writes an output file atomically, or `text` to stdout when `out` is "-".
Status WriteTextOutput(const std::string& out, const std::string& text);

// A metric for --json: its value, or null with "vigil: warning: NAME undefined: ..." on
// stderr when it is undefined (e.g. a single class).
nlohmann::ordered_json MetricOrNull(const Result<double>& metric, const char* name);

// "sha256:<hex>" over column names, row keys and values: the manifest's data fingerprint.
std::string MatrixFingerprint(const FeatureMatrix& x, std::span<const std::string> keys);

}  // namespace vigil::cli
