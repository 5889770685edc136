// The Vigil release version (semantic versioning), set from CMake's project() version.
#pragma once

#include <string_view>

namespace vigil {

// "0.1.0"
std::string_view VersionString();

}  // namespace vigil
