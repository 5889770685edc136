// Alert rules (alert_rules.h): each rule type fires exactly when it should, cool-down in data
// time, de-duplication, filters, the alert's content, and parsing the rules from config.
#include "vigil/serve/alert_rules.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace vigil {
namespace {

constexpr int64_t kMinute = kNanosPerMinute;
const Timestamp kT0 = Timestamp::FromSeconds(1'704'067'200);

ScoredRows Classified(double p, RiskLevel level = RiskLevel::kLow) {
  ScoredRows scored;
  scored.task = Task::kClassification;
  scored.rows = 1;
  scored.classes = 2;
  scored.probabilities = {1.0 - p, p};
  scored.levels = {level};
  scored.confidence = {0.0};
  return scored;
}

ScoredRows Anomaly(double score, bool flagged) {
  ScoredRows scored;
  scored.task = Task::kAnomaly;
  scored.rows = 1;
  scored.scores = {score};
  scored.raw_scores = {score / 10};
  scored.flags = {static_cast<uint8_t>(flagged ? 1 : 0)};
  return scored;
}

AlertRule Rule(std::string name, AlertRuleType type, std::string model = "m") {
  AlertRule rule;
  rule.name = std::move(name);
  rule.type = type;
  rule.model = std::move(model);
  rule.cooldown_ns = 0;
  return rule;
}

// Feeds one scored row at kT0 + minute; returns the names of the rules that fired.
class Feeder {
 public:
  explicit Feeder(std::vector<AlertRule> rules) : engine_(std::move(rules)) {}
  std::vector<AlertRow> Feed(int64_t minute, const ScoredRows& scored,
                             const std::string& instrument = "x:A",
                             const std::string& model = "m") {
    ScoreObservation observation;
    observation.instrument = instrument;
    observation.ts = kT0 + minute * kMinute;
    observation.model = model;
    observation.model_version = 3;
    observation.scored = &scored;
    observation.row = 0;
    observation.features = &features_;
    observation.values = values_.data();
    observation.now = Timestamp::FromSeconds(42);
    return engine_.Evaluate(observation);
  }
  int Fired(int64_t minute, const ScoredRows& scored, const std::string& instrument = "x:A") {
    return static_cast<int>(Feed(minute, scored, instrument).size());
  }
  AlertEngine& engine() { return engine_; }

 private:
  AlertEngine engine_;
  std::vector<std::string> features_ = {"rsi", "vol", "ret"};
  std::vector<double> values_ = {71.5, 0.02, -0.1};
};

TEST(AlertEngineTest, ThresholdFiresAtTheBoundAndRespectsTheCooldownInDataTime) {
  AlertRule rule = Rule("p70", AlertRuleType::kThreshold);
  rule.output = "probability";
  rule.above = 0.7;
  rule.cooldown_ns = 15 * kMinute;
  Feeder feeder({rule});
  EXPECT_EQ(feeder.Fired(0, Classified(0.69)), 0);
  EXPECT_EQ(feeder.Fired(1, Classified(0.7)), 1);
  EXPECT_EQ(feeder.Fired(2, Classified(0.95)), 0);   // cooling down
  EXPECT_EQ(feeder.Fired(15, Classified(0.95)), 0);  // until 1 + 15 minutes
  EXPECT_EQ(feeder.engine().suppressed(), 2);
  EXPECT_EQ(feeder.Fired(16, Classified(0.8)), 1);
  EXPECT_EQ(feeder.Fired(17, Classified(0.8), "x:B"), 1);  // cool-down is per instrument
}

TEST(AlertEngineTest, ThresholdBelowOnScoreAndOnAHorizon) {
  AlertRule low = Rule("low_score", AlertRuleType::kThreshold);
  low.below = 10;  // output "score" (0-100)
  AlertRule horizon = Rule("h15", AlertRuleType::kThreshold);
  horizon.output = "15m";
  horizon.above = 0.5;
  Feeder feeder({low, horizon});
  ScoredRows scored = Classified(0.05);
  scored.horizon_names = {"5m", "15m"};
  scored.horizons = {0.9, 0.4};
  EXPECT_EQ(feeder.Fired(0, scored), 1);  // score 5 <= 10; 15m 0.4 < 0.5
  scored = Classified(0.2);
  scored.horizon_names = {"5m", "15m"};
  scored.horizons = {0.1, 0.6};
  std::vector<AlertRow> alerts = feeder.Feed(1, scored);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule, "h15");
  EXPECT_DOUBLE_EQ(alerts[0].score, 60.0);
  EXPECT_EQ(feeder.Fired(2, Classified(0.99)), 0);  // no horizons: h15 cannot fire
}

TEST(AlertEngineTest, LevelChangeFiresOnlyWhenTheLevelRisesIntoTheRange) {
  AlertRule rule = Rule("to_high", AlertRuleType::kLevelChange);
  rule.min_level = RiskLevel::kHigh;
  Feeder feeder({rule});
  EXPECT_EQ(feeder.Fired(0, Classified(0.1, RiskLevel::kLow)), 0);
  EXPECT_EQ(feeder.Fired(1, Classified(0.3, RiskLevel::kMedium)), 0);
  EXPECT_EQ(feeder.Fired(2, Classified(0.6, RiskLevel::kHigh)), 1);
  EXPECT_EQ(feeder.Fired(3, Classified(0.9, RiskLevel::kCritical)), 0);  // already high
  EXPECT_EQ(feeder.Fired(4, Classified(0.6, RiskLevel::kHigh)), 0);
  EXPECT_EQ(feeder.Fired(5, Classified(0.3, RiskLevel::kMedium)), 0);
  EXPECT_EQ(feeder.Fired(6, Classified(0.8, RiskLevel::kCritical)), 1);
  // An instrument's first observation rises from "low".
  EXPECT_EQ(feeder.Fired(6, Classified(0.8, RiskLevel::kCritical), "x:B"), 1);
  EXPECT_EQ(feeder.Fired(7, Anomaly(99, true)), 0);  // no levels
}

TEST(AlertEngineTest, ConsecutiveFiresOnTheNthFlagAndRestartsTheStreak) {
  AlertRule rule = Rule("three", AlertRuleType::kConsecutive);
  rule.count = 3;
  Feeder feeder({rule});
  const std::vector<bool> flags = {true, true, false, true, true, true, true, true, true};
  std::vector<int> fired;
  for (size_t i = 0; i < flags.size(); ++i) {
    if (feeder.Fired(static_cast<int64_t>(i), Anomaly(flags[i] ? 90 : 10, flags[i]))) {
      fired.push_back(static_cast<int>(i));
    }
  }
  EXPECT_EQ(fired, (std::vector<int>{5, 8}));
}

TEST(AlertEngineTest, AStreakReachedDuringTheCooldownFiresWhenItEnds) {
  AlertRule rule = Rule("two", AlertRuleType::kConsecutive);
  rule.count = 2;
  rule.cooldown_ns = 5 * kMinute;
  Feeder feeder({rule});
  std::vector<int> fired;
  for (int minute = 0; minute < 8; ++minute) {
    if (feeder.Fired(minute, Anomaly(90, true))) fired.push_back(minute);
  }
  EXPECT_EQ(fired, (std::vector<int>{1, 6}));
}

TEST(AlertEngineTest, RedeliveredAndOlderObservationsAreIgnored) {
  AlertRule rule = Rule("any", AlertRuleType::kThreshold);
  rule.above = 50;
  AlertRule streak = Rule("streak", AlertRuleType::kConsecutive);
  streak.count = 2;
  Feeder feeder({rule, streak});
  EXPECT_EQ(feeder.Fired(5, Anomaly(90, true)), 1);
  EXPECT_EQ(feeder.Fired(5, Anomaly(90, true)), 0);  // the same bar again: neither rule
  EXPECT_EQ(feeder.Fired(4, Anomaly(90, true)), 0);  // older
  EXPECT_EQ(feeder.engine().suppressed(), 4);
  EXPECT_EQ(feeder.Fired(6, Anomaly(90, true)), 2);  // the streak counted 5 and 6 only
}

TEST(AlertEngineTest, RulesApplyToTheirModelAndInstrumentsOnly) {
  AlertRule rule = Rule("btc_only", AlertRuleType::kThreshold, "risk");
  rule.above = 50;
  rule.instruments = {"x:BTC"};
  Feeder feeder({rule});
  EXPECT_TRUE(feeder.Feed(0, Anomaly(90, true), "x:BTC", "other").empty());
  EXPECT_TRUE(feeder.Feed(0, Anomaly(90, true), "x:ETH", "risk").empty());
  EXPECT_EQ(feeder.Feed(0, Anomaly(90, true), "x:BTC", "risk").size(), 1u);
}

TEST(AlertEngineTest, AlertsCarryTheRuleModelMessageAndFeatureValues) {
  AlertRule rule = Rule("crash_risk", AlertRuleType::kThreshold);
  rule.output = "probability";
  rule.above = 0.7;
  rule.severity = "critical";
  Feeder feeder({rule});
  std::vector<AlertRow> alerts = feeder.Feed(5, Classified(0.82));
  ASSERT_EQ(alerts.size(), 1u);
  const AlertRow& alert = alerts[0];
  EXPECT_EQ(alert.rule, "crash_risk");
  EXPECT_EQ(alert.instrument, "x:A");
  EXPECT_EQ(alert.ts, kT0 + 5 * kMinute);
  EXPECT_EQ(alert.severity, "critical");
  EXPECT_DOUBLE_EQ(alert.score, 82.0);
  EXPECT_EQ(alert.model_name, "m");
  EXPECT_EQ(alert.model_version, 3);
  EXPECT_EQ(alert.created_at, Timestamp::FromSeconds(42));
  EXPECT_EQ(alert.message,
            "crash_risk: m v3 probability 0.82 >= 0.7 on x:A at 2024-01-01T00:05:00.000Z");
  EXPECT_EQ(nlohmann::json::parse(alert.features_json),
            nlohmann::json::parse(R"({"values":{"rsi":71.5,"vol":0.02,"ret":-0.1}})"));
}

TEST(AlertEngineTest, ExplainedRowsListTheTopContributionsByMagnitude) {
  AlertRule rule = Rule("anom", AlertRuleType::kThreshold);
  rule.above = 50;
  Feeder feeder({rule});
  ScoredRows scored = Anomaly(80, true);
  scored.explanations = {
      {{"vol", 0.1}, {"rsi", -0.5}, {"ret", 0.3}, {"a", 0.01}, {"b", 0.02}, {"c", -0.03}}};
  std::vector<AlertRow> alerts = feeder.Feed(0, scored);
  ASSERT_EQ(alerts.size(), 1u);
  const nlohmann::json features = nlohmann::json::parse(alerts[0].features_json);
  const nlohmann::json& top = features.at("contributions");
  ASSERT_EQ(top.size(), 5u);
  EXPECT_EQ(top[0].at("feature"), "rsi");
  EXPECT_EQ(top[0].at("contribution"), -0.5);
  EXPECT_EQ(top[0].at("value"), 71.5);
  EXPECT_EQ(top[1].at("feature"), "ret");
  EXPECT_EQ(top[2].at("feature"), "vol");
  EXPECT_EQ(top[3].at("feature"), "c");
  EXPECT_TRUE(top[3].at("value").is_null());  // not one of the model's features
  EXPECT_EQ(top[4].at("feature"), "b");
}

// --- Validation and parsing -------------------------------------------------------------

TEST(AlertRuleTest, ValidateNamesTheField) {
  AlertRule rule = Rule("ok", AlertRuleType::kThreshold);
  rule.above = 1;
  EXPECT_TRUE(rule.Validate().ok());
  auto field_of = [](AlertRule r) { return r.Validate().message().substr(0, 6); };
  AlertRule bad = rule;
  bad.name = "../x";
  EXPECT_EQ(field_of(bad), "name: ");
  bad = rule;
  bad.above = std::nan("");
  EXPECT_EQ(field_of(bad), "above:");
  bad = rule;
  bad.severity = "urgent";
  EXPECT_EQ(field_of(bad), "severi");
  bad = rule;
  bad.cooldown_ns = -1;
  EXPECT_EQ(field_of(bad), "cooldo");
  bad = rule;
  bad.instruments = {"nocolon"};
  EXPECT_EQ(field_of(bad), "instru");
  bad = Rule("c", AlertRuleType::kConsecutive);
  bad.count = 0;
  EXPECT_EQ(field_of(bad), "count:");
}

TEST(ParseAlertRulesTest, ParsesEveryRuleType) {
  const auto json = nlohmann::json::parse(R"([
    {"name": "crash", "type": "threshold", "model": "risk", "output": "probability",
     "above": 0.7, "severity": "critical", "cooldown": "30m", "instruments": ["sim:BTC-PERP"]},
    {"name": "level", "type": "level_change", "model": "risk", "min_level": "critical",
     "cooldown": 0},
    {"name": "anoms", "type": "consecutive", "model": "oracle", "count": "4", "cooldown": 90}
  ])");
  auto rules = ParseAlertRules(json, "run.yaml");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  ASSERT_EQ(rules->size(), 3u);
  const AlertRule& crash = (*rules)[0];
  EXPECT_EQ(crash.type, AlertRuleType::kThreshold);
  EXPECT_EQ(crash.output, "probability");
  EXPECT_EQ(crash.above, 0.7);
  EXPECT_TRUE(std::isnan(crash.below));
  EXPECT_EQ(crash.severity, "critical");
  EXPECT_EQ(crash.cooldown_ns, 30 * kMinute);
  EXPECT_EQ(crash.instruments, std::vector<std::string>{"sim:BTC-PERP"});
  EXPECT_EQ((*rules)[1].min_level, RiskLevel::kCritical);
  EXPECT_EQ((*rules)[1].cooldown_ns, 0);
  EXPECT_EQ((*rules)[1].severity, "warning");
  EXPECT_EQ((*rules)[2].count, 4);
  EXPECT_EQ((*rules)[2].cooldown_ns, 90 * kNanosPerSecond);
  EXPECT_TRUE(ParseAlertRules(nullptr, "run.yaml")->empty());
}

TEST(ParseAlertRulesTest, ErrorsNameTheSourceIndexAndKey) {
  const std::string ok = R"({"name": "a", "type": "threshold", "model": "m", "above": 1})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"rules": []})", "run.yaml: alerts.rules: expected a list"},
      {"[" + ok + R"(, {"type": "threshold", "model": "m"}])", "alerts.rules[1].name: missing"},
      {"[" + ok + R"(, {"name": "b", "type": "threshold", "model": "m", "above": "x"}])",
       "run.yaml: alerts.rules[1].above: expected a number"},
      {R"([{"name": "a", "type": "threshold", "model": "m", "above": 1, "colour": 2}])",
       "alerts.rules[0].colour: unknown key"},
      {R"([{"name": "a", "type": "threshold", "model": "m", "above": 1, "count": 2}])",
       "alerts.rules[0].count: not used by a threshold rule"},
      {R"([{"name": "a", "type": "spike", "model": "m"}])", "alerts.rules[0].type: 'spike'"},
      {R"([{"name": "a", "type": "threshold", "model": "m", "above": 1, "cooldown": "soon"}])",
       "alerts.rules[0].cooldown: 'soon' is not a duration"},
      {R"([{"name": "a", "type": "threshold", "model": "m"}])", "alerts.rules[0].above: "},
      {R"([{"name": "a", "type": "consecutive", "model": "m", "count": 2.5}])",
       "alerts.rules[0].count: must be a whole number"},
      {R"([{"name": "a", "type": "level_change", "model": "m", "min_level": "huge"}])",
       "alerts.rules[0].min_level: 'huge'"},
      {"[" + ok + "," + ok + "]", "alerts.rules[1].name: 'a' is already the name of rules[0]"},
      {R"([42])", "alerts.rules[0]: expected a mapping"},
  };
  for (const auto& [text, expected] : cases) {
    auto rules = ParseAlertRules(nlohmann::json::parse(text), "run.yaml");
    ASSERT_FALSE(rules.ok()) << text;
    EXPECT_EQ(rules.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(rules.status().message().find(expected), std::string::npos)
        << rules.status().message() << "\n  expected: " << expected;
  }
}

}  // namespace
}  // namespace vigil
