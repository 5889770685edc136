#include "vigil/models/risk_levels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace vigil {
namespace {

TEST(AssessRiskTest, LevelsAtTheCutBoundaries) {
  const RiskCutpoints cuts;  // 0.25 / 0.5 / 0.75
  EXPECT_EQ(AssessRisk(0.0, cuts, 10).level, RiskLevel::kLow);
  EXPECT_EQ(AssessRisk(std::nextafter(0.25, 0.0), cuts, 10).level, RiskLevel::kLow);
  EXPECT_EQ(AssessRisk(0.25, cuts, 10).level, RiskLevel::kMedium);
  EXPECT_EQ(AssessRisk(std::nextafter(0.5, 0.0), cuts, 10).level, RiskLevel::kMedium);
  EXPECT_EQ(AssessRisk(0.5, cuts, 10).level, RiskLevel::kHigh);
  EXPECT_EQ(AssessRisk(0.75, cuts, 10).level, RiskLevel::kCritical);
  EXPECT_EQ(AssessRisk(1.0, cuts, 10).level, RiskLevel::kCritical);
  const RiskCutpoints custom{.medium = 0.01, .high = 0.05, .critical = 0.2};
  EXPECT_EQ(AssessRisk(0.009, custom, 10).level, RiskLevel::kLow);
  EXPECT_EQ(AssessRisk(0.01, custom, 10).level, RiskLevel::kMedium);
  EXPECT_EQ(AssessRisk(0.1, custom, 10).level, RiskLevel::kHigh);
  EXPECT_EQ(AssessRisk(0.2, custom, 10).level, RiskLevel::kCritical);
}

TEST(AssessRiskTest, ConfidenceMatchesTheNormalCdf) {
  // References: scipy.stats.norm.cdf((upper - p) / s) - norm.cdf((lower - p) / s),
  // s = sqrt(p (1 - p) / n), the extreme bands open-ended (scipy 1.10, Debian 12).
  const RiskCutpoints cuts;
  struct Case {
    double p, n, expected;
  };
  const Case cases[] = {
      {0.62, 50, 0.9306570700702236},    // high, band [0.5, 0.75)
      {0.62, 1000, 0.9999999999999973},  // more evidence, more confidence
      {0.1, 20, 0.9873263406612659},     // low, band (-inf, 0.25)
      {0.9, 10, 0.943076850996671},      // critical, band [0.75, inf)
      {0.3, 40, 0.7520357707474348},     // medium, band [0.25, 0.5)
      {0.5, 100, 0.4999997133484281},    // on a cut: half the mass falls below it
      {0.001, 100, 1.0},                 // the tail below 0 still counts as low
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.p);
    const RiskAssessment risk = AssessRisk(c.p, cuts, c.n);
    EXPECT_NEAR(risk.confidence, c.expected, 1e-12);
  }
}

TEST(AssessRiskTest, DegenerateEvidenceAndProbabilities) {
  const RiskCutpoints cuts;
  EXPECT_EQ(AssessRisk(0.62, cuts, 0).confidence, 0.0);
  EXPECT_EQ(AssessRisk(0.62, cuts, -5).confidence, 0.0);
  EXPECT_EQ(AssessRisk(0.62, cuts, std::nan("")).confidence, 0.0);
  EXPECT_EQ(AssessRisk(0.62, cuts, 0).level, RiskLevel::kHigh);  // the level stands
  EXPECT_EQ(AssessRisk(0.0, cuts, 30).confidence, 1.0);
  EXPECT_EQ(AssessRisk(1.0, cuts, 30).confidence, 1.0);
  EXPECT_EQ(AssessRisk(0.0, cuts, 0).confidence, 0.0);
  EXPECT_EQ(AssessRisk(0.3, cuts, std::numeric_limits<double>::infinity()).confidence, 1.0);
  const RiskAssessment nan_risk = AssessRisk(std::nan(""), cuts, 30);
  EXPECT_EQ(nan_risk.level, RiskLevel::kLow);
  EXPECT_EQ(nan_risk.confidence, 0.0);
  EXPECT_EQ(AssessRisk(1.5, cuts, 30).confidence, 0.0);
  EXPECT_EQ(AssessRisk(-0.1, cuts, 30).confidence, 0.0);
  // Confidence grows with evidence for a probability inside its band.
  double previous = 0;
  for (double n : {1.0, 10.0, 100.0, 1000.0}) {
    const double confidence = AssessRisk(0.4, cuts, n).confidence;
    EXPECT_GE(confidence, previous);
    EXPECT_LE(confidence, 1.0);
    previous = confidence;
  }
}

TEST(RiskCutpointsJsonTest, RoundTripAndDefaults) {
  const RiskCutpoints custom{.medium = 0.02, .high = 0.1, .critical = 0.3};
  Result<RiskCutpoints> back = RiskCutpointsFromJson(RiskCutpointsToJson(custom));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->medium, 0.02);
  EXPECT_EQ(back->high, 0.1);
  EXPECT_EQ(back->critical, 0.3);
  Result<RiskCutpoints> partial = RiskCutpointsFromJson({{"critical", 0.9}});
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->medium, 0.25);
  EXPECT_EQ(partial->high, 0.5);
  EXPECT_EQ(partial->critical, 0.9);
  Result<RiskCutpoints> empty = RiskCutpointsFromJson(nlohmann::json::object());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->high, 0.5);
}

TEST(RiskCutpointsJsonTest, ErrorsNameTheKey) {
  auto message = [](const nlohmann::json& json) {
    Result<RiskCutpoints> result = RiskCutpointsFromJson(json);
    EXPECT_FALSE(result.ok()) << json.dump();
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    return result.status().message();
  };
  EXPECT_NE(message({{"severe", 0.9}}).find("'severe'"), std::string::npos);
  EXPECT_NE(message({{"high", "0.5"}}).find("'high'"), std::string::npos);
  EXPECT_NE(message({{"high", true}}).find("'high'"), std::string::npos);
  EXPECT_NE(message({{"medium", 0.0}}).find("'medium'"), std::string::npos);
  EXPECT_NE(message({{"critical", 1.0}}).find("'critical'"), std::string::npos);
  EXPECT_NE(message({{"medium", 0.6}}).find("medium < high"), std::string::npos);  // order
  message(nlohmann::json::array({0.1, 0.2, 0.3}));
  message(nlohmann::json(0.5));
}

}  // namespace
}  // namespace vigil
