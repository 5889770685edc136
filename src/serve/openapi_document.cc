// The OpenAPI document served at /openapi.json: docs/openapi.json, turned into a string
// literal at build time (embed_openapi.cmake, wired in src/serve/CMakeLists.txt).
#include <cstddef>

#include "vigil/serve/api_server.h"

namespace vigil {
namespace serve_internal {
extern const char kOpenApiJson[];
extern const std::size_t kOpenApiJsonSize;
}  // namespace serve_internal

std::string_view OpenApiDocument() {
  return std::string_view(serve_internal::kOpenApiJson, serve_internal::kOpenApiJsonSize);
}

}  // namespace vigil
