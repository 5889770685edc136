// Private to vigil_models: what the wrapper kinds ("calibrated", "multi_horizon") share
// about the binary classifiers they wrap: the {"kind", "params"} configuration of the base,
// building and checking it, row slices, and their own weight documents.
// Implemented in calibrated_classifier.cc.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil::models_internal {

struct BaseClassifierSpec {
  std::string kind;
  nlohmann::json params = nlohmann::json::object();
};

// Reads config key "base" ({"kind": K, "params": {...}}, both optional; a missing kind is
// `default_kind`) of wrapper kind `owner`; builds the base once to check it and returns its
// params completed with the kind's defaults. InvalidArgument naming owner and key.
Result<BaseClassifierSpec> ParseBaseClassifierSpec(std::string_view owner,
                                                   const nlohmann::json& config,
                                                   std::string_view default_kind);
nlohmann::json BaseClassifierSpecJson(const std::string& kind, const nlohmann::json& params);

// A new, unfitted base: CreateModel(kind, params), which must be a binary classifier.
Result<std::unique_ptr<Model>> CreateBinaryClassifier(std::string_view owner,
                                                      const std::string& kind,
                                                      const nlohmann::json& params);
// InvalidArgument unless `model` is a Classifier with two classes.
Status CheckBinaryClassifier(std::string_view owner, std::string_view what, const Model* model);

// Rows [begin, end) of x (all columns).
FeatureMatrix SliceRows(const FeatureMatrix& x, int64_t begin, int64_t end);
// Column 1 of the classifier's PredictProba.
Result<std::vector<double>> PositiveProbabilities(const Classifier& model, const FeatureMatrix& x);

// Writes a wrapper's own weight document atomically.
Status WriteWeightsDocument(const std::filesystem::path& path, const nlohmann::json& doc);
// Reads and parses it, checking "format" and "version" (DataError naming the file;
// IoError when it cannot be read).
Result<nlohmann::json> ReadWeightsDocument(const std::filesystem::path& path,
                                           std::string_view format, int version);
// Creates `dir` (and parents) if needed (IoError naming it).
Status EnsureDirectory(const std::filesystem::path& dir);

}  // namespace vigil::models_internal
