#include "store/postgres/postgres_copy.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "store/store_common.h"
#include "vigil/data/market_data.h"

namespace vigil::postgres_internal {
namespace {

using store_internal::Utf8SequenceLength;

constexpr std::string_view kNull = "\\N";
constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD in UTF-8
// Start of every binary COPY stream (PostgreSQL docs, "COPY: Binary Format").
constexpr std::string_view kBinarySignature{"PGCOPY\n\xff\r\n\0", 11};

// Binary COPY is big-endian (network order).
uint64_t ReadUint64(const char* data) {
  uint64_t value;
  std::memcpy(&value, data, sizeof(value));
  if constexpr (std::endian::native == std::endian::little) value = __builtin_bswap64(value);
  return value;
}

int32_t ReadInt32(const char* data) {
  uint32_t value;
  std::memcpy(&value, data, sizeof(value));
  if constexpr (std::endian::native == std::endian::little) value = __builtin_bswap32(value);
  return static_cast<int32_t>(value);
}

int16_t ReadInt16(const char* data) {
  uint16_t value;
  std::memcpy(&value, data, sizeof(value));
  if constexpr (std::endian::native == std::endian::little) value = __builtin_bswap16(value);
  return static_cast<int16_t>(value);
}

}  // namespace

void AppendCopyInt(int64_t value, std::string* out) {
  char buffer[24];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, end);
}

void AppendCopyDouble(double value, std::string* out) {
  if (std::isnan(value)) {
    out->append(kNull);
    return;
  }
  // 32 bytes hold any shortest round-trip double ("-2.2250738585072014e-308" is 24).
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, end);
}

CopyRowEncoder::CopyRowEncoder(const Frame& frame, int64_t series_id)
    : frame_(frame), series_id_(series_id) {
  columns_.reserve(frame.num_columns());
  for (size_t index = 0; index < frame.num_columns(); ++index) {
    Column column;
    if (frame.columns()[index].type == ColumnType::kDouble) {
      column.doubles = frame.DoublesAt(index).data();
    } else {
      column.ints = frame.Int64sAt(index).data();
    }
    columns_.push_back(column);
  }
}

void CopyRowEncoder::AppendRow(int64_t row, std::string* out) const {
  AppendCopyInt(series_id_, out);
  out->push_back('\t');
  AppendCopyInt(frame_.timestamps()[row], out);
  for (const Column& column : columns_) {
    out->push_back('\t');
    if (column.doubles != nullptr) {
      AppendCopyDouble(column.doubles[row], out);
    } else if (column.ints[row] == kMissingInt) {
      out->append(kNull);
    } else {
      AppendCopyInt(column.ints[row], out);
    }
  }
  out->push_back('\n');
}

BinaryCopyDecoder::BinaryCopyDecoder(Frame* frame) : timestamps_(&frame->mutable_timestamps()) {
  columns_.reserve(frame->num_columns());
  for (size_t index = 0; index < frame->num_columns(); ++index) {
    Column column;
    column.name = frame->columns()[index].name;
    if (frame->columns()[index].type == ColumnType::kDouble) {
      column.doubles = &frame->MutableDoublesAt(index);
    } else {
      column.ints = &frame->MutableInt64sAt(index);
    }
    columns_.push_back(column);
  }
}

Status BinaryCopyDecoder::Consume(std::string_view chunk) {
  // The common case, a chunk of whole rows, is parsed in place without copying.
  if (pending_.empty()) {
    VIGIL_ASSIGN_OR_RETURN(size_t used, Parse(chunk));
    pending_.assign(chunk.substr(used));
    return Status::Ok();
  }
  pending_.append(chunk);
  VIGIL_ASSIGN_OR_RETURN(size_t used, Parse(pending_));
  pending_.erase(0, used);
  return Status::Ok();
}

Status BinaryCopyDecoder::Finish() const {
  if (!pending_.empty() || !trailer_seen_) {
    return DatabaseError("binary COPY stream ended early (" + std::to_string(pending_.size()) +
                         " bytes of an incomplete row)");
  }
  return Status::Ok();
}

Result<size_t> BinaryCopyDecoder::Parse(std::string_view data) {
  size_t used = 0;
  if (!header_done_) {
    VIGIL_ASSIGN_OR_RETURN(used, ParseHeader(data));
    if (used == 0) return 0;
    header_done_ = true;
  }
  while (used < data.size() && !trailer_seen_) {
    VIGIL_ASSIGN_OR_RETURN(size_t row_bytes, ParseRow(data.substr(used)));
    if (row_bytes == 0) break;
    used += row_bytes;
  }
  if (trailer_seen_ && used < data.size()) {
    return DatabaseError("binary COPY stream has data after its trailer");
  }
  return used;
}

Result<size_t> BinaryCopyDecoder::ParseHeader(std::string_view data) {
  constexpr size_t kFixedBytes = kBinarySignature.size() + 8;  // + flags + extension length
  if (data.size() < kFixedBytes) return 0;
  if (data.substr(0, kBinarySignature.size()) != kBinarySignature) {
    return DatabaseError("binary COPY stream does not start with the PGCOPY signature");
  }
  const int32_t extension = ReadInt32(data.data() + kBinarySignature.size() + 4);
  if (extension < 0) return DatabaseError("binary COPY header has a negative extension length");
  if (data.size() < kFixedBytes + extension) return 0;
  return kFixedBytes + extension;
}

Result<size_t> BinaryCopyDecoder::ParseRow(std::string_view data) {
  if (data.size() < 2) return 0;
  const int16_t fields = ReadInt16(data.data());
  if (fields == -1) {
    trailer_seen_ = true;
    return 2;
  }
  if (fields != static_cast<int16_t>(columns_.size() + 1)) {
    return DatabaseError("binary COPY row has " + std::to_string(fields) + " fields, expected " +
                         std::to_string(columns_.size() + 1));
  }
  // Nothing is appended until the whole row is known to be here.
  VIGIL_ASSIGN_OR_RETURN(size_t row_bytes, RowLength(data));
  if (row_bytes > 0) AppendRow(data.data());
  return row_bytes;
}

Result<size_t> BinaryCopyDecoder::RowLength(std::string_view data) const {
  size_t pos = 2;
  for (size_t field = 0; field <= columns_.size(); ++field) {
    if (pos + 4 > data.size()) return 0;
    const int32_t length = ReadInt32(data.data() + pos);
    pos += 4;
    if (length == -1 && field > 0) continue;  // NULL; ts never is
    if (length != 8) {
      const std::string name = field == 0 ? "ts" : std::string(columns_[field - 1].name);
      return DatabaseError("column " + name + ": binary value of " + std::to_string(length) +
                           " bytes, expected 8");
    }
    if (pos + 8 > data.size()) return 0;
    pos += 8;
  }
  return pos;
}

void BinaryCopyDecoder::AppendRow(const char* row) {
  size_t pos = 2 + 4;  // field count, ts length
  timestamps_->push_back(static_cast<int64_t>(ReadUint64(row + pos)));
  pos += 8;
  for (const Column& column : columns_) {
    const bool null = ReadInt32(row + pos) == -1;
    pos += 4;
    const uint64_t bits = null ? 0 : ReadUint64(row + pos);
    if (column.doubles != nullptr) {
      column.doubles->push_back(null ? std::numeric_limits<double>::quiet_NaN()
                                     : std::bit_cast<double>(bits));
    } else {
      column.ints->push_back(null ? kMissingInt : static_cast<int64_t>(bits));
    }
    if (!null) pos += 8;
  }
}

void AppendCopyText(std::string_view text, std::string* out) {
  for (size_t pos = 0; pos < text.size();) {
    size_t length = Utf8SequenceLength(text, pos);
    if (length == 0) {
      out->append(kReplacementChar);
      ++pos;
      continue;
    }
    char c = text[pos];
    if (length > 1) {
      out->append(text.substr(pos, length));
    } else if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\t') {
      out->append("\\t");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\r') {
      out->append("\\r");
    } else if (c != '\0') {
      out->push_back(c);
    }
    pos += length;
  }
}

std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    size_t length = Utf8SequenceLength(text, pos);
    if (length == 0) {
      out.append(kReplacementChar);
      ++pos;
    } else {
      if (text[pos] != '\0') out.append(text.substr(pos, length));
      pos += length;
    }
  }
  return out;
}

}  // namespace vigil::postgres_internal
