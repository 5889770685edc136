// Internal to vigil_data: turns the cells of one table row (a CSV line, a flattened
// JSON-lines object) into a RecordBatch row, or into a RejectedRow that says which field
// was wrong and why. Shared by the CSV and JSON-lines readers.
//
//   RowAssembler rows(sink);
//   VIGIL_RETURN_IF_ERROR(rows.SetPlan(std::move(plan)));
//   for (each data row) VIGIL_RETURN_IF_ERROR(rows.Add(cells, line, raw, unterminated));
//
// Instruments come from ReadOptions, an `instrument` column, symbol / venue columns or
// the file name (see ResolveInstrument); rows of several instruments go to separate
// batches. Missing trade / event ids become the row's ordinal among the rows of the same
// instrument and timestamp in this file, so re-reading a file yields the same keys.
// Thread-safety: one assembler per parse; it writes into the sink it was given.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "data/readers/field_aliases.h"
#include "data/readers/format_readers.h"

namespace vigil::data_internal {

class RowAssembler {
 public:
  explicit RowAssembler(BatchSink* sink);

  // Installs the column plan for the rows that follow (JSON lines may change it per
  // line). Fails only when the plan needs a fixed instrument that cannot be resolved.
  Status SetPlan(ColumnPlan plan);

  // Adds one row (or rejects it). `unterminated` marks the last line of a file that
  // lacks its newline: if it is short of columns it is reported as truncated. Returns
  // non-OK only when the file as a whole is unusable (its venue cannot be told).
  Status Add(std::span<const std::string_view> cells, int64_t line, std::string_view raw,
             bool unterminated = false);

  // Pre-sizes the batch of a single-instrument file for about `rows` rows, saving the
  // reallocation copies of a large file. A no-op when rows go to several instruments.
  void ReserveRows(int64_t rows);

 private:
  struct RowContext {
    std::span<const std::string_view> cells;
    int64_t line;
    std::string_view raw;
    RecordBatch* batch;  // once known; also names the instrument in rejects
  };
  struct BookRow {
    int64_t side;
    int64_t level;
    double price;
    double size;
  };

  // The batch for the row's instrument; nullptr when the row was rejected.
  Result<RecordBatch*> BatchForRow(RowContext& row);
  Result<RecordBatch*> ResolveBatch(RowContext& row);
  Result<RecordBatch*> ResolveFromVenueAndSymbol(RowContext& row);
  bool ParseTs(RowContext& row, int64_t* ts);
  bool FillValues(RowContext& row, int64_t ts);
  bool ParseIntField(RowContext& row, size_t field, std::string_view cell, int64_t ts,
                     int64_t* out);
  void AddWideBookRows(RowContext& row, int64_t ts);
  int64_t NextOrdinal(const RecordBatch* batch, int64_t ts);
  void Reject(const RowContext& row, std::string field, std::string reason);

  BatchSink* sink_;
  const KindSchema& schema_;
  ColumnPlan plan_;
  std::vector<int> slot_;  // field -> index into doubles_ or ints_
  std::vector<double> doubles_;
  std::vector<int64_t> ints_;
  RecordBatch* fixed_batch_ = nullptr;
  std::string fixed_instrument_;
  // Per-row instrument resolution, cached by the raw cell text.
  std::string key_;  // scratch
  std::string last_key_;
  RecordBatch* last_batch_ = nullptr;
  std::unordered_map<std::string, RecordBatch*> batch_by_key_;
  std::unordered_map<const RecordBatch*, std::unordered_map<int64_t, int64_t>> ordinals_;
  std::vector<BookRow> book_scratch_;
};

}  // namespace vigil::data_internal
