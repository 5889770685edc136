#include "apps/cli_runner.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <system_error>

extern char** environ;

namespace vigil::cli_test {
namespace {

namespace fs = std::filesystem;

constexpr int kExecFailed = 127;
constexpr int kSignalBase = 128;

// An unlinked temp file: the child writes to it, the parent reads it back afterwards.
// Files rather than pipes, so a chatty child can never block on a full pipe.
class CaptureFile {
 public:
  CaptureFile() {
    std::string name = (fs::temp_directory_path() / "vigil-cli-capture-XXXXXX").string();
    fd_ = mkstemp(name.data());
    if (fd_ >= 0) unlink(name.c_str());
  }
  ~CaptureFile() {
    if (fd_ >= 0) close(fd_);
  }
  CaptureFile(const CaptureFile&) = delete;
  CaptureFile& operator=(const CaptureFile&) = delete;

  int fd() const { return fd_; }

  std::string Contents() const {
    std::string text;
    if (fd_ < 0 || lseek(fd_, 0, SEEK_SET) != 0) return text;
    char buffer[1 << 16];
    for (;;) {
      ssize_t got = read(fd_, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      text.append(buffer, static_cast<size_t>(got));
    }
    return text;
  }

 private:
  int fd_ = -1;
};

bool IsVigilSetting(std::string_view entry) {
  return entry.starts_with("VIGIL_HOME=") || entry.starts_with("VIGIL_DB=");
}

// NULL-terminated array of pointers into `strings` (which must outlive it).
std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Only async-signal-safe calls between fork and exec.
[[noreturn]] void ExecChild(const char* cwd, int out_fd, int err_fd, char** argv, char** envp) {
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
      dup2(err_fd, STDERR_FILENO) < 0 || chdir(cwd) != 0) {
    _exit(kExecFailed);
  }
  execve(argv[0], argv, envp);
  static constexpr char kMessage[] = "cli_runner: execve failed\n";
  ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)ignored;
  _exit(kExecFailed);
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const CliRun& run) {
  return os << "exit code " << run.exit_code << "\n--- stdout ---\n"
            << run.out << "--- stderr ---\n"
            << run.err << "---";
}

CliRun RunVigil(const std::vector<std::string>& args, const fs::path& cwd,
                const std::vector<std::string>& extra_env) {
  CliRun run;
  CaptureFile out;
  CaptureFile err;
  if (out.fd() < 0 || err.fd() < 0) {
    run.exit_code = kExecFailed;
    run.err = "cli_runner: cannot create capture files";
    return run;
  }
  std::vector<std::string> argv_strings = {VIGIL_BINARY};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!IsVigilSetting(*entry)) env_strings.emplace_back(*entry);
  }
  env_strings.insert(env_strings.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);
  const std::string cwd_string = cwd.string();

  pid_t pid = fork();
  if (pid == 0) ExecChild(cwd_string.c_str(), out.fd(), err.fd(), argv.data(), envp.data());
  if (pid < 0) {
    run.exit_code = kExecFailed;
    run.err = std::string("cli_runner: fork failed: ") + std::strerror(errno);
    return run;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    run.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    run.exit_code = kSignalBase + WTERMSIG(status);
  }
  run.out = out.Contents();
  run.err = err.Contents();
  return run;
}

CliSandbox::CliSandbox(std::string db_url) : db_url_(std::move(db_url)) {
  std::string name = (fs::temp_directory_path() / "vigil-cli-test-XXXXXX").string();
  if (mkdtemp(name.data()) == nullptr) {
    ADD_FAILURE() << "cannot create a temp directory: " << std::strerror(errno);
  }
  dir_ = name;
}

CliSandbox::~CliSandbox() {
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

CliRun CliSandbox::Vigil(const std::vector<std::string>& args) const {
  std::vector<std::string> full = {"--home", "home"};
  if (!db_url_.empty()) full.insert(full.end(), {"--db", db_url_});
  full.insert(full.end(), args.begin(), args.end());
  return RunVigil(full, dir_);
}

std::string CliSandbox::CopyInput(const std::string& name) const {
  std::error_code ec;
  fs::copy_file(fs::path(VIGIL_TEST_DATA) / "cli" / name, dir_ / name,
                fs::copy_options::overwrite_existing, ec);
  if (ec) ADD_FAILURE() << "cannot copy test input " << name << ": " << ec.message();
  return name;
}

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string ReadGolden(const std::string& name) {
  return ReadBytes(fs::path(VIGIL_GOLDEN_DIR) / name);
}

std::string SharedDataPath(const std::string& relative) {
  return (fs::path(VIGIL_SHARED_DATA) / relative).string();
}

nlohmann::ordered_json ParseJson(const std::string& text) {
  nlohmann::ordered_json value = nlohmann::ordered_json::parse(text, nullptr, false);
  if (value.is_discarded()) {
    ADD_FAILURE() << "not JSON: " << text;
    return nullptr;
  }
  return value;
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> Split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::vector<std::string> JsonKeys(const nlohmann::ordered_json& json) {
  std::vector<std::string> keys;
  for (const auto& item : json.items()) keys.push_back(item.key());
  return keys;
}

void WriteText(const std::filesystem::path& path, std::string_view text) {
  std::ofstream(path) << text;
}

}  // namespace vigil::cli_test
