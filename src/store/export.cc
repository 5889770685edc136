#include "vigil/store/export.h"

#include <charconv>
#include <cmath>

#include "vigil/core/text_file.h"

namespace vigil {
namespace {

void AppendDouble(std::string* out, double value) {
  if (std::isnan(value)) return;
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, end);
}

void AppendInt(std::string* out, int64_t value) {
  if (value == kMissingInt) return;
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, end);
}

}  // namespace

Result<SeriesKey> ResolveSeries(Store& store, const Instrument& instrument, DataKind kind,
                                const std::string& timeframe) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<SeriesKey> all, store.ListSeries());
  std::vector<SeriesKey> matches;
  for (const SeriesKey& series : all) {
    if (series.instrument == instrument && series.kind == kind &&
        (timeframe.empty() || series.timeframe == timeframe)) {
      matches.push_back(series);
    }
  }
  std::string what = instrument.ToString() + " " + std::string(KindName(kind));
  if (!timeframe.empty()) what += " " + timeframe;
  if (matches.empty()) return NotFound("no stored series " + what);
  if (matches.size() > 1) {
    std::string choices;
    for (const SeriesKey& series : matches)
      choices += (choices.empty() ? "" : ", ") + series.timeframe;
    return InvalidArgument(what + " is stored at several timeframes (" + choices +
                           "): pass --timeframe");
  }
  return matches.front();
}

std::string FrameToCsv(const SeriesKey& series, const Frame& frame) {
  const std::string instrument = series.instrument.ToString();
  std::string out = "ts,instrument";
  for (const ColumnSpec& column : frame.columns()) out += "," + column.name;
  out += '\n';
  out.reserve(out.size() + static_cast<size_t>(frame.rows()) * (40 + 16 * frame.num_columns()));
  for (int64_t row = 0; row < frame.rows(); ++row) {
    out += frame.time(row).ToIso();
    out += ',';
    out += instrument;
    for (size_t column = 0; column < frame.num_columns(); ++column) {
      out += ',';
      if (frame.columns()[column].type == ColumnType::kDouble) {
        AppendDouble(&out, frame.DoublesAt(column)[row]);
      } else {
        AppendInt(&out, frame.Int64sAt(column)[row]);
      }
    }
    out += '\n';
  }
  return out;
}

Result<int64_t> ExportCsv(Store& store, const SeriesKey& series, Timestamp from, Timestamp to,
                          const std::string& path) {
  VIGIL_ASSIGN_OR_RETURN(Frame frame, store.Query(series, from, to));
  VIGIL_RETURN_IF_ERROR(WriteFileAtomically(path, FrameToCsv(series, frame)));
  return frame.rows();
}

}  // namespace vigil
