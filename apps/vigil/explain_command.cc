// Placeholder: replaced by the helper that owns this file.
#include "cli.h"

namespace vigil::cli {
void AddExplainCommand(CLI::App& app, const GlobalOptions& globals, int* exit_code) {
  (void)app;
  (void)globals;
  (void)exit_code;
}
}  // namespace vigil::cli
