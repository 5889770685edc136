// Private: the per-name alias file and the lock that serialises changes to it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "vigil/core/status.h"

namespace vigil::registry_internal {

// An exclusive flock(2) on <name dir>/.lock, held for the object's lifetime. Other
// processes and threads (each lock opens its own descriptor) wait for it.
class NameLock {
 public:
  static Result<NameLock> Acquire(const std::filesystem::path& name_dir);
  NameLock(NameLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  NameLock& operator=(NameLock&&) = delete;
  NameLock(const NameLock&) = delete;
  ~NameLock();

 private:
  explicit NameLock(int fd) : fd_(fd) {}
  int fd_;
};

// <name dir>/aliases.json: alias -> version, and per alias the versions it pointed to
// before (oldest first), for rollback.
struct AliasFile {
  std::map<std::string, int64_t> aliases;
  std::map<std::string, std::vector<int64_t>> history;

  // A missing file is an empty AliasFile; a corrupt one is a DataError naming it.
  static Result<AliasFile> Read(const std::filesystem::path& name_dir);
  Status Write(const std::filesystem::path& name_dir) const;  // atomic replace
};

}  // namespace vigil::registry_internal
