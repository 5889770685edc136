// Reading input files: whole-file reads (gzip-compressed files are inflated
// transparently) and a line cursor that tracks 1-based line numbers for messages.
//
//   VIGIL_ASSIGN_OR_RETURN(std::string text, vigil::ReadFileToString(path));
//   vigil::LineCursor lines(text);
//   std::string_view line;
//   while (lines.Next(&line)) { ... lines.line_number() ... }
//
// Thread-safety: free functions are safe; a LineCursor belongs to one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "vigil/core/status.h"

namespace vigil {

// Reads the whole file. Files starting with the gzip magic bytes are decompressed.
// Fails with IoError naming the path, or ParseError for a corrupt gzip stream.
Result<std::string> ReadFileToString(const std::string& path);

// Writes `contents` to `path` atomically: a temporary file in the same directory is
// written, flushed and renamed over the target. A target that exists and is not a regular
// file (a device such as /dev/stdout, a pipe) is written in place instead.
Status WriteFileAtomically(const std::string& path, std::string_view contents);

// Splits text into lines ("\n" or "\r\n"); the last line may lack a newline.
class LineCursor {
 public:
  explicit LineCursor(std::string_view text) : text_(text) {}
  // Stores the next line (without its terminator) and returns true, or returns false
  // at the end of the text.
  bool Next(std::string_view* line);
  // 1-based number of the line last returned by Next().
  int64_t line_number() const { return line_number_; }
  // Byte offset just past the line last returned (for progress reporting).
  size_t offset() const { return pos_; }
  // True if the line last returned had no terminating newline (possibly truncated).
  bool last_line_unterminated() const { return unterminated_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_number_ = 0;
  bool unterminated_ = false;
};

}  // namespace vigil
