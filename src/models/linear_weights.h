// Private to vigil_models: the weights file of a linear model (one coefficient per feature
// and an intercept), shared by the `logistic` and `ridge` kinds. JSON, with doubles in
// shortest round-trip form so loading restores predictions bit for bit:
//   {"format": "vigil.<kind>", "version": 1, "feature_names": [...], "coefficients": [...],
//    "intercept": b, <the kind's own keys, e.g. solver diagnostics>}
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"

namespace vigil::models_internal {

struct LinearWeights {
  std::vector<std::string> feature_names;
  std::vector<double> coefficients;  // one per feature name
  double intercept = 0;
};

// Which document a kind writes.
struct LinearWeightsFormat {
  std::string_view format;  // "vigil.logistic"
  int version = 1;
};

// Writes `weights` and the kind's `extra` keys to `path` atomically.
Status SaveLinearWeights(const std::filesystem::path& path, const LinearWeightsFormat& format,
                         const LinearWeights& weights, const nlohmann::json& extra);

// Reads `path`: the format and version must match, names and coefficients must have the
// same length, every value must be finite, and the intercept must be 0 unless
// `fit_intercept`. Then `read_extra` reads the kind's own keys from the document; a JSON
// exception it throws (missing key, wrong type) is caught here. Every failure is DataError
// (IoError when the file cannot be read) naming the file.
Result<LinearWeights> LoadLinearWeights(
    const std::filesystem::path& path, const LinearWeightsFormat& format, bool fit_intercept,
    const std::function<void(const nlohmann::json&)>& read_extra);

}  // namespace vigil::models_internal
