// The supervised-risk stages of a training job: imbalance inside the fitted rows, the
// multi-horizon model, calibration on held-out predictions, importance, manifest details.
#include "vigil/pipeline/risk_training.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "vigil/core/rng.h"
#include "vigil/models/imbalance.h"
#include "vigil/models/importance.h"
#include "vigil/models/metrics.h"
#include "vigil/models/multi_horizon.h"
#include "vigil/models/risk_levels.h"

namespace vigil {
namespace {

// The rows one model is fitted on (copied unless they are every row).
struct FitInputs {
  FeatureMatrix selected;
  const FeatureMatrix* x = nullptr;
  std::vector<double> targets;  // labels or regression targets
};

FitInputs SelectFitInputs(const TrainingSet& set, const std::vector<double>& targets,
                          std::span<const int64_t> rows) {
  FitInputs out;
  if (rows.empty()) {
    out.x = &set.x;
    out.targets = targets;
    return out;
  }
  out.selected.columns = set.x.columns;
  out.selected.rows = static_cast<int64_t>(rows.size());
  out.selected.values.reserve(rows.size() * set.x.cols());
  out.targets.reserve(rows.size());
  for (int64_t row : rows) {
    const std::span<const double> values = set.x.row(row);
    out.selected.values.insert(out.selected.values.end(), values.begin(), values.end());
    out.targets.push_back(targets[row]);
  }
  out.x = &out.selected;
  return out;
}

// The config's params completed with what the job supplies: its seed and, for multiclass
// labels, the class count (a fold may lack the highest class), unless the params set them.
Result<nlohmann::json> JobParams(const TrainingConfig& config) {
  nlohmann::json params = config.model_params;
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> probe, CreateModel(config.model_kind, params));
  const nlohmann::json defaults = probe->config();
  if (defaults.contains("seed") && !params.contains("seed")) params["seed"] = config.seed;
  if (config.num_classes() > 2 && defaults.contains("num_classes") &&
      !params.contains("num_classes")) {
    params["num_classes"] = config.num_classes();
  }
  return params;
}

// Fits a classifier of output `output` with config.imbalance applied to these rows only.
Result<std::unique_ptr<Model>> FitClassifier(const TrainingConfig& config, nlohmann::json params,
                                             const FitInputs& inputs, int output,
                                             FitReport* report) {
  const std::vector<int> classes(inputs.targets.begin(), inputs.targets.end());
  const FeatureMatrix* x = inputs.x;
  std::vector<int> fit_classes;
  std::vector<double> weights;
  Resampled resampled;
  int64_t synthetic = 0;
  double scale_pos_weight = 1.0;
  switch (config.imbalance.method) {
    case ImbalanceMethod::kNone:
      break;
    case ImbalanceMethod::kClassWeight:
      weights = BalancedSampleWeights(classes, std::max(config.num_classes(), 2));
      break;
    case ImbalanceMethod::kScalePosWeight:
      // "auto" is negatives / positives of the rows passed to Fit (these rows), and keeps
      // one config for every horizon of a multi-horizon model.
      scale_pos_weight = ScalePosWeight(classes);
      params["scale_pos_weight"] = "auto";
      break;
    case ImbalanceMethod::kSmote: {
      SmoteOptions smote;
      smote.k_neighbors = config.imbalance.k_neighbors;
      smote.sampling_ratio = config.imbalance.sampling_ratio;
      smote.seed = Rng(config.seed).Derive("smote/" + std::to_string(output)).seed();
      VIGIL_ASSIGN_OR_RETURN(resampled, Smote(*x, classes, {}, smote));
      x = &resampled.x;
      fit_classes = std::move(resampled.labels);
      synthetic = resampled.synthetic;
      break;
    }
  }
  const std::vector<int>& labels = fit_classes.empty() ? classes : fit_classes;
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, CreateModel(config.model_kind, params));
  Classifier* classifier = AsClassifier(model.get());
  VIGIL_RETURN_IF_ERROR(classifier->Fit(*x, labels, weights));
  if (report != nullptr) {
    report->rows_fitted.push_back(x->rows);
    report->synthetic.push_back(synthetic);
    report->scale_pos_weight.push_back(scale_pos_weight);
  }
  return model;
}

Result<std::unique_ptr<Model>> FitOutput(const TrainingConfig& config, const nlohmann::json& params,
                                         const FitInputs& inputs, int output, FitReport* report) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, CreateModel(config.model_kind, params));
  if (AsClassifier(model.get()) != nullptr) {
    return FitClassifier(config, params, inputs, output, report);
  }
  if (Regressor* regressor = AsRegressor(model.get())) {
    VIGIL_RETURN_IF_ERROR(regressor->Fit(*inputs.x, inputs.targets));
  } else if (AnomalyDetector* detector = AsAnomalyDetector(model.get())) {
    VIGIL_RETURN_IF_ERROR(detector->Fit(*inputs.x));
  } else {
    return InvalidArgument("model kind '" + config.model_kind +
                           "' cannot be trained by a training job (forecasters are fitted by "
                           "vigil forecast)");
  }
  if (report != nullptr) {
    report->rows_fitted.push_back(inputs.x->rows);
    report->synthetic.push_back(0);
    report->scale_pos_weight.push_back(1.0);
  }
  return model;
}

// Log loss and Brier of calibrated predictions pooled, per output and averaged.
void AddCalibratedMetrics(const TrainingSet& set, std::span<const FoldPredictions> folds,
                          const std::string& prefix, std::map<std::string, double>& metrics) {
  const int outputs = NumOutputs(set);
  std::map<std::string, std::pair<double, int>> sums;
  for (int output = 0; output < outputs; ++output) {
    std::vector<double> probs;
    std::vector<int> labels;
    for (const FoldPredictions& fold : folds) {
      const std::vector<double> p = PositiveProbabilities(fold, output);
      const std::vector<int> y = OutputLabels(set, output, fold.rows);
      probs.insert(probs.end(), p.begin(), p.end());
      labels.insert(labels.end(), y.begin(), y.end());
    }
    const std::string suffix =
        set.multi_horizon() ? "@" + FormatDuration(set.horizons_ns[output]) : "";
    for (const auto& [name, value] : {std::pair{std::string("brier"), BrierScore(labels, probs)},
                                      std::pair{std::string("log_loss"), LogLoss(labels, probs)}}) {
      if (!value.ok() || !std::isfinite(*value)) continue;
      if (!suffix.empty()) metrics[prefix + name + suffix] = *value;
      sums[name].first += *value;
      sums[name].second += 1;
    }
  }
  for (const auto& [name, sum] : sums) metrics[prefix + name] = sum.first / sum.second;
}

nlohmann::json TopFeatures(const std::vector<std::string>& features,
                           const std::vector<double>& values, int top) {
  std::vector<size_t> order(std::min(features.size(), values.size()));
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a] > values[b]; });
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < order.size() && static_cast<int>(i) < top; ++i) {
    out.push_back({{"feature", features[order[i]]}, {"value", values[order[i]]}});
  }
  return out;
}

FeatureMatrix SelectMatrix(const FeatureMatrix& x, std::span<const int64_t> rows) {
  FeatureMatrix out;
  out.columns = x.columns;
  out.rows = static_cast<int64_t>(rows.size());
  for (int64_t row : rows) {
    const std::span<const double> values = x.row(row);
    out.values.insert(out.values.end(), values.begin(), values.end());
  }
  return out;
}

std::string PermutationMetric(const TrainingConfig& config) {
  if (config.task == Task::kRegression) return "rmse";
  return config.num_classes() > 2 ? "log_loss" : "roc_auc";
}

// The permutation importance of `model` on the gate rows, into `out` under `name`.
void AddPermutation(const TrainingConfig& config, const Model& model, const FeatureMatrix& x,
                    const std::vector<double>& targets, const std::string& name, int top,
                    nlohmann::json& out) {
  PermutationOptions options;
  options.metric = PermutationMetric(config);
  options.seed = config.seed;
  Result<PermutationImportance> permutation =
      ComputePermutationImportance(model, x, targets, options);
  if (!permutation.ok()) {
    out["skipped"][name] = permutation.status().message();
    return;
  }
  out["methods"][name] = TopFeatures(permutation->features, permutation->mean, top);
}

nlohmann::json LabelDetails(const TrainingConfig& config) {
  const LabelOptions& label = config.label;
  nlohmann::json out = {{"kind", LabelKindName(label.kind)}, {"field", label.field}};
  if (label.horizon_bars > 0) out["horizon_bars"] = label.horizon_bars;
  if (label.horizon_ns > 0) out["horizon"] = FormatDuration(label.horizon_ns);
  if (config.multi_horizon()) {
    nlohmann::json horizons = nlohmann::json::array();
    for (int64_t h : config.horizons_ns) horizons.push_back(FormatDuration(h));
    out["horizons"] = horizons;
  }
  switch (label.kind) {
    case LabelKind::kDirection:
      out["threshold"] = label.threshold;
      break;
    case LabelKind::kLiquidation:
      out["leverage"] = label.leverage;
      out["side"] = PositionSideName(label.side);
      out["maintenance_margin"] = label.maintenance_margin;
      break;
    case LabelKind::kCrash:
      out["k"] = label.crash_k;
      out["vol_window"] = label.vol_window;
      break;
    case LabelKind::kProtocolRisk:
      out["drawdown_medium"] = label.drawdown_medium;
      out["drawdown_high"] = label.drawdown_high;
      out["volatility_medium"] = label.volatility_medium;
      out["volatility_high"] = label.volatility_high;
      out["classes"] = {"low", "medium", "high"};
      break;
    case LabelKind::kOpportunity:
      out["pair"] = config.pair_instrument;
      out["fee_bps"] = label.fee_bps;
      out["slippage_bps"] = label.slippage_bps;
      out["gas_usd"] = label.gas_usd;
      out["notional_usd"] = label.notional_usd;
      out["persist_rows"] = label.persist_rows;
      break;
    case LabelKind::kNone:
    case LabelKind::kForwardReturn:
      break;
  }
  return out;
}

}  // namespace

int NumOutputs(const TrainingSet& set) {
  return set.multi_horizon() ? static_cast<int>(set.horizons_ns.size()) : 1;
}

std::vector<double> PositiveProbabilities(const FoldPredictions& predictions, int output) {
  const size_t rows = predictions.rows.size();
  const size_t width = static_cast<size_t>(predictions.width);
  const size_t column = predictions.per_horizon ? static_cast<size_t>(output) : 1;
  std::vector<double> out(rows);
  for (size_t row = 0; row < rows; ++row) out[row] = predictions.values[row * width + column];
  return out;
}

std::vector<int> OutputLabels(const TrainingSet& set, int output, std::span<const int64_t> rows) {
  const std::vector<double>& labels = set.multi_horizon() ? set.horizon_labels[output] : set.labels;
  std::vector<int> out;
  out.reserve(rows.size());
  for (int64_t row : rows) out.push_back(static_cast<int>(labels[row]));
  return out;
}

Result<std::vector<std::unique_ptr<Model>>> FitOutputModels(const TrainingConfig& config,
                                                            const TrainingSet& set,
                                                            std::span<const int64_t> rows,
                                                            FitReport* report) {
  VIGIL_ASSIGN_OR_RETURN(nlohmann::json params, JobParams(config));
  std::vector<std::unique_ptr<Model>> models;
  for (int output = 0; output < NumOutputs(set); ++output) {
    const std::vector<double>& labels =
        set.multi_horizon() ? set.horizon_labels[output] : set.labels;
    const FitInputs inputs = SelectFitInputs(set, labels, rows);
    Result<std::unique_ptr<Model>> model = FitOutput(config, params, inputs, output, report);
    if (!model.ok() && set.multi_horizon()) {
      return model.status().WithContext("horizon " + FormatDuration(set.horizons_ns[output]));
    }
    if (!model.ok()) return model.status();
    models.push_back(std::move(*model));
  }
  return models;
}

Result<std::unique_ptr<Model>> AssembleModel(
    const TrainingSet& set, std::vector<std::unique_ptr<Model>> models,
    const std::vector<ProbabilityCalibrator>& calibrators) {
  if (!calibrators.empty()) {
    if (calibrators.size() != models.size()) {
      return InvalidArgument("calibration: " + std::to_string(calibrators.size()) +
                             " calibrators for " + std::to_string(models.size()) + " models");
    }
    for (size_t k = 0; k < models.size(); ++k) {
      VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<CalibratedClassifier> calibrated,
                             CalibratedClassifier::FromParts(std::move(models[k]), calibrators[k]));
      models[k] = std::move(calibrated);
    }
  }
  if (!set.multi_horizon()) return std::move(models.front());
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<MultiHorizonClassifier> multi,
                         MultiHorizonClassifier::FromModels(set.horizons_ns, std::move(models)));
  return std::unique_ptr<Model>(std::move(multi));
}

Result<std::vector<FoldPredictions>> HonestCalibratedPredictions(
    CalibrationMethod method, const TrainingSet& set, std::span<const FoldPredictions> folds) {
  std::vector<FoldPredictions> out;
  const int outputs = NumOutputs(set);
  for (size_t k = 1; k < folds.size(); ++k) {
    FoldPredictions calibrated = folds[k];
    bool usable = true;
    for (int output = 0; output < outputs && usable; ++output) {
      std::vector<double> probs;
      std::vector<int> labels;
      for (size_t earlier = 0; earlier < k; ++earlier) {
        const std::vector<double> p = PositiveProbabilities(folds[earlier], output);
        const std::vector<int> y = OutputLabels(set, output, folds[earlier].rows);
        probs.insert(probs.end(), p.begin(), p.end());
        labels.insert(labels.end(), y.begin(), y.end());
      }
      const auto positives = std::count(labels.begin(), labels.end(), 1);
      if (positives == 0 || positives == static_cast<int64_t>(labels.size())) {
        usable = false;  // nothing to calibrate against yet: one class in the earlier folds
        break;
      }
      VIGIL_ASSIGN_OR_RETURN(ProbabilityCalibrator calibrator,
                             ProbabilityCalibrator::Fit(method, probs, labels));
      const std::vector<double> raw = PositiveProbabilities(folds[k], output);
      const size_t width = static_cast<size_t>(calibrated.width);
      for (size_t row = 0; row < raw.size(); ++row) {
        const double q = calibrator.Apply(raw[row]);
        if (calibrated.per_horizon) {
          calibrated.values[row * width + output] = q;
        } else {
          calibrated.values[row * width + 0] = 1.0 - q;
          calibrated.values[row * width + 1] = q;
        }
      }
    }
    if (usable) out.push_back(std::move(calibrated));
  }
  return out;
}

Result<CalibrationFit> FitCalibration(const TrainingConfig& config, const TrainingSet& set,
                                      const Evaluation& evaluation) {
  CalibrationFit fit;
  const CalibrationMethod method = config.calibration.method;
  int64_t pooled_rows = 0;
  for (int output = 0; output < NumOutputs(set); ++output) {
    std::vector<double> probs;
    std::vector<int> labels;
    for (const FoldPredictions& fold : evaluation.predictions) {
      const std::vector<double> p = PositiveProbabilities(fold, output);
      const std::vector<int> y = OutputLabels(set, output, fold.rows);
      probs.insert(probs.end(), p.begin(), p.end());
      labels.insert(labels.end(), y.begin(), y.end());
    }
    Result<ProbabilityCalibrator> calibrator = ProbabilityCalibrator::Fit(method, probs, labels);
    if (!calibrator.ok()) {
      return calibrator.status().WithContext("calibration on the out-of-fold predictions");
    }
    fit.calibrators.push_back(std::move(*calibrator));
    pooled_rows = static_cast<int64_t>(probs.size());
  }
  VIGIL_ASSIGN_OR_RETURN(std::vector<FoldPredictions> honest,
                         HonestCalibratedPredictions(method, set, evaluation.predictions));
  nlohmann::json honest_json = {{"folds", honest.size()}};
  if (!honest.empty()) {
    std::vector<FoldPredictions> raw_same_rows;
    for (const FoldPredictions& fold : honest) {
      for (const FoldPredictions& original : evaluation.predictions) {
        if (original.rows == fold.rows) raw_same_rows.push_back(original);
      }
    }
    int64_t rows = 0;
    for (const FoldPredictions& fold : honest) rows += static_cast<int64_t>(fold.rows.size());
    AddCalibratedMetrics(set, honest, "calibrated_", fit.metrics);
    fit.metrics["calibrated_test_rows"] = static_cast<double>(rows);
    std::map<std::string, double> raw;
    AddCalibratedMetrics(set, raw_same_rows, "raw_", raw);
    honest_json["rows"] = rows;
    for (const auto& [name, value] : raw) honest_json[name] = value;
    for (const auto& [name, value] : fit.metrics) honest_json[name] = value;
    if (honest.back().rows == evaluation.gate_rows) {
      fit.gate_metrics = PooledMetrics(config, set, std::span(&honest.back(), 1));
    }
  }
  fit.details = {{"method", CalibrationMethodName(method)},
                 {"fitted_on", "pooled out-of-fold predictions"},
                 {"fitted_on_rows", pooled_rows},
                 {"honest", honest_json},
                 {"gate", fit.gate_metrics.empty() ? "uncalibrated last fold"
                                                   : "last fold calibrated by earlier folds"}};
  return fit;
}

Result<nlohmann::json> ImportanceDetails(const TrainingConfig& config, const TrainingSet& set,
                                         const Model& final_model, const Evaluation& evaluation,
                                         int top) {
  nlohmann::json out = {{"rows", evaluation.gate_rows.size()},
                        {"methods", nlohmann::json::object()}};
  if (evaluation.gate_rows.empty() || config.task == Task::kAnomaly) return out;
  const FeatureMatrix x = SelectMatrix(set.x, evaluation.gate_rows);
  if (const ExplainableModel* explainable = AsExplainable(&final_model)) {
    Result<FeatureImportance> own = explainable->Importance();
    if (own.ok()) {
      for (const auto& [method, values] : own->by_method) {
        out["methods"][method] = TopFeatures(own->features, values, top);
      }
    } else {
      out["skipped"]["model"] = own.status().message();
    }
    Result<Attributions> shap = explainable->Shap(x);
    if (shap.ok()) {
      out["methods"]["mean_abs_shap"] = TopFeatures(shap->features, MeanAbsShap(*shap), top);
    } else {
      out["skipped"]["mean_abs_shap"] = shap.status().message();
    }
  }
  // Permutation importance needs held-out rows: the last fold model never saw the gate rows.
  const Model* fold_model = evaluation.last_fold_model.get();
  if (fold_model == nullptr) return out;
  if (const auto* multi = dynamic_cast<const MultiHorizonClassifier*>(fold_model)) {
    for (int k = 0; k < NumOutputs(set); ++k) {
      const std::vector<int> labels = OutputLabels(set, k, evaluation.gate_rows);
      AddPermutation(config, multi->horizon_model(k), x,
                     std::vector<double>(labels.begin(), labels.end()),
                     "permutation@" + FormatDuration(set.horizons_ns[k]), top, out);
    }
    return out;
  }
  std::vector<double> targets;
  for (int64_t row : evaluation.gate_rows) targets.push_back(set.labels[row]);
  AddPermutation(config, *fold_model, x, targets, "permutation", top, out);
  return out;
}

nlohmann::json ConfigDetails(const TrainingConfig& config) {
  nlohmann::json out;
  out["task"] = config.risk_task != RiskTask::kNone ? std::string(RiskTaskName(config.risk_task))
                                                    : std::string(TaskName(config.task));
  out["label"] = LabelDetails(config);
  if (config.imbalance.method != ImbalanceMethod::kNone) {
    out["imbalance"] = {{"method", ImbalanceMethodName(config.imbalance.method)},
                        {"applied_to", "each fold's training rows and the final fit's rows"}};
    if (config.imbalance.method == ImbalanceMethod::kSmote) {
      out["imbalance"]["k_neighbors"] = config.imbalance.k_neighbors;
      out["imbalance"]["sampling_ratio"] = config.imbalance.sampling_ratio;
    }
  }
  if (config.has_risk_levels) {
    out["risk_levels"] = {
        {"cutpoints", RiskCutpointsToJson(config.risk_levels)},
        {"confidence_evidence",
         config.calibration.method != CalibrationMethod::kNone
             ? "calibrator: the held-out rows behind each calibrated probability "
               "(ProbabilityCalibrator::Evidence)"
             : "none: the model is not calibrated, so confidence is 0 (risk_levels.h)"}};
  }
  return out;
}

}  // namespace vigil
