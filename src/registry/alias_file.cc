#include "alias_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "vigil/core/text_file.h"

namespace vigil::registry_internal {

Result<NameLock> NameLock::Acquire(const std::filesystem::path& name_dir) {
  const std::string path = (name_dir / ".lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return IoError(path + ": " + std::strerror(errno));
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int error = errno;
    ::close(fd);
    return IoError(path + ": cannot lock: " + std::strerror(error));
  }
  return NameLock(fd);
}

NameLock::~NameLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

Result<AliasFile> AliasFile::Read(const std::filesystem::path& name_dir) {
  const std::filesystem::path path = name_dir / "aliases.json";
  AliasFile file;
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return file;
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path.string()));
  try {
    const nlohmann::json json = nlohmann::json::parse(text);
    file.aliases = json.at("aliases").get<std::map<std::string, int64_t>>();
    file.history = json.at("history").get<std::map<std::string, std::vector<int64_t>>>();
  } catch (const nlohmann::json::exception& e) {
    return DataError(path.string() + ": not a valid alias file: " + e.what());
  }
  return file;
}

Status AliasFile::Write(const std::filesystem::path& name_dir) const {
  const nlohmann::json json = {{"aliases", aliases}, {"history", history}};
  return WriteFileAtomically((name_dir / "aliases.json").string(), json.dump(2) + "\n");
}

}  // namespace vigil::registry_internal
