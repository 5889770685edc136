// Internal to the PostgreSQL backend: COPY data for market-data frames. Writes use the
// text format (one row per line, fields separated by tabs, NULL written \N); queries
// read the binary format.
//
// Encoding: NaN / kMissingInt become \N; doubles are written with std::to_chars in the
// shortest form that reads back to the same bits, so a write and a query round-trip
// exactly.
//
//   CopyRowEncoder encoder(batch.frame, series_id);
//   for (int64_t row = 0; row < batch.frame.rows(); ++row) encoder.AppendRow(row, &text);
//   BinaryCopyDecoder decoder(&frame);
//   VIGIL_RETURN_IF_ERROR(decoder.Consume(chunk));  // for every chunk of COPY ... TO STDOUT
//   VIGIL_RETURN_IF_ERROR(decoder.Finish());
//
// Thread-safety: none; each object is used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/frame.h"
#include "vigil/core/status.h"

namespace vigil::postgres_internal {

// Writes rows "series_id \t ts \t field... \n" of a frame whose columns are a kind's
// fields in schema order. The frame must outlive the encoder.
class CopyRowEncoder {
 public:
  CopyRowEncoder(const Frame& frame, int64_t series_id);
  void AppendRow(int64_t row, std::string* out) const;

 private:
  struct Column {
    const double* doubles = nullptr;  // exactly one of the two is set
    const int64_t* ints = nullptr;
  };
  const Frame& frame_;
  int64_t series_id_;
  std::vector<Column> columns_;
};

// Appends the rows of a binary COPY stream (COPY (SELECT ts, fields...) TO STDOUT
// (FORMAT binary)) to a frame with matching columns. Binary, because the server then
// skips formatting every double as text and this side skips parsing it: Query() of a
// million candles is about twice as fast. Chunks may split rows anywhere. The frame
// must outlive the decoder; call Finish() and then Frame::CheckConsistent.
class BinaryCopyDecoder {
 public:
  explicit BinaryCopyDecoder(Frame* frame);
  // DatabaseError naming the column when the stream has the wrong shape.
  Status Consume(std::string_view chunk);
  // Fails if the stream ended inside the header or a row, or without its trailer.
  Status Finish() const;

 private:
  struct Column {
    std::vector<double>* doubles = nullptr;  // exactly one of the two is set
    std::vector<int64_t>* ints = nullptr;
    std::string_view name;
  };
  // Parses what it can from `data`; returns the bytes consumed (a whole header or rows).
  Result<size_t> Parse(std::string_view data);
  Result<size_t> ParseHeader(std::string_view data);
  // Bytes of the row (or trailer) at the start of `data`, or 0 if it is not complete yet.
  Result<size_t> ParseRow(std::string_view data);
  // Length of a row whose field count is right, or 0 if it is incomplete; checks sizes.
  Result<size_t> RowLength(std::string_view data) const;
  // Appends a complete, checked row.
  void AppendRow(const char* row);

  std::vector<int64_t>* timestamps_;
  std::vector<Column> columns_;
  std::string pending_;  // an incomplete header or row carried to the next chunk
  bool header_done_ = false;
  bool trailer_seen_ = false;
};

// Appends `value` as one COPY text field (written exactly as an integer).
void AppendCopyInt(int64_t value, std::string* out);
// Appends `value` as one COPY text field: \N for NaN, else the shortest text that reads
// back to the same bits ("inf" and "-inf" included, which PostgreSQL accepts).
void AppendCopyDouble(double value, std::string* out);
// Appends `text` as one COPY text field: valid UTF-8 (invalid bytes become U+FFFD, NUL
// bytes are dropped, since PostgreSQL text accepts neither) with backslash, tab, newline
// and carriage return escaped.
void AppendCopyText(std::string_view text, std::string* out);
// `text` with invalid UTF-8 sequences replaced by U+FFFD and NUL bytes removed.
std::string SanitizeUtf8(std::string_view text);

}  // namespace vigil::postgres_internal
