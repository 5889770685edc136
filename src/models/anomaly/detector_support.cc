#include "models/anomaly/detector_support.h"

#include <algorithm>
#include <cmath>
#include <exception>

#include "models/column_scaling.h"
#include "vigil/core/text_file.h"

namespace vigil::models_internal {

std::vector<double> StandardizeTraining(const FeatureMatrix& x, bool standardize,
                                        ScalingRef scaling) {
  scaling.mean.clear();
  scaling.scale.clear();
  if (!standardize) return x.values;
  ColumnScaling fitted = ColumnScaling::Fit(x, /*center=*/true);
  std::vector<double> points = fitted.Apply(x).values;
  scaling.mean = std::move(fitted.mean);
  scaling.scale = std::move(fitted.scale);
  return points;
}

Status CheckScoringInput(std::string_view kind, bool fitted,
                         const std::vector<std::string>& feature_names, const FeatureMatrix& x) {
  const std::string context = "model '" + std::string(kind) + "'";
  if (!fitted) return FailedPrecondition(context + ": not fitted");
  VIGIL_RETURN_IF_ERROR(CheckColumns(kind, feature_names, x));
  return x.Validate(/*allow_nan=*/false).WithContext(context);
}

Status CheckTrainingInput(std::string_view kind, const FeatureMatrix& x) {
  const std::string context = "model '" + std::string(kind) + "'";
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/false).WithContext(context));
  if (x.rows < 2 || x.cols() == 0) {
    return InvalidArgument(context + ": need at least 2 rows and 1 feature to fit");
  }
  return Status::Ok();
}

Result<std::vector<double>> PrepareRows(std::string_view kind, bool fitted,
                                        const std::vector<std::string>& feature_names,
                                        ConstScalingRef scaling, const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(CheckScoringInput(kind, fitted, feature_names, x));
  std::vector<double> points = x.values;
  if (scaling.mean.empty()) return points;
  const size_t cols = x.cols();
  for (size_t i = 0; i < points.size(); ++i) {
    points[i] = (points[i] - scaling.mean[i % cols]) / scaling.scale[i % cols];
  }
  return points;
}

nlohmann::json ScalingToJson(ConstScalingRef scaling) {
  if (scaling.mean.empty()) return nullptr;
  return {{"mean", scaling.mean}, {"scale", scaling.scale}};
}

Status ScalingFromJson(const std::string& path, const nlohmann::json& json, size_t cols,
                       ScalingRef scaling) {
  scaling.mean.clear();
  scaling.scale.clear();
  if (json.is_null()) return Status::Ok();
  scaling.mean = json.at("mean").get<std::vector<double>>();
  scaling.scale = json.at("scale").get<std::vector<double>>();
  const auto finite = [](double v) { return std::isfinite(v); };
  if (scaling.mean.size() != cols || scaling.scale.size() != cols ||
      !std::all_of(scaling.mean.begin(), scaling.mean.end(), finite) ||
      !std::all_of(scaling.scale.begin(), scaling.scale.end(),
                   [](double s) { return std::isfinite(s) && s > 0; })) {
    return DataError(path + ": bad scaling");
  }
  return Status::Ok();
}

Status WeightsEnvelope::Write(const std::filesystem::path& path, nlohmann::json body) const {
  body["format"] = format;
  body["version"] = version;
  // Shortest round-trip doubles: loading restores the scores bit for bit.
  return WriteFileAtomically(path.string(), body.dump() + "\n");
}

Status WeightsEnvelope::Read(const std::filesystem::path& path,
                             const std::function<Status(const nlohmann::json&)>& read) const {
  const std::string name = path.string();
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(name));
  try {
    const nlohmann::json doc = nlohmann::json::parse(text);
    if (!doc.is_object() || doc.value("format", "") != format) {
      return DataError(name + ": not a '" + std::string(format) + "' document");
    }
    if (doc.value("version", 0) != version) return DataError(name + ": unsupported version");
    return read(doc);
  } catch (const std::exception& e) {
    return DataError(name + ": " + e.what());
  }
}

Result<ScoreCalibration> CalibrationFromJson(const std::string& path, const nlohmann::json& doc) {
  Result<ScoreCalibration> calibration = ScoreCalibration::FromJson(doc.at("calibration"));
  if (!calibration.ok()) return DataError(path + ": " + calibration.status().message());
  return calibration;
}

nlohmann::json DescribeDetector(std::string_view kind, bool fitted,
                                const ScoreCalibration& calibration) {
  nlohmann::json out = {{"kind", kind}, {"fitted", fitted}};
  if (!fitted) return out;
  out["threshold"] = calibration.threshold();
  out["contamination"] = calibration.contamination();
  return out;
}

AnomalyScores CalibratedScores(std::vector<double> raw, const ScoreCalibration& calibration,
                               size_t cols) {
  AnomalyScores out;
  out.raw = std::move(raw);
  ApplyCalibration(calibration, static_cast<int64_t>(cols), out);
  return out;
}

void FillFlaggedContributions(
    AnomalyScores& scores, size_t cols,
    const std::function<void(size_t row, std::span<double> shares)>& fill) {
  for (size_t row = 0; row < scores.flag.size(); ++row) {
    if (scores.flag[row])
      fill(row, std::span<double>(scores.contributions).subspan(row * cols, cols));
  }
}

AnomalyScores DeviationExplainedScores(std::vector<double> raw, const ScoreCalibration& calibration,
                                       const RobustZscore& deviation,
                                       const std::vector<double>& points) {
  const size_t cols = raw.empty() ? 0 : points.size() / raw.size();
  AnomalyScores out = CalibratedScores(std::move(raw), calibration, cols);
  FillFlaggedContributions(out, cols, [&](size_t row, std::span<double> shares) {
    deviation.DeviationShares(std::span<const double>(points).subspan(row * cols, cols), shares);
  });
  return out;
}

std::vector<double> DeviationShares(const RobustZscore& deviation,
                                    const std::vector<double>& points, size_t cols) {
  std::vector<double> out(points.size());
  for (size_t begin = 0; begin < points.size(); begin += cols) {
    deviation.DeviationShares(std::span<const double>(points).subspan(begin, cols),
                              std::span<double>(out).subspan(begin, cols));
  }
  return out;
}

}  // namespace vigil::models_internal
