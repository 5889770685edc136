#include "vigil/core/text_file.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

namespace vigil {
namespace {

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("vigil_text_file_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

TEST(TextFileTest, WritesAtomicallyAndReadsBack) {
  std::string path = TempPath("a.txt");
  ASSERT_TRUE(WriteFileAtomically(path, "one\ntwo\r\nthree").ok());
  auto text = ReadFileToString(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "one\ntwo\r\nthree");
  EXPECT_FALSE(ReadFileToString(TempPath("missing.txt")).ok());
  EXPECT_FALSE(WriteFileAtomically("/nonexistent-dir/x.txt", "x").ok());
}

TEST(TextFileTest, WritesDevicesInPlaceInsteadOfReplacingThem) {
  ASSERT_TRUE(WriteFileAtomically("/dev/null", "discarded").ok());
  EXPECT_FALSE(std::filesystem::is_regular_file("/dev/null"));
  EXPECT_TRUE(std::filesystem::is_character_file("/dev/null"));
}

TEST(TextFileTest, InflatesGzipTransparently) {
  std::string path = TempPath("b.gz");
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  gzputs(file, "hello\nworld\n");
  gzclose(file);
  auto text = ReadFileToString(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "hello\nworld\n");
}

TEST(TextFileTest, CorruptGzipIsAParseError) {
  std::string path = TempPath("c.gz");
  std::ofstream(path, std::ios::binary) << "\x1f\x8b\x08\x00garbage-not-deflate";
  auto text = ReadFileToString(path);
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.status().message().find(path), std::string::npos);
}

TEST(LineCursorTest, CountsLinesAndFlagsUnterminatedLast) {
  LineCursor lines("a\r\nb\n\nc");
  std::string_view line;
  std::vector<std::string> seen;
  while (lines.Next(&line)) seen.emplace_back(line);
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0], "a");
  EXPECT_EQ(seen[2], "");
  EXPECT_EQ(seen[3], "c");
  EXPECT_EQ(lines.line_number(), 4);
  EXPECT_TRUE(lines.last_line_unterminated());
}

}  // namespace
}  // namespace vigil
