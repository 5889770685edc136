// Single-member zip archives: archives are built here byte by byte after PKWARE's
// APPNOTE.TXT (local headers 4.3.7, central directory 4.3.12, end record 4.3.16), with
// zlib's own deflate and crc32, then opened directly and through MarketFileReader::Read.
#include "data/readers/zip_member.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "vigil/core/text_file.h"
#include "vigil/data/reader.h"

namespace vigil::data_internal {
namespace {

constexpr uint16_t kStored = 0;
constexpr uint16_t kDeflated = 8;
constexpr uint16_t kEncrypted = 1 << 0;
constexpr uint16_t kDataDescriptor = 1 << 3;

struct Member {
  std::string name;
  std::string data;
  uint16_t method = kDeflated;
  uint16_t flags = 0;
};

void Put16(std::string* out, uint32_t value) {
  out->push_back(static_cast<char>(value & 0xff));
  out->push_back(static_cast<char>((value >> 8) & 0xff));
}

void Put32(std::string* out, uint32_t value) {
  Put16(out, value & 0xffff);
  Put16(out, value >> 16);
}

// Owns the deflate stream (zlib's deflateEnd must run on every path).
struct Deflater {
  z_stream stream{};
  Deflater() {
    EXPECT_EQ(
        deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
        Z_OK);
  }
  ~Deflater() { deflateEnd(&stream); }
};

// Raw deflate (no zlib header), as zip method 8 stores it.
std::string Deflate(const std::string& data) {
  Deflater deflater;
  std::string out(deflateBound(&deflater.stream, data.size()), '\0');
  deflater.stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  deflater.stream.avail_in = static_cast<uInt>(data.size());
  deflater.stream.next_out = reinterpret_cast<Bytef*>(out.data());
  deflater.stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&deflater.stream, Z_FINISH), Z_STREAM_END);
  out.resize(deflater.stream.total_out);
  return out;
}

uint32_t Crc(const std::string& data) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

std::string MakeZip(const std::vector<Member>& members) {
  std::string out;
  std::string central;
  for (const Member& member : members) {
    const std::string stored = member.method == kDeflated ? Deflate(member.data) : member.data;
    const uint32_t crc = Crc(member.data);
    const uint32_t offset = static_cast<uint32_t>(out.size());
    const bool descriptor = member.flags & kDataDescriptor;
    Put32(&out, 0x04034b50);
    Put16(&out, 20);  // version needed: 2.0 (deflate)
    Put16(&out, member.flags);
    Put16(&out, member.method);
    Put32(&out, 0);  // DOS time and date
    Put32(&out, descriptor ? 0 : crc);
    Put32(&out, descriptor ? 0 : static_cast<uint32_t>(stored.size()));
    Put32(&out, descriptor ? 0 : static_cast<uint32_t>(member.data.size()));
    Put16(&out, static_cast<uint32_t>(member.name.size()));
    Put16(&out, 0);  // extra field length
    out += member.name + stored;
    if (descriptor) {
      Put32(&out, 0x08074b50);
      Put32(&out, crc);
      Put32(&out, static_cast<uint32_t>(stored.size()));
      Put32(&out, static_cast<uint32_t>(member.data.size()));
    }
    Put32(&central, 0x02014b50);
    Put16(&central, 20);  // version made by
    Put16(&central, 20);  // version needed
    Put16(&central, member.flags);
    Put16(&central, member.method);
    Put32(&central, 0);
    Put32(&central, crc);
    Put32(&central, static_cast<uint32_t>(stored.size()));
    Put32(&central, static_cast<uint32_t>(member.data.size()));
    Put16(&central, static_cast<uint32_t>(member.name.size()));
    Put32(&central, 0);  // extra and comment lengths
    Put32(&central, 0);  // disk number start, internal attributes
    Put32(&central, 0);  // external attributes
    Put32(&central, offset);
    central += member.name;
  }
  const uint32_t directory = static_cast<uint32_t>(out.size());
  out += central;
  Put32(&out, 0x06054b50);
  Put32(&out, 0);  // this disk, disk with the directory
  Put16(&out, static_cast<uint32_t>(members.size()));
  Put16(&out, static_cast<uint32_t>(members.size()));
  Put32(&out, static_cast<uint32_t>(central.size()));
  Put32(&out, directory);
  Put16(&out, 0);  // comment length
  return out;
}

const std::string kCandles =
    "date,open,high,low,close,volume\n"
    "2024-01-01T00:00:00Z,0.05,0.051,0.049,0.0505,10\n"
    "2024-01-01T00:05:00Z,0.0505,0.052,0.05,0.051,12\n"
    "2024-01-01T00:10:00Z,0.051,0.051,0.0501,0.0502,7\n";

std::string ExtractError(const std::string& archive) {
  Result<ZipMember> member = ExtractSingleZipMember(archive);
  EXPECT_FALSE(member.ok());
  return member.ok() ? "" : member.status().message();
}

TEST(ZipMemberTest, StoredAndDeflatedMembersRoundTrip) {
  for (uint16_t method : {kStored, kDeflated}) {
    const std::string archive = MakeZip({{"dir/ETH_BTC-5m.csv", kCandles, method}});
    EXPECT_TRUE(LooksLikeZip(archive));
    Result<ZipMember> member = ExtractSingleZipMember(archive);
    ASSERT_TRUE(member.ok()) << member.status().ToString();
    EXPECT_EQ(member->name, "dir/ETH_BTC-5m.csv");
    EXPECT_EQ(member->data, kCandles);
  }
  EXPECT_FALSE(LooksLikeZip(kCandles));
}

// With general purpose bit 3 the local header holds zeros; the central directory has the
// real CRC and sizes.
TEST(ZipMemberTest, DataDescriptorMembersUseTheCentralDirectory) {
  const std::string archive = MakeZip({{"a.csv", kCandles, kDeflated, kDataDescriptor}});
  Result<ZipMember> member = ExtractSingleZipMember(archive);
  ASSERT_TRUE(member.ok()) << member.status().ToString();
  EXPECT_EQ(member->data, kCandles);
}

TEST(ZipMemberTest, EmptyMemberIsEmpty) {
  Result<ZipMember> member = ExtractSingleZipMember(MakeZip({{"empty.csv", "", kDeflated}}));
  ASSERT_TRUE(member.ok()) << member.status().ToString();
  EXPECT_EQ(member->data, "");
}

TEST(ZipMemberTest, UnreadableArchivesSayWhy) {
  EXPECT_NE(ExtractError(MakeZip({{"a.csv", "1"}, {"b.csv", "2"}})).find("holds 2 members"),
            std::string::npos);
  EXPECT_NE(ExtractError(MakeZip({})).find("holds 0 members"), std::string::npos);
  EXPECT_NE(ExtractError(MakeZip({{"a.csv", kCandles, kStored, kEncrypted}})).find("encrypted"),
            std::string::npos);
  EXPECT_NE(ExtractError(MakeZip({{"a.csv", kCandles, /*method=*/12}})).find("method 12"),
            std::string::npos);
  EXPECT_NE(ExtractError(MakeZip({{"dir/", "", kStored}})).find("directory"), std::string::npos);
}

TEST(ZipMemberTest, DamageIsDetected) {
  std::string flipped = MakeZip({{"a.csv", kCandles, kStored}});
  flipped[30 + 5 + 10] ^= 0x01;  // a byte of the stored data, after the 30 + 5-byte header
  EXPECT_NE(ExtractError(flipped).find("CRC-32 mismatch"), std::string::npos);

  const std::string archive = MakeZip({{"a.csv", kCandles, kDeflated}});
  EXPECT_NE(ExtractError(archive.substr(0, archive.size() / 2)).find("truncated"),
            std::string::npos);
  // Corrupt deflate data: the member's first compressed byte set to an invalid block type
  // (BTYPE 11, RFC 1951 3.2.3).
  std::string bad_deflate = archive;
  bad_deflate[30 + 5] = static_cast<char>(0x07);
  EXPECT_NE(ExtractError(bad_deflate).find("corrupt deflate data"), std::string::npos);
}

TEST(ZipMemberTest, ImpossibleRecordedSizeIsRefusedBeforeAllocating) {
  std::string archive = MakeZip({{"a.csv", kCandles, kDeflated}});
  // The uncompressed size in the central directory header: 24 bytes into it.
  const size_t central = archive.size() - 22 - (46 + 5);
  archive[central + 24 + 3] = static_cast<char>(0x7f);  // about 2 GiB
  EXPECT_NE(ExtractError(archive).find("impossible"), std::string::npos);
}

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("vigil_zip_member_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

// Read() opens the archive and reads the member as if it were the file: detection, the
// symbol and the timeframe come from the member's name.
TEST(ZipMemberTest, MarketFileReaderReadsTheMember) {
  const std::string path = TempPath("download.zip");
  ASSERT_TRUE(WriteFileAtomically(path, MakeZip({{"ETH_BTC-5m.csv", kCandles}})).ok());
  ReadOptions options;
  options.kind = DataKind::kCandles;
  options.venue = "bittrex";
  MarketFileReader reader(options);
  Result<ParsedFile> parsed = reader.Read(path);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->path, path + "!/ETH_BTC-5m.csv");
  EXPECT_EQ(parsed->format, "csv");
  EXPECT_EQ(parsed->rows_valid(), 3);
  ASSERT_EQ(parsed->batches.size(), 1u);
  EXPECT_EQ(parsed->batches[0].series.ToString(), "bittrex:ETH/BTC candles 5m");
}

TEST(ZipMemberTest, MarketFileReaderNamesTheArchiveOnFailure) {
  const std::string path = TempPath("two.zip");
  ASSERT_TRUE(WriteFileAtomically(path, MakeZip({{"a.csv", kCandles}, {"b.csv", kCandles}})).ok());
  MarketFileReader reader(ReadOptions{});
  Result<ParsedFile> parsed = reader.Read(path);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kParseError);
  EXPECT_NE(parsed.status().message().find(path + ": the zip archive holds 2 members"),
            std::string::npos)
      << parsed.status().ToString();
}

}  // namespace
}  // namespace vigil::data_internal
