#include "vigil/registry/registry.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "alias_file.h"
#include "vigil/core/clock.h"
#include "vigil/core/text_file.h"
#include "vigil/core/version.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using registry_internal::AliasFile;
using registry_internal::NameLock;

constexpr std::string_view kStagingPrefix = ".staging-";
constexpr std::string_view kDeletingPrefix = ".deleting-";
// An empty file per deleted version, so version numbers are never reused.
constexpr std::string_view kTombstonePrefix = ".deleted-";
// Staging directories older than this are leftovers of crashed registrations.
constexpr auto kStaleStaging = std::chrono::hours(1);

bool IsVersionName(const std::string& text) {
  return !text.empty() && text.size() <= 18 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         text[0] != '0';
}

std::string UniqueSuffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(::getpid())
                                                                       << 32);
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%d-%016llx", static_cast<int>(::getpid()),
                static_cast<unsigned long long>(rng()));
  return buffer;
}

// Makes a directory entry change (rename, create) durable.
void SyncDirectory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

Status ValidateAlias(std::string_view alias) {
  if (alias.empty() || alias.size() > 64 || alias == "latest" ||
      !std::all_of(alias.begin(), alias.end(),
                   [](char c) {
                     return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
                   }) ||
      std::all_of(alias.begin(), alias.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return InvalidArgument("alias '" + std::string(alias) +
                           "': use letters, digits, '_' or '-' (not all digits, not 'latest')");
  }
  return Status::Ok();
}

// Removes a version directory so that it is never seen half-deleted: renamed out of the
// version namespace first, then removed.
Status RemoveVersionDir(const fs::path& name_dir, int64_t version) {
  const fs::path tombstone = name_dir / (std::string(kTombstonePrefix) + std::to_string(version));
  VIGIL_RETURN_IF_ERROR(WriteFileAtomically(tombstone.string(), ""));
  const fs::path from = name_dir / std::to_string(version);
  const fs::path to =
      name_dir / (std::string(kDeletingPrefix) + std::to_string(version) + "-" + UniqueSuffix());
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return IoError(from.string() + ": cannot remove: " + std::strerror(errno));
  }
  SyncDirectory(name_dir);
  std::error_code error;
  fs::remove_all(to, error);
  return Status::Ok();
}

// The highest version number ever used under `name_dir`, deleted ones included.
int64_t HighestVersionEverUsed(const fs::path& name_dir, const std::vector<int64_t>& versions) {
  int64_t highest = versions.empty() ? 0 : versions.back();
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(name_dir, error)) {
    const std::string file = entry.path().filename().string();
    if (file.rfind(kTombstonePrefix, 0) != 0) continue;
    const std::string number = file.substr(kTombstonePrefix.size());
    if (IsVersionName(number)) highest = std::max<int64_t>(highest, std::stoll(number));
  }
  return highest;
}

void DropFromHistory(AliasFile& file, int64_t version) {
  for (auto& [alias, versions] : file.history) {
    versions.erase(std::remove(versions.begin(), versions.end(), version), versions.end());
  }
}

}  // namespace

Status ValidateModelName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] == '.' ||
      !std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      })) {
    return InvalidArgument("model name '" + std::string(name) +
                           "': use 1-64 letters, digits, '_', '-' or '.', not starting with '.'");
  }
  return Status::Ok();
}

Result<ModelRegistry> ModelRegistry::Open(const fs::path& models_dir) {
  std::error_code error;
  fs::create_directories(models_dir, error);
  if (error) return IoError(models_dir.string() + ": " + error.message());
  return ModelRegistry(models_dir);
}

Result<Manifest> ModelRegistry::Register(const Model& model, Manifest manifest) {
  VIGIL_RETURN_IF_ERROR(ValidateModelName(manifest.name));
  if (!model.fitted()) {
    return FailedPrecondition("model '" + manifest.name + "' is not fitted; nothing to register");
  }
  manifest.kind = std::string(model.kind());
  manifest.task = model.task();
  manifest.parameters = model.config();
  manifest.vigil_version = std::string(VersionString());
  if (manifest.created_at == Timestamp()) manifest.created_at = SystemClock().Now();

  const fs::path name_dir = dir_ / manifest.name;
  std::error_code error;
  fs::create_directories(name_dir, error);
  if (error) return IoError(name_dir.string() + ": " + error.message());
  const fs::path staging = name_dir / (std::string(kStagingPrefix) + UniqueSuffix());
  if (!fs::create_directory(staging, error) || error) {
    return IoError(staging.string() + ": cannot create: " + error.message());
  }
  auto abandon = [&](Status status) {
    fs::remove_all(staging, error);
    return status;
  };
  const Status saved = model.SaveWeights(staging);
  if (!saved.ok()) return abandon(saved);

  // Claim the next free version by renaming the complete directory onto it; a concurrent
  // registration that got there first makes the rename fail, and we try the next number.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    Result<std::vector<int64_t>> versions = Versions(manifest.name);
    if (!versions.ok()) return abandon(versions.status());
    manifest.version = HighestVersionEverUsed(name_dir, *versions) + 1;
    const Status written =
        WriteFileAtomically((staging / "manifest.json").string(), manifest.ToJson().dump(2) + "\n");
    if (!written.ok()) return abandon(written);
    const fs::path target = name_dir / std::to_string(manifest.version);
    if (::rename(staging.c_str(), target.c_str()) == 0) {
      SyncDirectory(name_dir);
      return manifest;
    }
    if (errno != EEXIST && errno != ENOTEMPTY) {
      return abandon(IoError(target.string() + ": cannot store version: " + std::strerror(errno)));
    }
  }
  return abandon(Internal("could not claim a version of '" + manifest.name + "'"));
}

Result<std::vector<std::string>> ModelRegistry::Names() const {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir_, error)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || !ValidateModelName(name).ok()) continue;
    VIGIL_ASSIGN_OR_RETURN(std::vector<int64_t> versions, Versions(name));
    if (!versions.empty()) names.push_back(name);
  }
  if (error) return IoError(dir_.string() + ": " + error.message());
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<int64_t>> ModelRegistry::Versions(std::string_view name) const {
  VIGIL_RETURN_IF_ERROR(ValidateModelName(name));
  std::vector<int64_t> versions;
  const fs::path name_dir = dir_ / std::string(name);
  std::error_code error;
  if (!fs::exists(name_dir, error)) return versions;
  for (const auto& entry : fs::directory_iterator(name_dir, error)) {
    const std::string file = entry.path().filename().string();
    if (entry.is_directory() && IsVersionName(file)) versions.push_back(std::stoll(file));
  }
  if (error) return IoError(name_dir.string() + ": " + error.message());
  std::sort(versions.begin(), versions.end());
  return versions;
}

Result<std::map<std::string, int64_t>> ModelRegistry::Aliases(std::string_view name) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<int64_t> versions, Versions(name));
  VIGIL_ASSIGN_OR_RETURN(AliasFile file, AliasFile::Read(dir_ / std::string(name)));
  std::map<std::string, int64_t> aliases = file.aliases;
  if (!versions.empty()) aliases["latest"] = versions.back();
  return aliases;
}

Result<int64_t> ModelRegistry::Resolve(std::string_view reference) const {
  const size_t at = reference.find('@');
  const std::string name(reference.substr(0, at));
  VIGIL_ASSIGN_OR_RETURN(std::vector<int64_t> versions, Versions(name));
  if (versions.empty()) return NotFound("no model named '" + name + "'");
  VIGIL_ASSIGN_OR_RETURN(auto aliases, Aliases(name));
  if (at == std::string_view::npos) {
    const auto production = aliases.find("production");
    return production != aliases.end() ? production->second : versions.back();
  }
  const std::string suffix(reference.substr(at + 1));
  if (IsVersionName(suffix)) {
    const int64_t version = std::stoll(suffix);
    if (std::binary_search(versions.begin(), versions.end(), version)) return version;
    return NotFound("model '" + name + "' has no version " + suffix);
  }
  const auto alias = aliases.find(suffix);
  if (alias == aliases.end()) {
    return NotFound("model '" + name + "' has no alias '" + suffix + "'");
  }
  return alias->second;
}

Result<Manifest> ModelRegistry::Show(std::string_view reference) const {
  VIGIL_ASSIGN_OR_RETURN(int64_t version, Resolve(reference));
  const std::string name(reference.substr(0, reference.find('@')));
  const fs::path path = dir_ / name / std::to_string(version) / "manifest.json";
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path.string()));
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return DataError(path.string() + ": not JSON: " + e.what());
  }
  return Manifest::FromJson(json, path.string());
}

Result<LoadedModel> ModelRegistry::Load(std::string_view reference) const {
  LoadedModel loaded;
  VIGIL_ASSIGN_OR_RETURN(loaded.manifest, Show(reference));
  const Manifest& m = loaded.manifest;
  VIGIL_ASSIGN_OR_RETURN(loaded.model, CreateModel(m.kind, m.parameters));
  const fs::path version_dir = dir_ / m.name / std::to_string(m.version);
  const Status status = loaded.model->LoadWeights(version_dir);
  if (!status.ok()) return status.WithContext(m.name + "@" + std::to_string(m.version));
  return loaded;
}

Result<registry_internal::NameLock> ModelRegistry::LockVersion(std::string_view name,
                                                               int64_t version) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<int64_t> versions, Versions(name));
  if (versions.empty()) return NotFound("no model named '" + std::string(name) + "'");
  VIGIL_ASSIGN_OR_RETURN(NameLock lock, NameLock::Acquire(dir_ / std::string(name)));
  // Checked under the lock: a concurrent Delete may have removed it meanwhile.
  VIGIL_ASSIGN_OR_RETURN(versions, Versions(name));
  if (!std::binary_search(versions.begin(), versions.end(), version)) {
    return NotFound("model '" + std::string(name) + "' has no version " + std::to_string(version));
  }
  return lock;
}

Status ModelRegistry::Promote(std::string_view name, int64_t version, std::string_view alias) {
  VIGIL_RETURN_IF_ERROR(ValidateAlias(alias));
  const fs::path name_dir = dir_ / std::string(name);
  VIGIL_ASSIGN_OR_RETURN(NameLock lock, LockVersion(name, version));
  VIGIL_ASSIGN_OR_RETURN(AliasFile file, AliasFile::Read(name_dir));
  const std::string key(alias);
  const auto current = file.aliases.find(key);
  if (current != file.aliases.end()) {
    if (current->second == version) return Status::Ok();
    file.history[key].push_back(current->second);
  }
  file.aliases[key] = version;
  return file.Write(name_dir);
}

Result<int64_t> ModelRegistry::Rollback(std::string_view name, std::string_view alias) {
  VIGIL_RETURN_IF_ERROR(ValidateAlias(alias));
  VIGIL_RETURN_IF_ERROR(ValidateModelName(name));
  const fs::path name_dir = dir_ / std::string(name);
  VIGIL_ASSIGN_OR_RETURN(NameLock lock, NameLock::Acquire(name_dir));
  VIGIL_ASSIGN_OR_RETURN(AliasFile file, AliasFile::Read(name_dir));
  const std::string key(alias);
  auto& history = file.history[key];
  if (history.empty()) {
    return FailedPrecondition("model '" + std::string(name) + "': alias '" + key +
                              "' has no earlier version to roll back to");
  }
  const int64_t previous = history.back();
  history.pop_back();
  if (history.empty()) file.history.erase(key);
  file.aliases[key] = previous;
  VIGIL_RETURN_IF_ERROR(file.Write(name_dir));
  return previous;
}

Status ModelRegistry::Delete(std::string_view name, int64_t version) {
  const fs::path name_dir = dir_ / std::string(name);
  VIGIL_ASSIGN_OR_RETURN(NameLock lock, LockVersion(name, version));
  VIGIL_ASSIGN_OR_RETURN(AliasFile file, AliasFile::Read(name_dir));
  std::string holders;
  for (const auto& [alias, target] : file.aliases) {
    if (target == version) holders += (holders.empty() ? "" : ", ") + alias;
  }
  if (!holders.empty()) {
    return FailedPrecondition(std::string(name) + "@" + std::to_string(version) + " is aliased (" +
                              holders + "); move the alias first");
  }
  DropFromHistory(file, version);
  VIGIL_RETURN_IF_ERROR(file.Write(name_dir));
  return RemoveVersionDir(name_dir, version);
}

Result<std::vector<int64_t>> ModelRegistry::Purge(std::string_view name, int keep) {
  if (keep < 0) return InvalidArgument("--keep must be >= 0");
  VIGIL_ASSIGN_OR_RETURN(std::vector<int64_t> versions, Versions(name));
  const fs::path name_dir = dir_ / std::string(name);
  std::vector<int64_t> removed;
  if (versions.empty()) return removed;
  VIGIL_ASSIGN_OR_RETURN(NameLock lock, NameLock::Acquire(name_dir));
  VIGIL_ASSIGN_OR_RETURN(AliasFile file, AliasFile::Read(name_dir));
  const size_t kept_newest = std::min(versions.size(), static_cast<size_t>(keep));
  for (size_t i = 0; i + kept_newest < versions.size(); ++i) {
    const int64_t version = versions[i];
    const bool aliased = std::any_of(file.aliases.begin(), file.aliases.end(),
                                     [&](const auto& alias) { return alias.second == version; });
    if (aliased) continue;
    DropFromHistory(file, version);
    VIGIL_RETURN_IF_ERROR(RemoveVersionDir(name_dir, version));
    removed.push_back(version);
  }
  VIGIL_RETURN_IF_ERROR(file.Write(name_dir));
  // Leftovers of crashed registrations and deletions.
  std::error_code error;
  const auto now = fs::file_time_type::clock::now();
  for (const auto& entry : fs::directory_iterator(name_dir, error)) {
    const std::string file_name = entry.path().filename().string();
    const bool staging = file_name.rfind(kStagingPrefix, 0) == 0;
    const bool deleting = file_name.rfind(kDeletingPrefix, 0) == 0;
    if (!staging && !deleting) continue;
    if (staging && now - entry.last_write_time(error) < kStaleStaging) continue;
    fs::remove_all(entry.path(), error);
  }
  return removed;
}

}  // namespace vigil
