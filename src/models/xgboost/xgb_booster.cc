// Training and persistence of the tree ensembles: XGBoost parameters from the options, the
// boosting loop with early stopping, and the weight files.
#include "models/xgboost/xgb_booster.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <optional>
#include <utility>

#include "models/anomaly/parallel.h"
#include "vigil/core/rng.h"
#include "vigil/core/text_file.h"

namespace vigil::xgboost_internal {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMetaFormat = "vigil.xgboost";
constexpr int kMetaVersion = 1;
// Categorical codes are stored as float32 by XGBoost: integers up to 2^24 are exact.
constexpr double kMaxCategoryCode = 16777216.0;

using Params = std::vector<std::pair<std::string, std::string>>;

std::string Number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

std::string Objective(const XGBoostOptions& options, int num_classes) {
  if (IsClassification(options.kind)) {
    return num_classes > 2 ? "multi:softprob" : "binary:logistic";
  }
  return options.objective == XGBoostOptions::RegressionObjective::kPseudoHuber
             ? "reg:pseudohubererror"
             : "reg:squarederror";
}

std::string EvalMetric(const std::string& objective) {
  if (objective == "binary:logistic") return "logloss";
  if (objective == "multi:softprob") return "mlogloss";
  return "rmse";
}

// Every XGBoost parameter Vigil sets; names as XGBoost's (learning_rate = eta, ...).
Params BoosterParams(const XGBoostOptions& options, const TrainingInput& input, double base_score) {
  const bool forest = IsRandomForest(options.kind);
  const std::string objective = Objective(options, input.num_classes);
  Params params = {
      {"tree_method", "hist"},
      {"objective", objective},
      {"eval_metric", EvalMetric(objective)},
      {"eta", forest ? "1" : Number(options.learning_rate)},
      {"max_depth", std::to_string(options.max_depth)},
      {"min_child_weight", Number(options.min_child_weight)},
      {"subsample", Number(options.subsample)},
      {"colsample_bytree", Number(options.colsample_bytree)},
      {"colsample_bynode", Number(options.colsample_bynode)},
      {"lambda", Number(options.reg_lambda)},
      {"alpha", Number(options.reg_alpha)},
      {"gamma", Number(options.gamma)},
      {"max_bin", std::to_string(options.max_bin)},
      {"grow_policy",
       options.grow_policy == XGBoostOptions::GrowPolicy::kLossguide ? "lossguide" : "depthwise"},
      {"max_leaves", std::to_string(options.max_leaves)},
      {"max_cat_to_onehot", std::to_string(options.max_cat_to_onehot)},
      {"nthread", std::to_string(options.nthread)},
      {"seed", std::to_string(options.seed)},
      {"verbosity", "0"},
      {"base_score", Number(base_score)},
  };
  if (forest) params.emplace_back("num_parallel_tree", std::to_string(options.n_estimators));
  if (input.num_classes > 2) params.emplace_back("num_class", std::to_string(input.num_classes));
  if (input.num_classes == 2) {
    params.emplace_back("scale_pos_weight", Number(input.scale_pos_weight));
  }
  if (objective == "reg:pseudohubererror") {
    params.emplace_back("huber_slope", Number(options.huber_slope));
  }
  return params;
}

// The metric value at the end of XGBoosterEvalOneIter's "[3]\tvalid-logloss:0.512345". The
// printed (rounded) value is compared, as xgboost.train's EarlyStopping callback does.
Result<double> LastMetricValue(const char* text) {
  const std::string line = text == nullptr ? "" : text;
  const size_t colon = line.rfind(':');
  if (colon == std::string::npos) return Internal("XGBoost evaluation output '" + line + "'");
  return std::strtod(line.c_str() + colon + 1, nullptr);
}

struct TrainingMatrices {
  DMatrixOwner train;
  DMatrixOwner valid;  // empty without early stopping
};

Result<DMatrixOwner> LabelledMatrix(const TrainingInput& input, int64_t first_row, int64_t rows,
                                    int nthread, const std::vector<bool>& categorical) {
  const FeatureMatrix& x = *input.x;
  VIGIL_ASSIGN_OR_RETURN(DMatrixOwner matrix, MakeDMatrix(x.values.data() + first_row * x.cols(),
                                                          rows, x.cols(), nthread, categorical));
  const std::span<const float> labels(input.labels);
  VIGIL_RETURN_IF_ERROR(SetFloatInfo(matrix, "label", labels.subspan(first_row, rows)));
  if (!input.weights.empty()) {
    const std::span<const float> weights(input.weights);
    VIGIL_RETURN_IF_ERROR(SetFloatInfo(matrix, "weight", weights.subspan(first_row, rows)));
  }
  return matrix;
}

// With early stopping, the chronologically last validation_fraction of the rows is held out.
Result<int64_t> ValidationRows(const XGBoostOptions& options, int64_t rows) {
  if (options.early_stopping_rounds == 0) return int64_t{0};
  const int64_t valid_rows = static_cast<int64_t>(std::floor(rows * options.validation_fraction));
  if (valid_rows < 1 || valid_rows >= rows) {
    return InvalidArgument("model '" + std::string(TreeEnsembleKindName(options.kind)) +
                           "': early stopping needs at least one training and one validation " +
                           "row (" + std::to_string(rows) + " rows, validation_fraction " +
                           Number(options.validation_fraction) + ")");
  }
  return valid_rows;
}

Result<TrainingMatrices> BuildMatrices(const XGBoostOptions& options, const TrainingInput& input,
                                       int64_t valid_rows, const std::vector<bool>& categorical) {
  const int64_t rows = input.x->rows;
  TrainingMatrices matrices;
  VIGIL_ASSIGN_OR_RETURN(matrices.train,
                         LabelledMatrix(input, 0, rows - valid_rows, options.nthread, categorical));
  if (valid_rows > 0) {
    VIGIL_ASSIGN_OR_RETURN(matrices.valid, LabelledMatrix(input, rows - valid_rows, valid_rows,
                                                          options.nthread, categorical));
  }
  return matrices;
}

struct BoostingOutcome {
  int trained_rounds = 0;
  int best_iteration = -1;
};

// The boosting loop. Early stopping as xgboost.train's EarlyStopping callback (minimised
// metric, strict improvement): the first round sets the best score; training stops once
// `early_stopping_rounds` rounds in a row failed to improve on it.
Result<BoostingOutcome> Boost(const XGBoostOptions& options, const BoosterOwner& booster,
                              const TrainingMatrices& matrices) {
  const int rounds = IsRandomForest(options.kind) ? 1 : options.n_estimators;
  const bool early_stopping = static_cast<bool>(matrices.valid);
  BoostingOutcome outcome;
  double best_score = std::numeric_limits<double>::infinity();
  int rounds_without_improvement = 0;
  for (int round = 0; round < rounds; ++round) {
    VIGIL_RETURN_IF_ERROR(
        CheckXGBoost(XGBoosterUpdateOneIter(booster.get(), round, matrices.train.get()),
                     "XGBoosterUpdateOneIter"));
    outcome.trained_rounds = round + 1;
    if (!early_stopping) continue;
    DMatrixHandle evals[] = {matrices.valid.get()};
    const char* names[] = {"valid"};
    const char* text = nullptr;
    VIGIL_RETURN_IF_ERROR(
        CheckXGBoost(XGBoosterEvalOneIter(booster.get(), round, evals, names, 1, &text),
                     "XGBoosterEvalOneIter"));
    VIGIL_ASSIGN_OR_RETURN(const double score, LastMetricValue(text));
    if (round == 0 || score < best_score) {
      best_score = score;
      outcome.best_iteration = round;
      rounds_without_improvement = 0;
    } else if (++rounds_without_improvement >= options.early_stopping_rounds) {
      break;
    }
  }
  if (!early_stopping) outcome.best_iteration = outcome.trained_rounds - 1;
  return outcome;
}

// A new booster holding rounds [0, end) of `booster`.
Result<BoosterOwner> SliceRounds(const BoosterOwner& booster, int end) {
  BoosterHandle handle = nullptr;
  VIGIL_RETURN_IF_ERROR(
      CheckXGBoost(XGBoosterSlice(booster.get(), 0, end, 1, &handle), "XGBoosterSlice"));
  return BoosterOwner(handle);
}

Result<int> BoostedRounds(const BoosterOwner& booster) {
  int rounds = 0;
  VIGIL_RETURN_IF_ERROR(
      CheckXGBoost(XGBoosterBoostedRounds(booster.get(), &rounds), "XGBoosterBoostedRounds"));
  return rounds;
}

std::string HexHash(std::string_view bytes) {
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx",
                static_cast<unsigned long long>(HashName(bytes)));
  return buffer;
}

nlohmann::json MetaJson(const EnsembleMeta& meta, const std::string& model_bytes) {
  return {{"format", kMetaFormat},
          {"version", kMetaVersion},
          {"kind", TreeEnsembleKindName(meta.kind)},
          {"features", meta.features},
          {"categorical", meta.categorical},
          {"num_classes", meta.num_classes},
          {"objective", meta.objective},
          {"boosted_rounds", meta.boosted_rounds},
          {"best_iteration", meta.best_iteration},
          {"trained_rounds", meta.trained_rounds},
          {"parallel_trees", meta.parallel_trees},
          {"scale_pos_weight", meta.scale_pos_weight},
          {"base_score", meta.base_score},
          {"model_file", XGBoostClassifier::kWeightsFile},
          {"model_bytes", model_bytes.size()},
          {"model_fnv1a64", HexHash(model_bytes)}};
}

std::optional<TreeEnsembleKind> ParseKind(std::string_view name) {
  for (TreeEnsembleKind kind :
       {TreeEnsembleKind::kXGBoost, TreeEnsembleKind::kXGBoostRegressor,
        TreeEnsembleKind::kRandomForest, TreeEnsembleKind::kRandomForestRegressor}) {
    if (TreeEnsembleKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

// The meta file's fields; nlohmann's type errors (a missing or mistyped key) are caught here
// and become DataError naming the file.
Result<EnsembleMeta> ParseMeta(const nlohmann::json& doc, const std::string& source,
                               std::string* expected_hash, size_t* expected_bytes) {
  try {
    if (doc.at("format").get<std::string>() != kMetaFormat ||
        doc.at("version").get<int>() != kMetaVersion) {
      return DataError(source + ": not a " + std::string(kMetaFormat) + " v" +
                       std::to_string(kMetaVersion) + " file");
    }
    EnsembleMeta meta;
    const std::string kind = doc.at("kind").get<std::string>();
    std::optional<TreeEnsembleKind> parsed_kind = ParseKind(kind);
    if (!parsed_kind) return DataError(source + ": unknown kind '" + kind + "'");
    meta.kind = *parsed_kind;
    meta.features = doc.at("features").get<std::vector<std::string>>();
    meta.categorical = doc.at("categorical").get<std::vector<std::string>>();
    meta.num_classes = doc.at("num_classes").get<int>();
    meta.objective = doc.at("objective").get<std::string>();
    meta.boosted_rounds = doc.at("boosted_rounds").get<int>();
    meta.best_iteration = doc.at("best_iteration").get<int>();
    meta.trained_rounds = doc.at("trained_rounds").get<int>();
    meta.parallel_trees = doc.at("parallel_trees").get<int>();
    meta.scale_pos_weight = doc.at("scale_pos_weight").get<double>();
    // Absent from files written before the key existed, when every model started at 0.5.
    meta.base_score = doc.value("base_score", 0.5);
    *expected_bytes = doc.at("model_bytes").get<size_t>();
    *expected_hash = doc.at("model_fnv1a64").get<std::string>();
    return meta;
  } catch (const std::exception& error) {
    return DataError(source + ": " + error.what());
  }
}

Status CheckMetaAgainstOptions(const EnsembleMeta& meta, const XGBoostOptions& options,
                               const std::string& source) {
  if (meta.kind != options.kind) {
    return DataError(source + ": weights of kind '" + std::string(TreeEnsembleKindName(meta.kind)) +
                     "', not '" + std::string(TreeEnsembleKindName(options.kind)) + "'");
  }
  const bool classification = IsClassification(meta.kind);
  if (meta.features.empty() || (classification && meta.num_classes < 2) ||
      (!classification && meta.num_classes != 0) || meta.boosted_rounds < 1 ||
      meta.parallel_trees < 1 || meta.best_iteration != meta.boosted_rounds - 1) {
    return DataError(source + ": inconsistent fields (features, num_classes, rounds)");
  }
  if (options.num_classes != 0 && meta.num_classes != options.num_classes) {
    return DataError(source + ": " + std::to_string(meta.num_classes) +
                     " classes, configuration says " + std::to_string(options.num_classes));
  }
  return Status::Ok();
}

// The booster in XGBoost's model format: "json" (the weight file) or "ubj" (the same
// document as UBJSON, where floats are stored as float32 bits).
Result<std::string> ModelBuffer(const BoosterOwner& booster, std::string_view format) {
  bst_ulong length = 0;
  const char* bytes = nullptr;
  const std::string config = R"({"format":")" + std::string(format) + R"("})";
  VIGIL_RETURN_IF_ERROR(
      CheckXGBoost(XGBoosterSaveModelToBuffer(booster.get(), config.c_str(), &length, &bytes),
                   "XGBoosterSaveModelToBuffer"));
  return std::string(bytes, length);
}

Result<BoosterOwner> LoadBooster(const std::string& bytes, const std::string& source) {
  VIGIL_ASSIGN_OR_RETURN(BoosterOwner booster, MakeBooster({}));
  const Status loaded =
      CheckXGBoost(XGBoosterLoadModelFromBuffer(booster.get(), bytes.data(), bytes.size()),
                   "XGBoosterLoadModelFromBuffer");
  if (!loaded.ok()) return DataError(source + ": " + loaded.message());
  return booster;
}

}  // namespace

Status CheckCategoricalCodes(std::string_view kind, const FeatureMatrix& x,
                             std::span<const size_t> columns) {
  for (size_t col : columns) {
    for (int64_t row = 0; row < x.rows; ++row) {
      const double code = x.at(row, col);
      if (std::isnan(code)) continue;
      if (!(code >= 0 && code < kMaxCategoryCode && code == std::floor(code))) {
        return InvalidArgument("model '" + std::string(kind) + "': row " + std::to_string(row) +
                               ", categorical column '" + x.columns[col] + "': value " +
                               Number(code) + " is not a category code (an integer >= 0)");
      }
    }
  }
  return Status::Ok();
}

Result<std::vector<size_t>> CategoricalColumns(std::string_view kind,
                                               const std::vector<std::string>& names,
                                               const std::vector<std::string>& features) {
  std::vector<size_t> columns;
  for (size_t col = 0; col < features.size(); ++col) {
    if (std::find(names.begin(), names.end(), features[col]) != names.end()) {
      columns.push_back(col);
    }
  }
  for (const std::string& name : names) {
    if (std::find(features.begin(), features.end(), name) == features.end()) {
      return InvalidArgument("model '" + std::string(kind) + "': config key 'categorical': '" +
                             name + "' is not a feature column");
    }
  }
  return columns;
}

double ResolveBaseScore(const XGBoostOptions& options, const TrainingInput& input,
                        int64_t train_rows) {
  // Clipped so that the binary base margin log(p / (1 - p)) stays finite.
  constexpr double kMinRate = 1e-6;
  if (options.base_score) return *options.base_score;
  if (input.num_classes > 2) return 0.5;
  double weighted = 0.0;
  double total = 0.0;
  for (int64_t row = 0; row < train_rows; ++row) {
    const double weight = input.weights.empty() ? 1.0 : input.weights[row];
    weighted += weight * input.labels[row];
    total += weight;
  }
  const bool binary = input.num_classes == 2;
  if (!(total > 0)) return binary ? 0.5 : 0.0;
  const double mean = weighted / total;
  return binary ? std::clamp(mean, kMinRate, 1.0 - kMinRate) : mean;
}

TreeEnsemble::TreeEnsemble(BoosterOwner booster, EnsembleMeta meta, const XGBoostOptions& options)
    : booster_(std::move(booster)),
      meta_(std::move(meta)),
      nthread_(options.nthread),
      threads_(models_internal::ResolveJobs(options.nthread == 0 ? -1 : options.nthread)),
      use_xgboost_predictor_(options.predictor == XGBoostOptions::Predictor::kXGBoost) {
  for (size_t col = 0; col < meta_.features.size(); ++col) {
    const auto& names = meta_.categorical;
    if (std::find(names.begin(), names.end(), meta_.features[col]) != names.end()) {
      categorical_columns_.push_back(col);
    }
  }
}

std::vector<bool> TreeEnsemble::CategoricalMask() const {
  if (categorical_columns_.empty()) return {};
  std::vector<bool> mask(meta_.features.size(), false);
  for (size_t col : categorical_columns_) mask[col] = true;
  return mask;
}

int64_t TreeEnsemble::trees() const {
  return static_cast<int64_t>(meta_.boosted_rounds) * outputs() * meta_.parallel_trees;
}

Result<std::unique_ptr<TreeEnsemble>> TreeEnsemble::Fit(const XGBoostOptions& options,
                                                        const TrainingInput& input) {
  const std::string_view kind = TreeEnsembleKindName(options.kind);
  const FeatureMatrix& x = *input.x;
  VIGIL_ASSIGN_OR_RETURN(std::vector<size_t> categorical_columns,
                         CategoricalColumns(kind, options.categorical, x.columns));
  VIGIL_RETURN_IF_ERROR(CheckCategoricalCodes(kind, x, categorical_columns));
  std::vector<bool> mask;
  if (!categorical_columns.empty()) {
    mask.assign(x.cols(), false);
    for (size_t col : categorical_columns) mask[col] = true;
  }
  VIGIL_ASSIGN_OR_RETURN(const int64_t valid_rows, ValidationRows(options, x.rows));
  VIGIL_ASSIGN_OR_RETURN(TrainingMatrices matrices,
                         BuildMatrices(options, input, valid_rows, mask));
  const double base_score = ResolveBaseScore(options, input, x.rows - valid_rows);
  // Registered as XGBoost's Python package registers them (training data, then evals).
  std::vector<DMatrixHandle> cache = {matrices.train.get()};
  if (matrices.valid) cache.push_back(matrices.valid.get());
  VIGIL_ASSIGN_OR_RETURN(BoosterOwner booster, MakeBooster(cache));
  for (const auto& [name, value] : BoosterParams(options, input, base_score)) {
    VIGIL_RETURN_IF_ERROR(
        SetParam(booster, name, value).WithContext("model '" + std::string(kind) + "'"));
  }
  VIGIL_ASSIGN_OR_RETURN(BoostingOutcome outcome, Boost(options, booster, matrices));
  if (outcome.best_iteration + 1 < outcome.trained_rounds) {
    VIGIL_ASSIGN_OR_RETURN(booster, SliceRounds(booster, outcome.best_iteration + 1));
  }
  EnsembleMeta meta;
  meta.kind = options.kind;
  meta.features = x.columns;
  for (size_t col : categorical_columns) meta.categorical.push_back(x.columns[col]);
  meta.num_classes = input.num_classes;
  meta.objective = Objective(options, input.num_classes);
  VIGIL_ASSIGN_OR_RETURN(meta.boosted_rounds, BoostedRounds(booster));
  meta.best_iteration = meta.boosted_rounds - 1;
  meta.trained_rounds = outcome.trained_rounds;
  meta.parallel_trees = IsRandomForest(options.kind) ? options.n_estimators : 1;
  meta.scale_pos_weight = input.num_classes == 2 ? input.scale_pos_weight : 1.0;
  meta.base_score = base_score;
  std::unique_ptr<TreeEnsemble> ensemble(
      new TreeEnsemble(std::move(booster), std::move(meta), options));
  VIGIL_RETURN_IF_ERROR(ensemble->Prepare(&x));
  return ensemble;
}

Status TreeEnsemble::Prepare(const FeatureMatrix* training) {
  FeatureMatrix probe;
  probe.columns = meta_.features;
  probe.rows = 1;
  probe.values.assign(meta_.features.size(), std::numeric_limits<double>::quiet_NaN());
  VIGIL_RETURN_IF_ERROR(PredictWithXGBoost(probe, /*margin=*/false).status());
  Result<std::unique_ptr<FastPredictor>> fast = CompileAndCheck(training);
  if (fast.ok()) {
    fast_ = std::move(fast).value();
  } else {
    fallback_reason_ = fast.status().message();
  }
  return Status::Ok();
}

Result<std::unique_ptr<FastPredictor>> TreeEnsemble::CompileAndCheck(
    const FeatureMatrix* training) const {
  // Probe rows from the split thresholds, plus real rows when there are some.
  constexpr int64_t kProbeRows = 128;
  constexpr int64_t kTrainingProbeRows = 256;
  constexpr uint64_t kProbeSeed = 0x5eedf00d;
  if (use_xgboost_predictor_) return Unimplemented("configured: predictor \"xgboost\"");
  if (!categorical_columns_.empty()) {
    return Unimplemented("not compiled by Vigil's predictor: categorical features");
  }
  VIGIL_ASSIGN_OR_RETURN(const std::string document, ModelBuffer(booster_, "ubj"));
  const nlohmann::json model =
      nlohmann::json::from_ubjson(document, /*strict=*/true, /*allow_exceptions=*/false);
  if (model.is_discarded()) return Internal("XGBoost's UBJSON model does not parse");
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<FastPredictor> fast, FastPredictor::Compile(model));
  if (fast->num_features() != meta_.features.size() || fast->outputs() != outputs()) {
    return Internal("compiled predictor: " + std::to_string(fast->num_features()) +
                    " features and " + std::to_string(fast->outputs()) + " outputs");
  }
  FeatureMatrix probe = ProbeRows(*fast, meta_.features, kProbeRows, kProbeSeed);
  if (training != nullptr) {
    const int64_t rows = std::min(training->rows, kTrainingProbeRows);
    probe.values.insert(probe.values.end(), training->values.begin(),
                        training->values.begin() + rows * training->cols());
    probe.rows += rows;
  }
  const ReferencePredictor reference = [this](const FeatureMatrix& x, bool margin) {
    return PredictWithXGBoost(x, margin);
  };
  VIGIL_RETURN_IF_ERROR(CheckAgreement(*fast, probe, reference));
  return fast;
}

Status TreeEnsemble::Save(const fs::path& dir) const {
  VIGIL_ASSIGN_OR_RETURN(const std::string model, ModelBuffer(booster_, "json"));
  const fs::path model_path = dir / XGBoostClassifier::kWeightsFile;
  VIGIL_RETURN_IF_ERROR(WriteFileAtomically(model_path.string(), model));
  // The meta file last: a directory with a meta file has the model it describes.
  return WriteFileAtomically((dir / XGBoostClassifier::kMetaFile).string(),
                             MetaJson(meta_, model).dump(2) + "\n");
}

Result<std::unique_ptr<TreeEnsemble>> TreeEnsemble::Load(const XGBoostOptions& options,
                                                         const fs::path& dir) {
  const std::string meta_path = (dir / XGBoostClassifier::kMetaFile).string();
  const std::string model_path = (dir / XGBoostClassifier::kWeightsFile).string();
  Result<std::string> meta_text = ReadFileToString(meta_path);
  if (!meta_text.ok()) return DataError(meta_path + ": " + meta_text.status().message());
  const nlohmann::json doc = nlohmann::json::parse(*meta_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return DataError(meta_path + ": not a JSON object");
  std::string expected_hash;
  size_t expected_bytes = 0;
  VIGIL_ASSIGN_OR_RETURN(EnsembleMeta meta,
                         ParseMeta(doc, meta_path, &expected_hash, &expected_bytes));
  VIGIL_RETURN_IF_ERROR(CheckMetaAgainstOptions(meta, options, meta_path));
  Result<std::string> model = ReadFileToString(model_path);
  if (!model.ok()) return DataError(model_path + ": " + model.status().message());
  // The checksum keeps truncated or altered files away from XGBoost's loader, whose
  // structural checks are not designed for hostile input.
  if (model->size() != expected_bytes || HexHash(*model) != expected_hash) {
    return DataError(model_path + ": does not match its meta file (truncated or modified)");
  }
  VIGIL_ASSIGN_OR_RETURN(BoosterOwner booster, LoadBooster(*model, model_path));
  VIGIL_RETURN_IF_ERROR(SetParam(booster, "nthread", std::to_string(options.nthread)));
  VIGIL_RETURN_IF_ERROR(SetParam(booster, "verbosity", "0"));
  bst_ulong features = 0;
  VIGIL_RETURN_IF_ERROR(
      CheckXGBoost(XGBoosterGetNumFeature(booster.get(), &features), "XGBoosterGetNumFeature"));
  VIGIL_ASSIGN_OR_RETURN(const int rounds, BoostedRounds(booster));
  if (features != meta.features.size() || rounds != meta.boosted_rounds) {
    return DataError(model_path + ": " + std::to_string(features) + " features and " +
                     std::to_string(rounds) + " rounds, " + meta_path + " says " +
                     std::to_string(meta.features.size()) + " and " +
                     std::to_string(meta.boosted_rounds));
  }
  std::unique_ptr<TreeEnsemble> ensemble(
      new TreeEnsemble(std::move(booster), std::move(meta), options));
  VIGIL_RETURN_IF_ERROR(ensemble->Prepare(/*training=*/nullptr).WithContext(model_path));
  return ensemble;
}

}  // namespace vigil::xgboost_internal
