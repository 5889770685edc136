#include "vigil/core/text_file.h"

#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

namespace vigil {
namespace {

struct GzCloser {
  void operator()(gzFile file) const { gzclose(file); }
};
using GzFilePtr = std::unique_ptr<std::remove_pointer_t<gzFile>, GzCloser>;

Result<std::string> ReadGzip(const std::string& path) {
  GzFilePtr file(gzopen(path.c_str(), "rb"));
  if (!file) return IoError(path + ": cannot open: " + std::strerror(errno));
  gzbuffer(file.get(), 1 << 17);
  std::string out;
  char buffer[1 << 16];
  for (;;) {
    int n = gzread(file.get(), buffer, sizeof(buffer));
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file.get(), &code);
      return ParseError(path + ": corrupt gzip stream: " + message);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  // gzread returns 0 both at a clean end and when the stream stops early; only gzerror
  // tells a truncated or corrupt file apart.
  int code = Z_OK;
  const char* message = gzerror(file.get(), &code);
  if (code != Z_OK && code != Z_STREAM_END) {
    return ParseError(path + ": truncated or corrupt gzip stream: " + message);
  }
  return out;
}

}  // namespace

Result<std::string> ReadFileToString(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return IoError(path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(path + ": cannot open: " + std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  in.read(reinterpret_cast<char*>(magic), 2);
  if (in.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b) return ReadGzip(path);
  in.clear();
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  std::string out(static_cast<size_t>(size < 0 ? 0 : size), '\0');
  if (!out.empty() && !in.read(out.data(), size)) return IoError(path + ": read failed");
  return out;
}

namespace {

// Devices, pipes and terminals cannot be replaced by a rename (that would swap e.g.
// /dev/stdout for a plain file), so they are written in place.
Status WriteInPlace(const std::string& path, std::string_view contents) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return IoError(path + ": cannot open for writing: " + std::strerror(errno));
  bool ok = std::fwrite(contents.data(), 1, contents.size(), file) == contents.size();
  ok = std::fclose(file) == 0 && ok;
  return ok ? Status::Ok() : IoError(path + ": write failed");
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  std::filesystem::path target(path);
  std::error_code status_ec;
  auto status = std::filesystem::status(target, status_ec);
  if (!status_ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
    return WriteInPlace(path, contents);
  }
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  {
    std::FILE* file = std::fopen(temp.c_str(), "wb");
    if (file == nullptr) return IoError(temp + ": cannot create: " + std::strerror(errno));
    bool ok = std::fwrite(contents.data(), 1, contents.size(), file) == contents.size();
    ok = std::fflush(file) == 0 && ok;
    ok = ::fsync(fileno(file)) == 0 && ok;
    ok = std::fclose(file) == 0 && ok;
    if (!ok) {
      std::remove(temp.c_str());
      return IoError(temp + ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, target, ec);
  if (ec) {
    std::remove(temp.c_str());
    return IoError(path + ": rename failed: " + ec.message());
  }
  return Status::Ok();
}

bool LineCursor::Next(std::string_view* line) {
  if (pos_ >= text_.size()) return false;
  size_t end = text_.find('\n', pos_);
  unterminated_ = end == std::string_view::npos;
  if (unterminated_) end = text_.size();
  size_t stop = end;
  if (stop > pos_ && text_[stop - 1] == '\r') --stop;
  *line = text_.substr(pos_, stop - pos_);
  pos_ = unterminated_ ? end : end + 1;
  ++line_number_;
  return true;
}

}  // namespace vigil
