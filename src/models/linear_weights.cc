#include "models/linear_weights.h"

#include <cmath>
#include <exception>

#include "vigil/core/text_file.h"

namespace vigil::models_internal {
namespace {

// The shared keys of a parsed document; JSON type errors throw and are caught by the caller.
Status ReadCommon(const nlohmann::json& doc, const LinearWeightsFormat& format, bool fit_intercept,
                  LinearWeights& out) {
  if (!doc.is_object() || doc.value("format", "") != format.format) {
    return DataError("not a '" + std::string(format.format) + "' document");
  }
  if (doc.value("version", 0) != format.version) {
    return DataError("unsupported version (expected " + std::to_string(format.version) + ")");
  }
  out.feature_names = doc.at("feature_names").get<std::vector<std::string>>();
  out.coefficients = doc.at("coefficients").get<std::vector<double>>();
  out.intercept = doc.at("intercept").get<double>();
  if (out.feature_names.size() != out.coefficients.size()) {
    return DataError(std::to_string(out.coefficients.size()) + " coefficients for " +
                     std::to_string(out.feature_names.size()) + " feature names");
  }
  for (double value : out.coefficients) {
    if (!std::isfinite(value)) return DataError("non-finite coefficient");
  }
  if (!std::isfinite(out.intercept)) return DataError("non-finite intercept");
  if (!fit_intercept && out.intercept != 0) {
    return DataError("intercept " + std::to_string(out.intercept) +
                     " but the model has fit_intercept false");
  }
  return Status::Ok();
}

}  // namespace

Status SaveLinearWeights(const std::filesystem::path& path, const LinearWeightsFormat& format,
                         const LinearWeights& weights, const nlohmann::json& extra) {
  nlohmann::json doc = {{"format", format.format},
                        {"version", format.version},
                        {"feature_names", weights.feature_names},
                        {"coefficients", weights.coefficients},
                        {"intercept", weights.intercept}};
  for (const auto& [key, value] : extra.items()) doc[key] = value;
  return WriteFileAtomically(path.string(), doc.dump(2) + "\n");
}

Result<LinearWeights> LoadLinearWeights(
    const std::filesystem::path& path, const LinearWeightsFormat& format, bool fit_intercept,
    const std::function<void(const nlohmann::json&)>& read_extra) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path.string()));
  LinearWeights weights;
  try {
    const nlohmann::json doc = nlohmann::json::parse(text);
    VIGIL_RETURN_IF_ERROR(
        ReadCommon(doc, format, fit_intercept, weights).WithContext(path.string()));
    read_extra(doc);
  } catch (const std::exception& e) {
    return DataError(path.string() + ": " + e.what());
  }
  return weights;
}

}  // namespace vigil::models_internal
