# Writes docs/openapi.json into a C++ source as one raw string literal, so the document the
# server answers /openapi.json with is always the one in docs/.
#   cmake -DINPUT=docs/openapi.json -DOUTPUT=openapi_json.cc -P embed_openapi.cmake
file(READ "${INPUT}" document)
set(delimiter "vigil_openapi")
string(FIND "${document}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter ')${delimiter}\"'")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by embed_openapi.cmake; edit the JSON, not this file.\n"
  "#include <cstddef>\n\n"
  "namespace vigil::serve_internal {\n"
  "extern const char kOpenApiJson[] = R\"${delimiter}(${document})${delimiter}\";\n"
  "extern const std::size_t kOpenApiJsonSize = sizeof(kOpenApiJson) - 1;\n"
  "}  // namespace vigil::serve_internal\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
