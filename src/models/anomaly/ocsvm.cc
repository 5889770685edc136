#include "vigil/models/anomaly/ocsvm.h"

#include <svm.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <span>
#include <sstream>
#include <string>
#include <utility>

#include "models/builtin_kinds.h"
#include "models/column_scaling.h"
#include "vigil/core/text_file.h"

namespace vigil {
namespace models_internal {

// RAII owner of a libsvm model. A trained model's support vectors point into the training
// problem's nodes (free_sv == 0), so they are copied into `sv_nodes` owned here; a loaded
// model (free_sv == 1) owns its own.
class SvmModel {
 public:
  explicit SvmModel(svm_model* model) : model_(model) {}
  ~SvmModel() {
    if (model_ != nullptr) svm_free_and_destroy_model(&model_);
  }
  SvmModel(const SvmModel&) = delete;
  SvmModel& operator=(const SvmModel&) = delete;

  svm_model* get() const { return model_; }
  // Re-points the support vectors at copies held here (each row: dims nodes + terminator).
  void AdoptSupportVectors(int dims) {
    const int row_nodes = dims + 1;
    sv_nodes_.resize(static_cast<size_t>(model_->l) * row_nodes);
    for (int sv = 0; sv < model_->l; ++sv) {
      std::copy(model_->SV[sv], model_->SV[sv] + row_nodes, sv_nodes_.begin() + sv * row_nodes);
      model_->SV[sv] = sv_nodes_.data() + sv * row_nodes;
    }
  }

 private:
  svm_model* model_;
  std::vector<svm_node> sv_nodes_;
};

}  // namespace models_internal

namespace {

using models_internal::ConfigError;
using models_internal::SvmModel;
using Kernel = OneClassSvmOptions::Kernel;
using GammaRule = OneClassSvmOptions::GammaRule;

constexpr std::string_view kFormat = "vigil.ocsvm";
constexpr int kFormatVersion = 1;
// libsvm writes support-vector coordinates with %.8g; both files must agree to that.
constexpr double kModelFileTolerance = 1e-7;

constexpr std::pair<Kernel, std::string_view> kKernelNames[] = {{Kernel::kRbf, "rbf"},
                                                                {Kernel::kLinear, "linear"},
                                                                {Kernel::kPoly, "poly"},
                                                                {Kernel::kSigmoid, "sigmoid"}};

std::string_view KernelName(Kernel kernel) {
  for (const auto& [k, name] : kKernelNames) {
    if (k == kernel) return name;
  }
  return "rbf";
}

int LibsvmKernel(Kernel kernel) {
  switch (kernel) {
    case Kernel::kLinear:
      return LINEAR;
    case Kernel::kPoly:
      return POLY;
    case Kernel::kSigmoid:
      return SIGMOID;
    case Kernel::kRbf:
      return RBF;
  }
  return RBF;
}

void SilenceLibsvm() {
  static std::once_flag once;
  std::call_once(once, [] { svm_set_print_string_function([](const char*) {}); });
}

// One dense row as libsvm nodes: indices 1..dims, then the -1 terminator.
void FillNodes(std::span<const double> row, svm_node* nodes) {
  for (size_t j = 0; j < row.size(); ++j) nodes[j] = {static_cast<int>(j) + 1, row[j]};
  nodes[row.size()] = {-1, 0.0};
}

// The training problem; its nodes must outlive the trained model until AdoptSupportVectors.
struct Problem {
  std::vector<svm_node> nodes;
  std::vector<svm_node*> rows;
  std::vector<double> labels;
  svm_problem problem{};

  Problem(const std::vector<double>& points, int64_t rows_count, int dims) {
    nodes.resize(static_cast<size_t>(rows_count) * (dims + 1));
    rows.resize(rows_count);
    labels.assign(rows_count, 1.0);
    for (int64_t row = 0; row < rows_count; ++row) {
      rows[row] = nodes.data() + row * (dims + 1);
      FillNodes(std::span<const double>(points).subspan(row * dims, dims), rows[row]);
    }
    problem = {static_cast<int>(rows_count), labels.data(), rows.data()};
  }
};

// scikit-learn's gamma="scale": 1 / (n_features * X.var()) over all values, 1 if X.var() == 0.
double ScaleGamma(const std::vector<double>& points, int dims) {
  double sum = 0.0;
  for (double v : points) sum += v;
  const double mean = sum / static_cast<double>(points.size());
  double squares = 0.0;
  for (double v : points) squares += (v - mean) * (v - mean);
  const double variance = squares / static_cast<double>(points.size());
  return variance != 0 ? 1.0 / (dims * variance) : 1.0;
}

std::vector<double> ColumnMedians(const std::vector<double>& points, int64_t rows, int dims) {
  std::vector<double> medians(dims);
  std::vector<double> column(rows);
  for (int j = 0; j < dims; ++j) {
    for (int64_t row = 0; row < rows; ++row) column[row] = points[row * dims + j];
    medians[j] = InterpolatedQuantile(column, 0.5);
  }
  return medians;
}

// Checks the structure libsvm's loader relies on without checking it itself (it would crash
// on a missing line or field): a one-class header, then `count` lines of a coefficient and
// dims "j:value" pairs, j = 1..dims. Returns the coordinates (count x dims).
Result<std::vector<double>> ReadModelFile(const std::string& path, const std::string& text,
                                          int dims) {
  std::istringstream lines(text);
  std::string line;
  int64_t count = -1;
  bool one_class = false;
  while (std::getline(lines, line) && line != "SV") {
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "svm_type") {
      std::string type;
      words >> type;
      one_class = type == "one_class";
    } else if (key == "total_sv") {
      words >> count;
    }
  }
  if (line != "SV" || !one_class || count < 1) {
    return DataError(path + ": not a one-class libsvm model with support vectors");
  }
  std::vector<double> coordinates;
  coordinates.reserve(static_cast<size_t>(count) * dims);
  for (int64_t sv = 0; sv < count; ++sv) {
    if (!std::getline(lines, line)) return DataError(path + ": missing support vector lines");
    std::istringstream words(line);
    double coefficient = 0.0;
    if (!(words >> coefficient) || !std::isfinite(coefficient)) {
      return DataError(path + ": support vector " + std::to_string(sv) + ": bad coefficient");
    }
    for (int j = 1; j <= dims; ++j) {
      std::string pair;
      words >> pair;
      const size_t colon = pair.find(':');
      char* end = nullptr;
      const double value =
          colon == std::string::npos ? NAN : std::strtod(pair.c_str() + colon + 1, &end);
      if (colon == std::string::npos || pair.substr(0, colon) != std::to_string(j) ||
          end == nullptr || *end != '\0' || !std::isfinite(value)) {
        return DataError(path + ": support vector " + std::to_string(sv) + ": bad feature " +
                         std::to_string(j));
      }
      coordinates.push_back(value);
    }
  }
  return coordinates;
}

}  // namespace

Status OneClassSvmOptions::Validate() const {
  constexpr std::string_view kind = OneClassSvm::kKind;
  if (!(nu > 0 && nu <= 1)) return ConfigError(kind, "nu", "must be in (0, 1]");
  if (gamma_rule == GammaRule::kValue && !(gamma > 0 && std::isfinite(gamma))) {
    return ConfigError(kind, "gamma", "must be \"scale\", \"auto\" or a number > 0");
  }
  if (degree < 1) return ConfigError(kind, "degree", "must be >= 1");
  if (!(tol > 0)) return ConfigError(kind, "tol", "must be > 0");
  if (!(cache_size > 0)) return ConfigError(kind, "cache_size", "must be > 0");
  return contamination.Validate();
}

Result<OneClassSvmOptions> OneClassSvmOptions::FromJson(const nlohmann::json& config) {
  constexpr std::string_view kind = OneClassSvm::kKind;
  VIGIL_RETURN_IF_ERROR(models_internal::CheckConfigKeys(
      kind, config,
      {"kernel", "nu", "gamma", "degree", "coef0", "tol", "shrinking", "cache_size", "standardize",
       "contamination"}));
  OneClassSvmOptions o;
  VIGIL_ASSIGN_OR_RETURN(std::string kernel,
                         models_internal::ConfigString(kind, config, "kernel", "rbf"));
  const auto* named = std::find_if(std::begin(kKernelNames), std::end(kKernelNames),
                                   [&](const auto& entry) { return entry.second == kernel; });
  if (named == std::end(kKernelNames)) {
    return ConfigError(kind, "kernel", "'" + kernel + "' (expected rbf, linear, poly or sigmoid)");
  }
  o.kernel = named->first;
  if (config.is_object() && config.contains("gamma")) {
    const nlohmann::json& gamma = config.at("gamma");
    if (gamma.is_number()) {
      o.gamma_rule = GammaRule::kValue;
      o.gamma = gamma.get<double>();
    } else if (gamma == "auto") {
      o.gamma_rule = GammaRule::kAuto;
    } else if (gamma != "scale") {
      return ConfigError(kind, "gamma", "must be \"scale\", \"auto\" or a number > 0");
    }
  }
  VIGIL_ASSIGN_OR_RETURN(o.nu, models_internal::ConfigNumber(kind, config, "nu", o.nu));
  VIGIL_ASSIGN_OR_RETURN(o.degree, models_internal::ConfigInt(kind, config, "degree", o.degree));
  VIGIL_ASSIGN_OR_RETURN(o.coef0, models_internal::ConfigNumber(kind, config, "coef0", o.coef0));
  VIGIL_ASSIGN_OR_RETURN(o.tol, models_internal::ConfigNumber(kind, config, "tol", o.tol));
  VIGIL_ASSIGN_OR_RETURN(o.shrinking,
                         models_internal::ConfigBool(kind, config, "shrinking", o.shrinking));
  VIGIL_ASSIGN_OR_RETURN(o.cache_size,
                         models_internal::ConfigNumber(kind, config, "cache_size", o.cache_size));
  VIGIL_ASSIGN_OR_RETURN(o.standardize,
                         models_internal::ConfigBool(kind, config, "standardize", o.standardize));
  VIGIL_ASSIGN_OR_RETURN(o.contamination, Contamination::FromJson(kind, config));
  VIGIL_RETURN_IF_ERROR(o.Validate());
  return o;
}

nlohmann::json OneClassSvmOptions::ToJson() const {
  nlohmann::json gamma_json = gamma_rule == GammaRule::kScale  ? nlohmann::json("scale")
                              : gamma_rule == GammaRule::kAuto ? nlohmann::json("auto")
                                                               : nlohmann::json(gamma);
  return {{"kernel", KernelName(kernel)},
          {"nu", nu},
          {"gamma", gamma_json},
          {"degree", degree},
          {"coef0", coef0},
          {"tol", tol},
          {"shrinking", shrinking},
          {"cache_size", cache_size},
          {"standardize", standardize},
          {"contamination", contamination.ToJson()}};
}

OneClassSvm::OneClassSvm(OneClassSvmOptions options) : options_(std::move(options)) {}
OneClassSvm::~OneClassSvm() = default;
OneClassSvm::OneClassSvm(OneClassSvm&&) noexcept = default;
OneClassSvm& OneClassSvm::operator=(OneClassSvm&&) noexcept = default;

int OneClassSvm::support_vectors() const { return svm_ ? svm_->get()->l : 0; }

Result<std::vector<double>> OneClassSvm::Prepare(const FeatureMatrix& x) const {
  if (!fitted_) return FailedPrecondition("model 'ocsvm': not fitted");
  VIGIL_RETURN_IF_ERROR(models_internal::CheckColumns(kKind, feature_names_, x));
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/false).WithContext("model 'ocsvm'"));
  std::vector<double> points = x.values;
  if (scaling_mean_.empty()) return points;
  const size_t cols = x.cols();
  for (size_t i = 0; i < points.size(); ++i) {
    points[i] = (points[i] - scaling_mean_[i % cols]) / scaling_scale_[i % cols];
  }
  return points;
}

std::vector<double> OneClassSvm::RawScores(const std::vector<double>& points, int64_t rows) const {
  const size_t dims = feature_names_.size();
  std::vector<double> raw(rows);
  std::vector<svm_node> nodes(dims + 1);
  for (int64_t row = 0; row < rows; ++row) {
    FillNodes(std::span<const double>(points).subspan(row * dims, dims), nodes.data());
    double decision = 0.0;
    svm_predict_values(svm_->get(), nodes.data(), &decision);
    raw[row] = -decision;
  }
  return raw;
}

Status OneClassSvm::Fit(const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/false).WithContext("model 'ocsvm'"));
  if (x.rows < 2 || x.cols() == 0) {
    return InvalidArgument("model 'ocsvm': need at least 2 rows and 1 feature to fit");
  }
  SilenceLibsvm();
  OneClassSvm fitted(options_);
  fitted.feature_names_ = x.columns;
  std::vector<double> points = x.values;
  if (options_.standardize) {
    const auto scaling = models_internal::ColumnScaling::Fit(x, /*center=*/true);
    fitted.scaling_mean_ = scaling.mean;
    fitted.scaling_scale_ = scaling.scale;
    points = scaling.Apply(x).values;
  }
  const int dims = static_cast<int>(x.cols());
  fitted.gamma_ = options_.gamma_rule == GammaRule::kValue  ? options_.gamma
                  : options_.gamma_rule == GammaRule::kAuto ? 1.0 / dims
                                                            : ScaleGamma(points, dims);
  fitted.medians_ = ColumnMedians(points, x.rows, dims);

  svm_parameter param{};
  param.svm_type = ONE_CLASS;
  param.kernel_type = LibsvmKernel(options_.kernel);
  param.degree = options_.degree;
  param.gamma = fitted.gamma_;
  param.coef0 = options_.coef0;
  param.cache_size = options_.cache_size;
  param.eps = options_.tol;
  param.nu = options_.nu;
  param.shrinking = options_.shrinking ? 1 : 0;
  param.probability = 0;
  Problem problem(points, x.rows, dims);
  if (const char* error = svm_check_parameter(&problem.problem, &param)) {
    return InvalidArgument(std::string("model 'ocsvm': libsvm: ") + error);
  }
  fitted.svm_ = std::make_unique<SvmModel>(svm_train(&problem.problem, &param));
  if (fitted.svm_->get() == nullptr) return Internal("model 'ocsvm': libsvm training failed");
  fitted.svm_->AdoptSupportVectors(dims);
  if (!std::isfinite(fitted.svm_->get()->rho[0])) {
    return InvalidArgument(
        "model 'ocsvm': libsvm found no finite offset rho (every support vector at its bound); "
        "lower nu");
  }

  const std::vector<double> raw = fitted.RawScores(points, x.rows);
  VIGIL_ASSIGN_OR_RETURN(fitted.calibration_,
                         ScoreCalibration::Fit(raw, options_.contamination, kNativeThreshold));
  fitted.fitted_ = true;
  *this = std::move(fitted);
  return Status::Ok();
}

Result<std::vector<double>> OneClassSvm::DecisionFunction(const FeatureMatrix& x) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> points, Prepare(x));
  std::vector<double> decision = RawScores(points, x.rows);
  for (double& value : decision) value = -value;
  return decision;
}

void OneClassSvm::LeaveOneOutShares(std::span<const double> point, double raw,
                                    std::span<double> shares) const {
  std::vector<double> typical(point.begin(), point.end());
  for (size_t j = 0; j < point.size(); ++j) {
    typical[j] = medians_[j];
    shares[j] = std::max(0.0, raw - RawScores(typical, 1)[0]);
    typical[j] = point[j];
  }
  NormalizeShares(shares);
}

Result<AnomalyScores> OneClassSvm::Score(const FeatureMatrix& x) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> points, Prepare(x));
  AnomalyScores out;
  out.raw = RawScores(points, x.rows);
  ApplyCalibration(calibration_, static_cast<int64_t>(x.cols()), out);
  const size_t cols = x.cols();
  for (int64_t row = 0; row < x.rows; ++row) {
    if (!out.flag[row]) continue;
    LeaveOneOutShares(std::span<const double>(points).subspan(row * cols, cols), out.raw[row],
                      std::span<double>(out.contributions).subspan(row * cols, cols));
  }
  return out;
}

Result<std::vector<double>> OneClassSvm::Contributions(const FeatureMatrix& x) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> points, Prepare(x));
  const std::vector<double> raw = RawScores(points, x.rows);
  const size_t cols = x.cols();
  std::vector<double> out(points.size());
  for (int64_t row = 0; row < x.rows; ++row) {
    LeaveOneOutShares(std::span<const double>(points).subspan(row * cols, cols), raw[row],
                      std::span<double>(out).subspan(row * cols, cols));
  }
  return out;
}

nlohmann::json OneClassSvm::Describe() const {
  nlohmann::json out = {{"kind", kKind}, {"fitted", fitted_}};
  if (!fitted_) return out;
  out["kernel"] = KernelName(options_.kernel);
  out["nu"] = options_.nu;
  out["gamma"] = gamma_;
  out["support_vectors"] = support_vectors();
  out["rho"] = svm_->get()->rho[0];
  out["standardize"] = !scaling_mean_.empty();
  out["threshold"] = calibration_.threshold();
  out["contamination"] = calibration_.contamination();
  return out;
}

Status OneClassSvm::SaveWeights(const std::filesystem::path& dir) const {
  if (!fitted_) return FailedPrecondition("model 'ocsvm': not fitted, nothing to save");
  const std::string model_path = (dir / kModelFile).string();
  if (svm_save_model(model_path.c_str(), svm_->get()) != 0) {
    return IoError(model_path + ": libsvm could not write the model");
  }
  const svm_model* model = svm_->get();
  const size_t dims = feature_names_.size();
  std::vector<double> coordinates;
  coordinates.reserve(static_cast<size_t>(model->l) * dims);
  for (int sv = 0; sv < model->l; ++sv) {
    for (size_t j = 0; j < dims; ++j) coordinates.push_back(model->SV[sv][j].value);
  }
  nlohmann::json doc = {{"format", kFormat},
                        {"version", kFormatVersion},
                        {"feature_names", feature_names_},
                        {"gamma", gamma_},
                        {"medians", medians_},
                        {"support_vectors", coordinates},
                        {"calibration", calibration_.ToJson()}};
  doc["scaling"] = scaling_mean_.empty()
                       ? nlohmann::json(nullptr)
                       : nlohmann::json{{"mean", scaling_mean_}, {"scale", scaling_scale_}};
  return WriteFileAtomically((dir / kWeightsFile).string(), doc.dump() + "\n");
}

Status OneClassSvm::LoadWeights(const std::filesystem::path& dir) {
  SilenceLibsvm();
  const std::string path = (dir / kWeightsFile).string();
  const std::string model_path = (dir / kModelFile).string();
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  VIGIL_ASSIGN_OR_RETURN(std::string model_text, ReadFileToString(model_path));
  OneClassSvm loaded(options_);
  std::vector<double> coordinates;
  try {
    const nlohmann::json doc = nlohmann::json::parse(text);
    if (!doc.is_object() || doc.value("format", "") != kFormat) {
      return DataError(path + ": not a '" + std::string(kFormat) + "' document");
    }
    if (doc.value("version", 0) != kFormatVersion) return DataError(path + ": unsupported version");
    loaded.feature_names_ = doc.at("feature_names").get<std::vector<std::string>>();
    loaded.gamma_ = doc.at("gamma").get<double>();
    loaded.medians_ = doc.at("medians").get<std::vector<double>>();
    coordinates = doc.at("support_vectors").get<std::vector<double>>();
    if (!doc.at("scaling").is_null()) {
      loaded.scaling_mean_ = doc.at("scaling").at("mean").get<std::vector<double>>();
      loaded.scaling_scale_ = doc.at("scaling").at("scale").get<std::vector<double>>();
    }
    auto calibration = ScoreCalibration::FromJson(doc.at("calibration"));
    if (!calibration.ok()) return DataError(path + ": " + calibration.status().message());
    loaded.calibration_ = *calibration;
  } catch (const std::exception& e) {
    return DataError(path + ": " + e.what());
  }
  const size_t dims = loaded.feature_names_.size();
  const auto finite = [](double v) { return std::isfinite(v); };
  if (dims == 0 || loaded.medians_.size() != dims || coordinates.size() % dims != 0 ||
      !std::all_of(coordinates.begin(), coordinates.end(), finite) ||
      !std::all_of(loaded.medians_.begin(), loaded.medians_.end(), finite)) {
    return DataError(path + ": medians or support vectors do not match the features");
  }
  if ((!loaded.scaling_mean_.empty() || !loaded.scaling_scale_.empty()) &&
      (loaded.scaling_mean_.size() != dims || loaded.scaling_scale_.size() != dims ||
       !std::all_of(loaded.scaling_scale_.begin(), loaded.scaling_scale_.end(),
                    [](double s) { return std::isfinite(s) && s > 0; }))) {
    return DataError(path + ": bad scaling");
  }
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> written,
                         ReadModelFile(model_path, model_text, static_cast<int>(dims)));
  if (written.size() != coordinates.size()) {
    return DataError(model_path + ": support vector count differs from " + path);
  }
  for (size_t i = 0; i < written.size(); ++i) {
    if (std::abs(written[i] - coordinates[i]) >
        kModelFileTolerance * std::max(1.0, std::abs(coordinates[i]))) {
      return DataError(model_path + ": support vectors differ from " + path);
    }
  }
  loaded.svm_ = std::make_unique<models_internal::SvmModel>(svm_load_model(model_path.c_str()));
  const svm_model* model = loaded.svm_->get();
  if (model == nullptr || svm_get_svm_type(model) != ONE_CLASS ||
      model->param.kernel_type != LibsvmKernel(options_.kernel) ||
      static_cast<size_t>(model->l) * dims != coordinates.size() || model->rho == nullptr ||
      !std::isfinite(model->rho[0]) ||
      (options_.kernel != Kernel::kLinear && model->param.gamma != loaded.gamma_)) {
    return DataError(model_path + ": libsvm could not load it as this configuration's model");
  }
  // Full-precision coordinates: the model file's 8 significant digits are not enough to
  // reproduce the saved scores bit for bit.
  for (int sv = 0; sv < model->l; ++sv) {
    for (size_t j = 0; j < dims; ++j) model->SV[sv][j].value = coordinates[sv * dims + j];
  }
  loaded.fitted_ = true;
  *this = std::move(loaded);
  return Status::Ok();
}

namespace models_internal {
KindRegistration OneClassSvmKind() {
  return {std::string(OneClassSvm::kKind), Task::kAnomaly,
          [](const nlohmann::json& config) -> Result<std::unique_ptr<Model>> {
            VIGIL_ASSIGN_OR_RETURN(OneClassSvmOptions options,
                                   OneClassSvmOptions::FromJson(config));
            return std::unique_ptr<Model>(std::make_unique<OneClassSvm>(options));
          }};
}
}  // namespace models_internal

}  // namespace vigil
