#include "vigil/models/anomaly/ocsvm.h"

#include <svm.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <span>
#include <sstream>
#include <string>
#include <utility>

#include "models/anomaly/detector_support.h"
#include "models/builtin_kinds.h"
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

// The trained decision function f(x) = sum_s coef_s K(x, sv_s) - rho as dense Eigen
// matrices, evaluated a block of rows at a time with one matrix product: for rbf
// K = exp(-gamma |x - s|^2) with |x - s|^2 = |x|^2 + |s|^2 - 2 x.s (rows and support vectors
// centred on the support vectors' mean first, which keeps the expansion accurate), for the
// other kernels a function of x.s. Equal to libsvm's svm_predict_values up to rounding.
double IntegerPower(double base, int exponent) {
  double result = 1.0;
  for (int i = 0; i < exponent; ++i) result *= base;
  return result;
}

class DenseDecision {
 public:
  using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

  DenseDecision(const svm_model& model, int dims, OneClassSvmOptions::Kernel kernel, double gamma,
                double coef0, int degree)
      : kernel_(kernel), gamma_(gamma), coef0_(coef0), degree_(degree), rho_(model.rho[0]) {
    support_.resize(model.l, dims);
    coef_.resize(model.l);
    for (int sv = 0; sv < model.l; ++sv) {
      for (int j = 0; j < dims; ++j) support_(sv, j) = model.SV[sv][j].value;
      coef_(sv) = model.sv_coef[0][sv];
    }
    center_ = Eigen::RowVectorXd::Zero(dims);
    if (kernel_ == OneClassSvmOptions::Kernel::kRbf) {
      center_ = support_.colwise().mean();
      support_.rowwise() -= center_;
      support_norms_ = support_.rowwise().squaredNorm();
    }
    by_feature_ = support_.transpose();
    coef_row_ = coef_.transpose();
  }

  // Decision values of `rows` row-major rows; `each_block(first_row, block, base, decisions)`
  // then sees each block's centred rows, base matrix (squared distances to the support
  // vectors for rbf, dot products otherwise) and the decision values so far.
  template <typename BlockVisitor>
  std::vector<double> Evaluate(std::span<const double> points, int64_t rows,
                               BlockVisitor&& each_block) const {
    const auto dims = support_.cols();
    std::vector<double> decision(rows);
    Matrix base;
    for (int64_t first = 0; first < rows; first += kBlockRows) {
      const int64_t count = std::min<int64_t>(kBlockRows, rows - first);
      const Matrix block = Centered(points.subspan(first * dims, count * dims), count);
      base.noalias() = block * support_.transpose();
      if (kernel_ == OneClassSvmOptions::Kernel::kRbf) {
        const Eigen::VectorXd norms = block.rowwise().squaredNorm();
        base = ((-2.0 * base).colwise() + norms).rowwise() + support_norms_.transpose();
        base = base.cwiseMax(0.0);
      }
      const Eigen::VectorXd f = KernelOf(base) * coef_;
      for (int64_t r = 0; r < count; ++r) decision[first + r] = f(r) - rho_;
      each_block(first, block, base, std::span<const double>(decision));
    }
    return decision;
  }
  std::vector<double> Evaluate(std::span<const double> points, int64_t rows) const {
    return Evaluate(points, rows,
                    [](int64_t, const Matrix&, const Matrix&, std::span<const double>) {});
  }

  // Decision values of the centred row `x` (base row `base`) with feature j replaced by
  // medians[j], for each j: the base changes in one coordinate only.
  void LeaveOneOut(const Eigen::RowVectorXd& x, const Eigen::RowVectorXd& medians,
                   const Eigen::RowVectorXd& base, std::span<double> decisions) const {
    for (Eigen::Index j = 0; j < x.size(); ++j) {
      const double step = medians(j) - x(j);
      if (kernel_ == OneClassSvmOptions::Kernel::kRbf) {
        // |x' - s|^2 - |x - s|^2 = (m - x)(m + x - 2 s) in coordinate j; fused, no temporaries.
        decisions[j] = ((-gamma_ * (base.array() +
                                    step * (medians(j) + x(j) - 2.0 * by_feature_.row(j).array()))
                                       .max(0.0))
                            .exp() *
                        coef_row_.array())
                           .sum() -
                       rho_;
      } else {
        const Matrix changed = base + step * by_feature_.row(j);
        decisions[j] = (KernelOf(changed) * coef_)(0) - rho_;
      }
    }
  }

  Eigen::RowVectorXd CenteredRow(std::span<const double> row) const {
    return Eigen::Map<const Eigen::RowVectorXd>(row.data(), static_cast<Eigen::Index>(row.size())) -
           center_;
  }

 private:
  static constexpr int64_t kBlockRows = 256;

  Matrix Centered(std::span<const double> values, int64_t rows) const {
    Matrix block = Eigen::Map<const Matrix>(values.data(), rows, support_.cols());
    block.rowwise() -= center_;
    return block;
  }

  Matrix KernelOf(const Matrix& base) const {
    switch (kernel_) {
      case OneClassSvmOptions::Kernel::kRbf:
        return (-gamma_ * base.array()).exp().matrix();
      case OneClassSvmOptions::Kernel::kLinear:
        return base;
      case OneClassSvmOptions::Kernel::kPoly:
        // libsvm's powi: an integer power, defined for a negative base.
        return (gamma_ * base.array() + coef0_)
            .unaryExpr([degree = degree_](double v) { return IntegerPower(v, degree); })
            .matrix();
      case OneClassSvmOptions::Kernel::kSigmoid:
        return (gamma_ * base.array() + coef0_).tanh().matrix();
    }
    return base;
  }

  OneClassSvmOptions::Kernel kernel_;
  double gamma_;
  double coef0_;
  int degree_;
  double rho_;
  Matrix support_;     // one row per support vector, centred for rbf
  Matrix by_feature_;  // its transpose: one contiguous row per feature
  Eigen::VectorXd coef_;
  Eigen::RowVectorXd coef_row_;    // coef_ as a row, for the fused leave-one-out sums
  Eigen::VectorXd support_norms_;  // rbf only
  Eigen::RowVectorXd center_;      // zero except for rbf
};

}  // namespace models_internal

namespace {

using models_internal::ConfigError;
using models_internal::SvmModel;
using Kernel = OneClassSvmOptions::Kernel;
using GammaRule = OneClassSvmOptions::GammaRule;

constexpr models_internal::WeightsEnvelope kEnvelope{"vigil.ocsvm", 1};
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
  return models_internal::PrepareRows(kKind, fitted_, feature_names_,
                                      {scaling_mean_, scaling_scale_}, x);
}

std::vector<double> OneClassSvm::RawScores(const std::vector<double>& points, int64_t rows) const {
  std::vector<double> raw = dense_->Evaluate(points, rows);
  for (double& value : raw) value = -value;
  return raw;
}

Status OneClassSvm::FitPrepared(const FeatureMatrix& x, std::vector<double>& points,
                                std::vector<double>& raw) {
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  VIGIL_RETURN_IF_ERROR(models_internal::CheckTrainingInput(kKind, x));
  SilenceLibsvm();
  OneClassSvm fitted(options_);
  fitted.feature_names_ = x.columns;
  points = models_internal::StandardizeTraining(x, options_.standardize,
                                                {fitted.scaling_mean_, fitted.scaling_scale_});
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
  fitted.BuildDenseDecision();
  raw = fitted.RawScores(points, x.rows);
  VIGIL_ASSIGN_OR_RETURN(fitted.calibration_,
                         ScoreCalibration::Fit(raw, options_.contamination, kNativeThreshold));
  fitted.fitted_ = true;
  *this = std::move(fitted);
  return Status::Ok();
}

void OneClassSvm::BuildDenseDecision() {
  dense_ = std::make_unique<models_internal::DenseDecision>(
      *svm_->get(), static_cast<int>(feature_names_.size()), options_.kernel, gamma_,
      options_.coef0, options_.degree);
}

Status OneClassSvm::Fit(const FeatureMatrix& x) {
  std::vector<double> points;
  std::vector<double> raw;
  return FitPrepared(x, points, raw);
}

Result<AnomalyScores> OneClassSvm::FitScore(const FeatureMatrix& x) {
  std::vector<double> points;
  std::vector<double> raw;
  VIGIL_RETURN_IF_ERROR(FitPrepared(x, points, raw));
  AnomalyScores out = models_internal::CalibratedScores(std::move(raw), calibration_, x.cols());
  FillFlaggedShares(points, out);
  return out;
}

Result<std::vector<double>> OneClassSvm::DecisionFunction(const FeatureMatrix& x) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> points, Prepare(x));
  return dense_->Evaluate(points, x.rows);
}

void OneClassSvm::LeaveOneOutShares(const std::vector<double>& points,
                                    std::span<const int64_t> rows, std::span<double> shares) const {
  const size_t cols = feature_names_.size();
  std::vector<double> selected;
  selected.reserve(rows.size() * cols);
  for (int64_t row : rows) {
    selected.insert(selected.end(), points.begin() + row * cols, points.begin() + (row + 1) * cols);
  }
  const Eigen::RowVectorXd medians = dense_->CenteredRow(medians_);
  std::vector<double> changed(cols);
  dense_->Evaluate(
      selected, static_cast<int64_t>(rows.size()),
      [&](int64_t first, const auto& block, const auto& base, std::span<const double> decision) {
        for (Eigen::Index r = 0; r < block.rows(); ++r) {
          dense_->LeaveOneOut(block.row(r), medians, base.row(r), changed);
          std::span<double> row_shares = shares.subspan(rows[first + r] * cols, cols);
          // raw(x) - raw(x with x_j typical) = f(x with x_j typical) - f(x).
          for (size_t j = 0; j < cols; ++j) {
            row_shares[j] = std::max(0.0, changed[j] - decision[first + r]);
          }
          NormalizeShares(row_shares);
        }
      });
}

void OneClassSvm::FillFlaggedShares(const std::vector<double>& points,
                                    AnomalyScores& scores) const {
  std::vector<int64_t> flagged;
  for (size_t row = 0; row < scores.flag.size(); ++row) {
    if (scores.flag[row]) flagged.push_back(static_cast<int64_t>(row));
  }
  LeaveOneOutShares(points, flagged, scores.contributions);
}

Result<AnomalyScores> OneClassSvm::Score(const FeatureMatrix& x) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> points, Prepare(x));
  AnomalyScores out =
      models_internal::CalibratedScores(RawScores(points, x.rows), calibration_, x.cols());
  FillFlaggedShares(points, out);
  return out;
}

Result<std::vector<double>> OneClassSvm::Contributions(const FeatureMatrix& x) const {
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> points, Prepare(x));
  std::vector<int64_t> every_row(x.rows);
  for (int64_t row = 0; row < x.rows; ++row) every_row[row] = row;
  std::vector<double> out(points.size());
  LeaveOneOutShares(points, every_row, out);
  return out;
}

nlohmann::json OneClassSvm::Describe() const {
  nlohmann::json out = models_internal::DescribeDetector(kKind, fitted_, calibration_);
  if (!fitted_) return out;
  out["kernel"] = KernelName(options_.kernel);
  out["nu"] = options_.nu;
  out["gamma"] = gamma_;
  out["support_vectors"] = support_vectors();
  out["rho"] = svm_->get()->rho[0];
  out["standardize"] = !scaling_mean_.empty();
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
  return kEnvelope.Write(
      dir / kWeightsFile,
      {{"feature_names", feature_names_},
       {"gamma", gamma_},
       {"medians", medians_},
       {"support_vectors", coordinates},
       {"scaling", models_internal::ScalingToJson({scaling_mean_, scaling_scale_})},
       {"calibration", calibration_.ToJson()}});
}

Status OneClassSvm::LoadWeights(const std::filesystem::path& dir) {
  SilenceLibsvm();
  const std::string path = (dir / kWeightsFile).string();
  const std::string model_path = (dir / kModelFile).string();
  OneClassSvm loaded(options_);
  std::vector<double> coordinates;
  VIGIL_RETURN_IF_ERROR(kEnvelope.Read(path, [&](const nlohmann::json& doc) -> Status {
    loaded.feature_names_ = doc.at("feature_names").get<std::vector<std::string>>();
    loaded.gamma_ = doc.at("gamma").get<double>();
    loaded.medians_ = doc.at("medians").get<std::vector<double>>();
    coordinates = doc.at("support_vectors").get<std::vector<double>>();
    VIGIL_RETURN_IF_ERROR(
        models_internal::ScalingFromJson(path, doc.at("scaling"), loaded.feature_names_.size(),
                                         {loaded.scaling_mean_, loaded.scaling_scale_}));
    VIGIL_ASSIGN_OR_RETURN(loaded.calibration_, models_internal::CalibrationFromJson(path, doc));
    return Status::Ok();
  }));
  VIGIL_ASSIGN_OR_RETURN(std::string model_text, ReadFileToString(model_path));
  const size_t dims = loaded.feature_names_.size();
  const auto finite = [](double v) { return std::isfinite(v); };
  if (dims == 0 || loaded.medians_.size() != dims || coordinates.size() % dims != 0 ||
      !std::all_of(coordinates.begin(), coordinates.end(), finite) ||
      !std::all_of(loaded.medians_.begin(), loaded.medians_.end(), finite)) {
    return DataError(path + ": medians or support vectors do not match the features");
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
  loaded.BuildDenseDecision();
  loaded.fitted_ = true;
  *this = std::move(loaded);
  return Status::Ok();
}

namespace models_internal {
KindRegistration OneClassSvmKind() { return DetectorKind<OneClassSvm, OneClassSvmOptions>(); }
}  // namespace models_internal

}  // namespace vigil
