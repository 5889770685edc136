#include "models/xgboost/xgb_handles.h"

#include <cstdint>
#include <cstdio>

namespace vigil::xgboost_internal {

Status CheckXGBoost(int return_code, std::string_view call) {
  if (return_code == 0) return Status::Ok();
  const char* message = XGBGetLastError();
  return Internal("XGBoost " + std::string(call) + ": " +
                  (message != nullptr && *message != '\0' ? message : "failed"));
}

std::string DenseArrayInterface(const double* data, int64_t rows, size_t cols) {
  // XGBoost's ArrayInterface reads the address as an integer and "<f8" as little-endian
  // float64 (the only byte order Vigil runs on). Built by hand: this is on the one-row
  // prediction path, where a JSON library's allocations would dominate.
  char buffer[160];
  const int length =
      std::snprintf(buffer, sizeof(buffer),
                    R"({"data":[%llu,true],"shape":[%lld,%zu],"typestr":"<f8","version":3})",
                    static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(data)),
                    static_cast<long long>(rows), cols);
  return std::string(buffer, static_cast<size_t>(length));
}

Result<DMatrixOwner> MakeDMatrix(const double* data, int64_t rows, size_t cols, int nthread,
                                 const std::vector<bool>& categorical) {
  // NaN marks a missing value (XGBoost's JSON reader accepts the NaN literal).
  const std::string config_text = R"({"missing":NaN,"nthread":)" + std::to_string(nthread) + "}";
  DMatrixHandle handle = nullptr;
  VIGIL_RETURN_IF_ERROR(
      CheckXGBoost(XGDMatrixCreateFromDense(DenseArrayInterface(data, rows, cols).c_str(),
                                            config_text.c_str(), &handle),
                   "XGDMatrixCreateFromDense"));
  DMatrixOwner matrix(handle);
  if (!categorical.empty()) {
    std::vector<const char*> types;
    for (bool is_categorical : categorical) types.push_back(is_categorical ? "c" : "q");
    VIGIL_RETURN_IF_ERROR(CheckXGBoost(
        XGDMatrixSetStrFeatureInfo(matrix.get(), "feature_type", types.data(), types.size()),
        "XGDMatrixSetStrFeatureInfo(feature_type)"));
  }
  return matrix;
}

Status SetFloatInfo(const DMatrixOwner& matrix, const char* field, std::span<const float> values) {
  return CheckXGBoost(XGDMatrixSetFloatInfo(matrix.get(), field, values.data(), values.size()),
                      std::string("XGDMatrixSetFloatInfo(") + field + ")");
}

Result<BoosterOwner> MakeBooster(std::span<const DMatrixHandle> cache) {
  BoosterHandle handle = nullptr;
  VIGIL_RETURN_IF_ERROR(
      CheckXGBoost(XGBoosterCreate(cache.data(), cache.size(), &handle), "XGBoosterCreate"));
  return BoosterOwner(handle);
}

Status SetParam(const BoosterOwner& booster, const std::string& name, const std::string& value) {
  return CheckXGBoost(XGBoosterSetParam(booster.get(), name.c_str(), value.c_str()),
                      "XGBoosterSetParam(" + name + "=" + value + ")");
}

PredictionArray CopyPrediction(const bst_ulong* shape, bst_ulong dims, const float* values) {
  PredictionArray out;
  size_t size = dims == 0 ? 0 : 1;
  for (bst_ulong dim = 0; dim < dims; ++dim) {
    out.shape.push_back(shape[dim]);
    size *= shape[dim];
  }
  out.values.assign(values, values + size);
  return out;
}

}  // namespace vigil::xgboost_internal
