// Zip reading per PKWARE's APPNOTE.TXT (6.3.x): the end of central directory record
// (4.3.16) gives the member count and where the central directory is; the member's
// central directory header (4.3.12) has its sizes and CRC-32 even when the local header
// defers them to a data descriptor (general purpose bit 3); the local file header
// (4.3.7) says where the data starts. All fields are little-endian.
#include "data/readers/zip_member.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <string>

namespace vigil::data_internal {
namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndOfCentralDirSignature = 0x06054b50;
constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kEndOfCentralDirSize = 22;
constexpr size_t kMaxCommentSize = 0xffff;  // the EOCD comment length is 16 bits
constexpr uint16_t kFlagEncrypted = 1 << 0;
constexpr uint16_t kMethodStored = 0;
constexpr uint16_t kMethodDeflate = 8;
constexpr uint32_t kZip64Marker = 0xffffffff;
// Deflate cannot expand data more than 1032:1 (zlib FAQ, "maximum compression factor"), so
// a larger recorded size is corrupt and must not size an allocation.
constexpr uint64_t kMaxDeflateRatio = 1032;

uint16_t Read16(std::string_view bytes, size_t at) {
  return static_cast<uint16_t>(static_cast<unsigned char>(bytes[at]) |
                               static_cast<unsigned char>(bytes[at + 1]) << 8);
}

uint32_t Read32(std::string_view bytes, size_t at) {
  return static_cast<uint32_t>(Read16(bytes, at)) | static_cast<uint32_t>(Read16(bytes, at + 2))
                                                        << 16;
}

// What the central directory says about the member.
struct MemberEntry {
  std::string name;
  uint16_t flags = 0;
  uint16_t method = 0;
  uint32_t crc32 = 0;
  uint32_t compressed_size = 0;
  uint32_t uncompressed_size = 0;
  uint32_t local_header_offset = 0;
};

// The end of central directory record is last, followed only by a comment of up to 64 KiB,
// so it is searched backwards from the end.
Result<size_t> FindEndOfCentralDirectory(std::string_view bytes) {
  if (bytes.size() < kEndOfCentralDirSize) return ParseError("truncated zip archive");
  const size_t lowest =
      bytes.size() - std::min(bytes.size(), kEndOfCentralDirSize + kMaxCommentSize);
  for (size_t at = bytes.size() - kEndOfCentralDirSize + 1; at-- > lowest;) {
    if (Read32(bytes, at) == kEndOfCentralDirSignature) return at;
  }
  return ParseError("truncated zip archive: no end of central directory record");
}

Result<MemberEntry> ReadCentralEntry(std::string_view bytes, size_t end_record) {
  const uint16_t members = Read16(bytes, end_record + 10);
  const uint32_t directory = Read32(bytes, end_record + 16);
  if (members == 0xffff || directory == kZip64Marker) {
    return ParseError("zip64 archives are not supported: extract the member first");
  }
  if (members != 1) {
    return ParseError("the zip archive holds " + std::to_string(members) +
                      " members; only single-member archives are read: extract the file to read");
  }
  if (directory > end_record || end_record - directory < kCentralHeaderSize ||
      Read32(bytes, directory) != kCentralHeaderSignature) {
    return ParseError("corrupt zip archive: bad central directory offset");
  }
  MemberEntry entry;
  entry.flags = Read16(bytes, directory + 8);
  entry.method = Read16(bytes, directory + 10);
  entry.crc32 = Read32(bytes, directory + 16);
  entry.compressed_size = Read32(bytes, directory + 20);
  entry.uncompressed_size = Read32(bytes, directory + 24);
  const uint16_t name_length = Read16(bytes, directory + 28);
  entry.local_header_offset = Read32(bytes, directory + 42);
  if (end_record - directory - kCentralHeaderSize < name_length) {
    return ParseError("corrupt zip archive: member name runs past the central directory");
  }
  entry.name = std::string(bytes.substr(directory + kCentralHeaderSize, name_length));
  return entry;
}

// The member's compressed bytes, located through its local file header.
Result<std::string_view> LocateData(std::string_view bytes, const MemberEntry& entry) {
  const size_t header = entry.local_header_offset;
  if (header > bytes.size() || bytes.size() - header < kLocalHeaderSize ||
      Read32(bytes, header) != kLocalHeaderSignature) {
    return ParseError("corrupt zip archive: no local file header for '" + entry.name + "'");
  }
  const size_t start = header + kLocalHeaderSize + Read16(bytes, header + 26) +
                       Read16(bytes, header + 28);  // + name and extra field lengths
  if (start > bytes.size() || bytes.size() - start < entry.compressed_size) {
    return ParseError("truncated zip archive: '" + entry.name + "' needs " +
                      std::to_string(entry.compressed_size) + " bytes of data");
  }
  return bytes.substr(start, entry.compressed_size);
}

// Owns a zlib inflate stream for its lifetime.
class RawInflater {
 public:
  RawInflater() { ready_ = inflateInit2(&stream_, -MAX_WBITS) == Z_OK; }
  ~RawInflater() {
    if (ready_) inflateEnd(&stream_);
  }
  RawInflater(const RawInflater&) = delete;
  RawInflater& operator=(const RawInflater&) = delete;

  bool ready() const { return ready_; }
  z_stream* stream() { return &stream_; }

 private:
  z_stream stream_{};
  bool ready_ = false;
};

// Inflates a raw deflate stream (RFC 1951, no zlib or gzip wrapper: -MAX_WBITS) into at
// most `expected` bytes; more output means the recorded size is wrong.
Result<std::string> Inflate(std::string_view compressed, size_t expected) {
  if (expected > compressed.size() * kMaxDeflateRatio + 1) {
    return ParseError("recorded size " + std::to_string(expected) + " is impossible for " +
                      std::to_string(compressed.size()) + " bytes of deflate data");
  }
  RawInflater inflater;
  if (!inflater.ready()) return Internal("zlib inflateInit2 failed");
  z_stream* stream = inflater.stream();
  stream->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream->avail_in = static_cast<uInt>(compressed.size());
  std::string out(expected + 1, '\0');  // one spare byte to notice an oversized member
  stream->next_out = reinterpret_cast<Bytef*>(out.data());
  stream->avail_out = static_cast<uInt>(out.size());
  const int code = inflate(stream, Z_FINISH);
  if (code == Z_DATA_ERROR || code == Z_MEM_ERROR || code == Z_NEED_DICT) {
    return ParseError(std::string("corrupt deflate data: ") +
                      (stream->msg != nullptr ? stream->msg : "inflate failed"));
  }
  if (code != Z_STREAM_END) {
    return ParseError(stream->avail_out == 0 ? "member inflates to more than its recorded size"
                                             : "truncated deflate data");
  }
  out.resize(stream->total_out);
  return out;
}

Result<std::string> Uncompress(std::string_view data, const MemberEntry& entry) {
  if (entry.method == kMethodStored) return std::string(data);
  if (entry.method == kMethodDeflate) return Inflate(data, entry.uncompressed_size);
  return ParseError("zip member '" + entry.name + "' uses compression method " +
                    std::to_string(entry.method) + "; only stored (0) and deflate (8) are read");
}

Status CheckMember(const MemberEntry& entry, const std::string& data) {
  if (data.size() != entry.uncompressed_size) {
    return ParseError("zip member '" + entry.name + "' has " + std::to_string(data.size()) +
                      " bytes, the archive records " + std::to_string(entry.uncompressed_size));
  }
  const uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(data.data()),
                          static_cast<uInt>(data.size()));
  if (crc != entry.crc32) return ParseError("zip member '" + entry.name + "': CRC-32 mismatch");
  return Status::Ok();
}

}  // namespace

bool LooksLikeZip(std::string_view bytes) {
  return bytes.size() >= 4 && Read32(bytes, 0) == kLocalHeaderSignature;
}

Result<ZipMember> ExtractSingleZipMember(std::string_view bytes) {
  VIGIL_ASSIGN_OR_RETURN(size_t end_record, FindEndOfCentralDirectory(bytes));
  VIGIL_ASSIGN_OR_RETURN(MemberEntry entry, ReadCentralEntry(bytes, end_record));
  if (entry.flags & kFlagEncrypted) {
    return ParseError("zip member '" + entry.name + "' is encrypted; decrypt and extract it first");
  }
  if (entry.name.empty() || entry.name.back() == '/') {
    return ParseError("the zip archive's only member is a directory, not a file");
  }
  VIGIL_ASSIGN_OR_RETURN(std::string_view compressed, LocateData(bytes, entry));
  Result<std::string> data = Uncompress(compressed, entry);
  if (!data.ok()) return data.status().WithContext("zip member '" + entry.name + "'");
  VIGIL_RETURN_IF_ERROR(CheckMember(entry, *data));
  return ZipMember{entry.name, std::move(*data)};
}

}  // namespace vigil::data_internal
