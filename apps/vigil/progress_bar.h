// A one-line progress bar for long ingests, drawn only when stdout is a terminal.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace vigil::cli {

class ProgressBar {
 public:
  // Draws nothing unless `enabled` and stdout is a terminal.
  explicit ProgressBar(bool enabled);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Redraws at most ~10 times a second.
  void Update(const std::string& label, size_t done, size_t total);
  // Erases the bar.
  void Clear();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace vigil::cli
