#include "cli.h"

#include <filesystem>
#include <iostream>

namespace vigil::cli {

std::string DatabaseUrl(const GlobalOptions& options) {
  if (!options.db.empty()) return options.db;
  return "sqlite:" + (std::filesystem::path(options.home) / "vigil.db").string();
}

Result<std::unique_ptr<Store>> OpenHomeStore(const GlobalOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(options.home) / "models", ec);
  if (ec) return IoError("cannot create home directory '" + options.home + "': " + ec.message());
  return OpenStore(DatabaseUrl(options));
}

int Fail(const Status& status, int code) {
  std::cerr << "vigil: " << status.ToString() << "\n";
  return code;
}

void PrintJson(const nlohmann::ordered_json& value) { std::cout << value.dump() << "\n"; }

}  // namespace vigil::cli
