#include "progress_bar.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace vigil::cli {

ProgressBar::ProgressBar(bool enabled) : enabled_(enabled && ::isatty(STDOUT_FILENO) == 1) {}

ProgressBar::~ProgressBar() { Clear(); }

void ProgressBar::Update(const std::string& label, size_t done, size_t total) {
  if (!enabled_ || total == 0) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100) && done < total) return;
  last_draw_ = now;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(kWidth * static_cast<double>(done) / static_cast<double>(total));
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::string name = std::filesystem::path(label).filename().string();
  std::printf("\r%-32.32s [%s] %3d%%", name.c_str(), bar.c_str(),
              static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total)));
  std::fflush(stdout);
  drawn_ = true;
}

void ProgressBar::Clear() {
  if (!drawn_) return;
  std::printf("\r%70s\r", "");
  std::fflush(stdout);
  drawn_ = false;
}

}  // namespace vigil::cli
