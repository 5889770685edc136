// Series for forecasting: CSV files, candle fields and prediction series from the store,
// as-of resampling and transforms.
#include "vigil/pipeline/forecast_series.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>

#include "vigil/core/text_file.h"
#include "vigil/data/market_data.h"

namespace vigil {
namespace {

constexpr std::string_view kTimestampColumn = "timestamp";

std::string Trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return "";
  const auto last = text.find_last_not_of(" \t\r");
  std::string cell(text.substr(first, last - first + 1));
  if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') {
    cell = cell.substr(1, cell.size() - 2);
  }
  return cell;
}

std::vector<std::string> SplitCells(std::string_view line) {
  std::vector<std::string> cells;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    cells.push_back(Trim(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) return cells;
    start = comma + 1;
  }
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

// The columns of the header: where the values and the optional timestamp are.
struct CsvLayout {
  size_t value = 0;
  std::optional<size_t> timestamp;
  std::string value_name;
};

Result<CsvLayout> ChooseColumns(const std::string& path, const std::vector<std::string>& header,
                                const std::string& column) {
  CsvLayout layout;
  std::vector<std::string> candidates;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == kTimestampColumn) {
      layout.timestamp = i;
    } else {
      candidates.push_back(header[i]);
    }
  }
  std::string chosen = column;
  if (chosen.empty()) {
    if (candidates.size() != 1) {
      return InvalidArgument(path + ": " + std::to_string(candidates.size()) + " value columns (" +
                             JoinNames(candidates) + "); choose one with --column");
    }
    chosen = candidates.front();
  }
  const auto found = std::find(header.begin(), header.end(), chosen);
  if (found == header.end() || chosen == kTimestampColumn) {
    return NotFound(path + ": no column '" + chosen + "' (columns: " + JoinNames(header) + ")");
  }
  layout.value = static_cast<size_t>(found - header.begin());
  layout.value_name = chosen;
  return layout;
}

Result<double> ParseNumber(const std::string& cell) {
  double value = 0;
  const char* end = cell.data() + cell.size();
  const auto [ptr, ec] = std::from_chars(cell.data(), end, value);
  if (cell.empty() || ec != std::errc() || ptr != end || !std::isfinite(value)) {
    return ParseError(cell.empty() ? "empty cell" : "not a finite number: '" + cell + "'");
  }
  return value;
}

// One data line into `series`; errors name the file, line and column.
Status ReadCsvRow(const std::string& path, const std::vector<std::string>& header,
                  const CsvLayout& layout, int64_t line, std::string_view text,
                  ForecastSeries& series) {
  const std::string where = path + ":" + std::to_string(line) + ": ";
  const std::vector<std::string> cells = SplitCells(text);
  if (cells.size() != header.size()) {
    return ParseError(where + "expected " + std::to_string(header.size()) + " cells, got " +
                      std::to_string(cells.size()));
  }
  Result<double> value = ParseNumber(cells[layout.value]);
  if (!value.ok()) {
    return ParseError(where + "column '" + layout.value_name + "': " + value.status().message());
  }
  series.values.push_back(*value);
  if (!layout.timestamp) return Status::Ok();
  Result<Timestamp> ts = Timestamp::Parse(cells[*layout.timestamp]);
  if (!ts.ok()) {
    return ParseError(where + "column 'timestamp': not a time: '" + cells[*layout.timestamp] + "'");
  }
  if (!series.times.empty() && *ts <= series.times.back()) {
    return ParseError(where + "column 'timestamp': not after the previous row's");
  }
  series.times.push_back(*ts);
  return Status::Ok();
}

Status CheckLength(const ForecastSeries& series) {
  if (series.size() >= 2) return Status::Ok();
  return DataError(series.source + ": " + std::to_string(series.size()) +
                   " value(s); a series needs at least 2");
}

// --- the store ---

Result<std::string> SmallestCandleTimeframe(Store& store, const Instrument& instrument) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<SeriesKey> keys, store.ListSeries());
  std::optional<std::pair<int64_t, std::string>> best;
  for (const SeriesKey& key : keys) {
    if (key.instrument != instrument || key.kind != DataKind::kCandles) continue;
    Result<int64_t> step = ParseDuration(key.timeframe);
    if (step.ok() && (!best || *step < best->first)) best = {{*step, key.timeframe}};
  }
  if (!best) return NotFound(instrument.ToString() + ": no candles stored");
  return best->second;
}

Result<ForecastSeries> LoadCandleField(Store& store, const StoreSeriesSpec& spec) {
  VIGIL_ASSIGN_OR_RETURN(Instrument instrument, Instrument::Parse(spec.instrument));
  SeriesKey key{instrument, DataKind::kCandles, spec.timeframe};
  if (key.timeframe.empty()) {
    VIGIL_ASSIGN_OR_RETURN(key.timeframe, SmallestCandleTimeframe(store, instrument));
  }
  VIGIL_ASSIGN_OR_RETURN(Frame bars, store.Query(key, spec.from, spec.to));
  if (bars.empty()) return NotFound(key.ToString() + ": no candles in the requested range");
  VIGIL_ASSIGN_OR_RETURN(std::span<const double> column, bars.DoubleColumn(spec.field));
  ForecastSeries series;
  series.source = key.ToString() + " " + spec.field;
  for (int64_t row = 0; row < bars.rows(); ++row) {
    if (!std::isfinite(column[row])) {
      ++series.skipped;  // optional fields (volume of mark prices) may be absent
      continue;
    }
    series.times.push_back(bars.time(row));
    series.values.push_back(column[row]);
  }
  return series;
}

// "score:liq@15m" -> {score, liq, 15m}.
struct PredictionField {
  bool score = true;
  std::string model;
  std::optional<std::string> horizon;
};

Result<PredictionField> ParsePredictionField(const std::string& field) {
  PredictionField out;
  const size_t colon = field.find(':');
  out.score = field.substr(0, colon) == "score";
  std::string rest = field.substr(colon + 1);
  if (const size_t at = rest.find('@'); at != std::string::npos) {
    out.horizon = rest.substr(at + 1);
    rest = rest.substr(0, at);
    if (!ParseDuration(*out.horizon).ok()) {
      return InvalidArgument("--field " + field + ": '" + *out.horizon + "' is not a duration");
    }
  }
  out.model = rest;
  if (out.model.empty()) return InvalidArgument("--field " + field + ": name the model");
  return out;
}

// Without an explicit horizon: rows stored without one, else the model's only horizon.
Result<std::string> ChooseHorizon(const std::vector<PredictionRow>& rows,
                                  const PredictionField& field, const std::string& text) {
  if (field.horizon) return *field.horizon;
  std::map<std::string, int64_t> horizons;
  for (const PredictionRow& row : rows) ++horizons[row.horizon];
  if (horizons.contains("") || horizons.size() == 1) {
    return horizons.contains("") ? std::string() : horizons.begin()->first;
  }
  std::vector<std::string> names;
  for (const auto& [name, count] : horizons) names.push_back(text + "@" + name);
  return InvalidArgument("--field " + text + ": the model stored several horizons; choose one (" +
                         JoinNames(names) + ")");
}

Result<ForecastSeries> LoadPredictionField(Store& store, const StoreSeriesSpec& spec) {
  VIGIL_ASSIGN_OR_RETURN(PredictionField field, ParsePredictionField(spec.field));
  PredictionQuery query;
  query.instrument = spec.instrument;
  query.model_name = field.model;
  query.from = spec.from;
  query.to = spec.to;
  VIGIL_ASSIGN_OR_RETURN(std::vector<PredictionRow> rows, store.QueryPredictions(query));
  if (rows.empty()) {
    return NotFound(spec.instrument + ": no predictions of model '" + field.model +
                    "' in the requested range");
  }
  VIGIL_ASSIGN_OR_RETURN(std::string horizon, ChooseHorizon(rows, field, spec.field));
  ForecastSeries series;
  series.source = spec.instrument + " " + spec.field;
  for (const PredictionRow& row : rows) {
    if (row.horizon != horizon) continue;
    const double value = field.score ? row.score : row.value;
    if (!std::isfinite(value)) {
      ++series.skipped;
      continue;
    }
    if (!series.times.empty() && row.ts == series.times.back()) {
      series.values.back() = value;  // a rescored bar: the latest write wins
      continue;
    }
    series.times.push_back(row.ts);
    series.values.push_back(value);
  }
  return series;
}

bool IsPredictionField(std::string_view field) {
  return field.starts_with("score:") || field.starts_with("value:");
}

int64_t MedianSpacing(const std::vector<Timestamp>& times) {
  std::vector<int64_t> steps;
  for (size_t i = 1; i < times.size(); ++i) steps.push_back(times[i] - times[i - 1]);
  if (steps.empty()) return 0;
  std::nth_element(steps.begin(), steps.begin() + steps.size() / 2, steps.end());
  return steps[steps.size() / 2];
}

// The first multiple of `every` strictly after `ts` (floor division for negative times).
int64_t BucketEnd(int64_t ts, int64_t every) {
  int64_t q = ts / every;
  if (ts % every < 0) --q;
  return (q + 1) * every;
}

}  // namespace

std::string_view SeriesTransformName(SeriesTransform transform) {
  switch (transform) {
    case SeriesTransform::kNone:
      return "none";
    case SeriesTransform::kLog:
      return "log";
    case SeriesTransform::kLogReturn:
      return "log_return";
    case SeriesTransform::kPctReturn:
      return "pct_return";
  }
  return "none";
}

Result<SeriesTransform> ParseSeriesTransform(std::string_view name) {
  for (SeriesTransform t : {SeriesTransform::kNone, SeriesTransform::kLog,
                            SeriesTransform::kLogReturn, SeriesTransform::kPctReturn}) {
    if (name == SeriesTransformName(t)) return t;
  }
  return InvalidArgument("unknown transform '" + std::string(name) +
                         "' (none, log, log_return or pct_return)");
}

Result<ForecastSeries> ReadSeriesCsv(const std::string& path, const std::string& column) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  LineCursor lines(text);
  std::string_view line;
  if (!lines.Next(&line) || Trim(line).empty()) {
    return ParseError(path + ":1: expected a header line naming the columns");
  }
  const std::vector<std::string> header = SplitCells(line);
  VIGIL_ASSIGN_OR_RETURN(CsvLayout layout, ChooseColumns(path, header, column));
  ForecastSeries series;
  series.source = path + " column '" + layout.value_name + "'";
  while (lines.Next(&line)) {
    if (Trim(line).empty()) continue;
    VIGIL_RETURN_IF_ERROR(ReadCsvRow(path, header, layout, lines.line_number(), line, series));
  }
  VIGIL_RETURN_IF_ERROR(CheckLength(series));
  return series;
}

Status StoreSeriesSpec::Validate() const {
  VIGIL_RETURN_IF_ERROR(Instrument::Parse(instrument).status().WithContext("instrument"));
  if (every_ns < 0) return InvalidArgument("every: must be a positive duration");
  if (from >= to) return InvalidArgument("to: must be after from");
  if (IsPredictionField(field)) return ParsePredictionField(field).status();
  const KindSchema& candles = SchemaOf(DataKind::kCandles);
  if (FieldIndex(candles, field) >= 0) return Status::Ok();
  std::string known;
  for (const FieldSpec& spec : candles.fields) known += std::string(spec.name) + ", ";
  return InvalidArgument("field: unknown field '" + field + "' (" + known +
                         "score:<model>[@horizon] or value:<model>[@horizon])");
}

std::string StoreSeriesSpec::Describe() const {
  std::string out = instrument + " " + field;
  if (every_ns > 0) out += " every " + FormatDuration(every_ns);
  if (transform != SeriesTransform::kNone) out += " " + std::string(SeriesTransformName(transform));
  return out;
}

Result<ForecastSeries> LoadStoreSeries(Store& store, const StoreSeriesSpec& spec) {
  VIGIL_RETURN_IF_ERROR(spec.Validate());
  VIGIL_ASSIGN_OR_RETURN(ForecastSeries series, IsPredictionField(spec.field)
                                                    ? LoadPredictionField(store, spec)
                                                    : LoadCandleField(store, spec));
  if (spec.every_ns > 0) {
    const int64_t skipped = series.skipped;
    VIGIL_ASSIGN_OR_RETURN(series, ResampleAsOf(series, spec.every_ns));
    series.skipped = skipped;
  }
  VIGIL_ASSIGN_OR_RETURN(series, ApplyTransform(series, spec.transform));
  series.source = spec.Describe();
  VIGIL_RETURN_IF_ERROR(CheckLength(series));
  return series;
}

Result<ForecastSeries> ResampleAsOf(const ForecastSeries& series, int64_t every_ns) {
  if (every_ns <= 0) return InvalidArgument("resampling needs a positive step");
  if (!series.has_times()) return InvalidArgument(series.source + ": resampling needs timestamps");
  ForecastSeries out;
  out.source = series.source + " every " + FormatDuration(every_ns);
  if (series.values.empty()) return out;
  const int64_t last_seen = series.times.back().nanos() + MedianSpacing(series.times);
  size_t next = 0;  // the first observation not yet at or before the bucket
  double as_of = series.values.front();
  for (int64_t end = BucketEnd(series.times.front().nanos(), every_ns); end <= last_seen;
       end += every_ns) {
    while (next < series.values.size() && series.times[next].nanos() < end) {
      as_of = series.values[next++];
    }
    out.times.emplace_back(end);
    out.values.push_back(as_of);
  }
  return out;
}

Result<ForecastSeries> ApplyTransform(const ForecastSeries& series, SeriesTransform transform) {
  if (transform == SeriesTransform::kNone) return series;
  ForecastSeries out;
  out.source = series.source;
  out.skipped = series.skipped;
  const auto where = [&](size_t i) {
    std::string at = series.source + ": value " + std::to_string(i + 1);
    if (series.has_times()) at += " (" + series.times[i].ToIso() + ")";
    return at;
  };
  const bool returns = transform != SeriesTransform::kLog;
  for (size_t i = 0; i < series.values.size(); ++i) {
    const double x = series.values[i];
    const bool needs_positive = transform != SeriesTransform::kPctReturn;
    if ((needs_positive && x <= 0) || (!needs_positive && x == 0 && i + 1 < series.values.size())) {
      return DataError(where(i) + " is " + std::to_string(x) + "; " +
                       std::string(SeriesTransformName(transform)) + " needs " +
                       (needs_positive ? "positive values" : "non-zero values"));
    }
    if (returns && i == 0) continue;
    const double previous = i > 0 ? series.values[i - 1] : x;
    const double y = transform == SeriesTransform::kLog         ? std::log(x)
                     : transform == SeriesTransform::kLogReturn ? std::log(x / previous)
                                                                : x / previous - 1.0;
    out.values.push_back(y);
    if (series.has_times()) out.times.push_back(series.times[i]);
  }
  return out;
}

}  // namespace vigil
