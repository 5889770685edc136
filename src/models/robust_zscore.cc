#include "vigil/models/robust_zscore.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>
#include <utility>

#include "models/builtin_kinds.h"
#include "vigil/core/text_file.h"
#include "vigil/models/anomaly/calibration.h"

namespace vigil {
namespace {

using models_internal::ConfigError;

constexpr std::string_view kFormat = "vigil.zscore";
constexpr int kFormatVersion = 1;
// The score given to the median training row: half-way up the scale.
constexpr double kMedianScore = 50.0;
constexpr double kMaxScore = 100.0;

// Median of `values` (reordered); precondition: not empty.
double Median(std::vector<double>& values) {
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + mid);
  return lower + (upper - lower) / 2;
}

std::string_view MethodName(RobustZscore::ScaleMethod method) {
  switch (method) {
    case RobustZscore::ScaleMethod::kMad:
      return "mad";
    case RobustZscore::ScaleMethod::kMeanAbsoluteDeviation:
      return "mean_absolute_deviation";
    case RobustZscore::ScaleMethod::kIgnored:
      return "ignored";
  }
  return "ignored";
}

Result<RobustZscore::ScaleMethod> ParseMethod(const std::string& name) {
  for (auto method :
       {RobustZscore::ScaleMethod::kMad, RobustZscore::ScaleMethod::kMeanAbsoluteDeviation,
        RobustZscore::ScaleMethod::kIgnored}) {
    if (MethodName(method) == name) return method;
  }
  return DataError("unknown scale method '" + name + "'");
}

struct FeatureScale {
  double median = 0.0;
  double scale = 0.0;
  RobustZscore::ScaleMethod method = RobustZscore::ScaleMethod::kIgnored;
};

FeatureScale FitFeature(const FeatureMatrix& x, size_t col) {
  std::vector<double> values;
  values.reserve(x.rows);
  for (int64_t row = 0; row < x.rows; ++row) {
    if (!std::isnan(x.at(row, col))) values.push_back(x.at(row, col));
  }
  FeatureScale out;
  if (values.empty()) return out;
  out.median = Median(values);
  std::vector<double> deviations(values.size());
  double deviation_sum = 0.0;
  for (size_t i = 0; i < values.size(); ++i) {
    deviations[i] = std::abs(values[i] - out.median);
    deviation_sum += deviations[i];
  }
  const double mad = Median(deviations);
  const double mean_deviation = deviation_sum / static_cast<double>(values.size());
  if (mad > 0) {
    out.scale = mad * RobustZscore::kMadConsistency;
    out.method = RobustZscore::ScaleMethod::kMad;
  } else if (mean_deviation > 0) {
    out.scale = mean_deviation * RobustZscore::kMeanAbsConsistency;
    out.method = RobustZscore::ScaleMethod::kMeanAbsoluteDeviation;
  }
  return out;
}

}  // namespace

Status RobustZscoreOptions::Validate() const {
  if (!(contamination > 0 && contamination <= 0.5)) {
    return ConfigError(RobustZscore::kKind, "contamination", "must be in (0, 0.5]");
  }
  if (!(threshold_score > kMedianScore && threshold_score < kMaxScore)) {
    return ConfigError(RobustZscore::kKind, "threshold_score", "must be in (50, 100)");
  }
  return Status::Ok();
}

Result<RobustZscoreOptions> RobustZscoreOptions::FromJson(const nlohmann::json& config) {
  constexpr std::string_view kind = RobustZscore::kKind;
  VIGIL_RETURN_IF_ERROR(models_internal::CheckConfigKeys(
      kind, config, {"combine", "contamination", "threshold_score"}));
  RobustZscoreOptions options;
  VIGIL_ASSIGN_OR_RETURN(std::string combine,
                         models_internal::ConfigString(kind, config, "combine", "max"));
  if (combine == "mean_square") {
    options.combine = Combine::kMeanSquare;
  } else if (combine != "max") {
    return ConfigError(kind, "combine", "'" + combine + "' (expected max or mean_square)");
  }
  VIGIL_ASSIGN_OR_RETURN(
      options.contamination,
      models_internal::ConfigNumber(kind, config, "contamination", options.contamination));
  VIGIL_ASSIGN_OR_RETURN(
      options.threshold_score,
      models_internal::ConfigNumber(kind, config, "threshold_score", options.threshold_score));
  VIGIL_RETURN_IF_ERROR(options.Validate());
  return options;
}

nlohmann::json RobustZscoreOptions::ToJson() const {
  return {{"combine", combine == Combine::kMeanSquare ? "mean_square" : "max"},
          {"contamination", contamination},
          {"threshold_score", threshold_score}};
}

RobustZscore::RobustZscore(RobustZscoreOptions options) : options_(std::move(options)) {}

Status RobustZscore::Fit(const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/true).WithContext("model 'zscore'"));
  if (x.rows < 2) return InvalidArgument("model 'zscore': need at least 2 rows to fit");
  RobustZscore fitted(options_);
  fitted.feature_names_ = x.columns;
  for (size_t col = 0; col < x.cols(); ++col) {
    const FeatureScale feature = FitFeature(x, col);
    fitted.medians_.push_back(feature.median);
    fitted.scales_.push_back(feature.scale);
    fitted.methods_.push_back(feature.method);
  }
  std::vector<double> raw(x.rows);
  std::vector<double> z(x.cols());
  for (int64_t row = 0; row < x.rows; ++row) raw[row] = fitted.RowScore(x.row(row), z);
  fitted.threshold_raw_ =
      std::max(InterpolatedQuantile(raw, 1.0 - options_.contamination), kMinThresholdRaw);
  fitted.median_raw_ = Median(raw);
  fitted.fitted_ = true;
  *this = std::move(fitted);
  return Status::Ok();
}

double RobustZscore::RowScore(std::span<const double> row, std::span<double> z) const {
  double max_z = 0.0;
  double sum_squares = 0.0;
  int used = 0;
  for (size_t col = 0; col < row.size(); ++col) {
    z[col] = 0.0;
    if (methods_[col] == ScaleMethod::kIgnored || std::isnan(row[col])) continue;
    z[col] = std::abs(row[col] - medians_[col]) / scales_[col];
    max_z = std::max(max_z, z[col]);
    sum_squares += z[col] * z[col];
    ++used;
  }
  if (used == 0) return 0.0;
  return options_.combine == RobustZscoreOptions::Combine::kMax ? max_z
                                                                : std::sqrt(sum_squares / used);
}

double RobustZscore::ScoreOfRaw(double raw) const {
  const double t = threshold_raw_;
  const double m = median_raw_;
  const double ts = options_.threshold_score;
  if (!(raw > 0)) return 0.0;
  if (raw >= 2 * t) return kMaxScore;
  if (raw >= t) return ts + (kMaxScore - ts) * (raw - t) / t;
  double score = 0.0;
  if (m > 0 && m < t) {
    score = raw <= m ? kMedianScore * raw / m
                     : kMedianScore + (ts - kMedianScore) * (raw - m) / (t - m);
  } else {
    score = ts * raw / t;
  }
  // Rounding must not lift an unflagged row to the threshold score.
  return std::min(score, std::nextafter(ts, 0.0));
}

Result<AnomalyScores> RobustZscore::Score(const FeatureMatrix& x) const {
  if (!fitted_) return FailedPrecondition("model 'zscore': not fitted");
  VIGIL_RETURN_IF_ERROR(models_internal::CheckColumns(kKind, feature_names_, x));
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/true).WithContext("model 'zscore'"));
  AnomalyScores out;
  out.raw.resize(x.rows);
  out.score.resize(x.rows);
  out.flag.resize(x.rows);
  out.contributions.assign(static_cast<size_t>(x.rows) * x.cols(), 0.0);
  std::vector<double> z(x.cols());
  for (int64_t row = 0; row < x.rows; ++row) {
    out.raw[row] = RowScore(x.row(row), z);
    out.score[row] = ScoreOfRaw(out.raw[row]);
    out.flag[row] = out.raw[row] >= threshold_raw_;
    if (!out.flag[row]) continue;
    std::span<double> shares(out.contributions.data() + row * x.cols(), x.cols());
    std::copy(z.begin(), z.end(), shares.begin());
    NormalizeShares(shares);
  }
  return out;
}

void RobustZscore::DeviationShares(std::span<const double> row, std::span<double> shares) const {
  RowScore(row, shares);
  NormalizeShares(shares);
}

Result<std::vector<double>> RobustZscore::Contributions(const FeatureMatrix& x) const {
  if (!fitted_) return FailedPrecondition("model 'zscore': not fitted");
  VIGIL_RETURN_IF_ERROR(models_internal::CheckColumns(kKind, feature_names_, x));
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/true).WithContext("model 'zscore'"));
  std::vector<double> out(static_cast<size_t>(x.rows) * x.cols());
  for (int64_t row = 0; row < x.rows; ++row) {
    DeviationShares(x.row(row), std::span<double>(out.data() + row * x.cols(), x.cols()));
  }
  return out;
}

nlohmann::json RobustZscore::Describe() const {
  nlohmann::json features = nlohmann::json::object();
  for (size_t col = 0; col < feature_names_.size(); ++col) {
    features[feature_names_[col]] = {
        {"median", medians_[col]}, {"scale", scales_[col]}, {"method", MethodName(methods_[col])}};
  }
  return {{"kind", kKind},
          {"fitted", fitted_},
          {"features", features},
          {"median_raw", median_raw_},
          {"threshold_raw", threshold_raw_},
          {"threshold_score", options_.threshold_score}};
}

Status RobustZscore::SaveWeights(const std::filesystem::path& dir) const {
  if (!fitted_) return FailedPrecondition("model 'zscore': not fitted, nothing to save");
  nlohmann::json methods = nlohmann::json::array();
  for (ScaleMethod method : methods_) methods.push_back(MethodName(method));
  // Shortest round-trip doubles: loading restores the scores bit for bit.
  const nlohmann::json doc = {{"format", kFormat},
                              {"version", kFormatVersion},
                              {"feature_names", feature_names_},
                              {"medians", medians_},
                              {"scales", scales_},
                              {"methods", methods},
                              {"median_raw", median_raw_},
                              {"threshold_raw", threshold_raw_}};
  return WriteFileAtomically((dir / kWeightsFile).string(), doc.dump(2) + "\n");
}

Status RobustZscore::LoadWeights(const std::filesystem::path& dir) {
  const std::string path = (dir / kWeightsFile).string();
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  RobustZscore loaded(options_);
  try {
    const nlohmann::json doc = nlohmann::json::parse(text);
    if (!doc.is_object() || doc.value("format", "") != kFormat) {
      return DataError(path + ": not a '" + std::string(kFormat) + "' document");
    }
    if (doc.value("version", 0) != kFormatVersion) {
      return DataError(path + ": unsupported version");
    }
    loaded.feature_names_ = doc.at("feature_names").get<std::vector<std::string>>();
    loaded.medians_ = doc.at("medians").get<std::vector<double>>();
    loaded.scales_ = doc.at("scales").get<std::vector<double>>();
    for (const auto& name : doc.at("methods")) {
      VIGIL_ASSIGN_OR_RETURN(ScaleMethod method, ParseMethod(name.get<std::string>()));
      loaded.methods_.push_back(method);
    }
    loaded.median_raw_ = doc.at("median_raw").get<double>();
    loaded.threshold_raw_ = doc.at("threshold_raw").get<double>();
  } catch (const std::exception& e) {
    return DataError(path + ": " + e.what());
  }
  const size_t n = loaded.feature_names_.size();
  if (loaded.medians_.size() != n || loaded.scales_.size() != n || loaded.methods_.size() != n) {
    return DataError(path + ": medians, scales and methods must have one entry per feature");
  }
  for (size_t col = 0; col < n; ++col) {
    const bool ignored = loaded.methods_[col] == ScaleMethod::kIgnored;
    if (!std::isfinite(loaded.medians_[col]) || !std::isfinite(loaded.scales_[col]) ||
        (!ignored && !(loaded.scales_[col] > 0))) {
      return DataError(path + ": feature '" + loaded.feature_names_[col] +
                       "': bad median or scale");
    }
  }
  if (!(loaded.threshold_raw_ >= kMinThresholdRaw) || !std::isfinite(loaded.threshold_raw_) ||
      !(loaded.median_raw_ >= 0) || !std::isfinite(loaded.median_raw_)) {
    return DataError(path + ": bad median_raw or threshold_raw");
  }
  loaded.fitted_ = true;
  *this = std::move(loaded);
  return Status::Ok();
}

namespace models_internal {
KindRegistration RobustZscoreKind() {
  return {std::string(RobustZscore::kKind), Task::kAnomaly,
          [](const nlohmann::json& config) -> Result<std::unique_ptr<Model>> {
            VIGIL_ASSIGN_OR_RETURN(RobustZscoreOptions options,
                                   RobustZscoreOptions::FromJson(config));
            return std::unique_ptr<Model>(std::make_unique<RobustZscore>(options));
          }};
}
}  // namespace models_internal

}  // namespace vigil
