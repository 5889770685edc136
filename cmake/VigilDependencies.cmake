# Every third-party dependency comes from a Debian 12 package (scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(spdlog REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
if(VIGIL_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(VIGIL_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
find_package(ZLIB REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
# Anomaly detectors: nanoflann (kNN for lof/dbscan) and libsvm (ocsvm; Debian ships no CMake
# config for it, so it is found by header and library).
find_package(nanoflann REQUIRED)
# Gradient boosting and random forests: XGBoost's C API (libxgboost-dev; Debian's CMake
# config also names the `xgboost` CLI package's binary, so both are installed).
find_package(xgboost REQUIRED)
find_path(VIGIL_LIBSVM_INCLUDE_DIR svm.h PATH_SUFFIXES libsvm REQUIRED)
find_library(VIGIL_LIBSVM_LIBRARY svm REQUIRED)
# Likelihood fitting (ARIMA, GARCH): LBFGSpp, header-only, no CMake config in Debian.
find_path(VIGIL_LBFGSPP_INCLUDE_DIR LBFGS.h REQUIRED)
# LibTorch (the neural family). On by default; -DVIGIL_WITH_TORCH=OFF builds without it.
option(VIGIL_WITH_TORCH "Build the LibTorch model family (autoencoder)" ON)
if(VIGIL_WITH_TORCH)
  find_package(Torch REQUIRED)
endif()
# The HTTP API and webhooks: cpp-httplib (Debian builds it as a shared library with OpenSSL,
# zlib and brotli; its pkg-config file carries the matching CPPHTTPLIB_* definitions, which
# every file including httplib.h must share).
find_package(PkgConfig REQUIRED)
pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
