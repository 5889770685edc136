# Compiler flags shared by every Vigil target.
add_library(vigil_compile_options INTERFACE)
target_compile_options(vigil_compile_options INTERFACE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
if(VIGIL_SANITIZE)
  target_compile_options(vigil_compile_options INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(vigil_compile_options INTERFACE -fsanitize=address,undefined)
endif()

# vigil_add_library(NAME SOURCES ... DEPS ...): one module = one static library.
function(vigil_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                     PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE vigil_compile_options ${ARG_PRIVATE_DEPS})
endfunction()
