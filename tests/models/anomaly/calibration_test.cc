// The calibration every anomaly detector shares (anomaly/calibration.h): thresholds for a
// contamination fraction, a native threshold and Tukey's fence; the 0..100 map; JSON
// round trips; config parsing; per-feature shares.
#include "vigil/models/anomaly/calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

namespace vigil {
namespace {

std::vector<double> Range(int n) {  // 1, 2, ..., n
  std::vector<double> out(n);
  std::iota(out.begin(), out.end(), 1.0);
  return out;
}

std::vector<double> Shuffled(std::vector<double> values, uint32_t seed) {
  std::mt19937 rng(seed);
  std::shuffle(values.begin(), values.end(), rng);
  return values;
}

ScoreCalibration MustFit(std::span<const double> raw, const Contamination& c,
                         std::optional<double> native = std::nullopt) {
  Result<ScoreCalibration> fitted = ScoreCalibration::Fit(raw, c, native);
  EXPECT_TRUE(fitted.ok()) << fitted.status().ToString();
  return fitted.ok() ? *fitted : ScoreCalibration();
}

TEST(CalibrationTest, InterpolatedQuantileMatchesNumpyLinear) {
  // numpy.quantile([3, 1, 4, 1, 5], q) for q = 0, .1, .5, .9, 1.
  const std::vector<double> v = {3, 1, 4, 1, 5};
  EXPECT_DOUBLE_EQ(InterpolatedQuantile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(InterpolatedQuantile(v, 0.1), 1.0);
  EXPECT_DOUBLE_EQ(InterpolatedQuantile(v, 0.5), 3.0);
  EXPECT_DOUBLE_EQ(InterpolatedQuantile(v, 0.9), 4.6);
  EXPECT_DOUBLE_EQ(InterpolatedQuantile(v, 1.0), 5.0);
  EXPECT_DOUBLE_EQ(InterpolatedQuantile({7.0}, 0.3), 7.0);
}

TEST(CalibrationTest, FractionThresholdIsTheTrainingQuantile) {
  const std::vector<double> raw = Shuffled(Range(101), 3);  // 1..101
  const ScoreCalibration c = MustFit(raw, Contamination::Fraction(0.1));
  // 0.9 quantile of 1..101: position 90 -> 91.
  EXPECT_DOUBLE_EQ(c.threshold(), 91.0);
  EXPECT_NEAR(c.contamination(), 11.0 / 101.0, 1e-15);  // 91..101 are flagged
  EXPECT_TRUE(c.Flag(91.0));
  EXPECT_FALSE(c.Flag(90.999));
}

TEST(CalibrationTest, FractionFlagsAboutThatShareOfTrainingRows) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> dist;
  std::vector<double> raw(5000);
  for (double& v : raw) v = dist(rng);
  for (double f : {0.01, 0.05, 0.2, 0.5}) {
    const ScoreCalibration c = MustFit(raw, Contamination::Fraction(f));
    const auto flagged = std::count_if(raw.begin(), raw.end(), [&](double v) { return c.Flag(v); });
    EXPECT_NEAR(static_cast<double>(flagged), f * raw.size(), 1.0) << f;
    EXPECT_NEAR(c.contamination(), f, 1.5 / raw.size()) << f;
  }
}

TEST(CalibrationTest, AutoUsesTheNativeThresholdWhenGiven) {
  const std::vector<double> raw = {0.40, 0.42, 0.45, 0.47, 0.5, 0.55, 0.61, 0.7};
  const ScoreCalibration c = MustFit(raw, Contamination::Auto(), 0.5);
  EXPECT_EQ(c.threshold(), 0.5);
  EXPECT_DOUBLE_EQ(c.contamination(), 4.0 / 8.0);  // 0.5, 0.55, 0.61, 0.7
  EXPECT_EQ(c.Score(0.5), ScoreCalibration::kThresholdScore);
  // A fraction ignores the native threshold.
  const ScoreCalibration fraction = MustFit(raw, Contamination::Fraction(0.25), 0.5);
  EXPECT_DOUBLE_EQ(fraction.threshold(), InterpolatedQuantile(raw, 0.75));
}

TEST(CalibrationTest, AutoWithoutNativeThresholdUsesTukeysFence) {
  // 1..8 plus an outlier 100: Q1 = 3, Q3 = 7 (numpy linear), fence 7 + 1.5 * 4 = 13.
  std::vector<double> raw = Range(8);
  raw.push_back(100);
  const ScoreCalibration c = MustFit(raw, Contamination::Auto());
  EXPECT_DOUBLE_EQ(c.threshold(), 13.0);
  EXPECT_DOUBLE_EQ(c.contamination(), 1.0 / 9.0);
  EXPECT_TRUE(c.Flag(100));
  EXPECT_FALSE(c.Flag(12.9));
}

TEST(CalibrationTest, TukeyWithZeroIqrTakesTheSmallestValueAboveQ3) {
  // Q1 = Q3 = 1: the fence degenerates; the threshold is the next value above, 4.
  const std::vector<double> raw = {1, 1, 1, 1, 1, 1, 1, 1, 4, 9};
  const ScoreCalibration c = MustFit(raw, Contamination::Auto());
  EXPECT_EQ(c.threshold(), 4.0);
  EXPECT_DOUBLE_EQ(c.contamination(), 0.2);
  EXPECT_FALSE(c.Flag(1.0));
  EXPECT_GE(c.Score(4.0), 80.0);
}

TEST(CalibrationTest, TukeyOnConstantScoresFlagsNothing) {
  const std::vector<double> raw(20, 2.5);
  const ScoreCalibration c = MustFit(raw, Contamination::Auto());
  EXPECT_GT(c.threshold(), 2.5);
  EXPECT_EQ(c.contamination(), 0.0);
  EXPECT_FALSE(c.Flag(2.5));
  EXPECT_LT(c.Score(2.5), 80.0);
  EXPECT_TRUE(c.Flag(1000.0));
}

TEST(CalibrationTest, KnotsMapLoMedianThresholdAndHi) {
  const std::vector<double> raw = Shuffled(Range(11), 9);                 // 1..11, median 6
  const ScoreCalibration c = MustFit(raw, Contamination::Fraction(0.1));  // threshold 10
  const nlohmann::json knots = c.ToJson();
  EXPECT_EQ(knots["lo"], 1.0);
  EXPECT_EQ(knots["median"], 6.0);
  EXPECT_EQ(knots["threshold"], 10.0);
  EXPECT_EQ(knots["hi"], 14.0);  // max(11, threshold + (threshold - median))
  EXPECT_EQ(c.Score(0.5), 0.0);
  EXPECT_EQ(c.Score(1.0), 0.0);
  EXPECT_DOUBLE_EQ(c.Score(3.5), 25.0);
  EXPECT_DOUBLE_EQ(c.Score(6.0), 50.0);
  EXPECT_DOUBLE_EQ(c.Score(8.0), 65.0);
  EXPECT_EQ(c.Score(10.0), 80.0);
  EXPECT_DOUBLE_EQ(c.Score(12.0), 90.0);
  EXPECT_EQ(c.Score(14.0), 100.0);
  EXPECT_EQ(c.Score(1e9), 100.0);
  EXPECT_EQ(c.Score(std::nan("")), 0.0);
  EXPECT_FALSE(c.Flag(std::nan("")));
}

TEST(CalibrationTest, MedianKnotDroppedWhenNotBelowThreshold) {
  // Over half the scores equal the maximum: median = threshold, so the map is lo -> 80.
  const std::vector<double> raw = {0, 1, 2, 5, 5, 5, 5};
  const ScoreCalibration c = MustFit(raw, Contamination::Fraction(0.5));  // threshold 5
  EXPECT_EQ(c.threshold(), 5.0);
  EXPECT_DOUBLE_EQ(c.Score(2.5), 40.0);
  EXPECT_EQ(c.Score(5.0), 80.0);
  EXPECT_LT(c.Score(std::nextafter(5.0, 0.0)), 80.0);
}

TEST(CalibrationTest, ScoreIsMonotoneAndAtLeast80ExactlyWhenFlagged) {
  std::mt19937_64 rng(11);
  std::gamma_distribution<double> dist(2.0, 1.5);
  std::vector<double> raw(2000);
  for (double& v : raw) v = dist(rng);
  for (const Contamination& contamination :
       {Contamination::Auto(), Contamination::Fraction(0.03), Contamination::Fraction(0.5)}) {
    const ScoreCalibration c = MustFit(raw, contamination);
    double previous = -1.0;
    for (double r = -1.0; r < 30.0; r += 0.003) {
      const double s = c.Score(r);
      ASSERT_GE(s, previous) << r;
      ASSERT_GE(s, 0.0);
      ASSERT_LE(s, 100.0);
      ASSERT_EQ(s >= ScoreCalibration::kThresholdScore, c.Flag(r)) << r;
      previous = s;
    }
    for (double r : raw) ASSERT_EQ(c.Score(r) >= 80.0, c.Flag(r)) << r;
    // Right below the threshold, rounding never reaches 80.
    const double just_below = std::nextafter(c.threshold(), -INFINITY);
    EXPECT_LT(c.Score(just_below), 80.0);
    EXPECT_GE(c.Score(c.threshold()), 80.0);
  }
}

TEST(CalibrationTest, FitRejectsTooFewOrNonFiniteScores) {
  EXPECT_EQ(ScoreCalibration::Fit(std::vector<double>{1.0}, Contamination::Auto()).status().code(),
            StatusCode::kInvalidArgument);
  const std::vector<double> with_nan = {1.0, std::nan(""), 3.0};
  const Status nan_status = ScoreCalibration::Fit(with_nan, Contamination::Auto()).status();
  EXPECT_EQ(nan_status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(nan_status.message().find("1"), std::string::npos) << nan_status.message();
  const std::vector<double> with_inf = {1.0, INFINITY};
  EXPECT_FALSE(ScoreCalibration::Fit(with_inf, Contamination::Auto()).ok());
  EXPECT_FALSE(
      ScoreCalibration::Fit(Range(10), Contamination::Fraction(0.7)).ok());  // bad fraction
}

TEST(CalibrationTest, JsonRoundTripRestoresScoresBitForBit) {
  std::mt19937_64 rng(13);
  std::normal_distribution<double> dist(0.3, 1.7);
  std::vector<double> raw(777);
  for (double& v : raw) v = dist(rng);
  const ScoreCalibration c = MustFit(raw, Contamination::Fraction(0.037));
  const std::string text = c.ToJson().dump();
  Result<ScoreCalibration> back = ScoreCalibration::FromJson(nlohmann::json::parse(text));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->threshold(), c.threshold());
  EXPECT_EQ(back->contamination(), c.contamination());
  for (double r = -6.0; r < 8.0; r += 0.01) ASSERT_EQ(back->Score(r), c.Score(r)) << r;
}

TEST(CalibrationTest, FromJsonRejectsInvalidDocuments) {
  const nlohmann::json good = {
      {"lo", 0.0}, {"median", 1.0}, {"threshold", 2.0}, {"hi", 3.0}, {"contamination", 0.1}};
  ASSERT_TRUE(ScoreCalibration::FromJson(good).ok());
  auto with = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json doc = good;
    doc[key] = value;
    return ScoreCalibration::FromJson(doc).status();
  };
  nlohmann::json missing = good;
  missing.erase("hi");
  for (const Status& status :
       {ScoreCalibration::FromJson(missing).status(), with("lo", "zero"),
        with("threshold", 5.0) /* not below hi */, with("lo", 2.0) /* not below threshold */,
        with("contamination", 1.5), with("median", nullptr),
        ScoreCalibration::FromJson(nlohmann::json::array()).status(),
        ScoreCalibration::FromJson(nlohmann::json("text")).status()}) {
    EXPECT_EQ(status.code(), StatusCode::kDataError) << status.ToString();
  }
}

TEST(CalibrationTest, ContaminationFromJson) {
  auto parse = [](const nlohmann::json& config) { return Contamination::FromJson("lof", config); };
  ASSERT_TRUE(parse(nlohmann::json::object()).ok());
  EXPECT_TRUE(parse(nlohmann::json::object())->automatic);
  EXPECT_TRUE(parse(nullptr)->automatic);
  Result<Contamination> fallback =
      Contamination::FromJson("lof", nlohmann::json::object(), Contamination::Fraction(0.1));
  ASSERT_TRUE(fallback.ok());
  EXPECT_FALSE(fallback->automatic);
  EXPECT_EQ(fallback->fraction, 0.1);
  EXPECT_TRUE(parse({{"contamination", "auto"}})->automatic);
  Result<Contamination> fraction = parse({{"contamination", 0.02}});
  ASSERT_TRUE(fraction.ok());
  EXPECT_FALSE(fraction->automatic);
  EXPECT_EQ(fraction->fraction, 0.02);
  EXPECT_EQ(parse({{"contamination", 0.5}})->fraction, 0.5);
  EXPECT_EQ(fraction->ToJson(), nlohmann::json(0.02));
  EXPECT_EQ(Contamination::Auto().ToJson(), nlohmann::json("auto"));

  for (const nlohmann::json& bad :
       {nlohmann::json("automatic"), nlohmann::json(0.0), nlohmann::json(-0.1),
        nlohmann::json(0.51), nlohmann::json(1), nlohmann::json(true), nlohmann::json::array()}) {
    const Status status = parse({{"contamination", bad}}).status();
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << bad.dump();
    EXPECT_NE(status.message().find("lof"), std::string::npos) << status.message();
    EXPECT_NE(status.message().find("contamination"), std::string::npos) << status.message();
  }
  EXPECT_FALSE(Contamination::Fraction(0.0).Validate().ok());
  EXPECT_TRUE(Contamination::Fraction(0.5).Validate().ok());
  EXPECT_TRUE(Contamination::Auto().Validate().ok());
}

TEST(CalibrationTest, ApplyCalibrationFillsScoresFlagsAndZeroContributions) {
  const ScoreCalibration c = MustFit(Range(11), Contamination::Fraction(0.1));  // threshold 10
  AnomalyScores scores;
  scores.raw = {1.0, 10.0, 12.0};
  ApplyCalibration(c, 4, scores);
  EXPECT_EQ(scores.score, (std::vector<double>{0.0, 80.0, 90.0}));
  EXPECT_EQ(scores.flag, (std::vector<bool>{false, true, true}));
  EXPECT_EQ(scores.contributions, std::vector<double>(12, 0.0));
}

TEST(CalibrationTest, NormalizeShares) {
  std::vector<double> w = {1.0, 3.0, 0.0, 4.0};
  NormalizeShares(w);
  EXPECT_EQ(w, (std::vector<double>{0.125, 0.375, 0.0, 0.5}));

  std::vector<double> negative_and_nan = {-2.0, std::nan(""), 2.0, 6.0};
  NormalizeShares(negative_and_nan);
  EXPECT_EQ(negative_and_nan, (std::vector<double>{0.0, 0.0, 0.25, 0.75}));

  std::vector<double> zeros = {0.0, 0.0, -1.0};
  NormalizeShares(zeros);
  EXPECT_EQ(zeros, (std::vector<double>{0.0, 0.0, 0.0}));

  std::vector<double> infinite = {INFINITY, 1.0};
  NormalizeShares(infinite);
  EXPECT_EQ(infinite, (std::vector<double>{0.0, 0.0}));

  std::vector<double> empty;
  NormalizeShares(empty);
  EXPECT_TRUE(empty.empty());
}

}  // namespace
}  // namespace vigil
