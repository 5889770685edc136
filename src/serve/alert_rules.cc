#include "vigil/serve/alert_rules.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>

#include "vigil/data/market_data.h"

namespace vigil {
namespace {

// Features listed with an alert: enough to see what drove it, short enough for a chat message.
constexpr size_t kTopFeatures = 5;
// A year of data time; longer cool-downs are surely a unit mistake.
constexpr int64_t kMaxCooldownNs = 365 * kNanosPerDay;

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.4g", value);
  return text;
}

bool AppliesTo(const AlertRule& rule, const std::string& instrument) {
  return rule.instruments.empty() || std::find(rule.instruments.begin(), rule.instruments.end(),
                                               instrument) != rule.instruments.end();
}

// The value a threshold rule watches; NaN when the model has no such output.
double OutputValue(const ScoredRows& scored, int64_t row, const std::string& output) {
  if (output == "score") return scored.Score(row);
  if (output == "probability") return scored.Probability(row);
  const size_t width = scored.horizon_names.size();
  for (size_t h = 0; h < width; ++h) {
    if (scored.horizon_names[h] == output && scored.horizons.size() >= (row + 1) * width) {
      return scored.horizons[row * width + h];
    }
  }
  return std::nan("");
}

// The alert's 0-100 number: what a threshold rule watched (probabilities scaled), else the
// model's headline score.
double AlertScore(const AlertRule& rule, const ScoredRows& scored, int64_t row) {
  if (rule.type != AlertRuleType::kThreshold || rule.output == "score") return scored.Score(row);
  return 100.0 * OutputValue(scored, row, rule.output);
}

int64_t SaturatingAdd(int64_t ts, int64_t nanos) {
  return ts > INT64_MAX - nanos ? INT64_MAX : ts + nanos;
}

double FeatureValue(const ScoreObservation& observation, const std::string& feature) {
  if (observation.features == nullptr || observation.values == nullptr) return std::nan("");
  const auto& names = *observation.features;
  const auto found = std::find(names.begin(), names.end(), feature);
  return found == names.end() ? std::nan("") : observation.values[found - names.begin()];
}

// {"contributions":[{"feature","contribution","value"}...]} by |contribution| when the row was
// explained, else {"values":{feature: value}}; "" when neither is known. NaN becomes null.
std::string FeaturesJson(const ScoreObservation& observation) {
  const ScoredRows& scored = *observation.scored;
  const size_t row = static_cast<size_t>(observation.row);
  if (scored.explanations.size() > row && !scored.explanations[row].empty()) {
    std::vector<Contribution> top = scored.explanations[row];
    std::stable_sort(top.begin(), top.end(), [](const Contribution& a, const Contribution& b) {
      return std::abs(a.value) > std::abs(b.value);
    });
    if (top.size() > kTopFeatures) top.resize(kTopFeatures);
    nlohmann::json list = nlohmann::json::array();
    for (const Contribution& c : top) {
      list.push_back({{"feature", c.feature},
                      {"contribution", c.value},
                      {"value", FeatureValue(observation, c.feature)}});
    }
    return nlohmann::json{{"contributions", list}}.dump();
  }
  if (observation.features == nullptr || observation.values == nullptr) return "";
  nlohmann::json values = nlohmann::json::object();
  for (size_t f = 0; f < observation.features->size(); ++f) {
    values[(*observation.features)[f]] = observation.values[f];
  }
  return nlohmann::json{{"values", values}}.dump();
}

}  // namespace

AlertEngine::AlertEngine(std::vector<AlertRule> rules) : rules_(std::move(rules)) {}

std::vector<AlertRow> AlertEngine::Evaluate(const ScoreObservation& observation) {
  std::vector<AlertRow> raised;
  if (observation.scored == nullptr || observation.row < 0 ||
      observation.row >= observation.scored->rows) {
    return raised;
  }
  for (size_t index = 0; index < rules_.size(); ++index) {
    const AlertRule& rule = rules_[index];
    if (rule.model != observation.model || !AppliesTo(rule, observation.instrument)) continue;
    State& state = states_[{index, observation.instrument}];
    // A re-delivered (or older) observation must neither fire nor move streaks and levels.
    if (state.seen && observation.ts <= state.last_seen) {
      ++suppressed_;
      continue;
    }
    std::string detail;
    const bool met = ConditionMet(rule, observation, state, &detail);
    state.seen = true;
    state.last_seen = observation.ts;
    if (!met) continue;
    if (observation.ts < state.cooldown_until) {
      ++suppressed_;
      continue;
    }
    state.cooldown_until = Timestamp(SaturatingAdd(observation.ts.nanos(), rule.cooldown_ns));
    if (rule.type == AlertRuleType::kConsecutive) state.streak = 0;
    raised.push_back(MakeAlert(rule, observation, detail));
  }
  return raised;
}

bool AlertEngine::ConditionMet(const AlertRule& rule, const ScoreObservation& observation,
                               State& state, std::string* detail) {
  const ScoredRows& scored = *observation.scored;
  const int64_t row = observation.row;
  switch (rule.type) {
    case AlertRuleType::kThreshold: {
      const double value = OutputValue(scored, row, rule.output);
      if (!std::isnan(rule.above) && value >= rule.above) {
        *detail = rule.output + " " + Number(value) + " >= " + Number(rule.above);
        return true;
      }
      if (!std::isnan(rule.below) && value <= rule.below) {
        *detail = rule.output + " " + Number(value) + " <= " + Number(rule.below);
        return true;
      }
      return false;  // NaN (no such output) compares false above
    }
    case AlertRuleType::kLevelChange: {
      if (scored.levels.size() <= static_cast<size_t>(row)) return false;
      const RiskLevel previous = state.level;
      state.level = scored.levels[row];
      *detail = "risk level " + std::string(RiskLevelName(previous)) + " -> " +
                std::string(RiskLevelName(state.level));
      return state.level >= rule.min_level && previous < rule.min_level;
    }
    case AlertRuleType::kConsecutive: {
      if (scored.flags.size() <= static_cast<size_t>(row)) return false;
      state.streak = scored.flags[row] != 0 ? state.streak + 1 : 0;
      *detail = std::to_string(state.streak) + " consecutive anomalies (score " +
                Number(scored.Score(row)) + ")";
      return state.streak >= rule.count;
    }
  }
  return false;
}

AlertRow AlertEngine::MakeAlert(const AlertRule& rule, const ScoreObservation& observation,
                                const std::string& detail) {
  AlertRow alert;
  alert.rule = rule.name;
  alert.instrument = observation.instrument;
  alert.ts = observation.ts;
  alert.severity = rule.severity;
  alert.score = AlertScore(rule, *observation.scored, observation.row);
  alert.message = rule.name + ": " + observation.model + " v" +
                  std::to_string(observation.model_version) + " " + detail + " on " +
                  observation.instrument + " at " + observation.ts.ToIso();
  alert.features_json = FeaturesJson(observation);
  alert.model_name = observation.model;
  alert.model_version = observation.model_version;
  alert.created_at = observation.now;
  return alert;
}

// --- Validation and parsing ---------------------------------------------------------------

namespace {

bool IsRuleName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

bool IsSeverity(const std::string& severity) {
  return severity == "info" || severity == "warning" || severity == "high" ||
         severity == "critical";
}

Status ValidateThreshold(const AlertRule& rule) {
  if (rule.output.empty())
    return InvalidArgument("output: must name \"score\", \"probability\" or a horizon");
  if (std::isnan(rule.above) && std::isnan(rule.below)) {
    return InvalidArgument("above: a threshold rule needs `above` or `below`");
  }
  if (std::isinf(rule.above)) return InvalidArgument("above: must be a finite number");
  if (std::isinf(rule.below)) return InvalidArgument("below: must be a finite number");
  return Status::Ok();
}

}  // namespace

Status AlertRule::Validate() const {
  if (!IsRuleName(name)) {
    return InvalidArgument("name: '" + name + "' must be 1-64 of A-Z a-z 0-9 _ . -");
  }
  if (model.empty()) return InvalidArgument("model: must name a served model");
  if (type == AlertRuleType::kThreshold) VIGIL_RETURN_IF_ERROR(ValidateThreshold(*this));
  if (type == AlertRuleType::kConsecutive && count < 1) {
    return InvalidArgument("count: must be >= 1, got " + std::to_string(count));
  }
  if (!IsSeverity(severity)) {
    return InvalidArgument("severity: '" + severity + "' is not info, warning, high or critical");
  }
  if (cooldown_ns < 0 || cooldown_ns > kMaxCooldownNs) {
    return InvalidArgument("cooldown: must be between 0 and 365 days");
  }
  for (size_t i = 0; i < instruments.size(); ++i) {
    Status parsed = Instrument::Parse(instruments[i]).status();
    if (!parsed.ok()) {
      return InvalidArgument("instruments[" + std::to_string(i) + "]: " + parsed.message());
    }
  }
  return Status::Ok();
}

namespace {

using Json = nlohmann::json;

// YAML converted to JSON may carry numbers as strings ("0.7"); both are accepted.
Result<double> NumberOf(const Json& value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    char* end = nullptr;
    const double number = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size() && std::isfinite(number)) return number;
  }
  return InvalidArgument("expected a number, got " + value.dump());
}

Result<std::string> StringOf(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  return InvalidArgument("expected a string, got " + value.dump());
}

// "15m", "1h", ... or a number of seconds; 0 disables the cool-down.
Result<int64_t> CooldownOf(const Json& value) {
  if (value.is_number() || (value.is_string() && value.get<std::string>() == "0")) {
    VIGIL_ASSIGN_OR_RETURN(double seconds, NumberOf(value));
    if (seconds < 0 || seconds * kNanosPerSecond > static_cast<double>(kMaxCooldownNs)) {
      return InvalidArgument("must be between 0 and 365 days");
    }
    return static_cast<int64_t>(std::llround(seconds * kNanosPerSecond));
  }
  VIGIL_ASSIGN_OR_RETURN(std::string text, StringOf(value));
  auto nanos = ParseDuration(text);
  if (!nanos.ok()) return InvalidArgument("'" + text + "' is not a duration such as 15m or 1h");
  return *nanos;
}

Result<RiskLevel> RiskLevelOf(const Json& value) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, StringOf(value));
  for (RiskLevel level :
       {RiskLevel::kLow, RiskLevel::kMedium, RiskLevel::kHigh, RiskLevel::kCritical}) {
    if (RiskLevelName(level) == text) return level;
  }
  return InvalidArgument("'" + text + "' is not low, medium, high or critical");
}

Result<AlertRuleType> RuleTypeOf(const Json& value) {
  VIGIL_ASSIGN_OR_RETURN(std::string text, StringOf(value));
  if (text == "threshold") return AlertRuleType::kThreshold;
  if (text == "level_change") return AlertRuleType::kLevelChange;
  if (text == "consecutive") return AlertRuleType::kConsecutive;
  return InvalidArgument("'" + text + "' is not threshold, level_change or consecutive");
}

Result<std::vector<std::string>> StringListOf(const Json& value) {
  if (!value.is_array()) return InvalidArgument("expected a list of strings");
  std::vector<std::string> list;
  for (const Json& item : value) {
    VIGIL_ASSIGN_OR_RETURN(std::string text, StringOf(item));
    list.push_back(std::move(text));
  }
  return list;
}

// Keys every rule may have, then the keys of each type.
bool IsCommonKey(const std::string& key) {
  return key == "name" || key == "type" || key == "model" || key == "instruments" ||
         key == "severity" || key == "cooldown";
}

bool IsKeyOfType(const std::string& key, AlertRuleType type) {
  switch (type) {
    case AlertRuleType::kThreshold:
      return key == "output" || key == "above" || key == "below";
    case AlertRuleType::kLevelChange:
      return key == "min_level";
    case AlertRuleType::kConsecutive:
      return key == "count";
  }
  return false;
}

std::string_view RuleTypeName(AlertRuleType type) {
  switch (type) {
    case AlertRuleType::kThreshold:
      return "threshold";
    case AlertRuleType::kLevelChange:
      return "level_change";
    case AlertRuleType::kConsecutive:
      return "consecutive";
  }
  return "?";
}

Status CountOf(const Json& value, int* count) {
  // A streak longer than a million observations is surely a mistake.
  constexpr double kMaxCount = 1e6;
  VIGIL_ASSIGN_OR_RETURN(double number, NumberOf(value));
  if (number != std::floor(number) || number < 1 || number > kMaxCount) {
    return InvalidArgument("must be a whole number from 1 to 1000000, got " + value.dump());
  }
  *count = static_cast<int>(number);
  return Status::Ok();
}

template <typename T>
Status Assign(Result<T> parsed, T* target) {
  if (!parsed.ok()) return parsed.status();
  *target = std::move(parsed).value();
  return Status::Ok();
}

Status ApplyKey(const std::string& key, const Json& value, AlertRule* rule) {
  if (key == "name") return Assign(StringOf(value), &rule->name);
  if (key == "type") return Assign(RuleTypeOf(value), &rule->type);
  if (key == "model") return Assign(StringOf(value), &rule->model);
  if (key == "output") return Assign(StringOf(value), &rule->output);
  if (key == "above") return Assign(NumberOf(value), &rule->above);
  if (key == "below") return Assign(NumberOf(value), &rule->below);
  if (key == "min_level") return Assign(RiskLevelOf(value), &rule->min_level);
  if (key == "count") return CountOf(value, &rule->count);
  if (key == "instruments") return Assign(StringListOf(value), &rule->instruments);
  if (key == "severity") return Assign(StringOf(value), &rule->severity);
  if (key == "cooldown") return Assign(CooldownOf(value), &rule->cooldown_ns);
  return InvalidArgument("unknown key");
}

// `where` is "run.yaml: alerts.rules[2]"; every error names it and the key.
Result<AlertRule> ParseRule(const Json& object, const std::string& where) {
  if (!object.is_object()) return InvalidArgument(where + ": expected a mapping of rule keys");
  for (const char* required : {"name", "type", "model"}) {
    if (!object.contains(required)) {
      return InvalidArgument(where + "." + required + ": missing (required)");
    }
  }
  AlertRule rule;
  Status typed = ApplyKey("type", object.at("type"), &rule);
  if (!typed.ok()) return InvalidArgument(where + ".type: " + typed.message());
  for (const auto& [key, value] : object.items()) {
    if (!IsCommonKey(key) && !IsKeyOfType(key, rule.type)) {
      const bool known = IsKeyOfType(key, AlertRuleType::kThreshold) ||
                         IsKeyOfType(key, AlertRuleType::kLevelChange) ||
                         IsKeyOfType(key, AlertRuleType::kConsecutive);
      return InvalidArgument(
          where + "." + key + ": " +
          (known ? "not used by a " + std::string(RuleTypeName(rule.type)) + " rule"
                 : std::string("unknown key")));
    }
    Status applied = ApplyKey(key, value, &rule);
    if (!applied.ok()) return InvalidArgument(where + "." + key + ": " + applied.message());
  }
  Status valid = rule.Validate();
  if (!valid.ok()) return InvalidArgument(where + "." + valid.message());
  return rule;
}

}  // namespace

Result<std::vector<AlertRule>> ParseAlertRules(const nlohmann::json& rules,
                                               const std::string& source) {
  const std::string where = source + ": alerts.rules";
  if (rules.is_null()) return std::vector<AlertRule>{};
  if (!rules.is_array()) return InvalidArgument(where + ": expected a list of rules");
  std::vector<AlertRule> parsed;
  std::map<std::string, size_t> index_of_name;
  try {
    for (size_t index = 0; index < rules.size(); ++index) {
      const std::string at = where + "[" + std::to_string(index) + "]";
      VIGIL_ASSIGN_OR_RETURN(AlertRule rule, ParseRule(rules[index], at));
      const auto [previous, inserted] = index_of_name.emplace(rule.name, index);
      if (!inserted) {
        return InvalidArgument(at + ".name: '" + rule.name + "' is already the name of rules[" +
                               std::to_string(previous->second) + "]");
      }
      parsed.push_back(std::move(rule));
    }
  } catch (const nlohmann::json::exception& e) {
    // Checked types above make this unreachable in practice; never let it escape.
    return InvalidArgument(where + ": " + e.what());
  }
  return parsed;
}

}  // namespace vigil
