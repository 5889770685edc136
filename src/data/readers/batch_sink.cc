#include <algorithm>
#include <filesystem>

#include "data/readers/format_readers.h"

namespace vigil::data_internal {

BatchSink::BatchSink(const ReadOptions& options, std::string source)
    : options_(options), source_(std::move(source)) {}

std::string BatchSink::file_name() const {
  return std::filesystem::path(source_).filename().string();
}

RecordBatch& BatchSink::BatchFor(const Instrument& instrument, std::string_view timeframe) {
  std::string tf(timeframe);
  // Only kinds split by timeframe carry one; `--timeframe` must not leak into trade or
  // funding series.
  if (!SchemaOf(options_.kind).has_timeframe) tf.clear();
  if (tf.empty() && SchemaOf(options_.kind).has_timeframe) tf = options_.timeframe;
  auto key = std::make_pair(instrument, tf);
  auto it = batches_.find(key);
  if (it != batches_.end()) return it->second;
  RecordBatch batch;
  batch.series.instrument = instrument;
  batch.series.kind = options_.kind;
  batch.series.timeframe = tf;
  batch.frame = MakeFrame(SchemaOf(options_.kind));
  return batches_.emplace(key, std::move(batch)).first->second;
}

void BatchSink::AddRow(RecordBatch& batch, int64_t line, int64_t ts,
                       std::span<const double> doubles, std::span<const int64_t> ints) {
  batch.frame.AppendRow(ts, doubles, ints);
  batch.lines.push_back(line);
}

void BatchSink::Reject(int64_t line, std::string_view instrument, std::string field,
                       std::string reason, std::string_view raw) {
  RejectedRow row;
  row.source = source_;
  row.line = line;
  row.instrument = std::string(instrument);
  row.kind = options_.kind;
  row.field = std::move(field);
  row.reason = std::move(reason);
  row.raw = std::string(raw.substr(0, 512));
  rejects_.push_back(std::move(row));
}

void BatchSink::ReportProgress(size_t done, size_t total) const {
  if (options_.progress) options_.progress(done, total);
}

ParsedFile BatchSink::Finish(std::string format) {
  ParsedFile out;
  out.path = source_;
  out.format = std::move(format);
  out.rows_read = rows_read_;
  const bool needs_timeframe = SchemaOf(options_.kind).has_timeframe;
  const std::string name_timeframe = TimeframeFromFileName(file_name());
  for (auto& [key, batch] : batches_) {
    if (batch.frame.empty()) continue;
    if (needs_timeframe && batch.series.timeframe.empty()) {
      batch.series.timeframe = name_timeframe;
      if (batch.series.timeframe.empty()) {
        std::vector<int64_t> sorted(batch.frame.timestamps().begin(),
                                    batch.frame.timestamps().end());
        std::sort(sorted.begin(), sorted.end());
        batch.series.timeframe = TimeframeFromSpacing(sorted);
      }
    }
    out.reports.push_back(ValidateBatch(&batch, options_.validation, source_, &rejects_));
    if (!batch.frame.empty()) out.batches.push_back(std::move(batch));
  }
  batches_.clear();
  std::stable_sort(rejects_.begin(), rejects_.end(),
                   [](const RejectedRow& a, const RejectedRow& b) { return a.line < b.line; });
  out.rejects = std::move(rejects_);
  rejects_.clear();
  return out;
}

}  // namespace vigil::data_internal
