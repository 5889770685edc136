// The "calibrated" kind (probability_calibration.h) and the helpers the wrapper kinds share
// (wrapped_classifier.h).
#include <algorithm>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

#include "models/builtin_kinds.h"
#include "models/wrapped_classifier.h"
#include "vigil/core/text_file.h"
#include "vigil/models/probability_calibration.h"

namespace vigil {

namespace models_internal {

Result<BaseClassifierSpec> ParseBaseClassifierSpec(std::string_view owner,
                                                   const nlohmann::json& config,
                                                   std::string_view default_kind) {
  BaseClassifierSpec spec{std::string(default_kind), nlohmann::json::object()};
  if (config.is_object() && config.contains("base")) {
    const nlohmann::json& base = config.at("base");
    if (!base.is_object()) {
      return ConfigError(owner, "base", "must be an object {\"kind\": ..., \"params\": {...}}");
    }
    for (const auto& item : base.items()) {
      if (item.key() != "kind" && item.key() != "params") {
        return ConfigError(owner, "base", "unknown key '" + item.key() + "' (known: kind, params)");
      }
    }
    if (base.contains("kind")) {
      if (!base.at("kind").is_string())
        return ConfigError(owner, "base", "'kind' must be a string");
      spec.kind = base.at("kind").get<std::string>();
    }
    if (base.contains("params") && !base.at("params").is_null()) {
      if (!base.at("params").is_object()) {
        return ConfigError(owner, "base", "'params' must be an object");
      }
      spec.params = base.at("params");
    }
  }
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model,
                         CreateBinaryClassifier(owner, spec.kind, spec.params));
  spec.params = model->config();
  return spec;
}

nlohmann::json BaseClassifierSpecJson(const std::string& kind, const nlohmann::json& params) {
  return {{"kind", kind}, {"params", params}};
}

Result<std::unique_ptr<Model>> CreateBinaryClassifier(std::string_view owner,
                                                      const std::string& kind,
                                                      const nlohmann::json& params) {
  Result<std::unique_ptr<Model>> model = CreateModel(kind, params);
  if (!model.ok()) {
    return Status(model.status().code(), "model '" + std::string(owner) +
                                             "': config key 'base': " + model.status().message());
  }
  VIGIL_RETURN_IF_ERROR(CheckBinaryClassifier(owner, "base kind '" + kind + "'", model->get()));
  return std::move(*model);
}

Status CheckBinaryClassifier(std::string_view owner, std::string_view what, const Model* model) {
  const Classifier* classifier = AsClassifier(model);
  if (classifier == nullptr) {
    return InvalidArgument("model '" + std::string(owner) + "': " + std::string(what) +
                           " is not a classifier");
  }
  if (classifier->num_classes() != 2) {
    return InvalidArgument("model '" + std::string(owner) + "': " + std::string(what) + " has " +
                           std::to_string(classifier->num_classes()) +
                           " classes (a binary classifier is needed)");
  }
  return Status::Ok();
}

FeatureMatrix SliceRows(const FeatureMatrix& x, int64_t begin, int64_t end) {
  FeatureMatrix slice;
  slice.columns = x.columns;
  slice.rows = end - begin;
  const auto cols = static_cast<int64_t>(x.cols());
  slice.values.assign(x.values.begin() + begin * cols, x.values.begin() + end * cols);
  return slice;
}

Result<std::vector<double>> PositiveProbabilities(const Classifier& model, const FeatureMatrix& x) {
  VIGIL_ASSIGN_OR_RETURN(ProbabilityMatrix proba, model.PredictProba(x));
  if (proba.num_classes != 2 || proba.rows() != x.rows) {
    return Internal("model '" + std::string(model.kind()) + "': PredictProba returned " +
                    std::to_string(proba.rows()) + " rows x " + std::to_string(proba.num_classes) +
                    " classes for " + std::to_string(x.rows) + " binary rows");
  }
  std::vector<double> positive(static_cast<size_t>(x.rows));
  for (int64_t row = 0; row < x.rows; ++row) positive[row] = proba.at(row, 1);
  return positive;
}

Status WriteWeightsDocument(const std::filesystem::path& path, const nlohmann::json& doc) {
  return WriteFileAtomically(path.string(), doc.dump(2) + "\n");
}

Result<nlohmann::json> ReadWeightsDocument(const std::filesystem::path& path,
                                           std::string_view format, int version) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path.string()));
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return DataError(path.string() + ": not valid JSON");
  if (!doc.is_object() || !doc.contains("format") || doc.at("format") != format) {
    return DataError(path.string() + ": not a '" + std::string(format) + "' document");
  }
  if (!doc.contains("version") || doc.at("version") != version) {
    return DataError(path.string() + ": unsupported version (expected " + std::to_string(version) +
                     ")");
  }
  return doc;
}

Status EnsureDirectory(const std::filesystem::path& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return IoError(dir.string() + ": cannot create: " + error.message());
  return Status::Ok();
}

nlohmann::json WrapperWeightsDocument(std::string_view format, int version,
                                      std::string_view base_kind,
                                      const std::vector<std::string>& feature_names) {
  return {{"format", format},
          {"version", version},
          {"base_kind", base_kind},
          {"feature_names", feature_names}};
}

Result<WrapperWeights> ReadWrapperWeights(const std::filesystem::path& path,
                                          std::string_view format, int version,
                                          const std::string& base_kind) {
  WrapperWeights weights;
  weights.source = path.string();
  VIGIL_ASSIGN_OR_RETURN(weights.doc, ReadWeightsDocument(path, format, version));
  try {
    const std::string saved_kind = weights.doc.at("base_kind").get<std::string>();
    if (saved_kind != base_kind) {
      return DataError(weights.source + ": base kind '" + saved_kind + "' but the config says '" +
                       base_kind + "'");
    }
    weights.feature_names = weights.doc.at("feature_names").get<std::vector<std::string>>();
  } catch (const std::exception& e) {
    return DataError(weights.source + ": " + e.what());
  }
  return weights;
}

Result<std::unique_ptr<Model>> LoadBaseClassifier(std::string_view owner, const std::string& kind,
                                                  const nlohmann::json& params,
                                                  const std::filesystem::path& dir,
                                                  const std::string& context,
                                                  const WrapperWeights& weights) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> base, CreateBinaryClassifier(owner, kind, params));
  VIGIL_RETURN_IF_ERROR(base->LoadWeights(dir).WithContext(context));
  if (base->feature_names() != weights.feature_names) {
    return DataError(weights.source + ": 'feature_names' differ from the weights in " +
                     dir.string());
  }
  return base;
}

}  // namespace models_internal

namespace {

using models_internal::ConfigError;

constexpr std::string_view kKind = CalibratedClassifier::kKind;
constexpr std::string_view kWeightsFormat = "vigil.calibrated";
constexpr int kWeightsVersion = 1;

Status CheckRowCounts(const FeatureMatrix& x, std::span<const int> labels,
                      std::span<const double> weights) {
  if (static_cast<int64_t>(labels.size()) != x.rows) {
    return InvalidArgument("model 'calibrated': " + std::to_string(labels.size()) + " labels for " +
                           std::to_string(x.rows) + " rows");
  }
  if (!weights.empty() && static_cast<int64_t>(weights.size()) != x.rows) {
    return InvalidArgument("model 'calibrated': " + std::to_string(weights.size()) +
                           " weights for " + std::to_string(x.rows) + " rows");
  }
  return Status::Ok();
}

template <typename T>
std::span<const T> Prefix(std::span<const T> values, int64_t end) {
  return values.empty() ? values : values.first(static_cast<size_t>(end));
}

}  // namespace

// --- Options -------------------------------------------------------------------------

Status CalibratedClassifier::Options::Validate() const {
  if (folds < 1) return ConfigError(kKind, "folds", "must be >= 1");
  if (gap_rows < 0) return ConfigError(kKind, "gap_rows", "must be >= 0");
  return models_internal::CreateBinaryClassifier(kKind, base_kind, base_params).status();
}

Result<CalibratedClassifier::Options> CalibratedClassifier::Options::FromJson(
    const nlohmann::json& config) {
  VIGIL_RETURN_IF_ERROR(
      models_internal::CheckConfigKeys(kKind, config, {"base", "method", "folds", "gap_rows"}));
  Options options;
  VIGIL_ASSIGN_OR_RETURN(models_internal::BaseClassifierSpec base,
                         models_internal::ParseBaseClassifierSpec(kKind, config, "logistic"));
  options.base_kind = std::move(base.kind);
  options.base_params = std::move(base.params);
  VIGIL_ASSIGN_OR_RETURN(
      std::string method,
      models_internal::ConfigString(kKind, config, "method",
                                    std::string(CalibrationMethodName(options.method))));
  Result<CalibrationMethod> parsed = ParseCalibrationMethod(method);
  if (!parsed.ok()) return ConfigError(kKind, "method", parsed.status().message());
  options.method = *parsed;
  VIGIL_ASSIGN_OR_RETURN(options.folds,
                         models_internal::ConfigInt(kKind, config, "folds", options.folds));
  VIGIL_ASSIGN_OR_RETURN(int gap_rows, models_internal::ConfigInt(kKind, config, "gap_rows", 0));
  options.gap_rows = gap_rows;
  if (options.folds < 1) return ConfigError(kKind, "folds", "must be >= 1");
  if (options.gap_rows < 0) return ConfigError(kKind, "gap_rows", "must be >= 0");
  return options;
}

nlohmann::json CalibratedClassifier::Options::ToJson() const {
  return {{"base", models_internal::BaseClassifierSpecJson(base_kind, base_params)},
          {"method", CalibrationMethodName(method)},
          {"folds", folds},
          {"gap_rows", gap_rows}};
}

// --- construction --------------------------------------------------------------------

CalibratedClassifier::CalibratedClassifier(Options options) : options_(std::move(options)) {}

Result<std::unique_ptr<CalibratedClassifier>> CalibratedClassifier::FromParts(
    std::unique_ptr<Model> base, ProbabilityCalibrator calibrator) {
  if (base == nullptr) return InvalidArgument("model 'calibrated': no base model");
  VIGIL_RETURN_IF_ERROR(models_internal::CheckBinaryClassifier(
      kKind, "base kind '" + std::string(base->kind()) + "'", base.get()));
  if (!base->fitted()) return InvalidArgument("model 'calibrated': the base model is not fitted");
  Options options;
  options.base_kind = std::string(base->kind());
  options.base_params = base->config();
  options.method = calibrator.method();
  auto model = std::make_unique<CalibratedClassifier>(std::move(options));
  model->base_ = std::move(base);
  model->calibrator_ = std::move(calibrator);
  return model;
}

bool CalibratedClassifier::fitted() const { return base_ != nullptr && base_->fitted(); }

const std::vector<std::string>& CalibratedClassifier::feature_names() const {
  static const std::vector<std::string> kNone;
  return base_ != nullptr ? base_->feature_names() : kNone;
}

// --- fitting and prediction ----------------------------------------------------------

// Block b of folds + 1 consecutive blocks starts at row b * n / (folds + 1).
Result<CalibratedClassifier::HeldOutPredictions> CalibratedClassifier::PredictHeldOut(
    const FeatureMatrix& x, std::span<const int> labels, std::span<const double> weights) const {
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  VIGIL_RETURN_IF_ERROR(CheckRowCounts(x, labels, weights));
  const int64_t blocks = options_.folds + 1;
  if (x.rows < blocks) {
    return InvalidArgument("model 'calibrated': " + std::to_string(x.rows) + " rows for " +
                           std::to_string(options_.folds) + " folds (need at least " +
                           std::to_string(blocks) + ")");
  }
  auto block_begin = [&](int64_t block) { return block * x.rows / blocks; };
  HeldOutPredictions held_out;
  for (int64_t fold = 1; fold <= options_.folds; ++fold) {
    const int64_t begin = block_begin(fold);
    const int64_t end = block_begin(fold + 1);
    const int64_t train_end = begin - options_.gap_rows;
    const std::string where = "model 'calibrated': fold " + std::to_string(fold) +
                              " (train rows [0, " +
                              std::to_string(std::max<int64_t>(train_end, 0)) + "), held out [" +
                              std::to_string(begin) + ", " + std::to_string(end) + "))";
    if (train_end <= 0) return InvalidArgument(where + ": no training rows before the gap");
    VIGIL_ASSIGN_OR_RETURN(
        std::unique_ptr<Model> fold_model,
        models_internal::CreateBinaryClassifier(kKind, options_.base_kind, options_.base_params));
    Classifier& classifier = *AsClassifier(fold_model.get());
    VIGIL_RETURN_IF_ERROR(classifier
                              .Fit(models_internal::SliceRows(x, 0, train_end),
                                   Prefix(labels, train_end), Prefix(weights, train_end))
                              .WithContext(where));
    Result<std::vector<double>> probs = models_internal::PositiveProbabilities(
        classifier, models_internal::SliceRows(x, begin, end));
    VIGIL_RETURN_IF_ERROR(probs.status().WithContext(where));
    for (int64_t row = begin; row < end; ++row) held_out.rows.push_back(row);
    held_out.probabilities.insert(held_out.probabilities.end(), probs->begin(), probs->end());
  }
  return held_out;
}

Status CalibratedClassifier::Fit(const FeatureMatrix& x, std::span<const int> labels,
                                 std::span<const double> weights) {
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  VIGIL_RETURN_IF_ERROR(CheckRowCounts(x, labels, weights));
  ProbabilityCalibrator calibrator;
  if (options_.method != CalibrationMethod::kNone) {
    VIGIL_ASSIGN_OR_RETURN(HeldOutPredictions held_out, PredictHeldOut(x, labels, weights));
    std::vector<int> held_labels;
    std::vector<double> held_weights;
    for (int64_t row : held_out.rows) {
      held_labels.push_back(labels[row]);
      if (!weights.empty()) held_weights.push_back(weights[row]);
    }
    Result<ProbabilityCalibrator> fitted = ProbabilityCalibrator::Fit(
        options_.method, held_out.probabilities, held_labels, held_weights);
    VIGIL_RETURN_IF_ERROR(fitted.status().WithContext("model 'calibrated'"));
    calibrator = std::move(*fitted);
  }
  VIGIL_ASSIGN_OR_RETURN(
      std::unique_ptr<Model> base,
      models_internal::CreateBinaryClassifier(kKind, options_.base_kind, options_.base_params));
  VIGIL_RETURN_IF_ERROR(
      AsClassifier(base.get())->Fit(x, labels, weights).WithContext("model 'calibrated': base"));
  base_ = std::move(base);
  calibrator_ = std::move(calibrator);
  return Status::Ok();
}

Result<ProbabilityMatrix> CalibratedClassifier::PredictProba(const FeatureMatrix& x) const {
  if (!fitted()) return FailedPrecondition("model 'calibrated': not fitted");
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> raw,
                         models_internal::PositiveProbabilities(*AsClassifier(base_.get()), x));
  ProbabilityMatrix out;
  out.num_classes = 2;
  out.values.resize(raw.size() * 2);
  for (size_t row = 0; row < raw.size(); ++row) {
    const double p = calibrator_.Apply(raw[row]);
    out.values[row * 2] = 1.0 - p;
    out.values[row * 2 + 1] = p;
  }
  return out;
}

// --- explanation ---------------------------------------------------------------------

namespace {

Result<const ExplainableModel*> ExplainableBase(const Model* base) {
  if (base == nullptr || !base->fitted()) {
    return FailedPrecondition("model 'calibrated': not fitted");
  }
  const ExplainableModel* explainable = AsExplainable(base);
  if (explainable == nullptr) {
    return FailedPrecondition("model 'calibrated': base kind '" + std::string(base->kind()) +
                              "' does not explain its predictions");
  }
  return explainable;
}

}  // namespace

Result<std::vector<double>> CalibratedClassifier::RawMargin(const FeatureMatrix& x) const {
  VIGIL_ASSIGN_OR_RETURN(const ExplainableModel* base, ExplainableBase(base_.get()));
  return base->RawMargin(x);
}

Result<Attributions> CalibratedClassifier::Shap(const FeatureMatrix& x) const {
  VIGIL_ASSIGN_OR_RETURN(const ExplainableModel* base, ExplainableBase(base_.get()));
  return base->Shap(x);
}

Result<FeatureImportance> CalibratedClassifier::Importance() const {
  VIGIL_ASSIGN_OR_RETURN(const ExplainableModel* base, ExplainableBase(base_.get()));
  return base->Importance();
}

// --- persistence ---------------------------------------------------------------------

nlohmann::json CalibratedClassifier::Describe() const {
  nlohmann::json out = {{"kind", kKind},
                        {"fitted", fitted()},
                        {"method", CalibrationMethodName(calibrator_.method())},
                        {"calibrator", calibrator_.ToJson()}};
  if (base_ != nullptr) out["base"] = base_->Describe();
  return out;
}

Status CalibratedClassifier::SaveWeights(const std::filesystem::path& dir) const {
  if (!fitted()) return FailedPrecondition("model 'calibrated': not fitted, nothing to save");
  const std::filesystem::path base_dir = dir / kBaseDir;
  VIGIL_RETURN_IF_ERROR(models_internal::EnsureDirectory(base_dir));
  VIGIL_RETURN_IF_ERROR(base_->SaveWeights(base_dir));
  nlohmann::json doc = models_internal::WrapperWeightsDocument(
      kWeightsFormat, kWeightsVersion, base_->kind(), base_->feature_names());
  doc["calibrator"] = calibrator_.ToJson();
  return models_internal::WriteWeightsDocument(dir / kWeightsFile, doc);
}

Status CalibratedClassifier::LoadWeights(const std::filesystem::path& dir) {
  VIGIL_ASSIGN_OR_RETURN(models_internal::WrapperWeights weights,
                         models_internal::ReadWrapperWeights(dir / kWeightsFile, kWeightsFormat,
                                                             kWeightsVersion, options_.base_kind));
  const std::string& source = weights.source;
  if (!weights.doc.contains("calibrator")) return DataError(source + ": no 'calibrator'");
  VIGIL_ASSIGN_OR_RETURN(ProbabilityCalibrator calibrator,
                         ProbabilityCalibrator::FromJson(weights.doc.at("calibrator"), source));
  if (calibrator.method() != options_.method) {
    return DataError(
        source + ": calibrator method '" + std::string(CalibrationMethodName(calibrator.method())) +
        "' but the config says '" + std::string(CalibrationMethodName(options_.method)) + "'");
  }
  VIGIL_ASSIGN_OR_RETURN(
      std::unique_ptr<Model> base,
      models_internal::LoadBaseClassifier(kKind, options_.base_kind, options_.base_params,
                                          dir / kBaseDir, "model 'calibrated': base", weights));
  base_ = std::move(base);
  calibrator_ = std::move(calibrator);
  return Status::Ok();
}

namespace models_internal {
KindRegistration CalibratedKind() { return WrapperKindRegistration<CalibratedClassifier>(); }
}  // namespace models_internal

}  // namespace vigil
