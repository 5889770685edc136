// The supervised-risk stages of a training job (training_job.h): per-output fitting with
// class-imbalance handling inside the fitted rows, the multi-horizon model, probability
// calibration fitted on held-out (out-of-fold) predictions with honest metrics, global
// importance, and the manifest details that record them.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::Evaluation evaluation, vigil::Evaluate(config, set));
//   VIGIL_ASSIGN_OR_RETURN(vigil::CalibrationFit calibration,
//                          vigil::FitCalibration(config, set, evaluation));
//   VIGIL_ASSIGN_OR_RETURN(auto models, vigil::FitOutputModels(config, set, {}, nullptr));
//   VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<vigil::Model> model,
//       vigil::AssembleModel(set, std::move(models), calibration.calibrators));
//
// Leakage rules these functions keep (tests/pipeline/risk_training_test.cc checks each):
// - imbalance (class weights, scale_pos_weight, SMOTE) reads only the rows being fitted;
// - the calibrator of the registered model is fitted on the pooled out-of-fold
//   predictions, which no fold model saw in training;
// - the honest calibrated metrics calibrate fold k's predictions with a calibrator fitted on
//   folds before k only (k >= 2; the first fold has nothing earlier and is left out);
// - permutation importance is measured with the last fold's model on its own test rows.
//
// Thread-safety: pure functions of their arguments.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"
#include "vigil/models/probability_calibration.h"
#include "vigil/pipeline/training_job.h"

namespace vigil {

// One fitted model per output of the set (one per horizon for a multi-horizon set, else
// one) on `rows` (all when empty), with config.imbalance applied to those rows only.
// `report` may be null.
Result<std::vector<std::unique_ptr<Model>>> FitOutputModels(const TrainingConfig& config,
                                                            const TrainingSet& set,
                                                            std::span<const int64_t> rows,
                                                            FitReport* report);

// The model to register from per-output models: each wrapped with its calibrator when
// `calibrators` is non-empty (CalibratedClassifier::FromParts), then the single model or a
// MultiHorizonClassifier of all (set.horizons_ns).
Result<std::unique_ptr<Model>> AssembleModel(const TrainingSet& set,
                                             std::vector<std::unique_ptr<Model>> models,
                                             const std::vector<ProbabilityCalibrator>& calibrators);

// P(label 1) of output k (a horizon, or the positive class) of fold predictions.
std::vector<double> PositiveProbabilities(const FoldPredictions& predictions, int output);
// The labels of output k on `rows` as class indices.
std::vector<int> OutputLabels(const TrainingSet& set, int output, std::span<const int64_t> rows);
int NumOutputs(const TrainingSet& set);  // horizons, or 1

// Fold predictions after calibration: fold k (k >= 1, 0-based) calibrated by a calibrator
// fitted on the pooled predictions of folds 0..k-1 only. Folds whose earlier folds hold one
// class only are skipped (no calibrator can be fitted); so is fold 0.
Result<std::vector<FoldPredictions>> HonestCalibratedPredictions(
    CalibrationMethod method, const TrainingSet& set, std::span<const FoldPredictions> folds);

struct CalibrationFit {
  // One per output, fitted on every fold's pooled out-of-fold predictions.
  std::vector<ProbabilityCalibrator> calibrators;
  // calibrated_brier, calibrated_log_loss (and "@<horizon>"), calibrated_test_rows: the
  // honest predictions pooled; raw_brier / raw_log_loss on the same rows for comparison
  // go into `details`.
  std::map<std::string, double> metrics;
  // The last fold's honestly calibrated metrics, which the gate then uses (the registered
  // model is the calibrated one); empty when the last fold could not be calibrated.
  std::map<std::string, double> gate_metrics;
  nlohmann::json details;
};

// Fits config.calibration (binary classification only) as described above. Fails when the
// pooled out-of-fold predictions hold one class only.
Result<CalibrationFit> FitCalibration(const TrainingConfig& config, const TrainingSet& set,
                                      const Evaluation& evaluation);

// manifest.details["importance"]: for each method, the top features (at most `top`) with
// their values, largest first: the final model's own importance (gain, cover, ... or
// linear coefficients) and mean |SHAP| on the gate rows when it explains itself, and the
// permutation importance of the last fold's model on its held-out gate rows (per horizon
// for multi-horizon models). Methods a model does not support are left out.
Result<nlohmann::json> ImportanceDetails(const TrainingConfig& config, const TrainingSet& set,
                                         const Model& final_model, const Evaluation& evaluation,
                                         int top = 10);

// manifest.details entries that come from the config: "task", "label" (kind, horizons and
// parameters), "imbalance", "calibration" (method), "risk_levels" (cutpoints and where a
// level's confidence comes from).
nlohmann::json ConfigDetails(const TrainingConfig& config);

}  // namespace vigil
