// Alert rules: what turns a stream of scores into alerts people act on.
//
//   vigil::AlertEngine engine(rules);
//   std::vector<vigil::AlertRow> raised = engine.Evaluate(observation);
//
// Rule types:
//   threshold     the observed value (`output`: "score" (0-100), "probability", or a
//                 horizon such as "15m" of a multi-horizon model) is >= `above` (or <=
//                 `below`); fires on each qualifying observation outside the cool-down
//   level_change  the risk level rises to >= `min_level` from a lower level (the first
//                 observation of an instrument counts as rising from "low")
//   consecutive   `count` consecutive flagged anomalies of the model on the instrument
//                 (the streak restarts after it fires)
// Every rule may be limited to `instruments` (empty = all) and names a `model` (its served
// name). Cool-down: after a rule fires for an instrument, it stays silent for that
// instrument until data time has advanced by `cooldown` (data time, not wall-clock time, so
// a replay raises the same alerts at any speed); a condition met during the cool-down is
// counted in suppressed() (a consecutive streak then keeps growing and fires when the
// cool-down ends). De-duplication: an observation with the same (rule, instrument, ts) as
// one already seen, or an older ts, is ignored (no alert, no change to streaks or levels), so
// a re-delivered bar never raises twice. Observations without the output a rule reads
// (levels, flags, a horizon) never fire it.
// An alert carries the rule's severity; score: the threshold's output scaled to 0-100
// (probability x 100), else the model's Score(row); a message naming the rule, the model
// and version, the value, the instrument and ts ("crash_risk: risk_clf v3 probability 0.82
// >= 0.7 on sim:BTC-PERP at 2024-01-01T00:05:00.000Z"); features_json: when the row was
// explained, {"contributions":[{"feature":..,"contribution":..,"value":..}, ...]}, the top 5
// by |contribution|; else {"values":{feature: value, ...}} (NaN as null); "" without either.
// Thread-safety: an engine is used by one thread.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"
#include "vigil/models/model.h"
#include "vigil/serve/scoring.h"
#include "vigil/store/store.h"

namespace vigil {

enum class AlertRuleType { kThreshold, kLevelChange, kConsecutive };

struct AlertRule {
  std::string name;  // unique, [A-Za-z0-9_.-]{1,64}
  AlertRuleType type = AlertRuleType::kThreshold;
  std::string model;             // served model name
  std::string output = "score";  // threshold: "score", "probability" or a horizon name
  double above = std::numeric_limits<double>::quiet_NaN();
  double below = std::numeric_limits<double>::quiet_NaN();
  RiskLevel min_level = RiskLevel::kHigh;                  // level_change
  int count = 3;                                           // consecutive, >= 1
  std::vector<std::string> instruments;                    // empty = every instrument
  std::string severity = "warning";                        // info | warning | high | critical
  int64_t cooldown_ns = 15 * 60 * int64_t{1'000'000'000};  // >= 0
  Status Validate() const;                                 // InvalidArgument naming the field
};

// One model's scores of one row for one instrument.
struct ScoreObservation {
  std::string instrument;
  Timestamp ts;
  std::string model;  // served name
  int64_t model_version = 0;
  const ScoredRows* scored = nullptr;  // row `row` of it
  int64_t row = 0;
  const std::vector<std::string>* features = nullptr;  // the model's feature names
  const double* values = nullptr;  // that row's feature values (features->size())
  Timestamp now;                   // created_at of alerts raised
};

class AlertEngine {
 public:
  // Precondition: every rule is valid and names are unique (ParseAlertRules checks both).
  explicit AlertEngine(std::vector<AlertRule> rules);
  // Alerts raised by this observation (rules of other models are skipped).
  std::vector<AlertRow> Evaluate(const ScoreObservation& observation);
  const std::vector<AlertRule>& rules() const { return rules_; }
  int64_t suppressed() const { return suppressed_; }  // by cool-down or de-duplication

 private:
  struct State {
    Timestamp last_seen = Timestamp::Min();
    Timestamp cooldown_until = Timestamp::Min();
    int streak = 0;
    RiskLevel level = RiskLevel::kLow;
    bool seen = false;
  };
  std::vector<AlertRule> rules_;
  // Whether `rule`'s condition holds for the observation; updates streak and level, and
  // says why in *detail (for the message).
  static bool ConditionMet(const AlertRule& rule, const ScoreObservation& observation, State& state,
                           std::string* detail);
  static AlertRow MakeAlert(const AlertRule& rule, const ScoreObservation& observation,
                            const std::string& detail);
  std::map<std::pair<size_t, std::string>, State> states_;  // (rule, instrument)
  int64_t suppressed_ = 0;
};

// Rules from a JSON array (the YAML `alerts.rules` list, converted; null = no rules).
// Keys: name, type (threshold | level_change | consecutive), model (required); instruments,
// severity, cooldown ("15m", "1h", ... or a number of seconds; 0 = none); threshold: output,
// above, below; level_change: min_level (low | medium | high | critical); consecutive: count.
// Numbers may also come as numeric strings. Unknown keys, keys of another type and repeated
// names are refused. Errors are InvalidArgument naming `source` (the file), the index and
// the key ("run.yaml: alerts.rules[2].above: expected a number, got \"x\"").
Result<std::vector<AlertRule>> ParseAlertRules(const nlohmann::json& rules,
                                               const std::string& source);

}  // namespace vigil
