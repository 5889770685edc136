// Risk levels with a confidence: what a desk reads off a probability. RiskCutpoints and
// RiskLevelOf (model.h) map p to low / medium / high / critical; AssessRisk adds how sure
// that level is given how much held-out evidence stands behind p.
//
//   vigil::RiskAssessment risk = vigil::AssessRisk(0.62, cutpoints, calibrator.Evidence(0.62));
//   // risk.level == kHigh, risk.confidence in [0, 1]
//
// Confidence: the probability that the true event rate lies in the same level's band
// [lower cutpoint, upper cutpoint), under a normal approximation N(p, p(1 - p) / n) with n
// the evidence (held-out rows behind the probability):
//   Phi((upper - p) / sigma) - Phi((lower - p) / sigma),   sigma = sqrt(p (1 - p) / n).
// The low band reaches down to -infinity and the critical band up to +infinity, so the
// approximation's tail outside [0, 1] counts for the extreme level it sits next to (a rate
// of 0.001 backed by 100 rows is confidently low). Evidence <= 0 or NaN (nothing known
// about the probability's reliability) gives confidence 0; so does a probability outside
// [0, 1] or NaN (whose level RiskLevelOf decides). p at 0 or 1 with evidence > 0 has
// sigma = 0 and gives 1, as does infinite evidence.
// Precondition: cutpoints.Validate() is ok.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "vigil/core/status.h"
#include "vigil/models/model.h"

namespace vigil {

struct RiskAssessment {
  RiskLevel level = RiskLevel::kLow;
  double confidence = 0.0;  // [0, 1]
};

RiskAssessment AssessRisk(double probability, const RiskCutpoints& cutpoints, double evidence);

// {"medium": x, "high": y, "critical": z}; missing keys keep the defaults; InvalidArgument
// naming the key on a bad value or an unknown key, or when the order is wrong.
Result<RiskCutpoints> RiskCutpointsFromJson(const nlohmann::json& json);
nlohmann::json RiskCutpointsToJson(const RiskCutpoints& cutpoints);

}  // namespace vigil
