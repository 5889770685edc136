// Private to vigil_models: owners for XGBoost's C handles and the one place where an XGBoost
// return code becomes a Status. Every XGBoost call in src/models/xgboost/ goes through
// CheckXGBoost, so a failure carries XGBGetLastError()'s message and names the call.
//
//   VIGIL_ASSIGN_OR_RETURN(BoosterOwner booster, BoosterOwner::Create({}));
//   VIGIL_RETURN_IF_ERROR(CheckXGBoost(XGBoosterSetParam(booster.get(), "eta", "0.1"),
//                                      "XGBoosterSetParam"));
//
// Thread-safety: owners are move-only values; XGBGetLastError is per thread in XGBoost.
#pragma once

#include <xgboost/c_api.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"

namespace vigil::xgboost_internal {

// Ok for 0; otherwise Internal "<call>: <XGBGetLastError()>". The XGBoost C API catches
// its own exceptions and reports them through the return code, so none crosses into Vigil.
Status CheckXGBoost(int return_code, std::string_view call);

// A unique owner of one C handle, freed by `Free` (XGDMatrixFree / XGBoosterFree).
template <typename Handle, int (*Free)(Handle)>
class HandleOwner {
 public:
  HandleOwner() = default;
  explicit HandleOwner(Handle handle) : handle_(handle) {}
  ~HandleOwner() { Reset(); }
  HandleOwner(const HandleOwner&) = delete;
  HandleOwner& operator=(const HandleOwner&) = delete;
  HandleOwner(HandleOwner&& other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }
  HandleOwner& operator=(HandleOwner&& other) noexcept {
    if (this != &other) {
      Reset();
      handle_ = other.handle_;
      other.handle_ = nullptr;
    }
    return *this;
  }

  Handle get() const { return handle_; }
  explicit operator bool() const { return handle_ != nullptr; }
  void Reset() {
    // A free failure leaves nothing to recover; the handle is gone either way.
    if (handle_ != nullptr) static_cast<void>(Free(handle_));
    handle_ = nullptr;
  }

 private:
  Handle handle_ = nullptr;
};

using DMatrixOwner = HandleOwner<DMatrixHandle, XGDMatrixFree>;
using BoosterOwner = HandleOwner<BoosterHandle, XGBoosterFree>;

// The __array_interface__ JSON XGBoost reads a row-major float64 matrix through (no copy:
// XGBoost reads `data` during the call only).
std::string DenseArrayInterface(const double* data, int64_t rows, size_t cols);

// A DMatrix of rows x cols float64 values (NaN = missing), with feature types
// ("q" numeric, "c" categorical) when `categorical` is not empty.
Result<DMatrixOwner> MakeDMatrix(const double* data, int64_t rows, size_t cols, int nthread,
                                 const std::vector<bool>& categorical);
// Sets a float field ("label", "weight") of one value per row.
Status SetFloatInfo(const DMatrixOwner& matrix, const char* field, std::span<const float> values);

// A booster with `cache` matrices registered (XGBoosterCreate).
Result<BoosterOwner> MakeBooster(std::span<const DMatrixHandle> cache);
Status SetParam(const BoosterOwner& booster, const std::string& name, const std::string& value);

// A prediction result copied out of XGBoost's per-thread buffer.
struct PredictionArray {
  std::vector<uint64_t> shape;
  std::vector<float> values;
};
PredictionArray CopyPrediction(const bst_ulong* shape, bst_ulong dims, const float* values);

}  // namespace vigil::xgboost_internal
