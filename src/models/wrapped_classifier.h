// Private to vigil_models: what the wrapper kinds ("calibrated", "multi_horizon") share
// about the binary classifiers they wrap: the {"kind", "params"} configuration of the base,
// building and checking it, row slices, their own weight documents and their registration.
// Implemented in calibrated_classifier.cc.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "models/builtin_kinds.h"
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

// The fields every wrapper's weight document holds; the wrapper adds its own.
nlohmann::json WrapperWeightsDocument(std::string_view format, int version,
                                      std::string_view base_kind,
                                      const std::vector<std::string>& feature_names);
// A wrapper's weight document read back (ReadWeightsDocument), with its base kind checked
// against the config's and its feature names.
struct WrapperWeights {
  std::string source;  // the file, for messages
  nlohmann::json doc;
  std::vector<std::string> feature_names;
};
// DataError naming the file when "base_kind" is not `base_kind` or a field is missing.
Result<WrapperWeights> ReadWrapperWeights(const std::filesystem::path& path,
                                          std::string_view format, int version,
                                          const std::string& base_kind);
// A new base (CreateBinaryClassifier) with the weights in `dir`; its errors get `context`.
// DataError when its feature names are not those of `weights`.
Result<std::unique_ptr<Model>> LoadBaseClassifier(std::string_view owner, const std::string& kind,
                                                  const nlohmann::json& params,
                                                  const std::filesystem::path& dir,
                                                  const std::string& context,
                                                  const WrapperWeights& weights);

// The registration of a wrapper kind: `Wrapper::Options::FromJson`, then a new Wrapper.
template <typename Wrapper>
KindRegistration WrapperKindRegistration() {
  return {std::string(Wrapper::kKind), Task::kClassification,
          [](const nlohmann::json& config) -> Result<std::unique_ptr<Model>> {
            VIGIL_ASSIGN_OR_RETURN(typename Wrapper::Options options,
                                   Wrapper::Options::FromJson(config));
            return std::unique_ptr<Model>(std::make_unique<Wrapper>(options));
          }};
}

}  // namespace vigil::models_internal
