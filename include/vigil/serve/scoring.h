// Scoring rows with a served model, the same way for the HTTP API and the live runner.
//
//   VIGIL_ASSIGN_OR_RETURN(vigil::ScoredRows out, vigil::ScoreRows(*served, x));
//   double p = out.Probability(0);  // classification: P(class 1); multi-horizon: primary
//
// Per task:
//   classification  probabilities rows x classes; `probability` = P(class 1) for binary
//                   models; risk level and confidence from the manifest's cutpoints (and
//                   the calibrator's evidence when the model is `calibrated`, else 0);
//                   multi_horizon models also fill `horizons` (rows x H) and horizon names
//   anomaly         the 0-100 score, the flag and the raw score
//   regression      the prediction
// Explanations (explain = true): the top `top_k` features by |contribution| per row: SHAP
// values for ExplainableModel kinds (per horizon: of the primary horizon), the detector's
// per-feature shares for anomaly detectors; FailedPrecondition for other kinds.
// Thread-safety: pure given a const model (models' const methods are thread-safe).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vigil/core/status.h"
#include "vigil/models/model.h"
#include "vigil/serve/live_models.h"

namespace vigil {

struct Contribution {
  std::string feature;
  double value = 0.0;  // SHAP value (margin units) or the anomaly share
};

struct ScoredRows {
  Task task = Task::kClassification;
  int64_t rows = 0;
  int classes = 0;                                      // classification only
  std::vector<double> probabilities;                    // rows x classes
  std::vector<std::string> horizon_names;               // multi_horizon: "5m", "15m", ...
  std::vector<double> horizons;                         // rows x horizon_names.size()
  std::vector<RiskLevel> levels;                        // classification: per row
  std::vector<double> confidence;                       // classification: per row
  std::vector<double> scores;                           // anomaly: 0-100
  std::vector<double> raw_scores;                       // anomaly
  std::vector<uint8_t> flags;                           // anomaly
  std::vector<double> values;                           // regression
  std::vector<std::vector<Contribution>> explanations;  // per row when asked

  // P(class 1) for binary classifiers, max-class probability for multiclass; NaN otherwise.
  double Probability(int64_t row) const;
  // The headline 0-100 number: anomaly score, or 100 x Probability(row).
  double Score(int64_t row) const;
};

struct ScoreOptions {
  bool explain = false;
  int top_k = 5;
};

// Scores `x` (columns in served.features() order). InvalidArgument when the width differs
// or a value is not finite for a model that cannot take missing values.
Result<ScoredRows> ScoreRows(const ServedModel& served, const FeatureMatrix& x,
                             const ScoreOptions& options = {});

// Rows [begin, end) of `scored`, for splitting a micro-batch back to its requests.
ScoredRows SliceRows(const ScoredRows& scored, int64_t begin, int64_t end);

}  // namespace vigil
