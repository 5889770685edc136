#include "vigil/models/anomaly/ecod.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "models/anomaly/detector_support.h"
#include "models/anomaly/parallel.h"
#include "models/builtin_kinds.h"

namespace vigil {
namespace {

constexpr models_internal::WeightsEnvelope kEnvelope{"vigil.ecod", 1};
// scipy.stats.skew treats a column as constant when m2 <= (resolution * mean)^2, with the
// float64 resolution 1e-15; such a column has no skew (scipy returns NaN there).
constexpr double kSkewResolution = 1e-15;

// Biased sample skewness m3 / m2^1.5 (scipy.stats.skew with bias=True), 0 when constant.
double Skewness(const std::vector<double>& values) {
  const double n = static_cast<double>(values.size());
  double mean = 0.0;
  for (double v : values) mean += v;
  mean /= n;
  double m2 = 0.0;
  double m3 = 0.0;
  for (double v : values) {
    const double d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
  }
  m2 /= n;
  m3 /= n;
  const double resolution = kSkewResolution * mean;
  if (m2 <= resolution * resolution) return 0.0;
  return m3 / std::pow(m2, 1.5);
}

std::string_view AggregateName(Ecod::Aggregate aggregate) {
  switch (aggregate) {
    case Ecod::Aggregate::kLeft:
      return "left";
    case Ecod::Aggregate::kRight:
      return "right";
    case Ecod::Aggregate::kAuto:
      return "auto";
  }
  return "auto";
}

}  // namespace

Status EcodOptions::Validate() const {
  VIGIL_RETURN_IF_ERROR(contamination.Validate());
  if (n_jobs < 1 && n_jobs != -1) {
    return models_internal::ConfigError(Ecod::kKind, "n_jobs", "must be >= 1 or -1");
  }
  return Status::Ok();
}

Result<EcodOptions> EcodOptions::FromJson(const nlohmann::json& config) {
  constexpr std::string_view kind = Ecod::kKind;
  VIGIL_RETURN_IF_ERROR(
      models_internal::CheckConfigKeys(kind, config, {"contamination", "n_jobs"}));
  EcodOptions options;
  VIGIL_ASSIGN_OR_RETURN(options.contamination, Contamination::FromJson(kind, config));
  VIGIL_ASSIGN_OR_RETURN(options.n_jobs,
                         models_internal::ConfigInt(kind, config, "n_jobs", options.n_jobs));
  VIGIL_RETURN_IF_ERROR(options.Validate());
  return options;
}

nlohmann::json EcodOptions::ToJson() const {
  return {{"contamination", contamination.ToJson()}, {"n_jobs", n_jobs}};
}

Ecod::Ecod(EcodOptions options) : options_(std::move(options)) {}

Status Ecod::Fit(const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  VIGIL_RETURN_IF_ERROR(models_internal::CheckTrainingInput(kKind, x));
  Ecod fitted(options_);
  fitted.feature_names_ = x.columns;
  fitted.training_rows_ = x.rows;
  fitted.sorted_columns_.resize(x.cols());
  fitted.skewness_.resize(x.cols());
  for (size_t col = 0; col < x.cols(); ++col) {
    std::vector<double>& column = fitted.sorted_columns_[col];
    column.resize(x.rows);
    for (int64_t row = 0; row < x.rows; ++row) column[row] = x.at(row, col);
    fitted.skewness_[col] = Skewness(column);
    std::sort(column.begin(), column.end());
  }
  const std::vector<double> raw = fitted.RawScores(x, nullptr);
  VIGIL_ASSIGN_OR_RETURN(fitted.calibration_, ScoreCalibration::Fit(raw, options_.contamination));
  fitted.fitted_ = true;
  *this = std::move(fitted);
  return Status::Ok();
}

std::pair<double, double> Ecod::TailTerms(size_t col, double x) const {
  const std::vector<double>& column = sorted_columns_[col];
  const double n = static_cast<double>(column.size());
  const auto at_most = std::upper_bound(column.begin(), column.end(), x) - column.begin();
  const auto at_least = column.end() - std::lower_bound(column.begin(), column.end(), x);
  // A value beyond every training row has count 0: clamp to 1 / (n + 1), just past the
  // most extreme training row's 1 / n.
  const double floor = 1.0 / (n + 1.0);
  const double left = at_most == 0 ? floor : static_cast<double>(at_most) / n;
  const double right = at_least == 0 ? floor : static_cast<double>(at_least) / n;
  return {-std::log(left), -std::log(right)};
}

double Ecod::RowScoreWithScratch(std::span<const double> row, std::span<double> terms,
                                 std::span<double> right_terms, Aggregate* winner) const {
  double left_sum = 0.0;
  double right_sum = 0.0;
  double auto_sum = 0.0;
  for (size_t col = 0; col < row.size(); ++col) {
    const auto [left, right] = TailTerms(col, row[col]);
    terms[col] = left;
    right_terms[col] = right;
    left_sum += left;
    right_sum += right;
    auto_sum += skewness_[col] < 0 ? left : right;
  }
  Aggregate best = Aggregate::kLeft;
  double raw = left_sum;
  if (right_sum > raw) best = Aggregate::kRight, raw = right_sum;
  if (auto_sum > raw) best = Aggregate::kAuto, raw = auto_sum;
  for (size_t col = 0; col < row.size(); ++col) {
    const bool use_right =
        best == Aggregate::kRight || (best == Aggregate::kAuto && !(skewness_[col] < 0));
    if (use_right) terms[col] = right_terms[col];
  }
  if (winner != nullptr) *winner = best;
  return raw;
}

double Ecod::RowScore(std::span<const double> row, std::span<double> terms,
                      Aggregate* winner) const {
  std::vector<double> right_terms(row.size());
  return RowScoreWithScratch(row, terms, right_terms, winner);
}

std::vector<double> Ecod::RawScores(const FeatureMatrix& x,
                                    std::vector<double>* contributions) const {
  std::vector<double> raw(x.rows);
  const size_t cols = x.cols();
  if (contributions != nullptr) contributions->assign(static_cast<size_t>(x.rows) * cols, 0.0);
  models_internal::ParallelFor(
      x.rows, models_internal::ResolveJobs(options_.n_jobs), [&](int64_t begin, int64_t end) {
        std::vector<double> terms(cols);
        std::vector<double> right_terms(cols);
        for (int64_t row = begin; row < end; ++row) {
          raw[row] = RowScoreWithScratch(x.row(row), terms, right_terms, nullptr);
          if (contributions == nullptr) continue;
          std::span<double> shares(contributions->data() + row * cols, cols);
          std::copy(terms.begin(), terms.end(), shares.begin());
          NormalizeShares(shares);
        }
      });
  return raw;
}

Status Ecod::CheckInput(const FeatureMatrix& x) const {
  return models_internal::CheckScoringInput(kKind, fitted_, feature_names_, x);
}

Result<AnomalyScores> Ecod::Score(const FeatureMatrix& x) const {
  VIGIL_RETURN_IF_ERROR(CheckInput(x));
  std::vector<double> shares;
  AnomalyScores out;
  out.raw = RawScores(x, &shares);
  ApplyCalibration(calibration_, static_cast<int64_t>(x.cols()), out);
  models_internal::FillFlaggedContributions(
      out, x.cols(), [&](size_t row, std::span<double> row_shares) {
        std::copy_n(shares.begin() + row * x.cols(), x.cols(), row_shares.begin());
      });
  return out;
}

Result<std::vector<double>> Ecod::Contributions(const FeatureMatrix& x) const {
  VIGIL_RETURN_IF_ERROR(CheckInput(x));
  std::vector<double> shares;
  RawScores(x, &shares);
  return shares;
}

nlohmann::json Ecod::Describe() const {
  nlohmann::json features = nlohmann::json::object();
  for (size_t col = 0; col < feature_names_.size(); ++col) {
    features[feature_names_[col]] = {
        {"skewness", skewness_[col]},
        {"auto_tail", AggregateName(skewness_[col] < 0 ? Aggregate::kLeft : Aggregate::kRight)}};
  }
  return {{"kind", kKind},
          {"fitted", fitted_},
          {"training_rows", training_rows_},
          {"features", features},
          {"calibration", fitted_ ? calibration_.ToJson() : nlohmann::json(nullptr)}};
}

Status Ecod::SaveWeights(const std::filesystem::path& dir) const {
  if (!fitted_) return FailedPrecondition("model 'ecod': not fitted, nothing to save");
  return kEnvelope.Write(dir / kWeightsFile, {{"feature_names", feature_names_},
                                              {"sorted_columns", sorted_columns_},
                                              {"skewness", skewness_},
                                              {"calibration", calibration_.ToJson()}});
}

Status Ecod::LoadWeights(const std::filesystem::path& dir) {
  const std::string path = (dir / kWeightsFile).string();
  Ecod loaded(options_);
  VIGIL_RETURN_IF_ERROR(kEnvelope.Read(path, [&](const nlohmann::json& doc) -> Status {
    loaded.feature_names_ = doc.at("feature_names").get<std::vector<std::string>>();
    loaded.sorted_columns_ = doc.at("sorted_columns").get<std::vector<std::vector<double>>>();
    loaded.skewness_ = doc.at("skewness").get<std::vector<double>>();
    VIGIL_ASSIGN_OR_RETURN(loaded.calibration_, models_internal::CalibrationFromJson(path, doc));
    return Status::Ok();
  }));
  const size_t features = loaded.feature_names_.size();
  if (features == 0 || loaded.sorted_columns_.size() != features ||
      loaded.skewness_.size() != features) {
    return DataError(path + ": sorted_columns and skewness must have one entry per feature");
  }
  loaded.training_rows_ = static_cast<int64_t>(loaded.sorted_columns_[0].size());
  for (size_t col = 0; col < features; ++col) {
    const std::vector<double>& column = loaded.sorted_columns_[col];
    const bool finite =
        std::all_of(column.begin(), column.end(), [](double v) { return std::isfinite(v); });
    if (static_cast<int64_t>(column.size()) != loaded.training_rows_ || column.size() < 2 ||
        !finite || !std::is_sorted(column.begin(), column.end()) ||
        !std::isfinite(loaded.skewness_[col])) {
      return DataError(path + ": feature '" + loaded.feature_names_[col] +
                       "': training column must be >= 2 finite ascending values, as long as "
                       "the others, with a finite skewness");
    }
  }
  loaded.fitted_ = true;
  *this = std::move(loaded);
  return Status::Ok();
}

namespace models_internal {
KindRegistration EcodKind() { return DetectorKind<Ecod, EcodOptions>(); }
}  // namespace models_internal

}  // namespace vigil
