// CSV output of a simulated market: one file per kind in the layout the generic CSV
// reader takes back (ts, instrument, then the kind's fields), plus the incident labels.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <system_error>

#include "vigil/core/text_file.h"
#include "vigil/data/simulator.h"

namespace vigil {
namespace {

void AppendDouble(double value, std::string& out) {
  if (std::isnan(value)) return;
  char buffer[32];
  // std::to_chars without a precision gives the shortest text that parses back to the
  // same double.
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, end);
}

void AppendInt(int64_t value, std::string& out) {
  if (value == kMissingInt) return;
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, end);
}

std::string KindHeader(const KindSchema& schema) {
  std::string header = "ts,instrument";
  for (const FieldSpec& field : schema.fields) {
    header += ',';
    header += field.name;
  }
  header += '\n';
  return header;
}

void AppendBatchRows(const RecordBatch& batch, std::string& out) {
  const KindSchema& schema = SchemaOf(batch.series.kind);
  const std::string instrument = batch.series.instrument.ToString();
  const Frame& frame = batch.frame;
  for (int64_t row = 0; row < frame.rows(); ++row) {
    out += frame.time(row).ToIso();
    out += ',';
    out += instrument;
    for (size_t column = 0; column < schema.fields.size(); ++column) {
      out += ',';
      if (schema.fields[column].type == ColumnType::kDouble) {
        AppendDouble(frame.DoublesAt(column)[row], out);
      } else {
        AppendInt(frame.Int64sAt(column)[row], out);
      }
    }
    out += '\n';
  }
}

std::string EventsCsv(const std::vector<SimulatedEvent>& events) {
  std::string out = "start,end,instrument,type\n";
  for (const SimulatedEvent& event : events) {
    out += event.start.ToIso() + ',' + event.end.ToIso() + ',' + event.instrument + ',' +
           event.type + '\n';
  }
  return out;
}

Status WriteFile(const std::filesystem::path& path, std::string_view contents,
                 std::vector<std::string>* written_files) {
  VIGIL_RETURN_IF_ERROR(WriteFileAtomically(path.string(), contents));
  if (written_files != nullptr) written_files->push_back(path.string());
  return Status::Ok();
}

}  // namespace

Status WriteSimulationCsv(const SimulatedMarket& market, const std::string& dir,
                          std::vector<std::string>* written_files) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return IoError("cannot create directory '" + dir + "': " + error.message());
  for (DataKind kind : AllKinds()) {
    auto of_kind = [kind](const RecordBatch& batch) {
      return batch.series.kind == kind && !batch.frame.empty();
    };
    if (std::none_of(market.batches.begin(), market.batches.end(), of_kind)) continue;
    const KindSchema& schema = SchemaOf(kind);
    std::string text = KindHeader(schema);
    for (const RecordBatch& batch : market.batches) {
      if (of_kind(batch)) AppendBatchRows(batch, text);
    }
    VIGIL_RETURN_IF_ERROR(WriteFile(
        std::filesystem::path(dir) / (std::string(schema.name) + ".csv"), text, written_files));
  }
  return WriteFile(std::filesystem::path(dir) / "events.csv", EventsCsv(market.events),
                   written_files);
}

}  // namespace vigil
