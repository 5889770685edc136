// The supervised risk evaluation's reports (risk_evaluation.h): task names, the comparison with the
// best baseline, the markdown tables of docs/results.md and the JSON form.
#include <cstdio>
#include <string>

#include "vigil/core/timestamp.h"
#include "vigil/pipeline/risk_evaluation.h"

namespace vigil {
namespace {
// ---------------------------------------------------------------------------------------
// Reports

std::string Format(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

std::string WithThousands(int64_t value) {
  const std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out = value < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string MeanSd(double mean, double sd, const char* format) {
  if (std::isnan(sd)) return Format(format, mean);
  return Format(format, mean) + " ± " + Format(format, sd);
}

std::string Percent(double fraction) { return Format("%.2f", 100.0 * fraction) + " %"; }

std::string Horizon(int64_t ns) {
  if (ns % kNanosPerMinute == 0) return std::to_string(ns / kNanosPerMinute) + "m";
  return std::to_string(ns / kNanosPerSecond) + "s";
}

std::string Duration(int64_t ns) {
  constexpr double kNanosPerDay = 24.0 * kNanosPerHour;
  if (ns >= kNanosPerDay) return Format("%.1f", ns / kNanosPerDay) + " days";
  return Format("%.1f", static_cast<double>(ns) / kNanosPerHour) + " h";
}

std::string Label(double value) { return Format("%g", value); }

const RiskModelResult* BestModel(const RiskCellResult& cell, bool baseline) {
  const RiskModelResult* best = nullptr;
  for (const RiskModelResult& model : cell.models) {
    if (!model.ok || model.spec.is_baseline() != baseline) continue;
    if (best == nullptr || model.mean.pr_auc > best->mean.pr_auc) best = &model;
  }
  return best;
}

std::string ComparisonText(const RiskCellResult& cell, const RiskModelResult& model) {
  if (model.spec.is_baseline()) {
    const RiskModelResult* best = BestModel(cell, true);
    return best == &model ? "(best baseline)" : "";
  }
  std::optional<BaselineComparison> comparison = CompareWithBestBaseline(cell, model);
  if (!comparison) return "";
  return Format("%+.3f", comparison->delta_pr_auc) + " (" + std::to_string(comparison->folds_won) +
         "/" + std::to_string(comparison->folds_compared) + " folds)";
}

std::string CellHeadline(const RiskCellResult& cell) {
  std::string line = "**" + cell.task.Title() + "**: " + WithThousands(cell.rows) + " rows, " +
                     WithThousands(cell.positives) + " positive (" + Percent(cell.base_rate()) +
                     ")";
  if (cell.folds.empty()) return line;
  int64_t used = 0, scored = 0, purged = 0;
  for (const RiskFoldSummary& fold : cell.folds) {
    used += fold.used;
    scored += fold.scored;
    purged += fold.purged;
  }
  line += "; " + std::to_string(cell.folds.size()) + " folds (" +
          (cell.walk_forward.mode == WindowMode::kExpanding ? "expanding" : "sliding") +
          ", training from " + Duration(cell.walk_forward.train_ns) + ", test windows of " +
          Duration(cell.walk_forward.test_ns) + "), " + std::to_string(scored) + " scored, " +
          std::to_string(used - scored) + " used for pooling only, " +
          std::to_string(cell.folds.size() - used) + " unusable; " + WithThousands(purged) +
          " training rows purged; test " + WithThousands(cell.test_rows) + " rows with " +
          WithThousands(cell.test_positives) + " positives (" +
          Percent(cell.test_rows > 0 ? static_cast<double>(cell.test_positives) / cell.test_rows
                                     : 0.0) +
          ")";
  return line;
}

std::string ModelRow(const RiskCellResult& cell, const RiskModelResult& model) {
  if (!model.ok) return "| " + model.spec.name + " | not run: " + model.error + " |||||||\n";
  return "| " + model.spec.name + " | " + MeanSd(model.mean.pr_auc, model.sd.pr_auc, "%.3f") +
         " | " + MeanSd(model.mean.roc_auc, model.sd.roc_auc, "%.3f") + " | " +
         MeanSd(model.mean.brier, model.sd.brier, "%.4f") + " | " +
         MeanSd(model.mean.log_loss, model.sd.log_loss, "%.3f") + " | " +
         Format("%.3f", model.pooled.pr_auc) + " | " + Format("%.3f", model.pooled.roc_auc) +
         " | " + ComparisonText(cell, model) + " |\n";
}

nlohmann::json MetricsJson(const RiskMetrics& m) {
  auto number = [](double v) {
    return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v);
  };
  return {{"pr_auc", number(m.pr_auc)},
          {"roc_auc", number(m.roc_auc)},
          {"brier", number(m.brier)},
          {"log_loss", number(m.log_loss)}};
}

nlohmann::json ModelJson(const RiskCellResult& cell, const RiskModelResult& model) {
  nlohmann::json out = {{"name", model.spec.name},
                        {"kind", model.spec.kind},
                        {"params", model.spec.params},
                        {"baseline", model.spec.is_baseline()},
                        {"balanced_class_weights", model.spec.balanced_class_weights},
                        {"ok", model.ok}};
  if (!model.ok) {
    out["error"] = model.error;
    return out;
  }
  nlohmann::json folds = nlohmann::json::array();
  for (const std::optional<RiskMetrics>& fold : model.per_fold) {
    folds.push_back(fold ? MetricsJson(*fold) : nlohmann::json(nullptr));
  }
  out["per_fold"] = folds;
  out["scored_folds"] = model.scored_folds;
  out["mean"] = MetricsJson(model.mean);
  out["sd"] = MetricsJson(model.sd);
  out["pooled"] = MetricsJson(model.pooled);
  out["fit_seconds"] = model.fit_seconds;
  if (std::optional<BaselineComparison> c = CompareWithBestBaseline(cell, model)) {
    out["vs_best_baseline"] = {{"baseline", c->baseline},
                               {"delta_pr_auc", c->delta_pr_auc},
                               {"folds_won", c->folds_won},
                               {"folds_compared", c->folds_compared}};
  }
  return out;
}

}  // namespace

std::string RiskTask::Id() const {
  const std::string horizon = Horizon(label.horizon_ns);
  if (label.kind == LabelKind::kLiquidation) {
    return "liquidation_" + std::string(PositionSideName(label.side)) + "_" +
           Label(label.leverage) + "x_" + horizon;
  }
  if (label.kind == LabelKind::kCrash) return "crash_" + Label(label.crash_k) + "sd_" + horizon;
  return std::string(LabelKindName(label.kind)) + "_" + horizon;
}

std::string RiskTask::Title() const {
  const std::string horizon = Horizon(label.horizon_ns);
  const std::string minutes =
      horizon.back() == 'm' ? horizon.substr(0, horizon.size() - 1) + " min" : horizon;
  if (label.kind == LabelKind::kLiquidation) {
    return "liquidation " + std::string(PositionSideName(label.side)) + " " +
           Label(label.leverage) + "x, " + minutes;
  }
  if (label.kind == LabelKind::kCrash) return "crash (" + Label(label.crash_k) + " sd), " + minutes;
  return std::string(LabelKindName(label.kind)) + ", " + minutes;
}

std::optional<BaselineComparison> CompareWithBestBaseline(const RiskCellResult& cell,
                                                          const RiskModelResult& model) {
  if (!model.ok || model.spec.is_baseline()) return std::nullopt;
  const RiskModelResult* baseline = BestModel(cell, true);
  if (baseline == nullptr) return std::nullopt;
  BaselineComparison comparison;
  comparison.baseline = baseline->spec.name;
  comparison.delta_pr_auc = model.mean.pr_auc - baseline->mean.pr_auc;
  for (size_t f = 0; f < model.per_fold.size() && f < baseline->per_fold.size(); ++f) {
    if (!model.per_fold[f] || !baseline->per_fold[f]) continue;
    ++comparison.folds_compared;
    comparison.folds_won += model.per_fold[f]->pr_auc > baseline->per_fold[f]->pr_auc;
  }
  return comparison;
}

std::string RiskCellTable(const RiskCellResult& cell) {
  std::string out = CellHeadline(cell);
  if (cell.skipped) return out + ". Skipped: " + cell.skip_reason + ".\n\n";
  out +=
      ".\n\n| model | PR-AUC | ROC-AUC | Brier | log loss | pooled PR-AUC | pooled ROC-AUC | "
      "vs best baseline (ΔPR-AUC, folds won) |\n|---|---|---|---|---|---|---|---|\n";
  for (const RiskModelResult& model : cell.models) out += ModelRow(cell, model);
  return out + "\n";
}

std::string RiskSummaryTable(std::span<const RiskCellResult> cells) {
  std::string out =
      "| dataset | label | test positives | test base rate | best model | PR-AUC | best baseline "
      "| PR-AUC | ΔPR-AUC | folds won |\n|---|---|---|---|---|---|---|---|---|---|\n";
  for (const RiskCellResult& cell : cells) {
    out += "| " + cell.dataset + " | " + cell.task.Title() + " | " +
           WithThousands(cell.test_positives) + " | ";
    if (cell.skipped) {
      out += "— | skipped: " + cell.skip_reason + " ||||||\n";
      continue;
    }
    out += Percent(static_cast<double>(cell.test_positives) / cell.test_rows) + " | ";
    const RiskModelResult* model = BestModel(cell, false);
    const RiskModelResult* baseline = BestModel(cell, true);
    if (model == nullptr || baseline == nullptr) {
      out += "no model or baseline ran ||||||\n";
      continue;
    }
    const std::optional<BaselineComparison> c = CompareWithBestBaseline(cell, *model);
    out += model->spec.name + " | " + MeanSd(model->mean.pr_auc, model->sd.pr_auc, "%.3f") + " | " +
           baseline->spec.name + " | " +
           MeanSd(baseline->mean.pr_auc, baseline->sd.pr_auc, "%.3f") + " | " +
           Format("%+.3f", c->delta_pr_auc) + " | " + std::to_string(c->folds_won) + "/" +
           std::to_string(c->folds_compared) + " |\n";
  }
  return out;
}

nlohmann::json RiskCellJson(const RiskCellResult& cell) {
  nlohmann::json out = {{"dataset", cell.dataset},
                        {"task", cell.task.Id()},
                        {"title", cell.task.Title()},
                        {"horizon_ns", cell.task.label.horizon_ns},
                        {"rows", cell.rows},
                        {"positives", cell.positives},
                        {"base_rate", cell.base_rate()},
                        {"dropped_warmup", cell.dropped_warmup},
                        {"dropped_unlabelled", cell.dropped_unlabelled},
                        {"test_rows", cell.test_rows},
                        {"test_positives", cell.test_positives},
                        {"skipped", cell.skipped}};
  if (cell.skipped) out["skip_reason"] = cell.skip_reason;
  out["walk_forward"] = {
      {"mode", cell.walk_forward.mode == WindowMode::kExpanding ? "expanding" : "sliding"},
      {"train_ns", cell.walk_forward.train_ns},
      {"test_ns", cell.walk_forward.test_ns}};
  nlohmann::json folds = nlohmann::json::array();
  for (const RiskFoldSummary& f : cell.folds) {
    folds.push_back({{"train_rows", f.train_rows},
                     {"train_positives", f.train_positives},
                     {"test_rows", f.test_rows},
                     {"test_positives", f.test_positives},
                     {"purged", f.purged},
                     {"test_start_ts", f.test_start_ts},
                     {"test_end_ts", f.test_end_ts},
                     {"used", f.used},
                     {"scored", f.scored}});
  }
  out["folds"] = folds;
  nlohmann::json models = nlohmann::json::array();
  for (const RiskModelResult& model : cell.models) models.push_back(ModelJson(cell, model));
  out["models"] = models;
  return out;
}

}  // namespace vigil
