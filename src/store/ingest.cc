#include "vigil/store/ingest.h"

#include <algorithm>
#include <set>

#include "vigil/core/clock.h"
#include "vigil/core/logging.h"

namespace vigil {
namespace {

std::vector<std::string> InstrumentsOf(const ParsedFile& parsed) {
  std::set<std::string> names;
  for (const RecordBatch& batch : parsed.batches) names.insert(batch.series.instrument.ToString());
  return {names.begin(), names.end()};
}

// Records the outcome of one file in `ingest_runs` (best effort: the data is already
// committed, so a failure here is logged, not reported as a lost file).
void RecordRun(Store& store, const FileIngestResult& result, std::string_view kind,
               int64_t rows_existing) {
  auto quote = [](std::string_view text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  };
  std::string sql =
      "INSERT INTO ingest_runs (source, format, kind, rows_read, rows_inserted, rows_existing, "
      "rows_rejected, finished_at) VALUES (" +
      quote(result.path) + ", " + quote(result.format) + ", " + quote(kind) + ", " +
      std::to_string(result.rows_read) + ", " + std::to_string(result.rows_inserted) + ", " +
      std::to_string(rows_existing) + ", " + std::to_string(result.rows_rejected) + ", " +
      std::to_string(SystemClock().Now().nanos()) + ")";
  Status status = store.Execute(sql);
  if (!status.ok())
    VIGIL_LOG_WARN("{}: could not record the ingest run: {}", result.path, status.ToString());
}

FileIngestResult IngestOne(Store& store, MarketFileReader& reader, DataKind kind,
                           const std::string& path) {
  FileIngestResult result;
  result.path = path;
  Result<ParsedFile> parsed = reader.Read(path);
  if (!parsed.ok()) {
    result.status = parsed.status();
    return result;
  }
  result.format = parsed->format;
  result.rows_read = parsed->rows_read;
  WriteUnit unit{path, parsed->batches, parsed->rejects};
  Result<WriteStats> stats = store.Write(unit);
  if (!stats.ok()) {
    result.status = stats.status().WithContext(path);
    return result;
  }
  result.rows_stored = parsed->rows_valid();
  result.rows_inserted = stats->rows_inserted;
  result.rows_rejected = static_cast<int64_t>(parsed->rejects.size());
  result.instruments = InstrumentsOf(*parsed);
  result.rejects = std::move(parsed->rejects);
  result.reports = std::move(parsed->reports);
  RecordRun(store, result, KindName(kind), stats->rows_existing);
  return result;
}

}  // namespace

int64_t IngestReport::rows_read() const {
  int64_t total = 0;
  for (const FileIngestResult& file : files) total += file.rows_read;
  return total;
}

int64_t IngestReport::rows_stored() const {
  int64_t total = 0;
  for (const FileIngestResult& file : files) total += file.rows_stored;
  return total;
}

int64_t IngestReport::rows_rejected() const {
  int64_t total = 0;
  for (const FileIngestResult& file : files) total += file.rows_rejected;
  return total;
}

std::vector<std::string> IngestReport::instruments() const {
  std::set<std::string> names;
  for (const FileIngestResult& file : files)
    names.insert(file.instruments.begin(), file.instruments.end());
  return {names.begin(), names.end()};
}

int IngestReport::ExitCode() const {
  bool any_rejected = false;
  for (const FileIngestResult& file : files) {
    if (!file.status.ok()) return kExitNothingStored;
    any_rejected = any_rejected || file.rows_rejected > 0;
  }
  return any_rejected ? kExitSomeRejected : kExitOk;
}

IngestReport IngestFiles(Store& store, const std::vector<std::string>& paths,
                         const IngestOptions& options) {
  IngestReport report;
  std::string current_path;
  ReadOptions read = options.read;
  if (options.progress) {
    read.progress = [&options, &current_path](size_t done, size_t total) {
      options.progress(current_path, done, total);
    };
  }
  // One reader for all files so an order-book snapshot file and its update file continue
  // the same book.
  MarketFileReader reader(read);
  for (const std::string& path : paths) {
    current_path = path;
    report.files.push_back(IngestOne(store, reader, options.read.kind, path));
  }
  return report;
}

}  // namespace vigil
