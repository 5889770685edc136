#include "vigil/models/risk_levels.h"

#include <cmath>
#include <limits>
#include <string>

namespace vigil {
namespace {

// Standard normal CDF, Phi(z) = erfc(-z / sqrt(2)) / 2 (erfc keeps the lower tail accurate).
double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

struct Band {
  double lower;
  double upper;
};

// The range of event rates that maps to `level`, open-ended at the extremes.
Band BandOf(RiskLevel level, const RiskCutpoints& cutpoints) {
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  switch (level) {
    case RiskLevel::kLow:
      return {-kInfinity, cutpoints.medium};
    case RiskLevel::kMedium:
      return {cutpoints.medium, cutpoints.high};
    case RiskLevel::kHigh:
      return {cutpoints.high, cutpoints.critical};
    case RiskLevel::kCritical:
      return {cutpoints.critical, kInfinity};
  }
  return {-kInfinity, kInfinity};
}

Result<double> CutpointValue(const nlohmann::json& value, const std::string& key) {
  if (!value.is_number()) {
    return InvalidArgument("risk cutpoints: key '" + key + "': expected a number, got " +
                           value.dump());
  }
  const double number = value.get<double>();
  if (!(number > 0 && number < 1)) {
    return InvalidArgument("risk cutpoints: key '" + key + "': " + value.dump() +
                           " (must lie strictly between 0 and 1)");
  }
  return number;
}

}  // namespace

RiskAssessment AssessRisk(double probability, const RiskCutpoints& cutpoints, double evidence) {
  RiskAssessment out;
  out.level = RiskLevelOf(probability, cutpoints);
  if (!(evidence > 0) || !(probability >= 0 && probability <= 1)) return out;
  const double sigma = std::sqrt(probability * (1.0 - probability) / evidence);
  const Band band = BandOf(out.level, cutpoints);
  if (sigma == 0) {
    // The whole mass sits at p, which lies in its own level's band.
    out.confidence = 1.0;
    return out;
  }
  const double confidence =
      NormalCdf((band.upper - probability) / sigma) - NormalCdf((band.lower - probability) / sigma);
  out.confidence = std::fmin(1.0, std::fmax(0.0, confidence));
  return out;
}

Result<RiskCutpoints> RiskCutpointsFromJson(const nlohmann::json& json) {
  if (!json.is_object()) {
    return InvalidArgument(
        "risk cutpoints: expected an object {\"medium\", \"high\", "
        "\"critical\"}, got " +
        json.dump());
  }
  RiskCutpoints cutpoints;
  for (const auto& [key, value] : json.items()) {
    double* field = key == "medium"     ? &cutpoints.medium
                    : key == "high"     ? &cutpoints.high
                    : key == "critical" ? &cutpoints.critical
                                        : nullptr;
    if (field == nullptr) {
      return InvalidArgument("risk cutpoints: unknown key '" + key +
                             "' (expected medium, high, critical)");
    }
    VIGIL_ASSIGN_OR_RETURN(*field, CutpointValue(value, key));
  }
  VIGIL_RETURN_IF_ERROR(cutpoints.Validate());
  return cutpoints;
}

nlohmann::json RiskCutpointsToJson(const RiskCutpoints& cutpoints) {
  return {{"medium", cutpoints.medium}, {"high", cutpoints.high}, {"critical", cutpoints.critical}};
}

}  // namespace vigil
