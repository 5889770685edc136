// Private to vigil_models: what the distance, kernel and ECDF detectors (lof, dbscan,
// ocsvm, ecod) share: the optional z-scoring of their features (fit, apply, save, load),
// scoring-input checks, the weight document's envelope (format name and version, parse
// errors as DataError naming the file), calibrated scores from raw scores, contributions
// from standardized deviations, and the kind registration.
//
//   std::vector<double> points = StandardizeTraining(x, options_.standardize, scaling_);
//   ...
//   VIGIL_ASSIGN_OR_RETURN(std::vector<double> rows, PrepareRows(kKind, fitted_,
//                                                                feature_names_, scaling_, x));
//   return WeightsEnvelope{kFormat, kFormatVersion}.Read(path, [&](const auto& doc) {...});
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "models/builtin_kinds.h"
#include "vigil/core/status.h"
#include "vigil/models/anomaly/calibration.h"
#include "vigil/models/model.h"
#include "vigil/models/robust_zscore.h"

namespace vigil::models_internal {

// A detector's feature scaling, held as two vectors (empty = no scaling): the column means
// and population standard deviations of the training rows (scikit-learn's StandardScaler).
struct ScalingRef {
  std::vector<double>& mean;
  std::vector<double>& scale;
};
struct ConstScalingRef {
  const std::vector<double>& mean;
  const std::vector<double>& scale;
};

// x's values, z-scored when `standardize` (then fitting `scaling`; else leaving it empty).
std::vector<double> StandardizeTraining(const FeatureMatrix& x, bool standardize,
                                        ScalingRef scaling);
// Checks `x` for scoring (fitted, same columns, finite) and returns its values scaled.
Result<std::vector<double>> PrepareRows(std::string_view kind, bool fitted,
                                        const std::vector<std::string>& feature_names,
                                        ConstScalingRef scaling, const FeatureMatrix& x);
// Checks `x` for scoring only (fitted, same columns, finite values).
Status CheckScoringInput(std::string_view kind, bool fitted,
                         const std::vector<std::string>& feature_names, const FeatureMatrix& x);
// Checks training input: finite, >= 2 rows and >= 1 feature.
Status CheckTrainingInput(std::string_view kind, const FeatureMatrix& x);

// {"mean": [...], "scale": [...]} or null when there is no scaling.
nlohmann::json ScalingToJson(ConstScalingRef scaling);
// Reads ScalingToJson's output for `cols` features; DataError naming `path` when invalid.
// May throw nlohmann::json exceptions (call inside WeightsEnvelope::Read).
Status ScalingFromJson(const std::string& path, const nlohmann::json& json, size_t cols,
                       ScalingRef scaling);

// The format name and version every weight document carries.
struct WeightsEnvelope {
  std::string_view format;
  int version;

  // Writes `body` plus "format" and "version" to `path` atomically.
  Status Write(const std::filesystem::path& path, nlohmann::json body) const;
  // Reads `path`, checks format and version, then runs `read` on the document; a parse
  // error, a missing or mistyped field (nlohmann exception) is DataError naming the file.
  Status Read(const std::filesystem::path& path,
              const std::function<Status(const nlohmann::json&)>& read) const;
};
// doc["calibration"] as a ScoreCalibration; DataError naming `path` when invalid.
Result<ScoreCalibration> CalibrationFromJson(const std::string& path, const nlohmann::json& doc);

// {"kind", "fitted"}, plus "threshold" and "contamination" when fitted.
nlohmann::json DescribeDetector(std::string_view kind, bool fitted,
                                const ScoreCalibration& calibration);

// Scores from raw scores: calibrated, flagged, contributions zero.
AnomalyScores CalibratedScores(std::vector<double> raw, const ScoreCalibration& calibration,
                               size_t cols);
// Runs `fill(row, shares)` for every flagged row, shares being the row's contributions.
void FillFlaggedContributions(
    AnomalyScores& scores, size_t cols,
    const std::function<void(size_t row, std::span<double> shares)>& fill);
// Calibrated scores of prepared rows `points` from their raw scores, with the
// standardized-deviation shares (RobustZscore::DeviationShares) of the flagged rows; and
// those shares for every row.
AnomalyScores DeviationExplainedScores(std::vector<double> raw, const ScoreCalibration& calibration,
                                       const RobustZscore& deviation,
                                       const std::vector<double>& points);
std::vector<double> DeviationShares(const RobustZscore& deviation,
                                    const std::vector<double>& points, size_t cols);

// The kind registration of a detector built from its Options::FromJson.
template <typename Detector, typename Options>
KindRegistration DetectorKind() {
  return {std::string(Detector::kKind), Task::kAnomaly,
          [](const nlohmann::json& config) -> Result<std::unique_ptr<Model>> {
            VIGIL_ASSIGN_OR_RETURN(Options options, Options::FromJson(config));
            return std::unique_ptr<Model>(std::make_unique<Detector>(std::move(options)));
          }};
}

}  // namespace vigil::models_internal
