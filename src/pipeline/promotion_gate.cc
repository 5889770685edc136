// DecidePromotion: the candidate against the version behind the promotion alias, on the
// same (most recent) validation window. The rules are in training_job.h.
#include <cstdio>

#include "vigil/models/multi_horizon.h"
#include "vigil/pipeline/risk_training.h"
#include "vigil/pipeline/training_job.h"

namespace vigil {
namespace {

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6g", value);
  return text;
}

GateDecision Decided(GateDecision decision, bool promote, std::string reason) {
  decision.promote = promote;
  decision.reason = std::move(reason);
  return decision;
}

// Production scored on the gate rows, or the reason it cannot be compared.
GateDecision CompareWithProduction(const TrainingConfig& config, const TrainingSet& set,
                                   const Evaluation& evaluation, const LoadedModel& production,
                                   GateDecision decision) {
  const std::string who = "production v" + std::to_string(production.manifest.version);
  if (production.manifest.task != config.task) {
    return Decided(decision, false,
                   who + " is a " + std::string(TaskName(production.manifest.task)) +
                       " model; not comparable, promote by hand");
  }
  const std::string production_task = production.manifest.details.value("task", "");
  const nlohmann::json candidate_task = ConfigDetails(config)["task"];
  if (!production_task.empty() && production_task != candidate_task.get<std::string>()) {
    return Decided(decision, false,
                   who + " is a " + production_task + " model, the candidate a " +
                       candidate_task.get<std::string>() +
                       " model; not comparable, promote by hand");
  }
  const auto* multi = dynamic_cast<const MultiHorizonClassifier*>(production.model.get());
  if ((multi != nullptr) != set.multi_horizon() ||
      (multi != nullptr && multi->horizons_ns() != set.horizons_ns)) {
    return Decided(decision, false,
                   who +
                       " predicts other horizons than the candidate; not comparable, promote "
                       "by hand");
  }
  const Status same_features =
      CheckFeatures(production.manifest, config.features.SpecHashHex(), set.x.columns);
  if (!same_features.ok()) {
    return Decided(decision, false,
                   who + " uses other features (" + same_features.message() +
                       "); not comparable on this window, promote by hand");
  }
  const int64_t window_start = set.windows.start_ts[evaluation.gate_rows.front()];
  decision.production_in_sample = production.manifest.training_data.to.nanos() >= window_start;
  Result<std::map<std::string, double>> scored =
      ScoreModel(*production.model, config, set, evaluation.gate_rows);
  if (!scored.ok()) {
    return Decided(
        decision, true,
        who + " could not score the window (" + scored.status().message() + "); replacing it");
  }
  const auto found = scored->find(decision.metric);
  if (found == scored->end()) {
    return Decided(decision, false, decision.metric + " of " + who + " is undefined on the window");
  }
  decision.production = found->second;
  const bool higher = HigherIsBetter(decision.metric).value_or(true);
  const double tolerance = config.promotion.tolerance;
  const double bar = higher ? found->second - tolerance : found->second + tolerance;
  const bool passes = higher ? *decision.candidate >= bar : *decision.candidate <= bar;
  const std::string comparison = decision.metric + " " + Number(*decision.candidate) +
                                 (passes ? (higher ? " >= " : " <= ") : (higher ? " < " : " > ")) +
                                 who + " " + Number(found->second) + (higher ? " - " : " + ") +
                                 Number(tolerance) +
                                 (decision.production_in_sample ? " (production in-sample)" : "");
  return Decided(decision, passes, comparison);
}

}  // namespace

Result<GateDecision> DecidePromotion(const TrainingConfig& config, const TrainingSet& set,
                                     const Evaluation& evaluation, const ModelRegistry& registry) {
  GateDecision decision;
  decision.metric = config.promotion.metric;
  if (!config.promotion.enabled) return Decided(decision, false, "promotion is disabled");
  if (decision.metric == "none") return Decided(decision, true, "promotion.metric is none");
  const auto candidate = evaluation.gate_metrics.find(decision.metric);
  if (candidate == evaluation.gate_metrics.end() || evaluation.gate_rows.empty()) {
    return Decided(decision, false,
                   decision.metric + " is undefined on the gate window (one class only?)");
  }
  decision.candidate = candidate->second;
  const std::string reference = config.name + "@" + config.promotion.alias;
  Result<int64_t> version = registry.Resolve(reference);
  if (!version.ok()) {
    if (version.status().code() != StatusCode::kNotFound) return version.status();
    return Decided(decision, true, "no " + config.promotion.alias + " version yet");
  }
  decision.production_version = *version;
  Result<LoadedModel> production = registry.Load(config.name + "@" + std::to_string(*version));
  if (!production.ok()) {
    return Decided(decision, true,
                   config.promotion.alias + " v" + std::to_string(*version) +
                       " could not be loaded (" + production.status().message() +
                       "); replacing it");
  }
  return CompareWithProduction(config, set, evaluation, *production, std::move(decision));
}

}  // namespace vigil
