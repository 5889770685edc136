#include "vigil/serve/scoring.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "vigil/core/timestamp.h"
#include "vigil/models/multi_horizon.h"
#include "vigil/models/probability_calibration.h"
#include "vigil/models/risk_levels.h"

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string ModelLabel(const ServedModel& served) {
  return served.loaded.manifest.name + "@" + std::to_string(served.version);
}

// `x` with the model's column names: requests give values in the model's order and may
// leave the names out; names that are given must match.
Result<const FeatureMatrix*> NamedInput(const ServedModel& served, const FeatureMatrix& x,
                                        FeatureMatrix& renamed) {
  const std::vector<std::string>& features = served.features();
  const size_t width = !x.columns.empty() ? x.cols()
                       : x.rows > 0       ? x.values.size() / static_cast<size_t>(x.rows)
                                          : features.size();
  if (width != features.size()) {
    return InvalidArgument("rows have " + std::to_string(width) + " features, model " +
                           ModelLabel(served) + " takes " + std::to_string(features.size()));
  }
  if (x.rows < 0 || x.values.size() != width * static_cast<size_t>(x.rows)) {
    return InvalidArgument("rows: " + std::to_string(x.values.size()) + " values for " +
                           std::to_string(x.rows) + " rows of " + std::to_string(width));
  }
  if (x.columns == features) return &x;
  for (size_t col = 0; col < x.columns.size(); ++col) {
    if (x.columns[col] != features[col]) {
      return InvalidArgument("feature " + std::to_string(col) + " is '" + x.columns[col] +
                             "', model " + ModelLabel(served) + " takes '" + features[col] + "'");
    }
  }
  renamed.columns = features;
  renamed.rows = x.rows;
  renamed.values = x.values;
  return &renamed;
}

// The horizon PredictProba answers: config "primary" (default the first horizon).
size_t PrimaryHorizon(const MultiHorizonClassifier& model) {
  const nlohmann::json config = model.config();
  if (!config.contains("primary") || !config["primary"].is_string()) return 0;
  Result<int64_t> primary = ParseDuration(config["primary"].get<std::string>());
  if (!primary.ok()) return 0;
  const std::vector<int64_t>& horizons = model.horizons_ns();
  const auto found = std::find(horizons.begin(), horizons.end(), *primary);
  return found == horizons.end() ? 0 : static_cast<size_t>(found - horizons.begin());
}

// The multi-horizon side of a model, looked up once per call (PrimaryHorizon reads the
// config).
struct Horizons {
  const MultiHorizonClassifier* multi = nullptr;
  size_t primary = 0;

  explicit Horizons(const Model& model)
      : multi(dynamic_cast<const MultiHorizonClassifier*>(&model)),
        primary(multi != nullptr ? PrimaryHorizon(*multi) : 0) {}
  // The classifier whose probabilities become risk levels: the primary horizon's model of
  // a multi-horizon classifier, else the model itself.
  const Model& LevelModel(const Model& model) const {
    return multi == nullptr ? model : multi->horizon_model(primary);
  }
};

// Held-out rows behind each row's probability (risk_levels.h): the calibrator's evidence
// at the uncalibrated probability (what an isotonic calibrator's blocks are indexed by),
// or 0 for a model that is not calibrated.
Result<std::vector<double>> Evidence(const Model& model, const Horizons& horizons,
                                     const FeatureMatrix& x) {
  const auto* calibrated = dynamic_cast<const CalibratedClassifier*>(&horizons.LevelModel(model));
  if (calibrated == nullptr) return std::vector<double>(x.rows, 0.0);
  const ProbabilityCalibrator& calibrator = calibrated->calibrator();
  if (calibrator.method() != CalibrationMethod::kIsotonic) {
    // Platt's evidence is every held-out row whatever the probability; identity's is 0.
    return std::vector<double>(x.rows, calibrator.Evidence(0.5));
  }
  const Classifier* base = AsClassifier(calibrated->base());
  if (base == nullptr) return Internal("calibrated model without a classifier base");
  VIGIL_ASSIGN_OR_RETURN(ProbabilityMatrix raw, base->PredictProba(x));
  std::vector<double> evidence(x.rows);
  for (int64_t row = 0; row < x.rows; ++row) evidence[row] = calibrator.Evidence(raw.at(row, 1));
  return evidence;
}

Status ScoreMultiHorizon(const MultiHorizonClassifier& model, size_t primary,
                         const FeatureMatrix& x, ScoredRows& out) {
  VIGIL_ASSIGN_OR_RETURN(out.horizons, model.PredictHorizons(x));
  const size_t width = model.horizons_ns().size();
  for (int64_t ns : model.horizons_ns()) out.horizon_names.push_back(FormatDuration(ns));
  // PredictProba answers the primary horizon: read it off instead of predicting twice.
  out.classes = 2;
  out.probabilities.resize(static_cast<size_t>(x.rows) * 2);
  for (int64_t row = 0; row < x.rows; ++row) {
    const double p1 = out.horizons[row * width + primary];
    out.probabilities[row * 2] = 1.0 - p1;
    out.probabilities[row * 2 + 1] = p1;
  }
  return Status::Ok();
}

Status ScoreClassifier(const ServedModel& served, const Classifier& classifier,
                       const Horizons& horizons, const FeatureMatrix& x, ScoredRows& out) {
  if (horizons.multi != nullptr) {
    VIGIL_RETURN_IF_ERROR(ScoreMultiHorizon(*horizons.multi, horizons.primary, x, out));
  } else {
    VIGIL_ASSIGN_OR_RETURN(ProbabilityMatrix p, classifier.PredictProba(x));
    out.classes = p.num_classes;
    out.probabilities = std::move(p.values);
  }
  std::vector<double> evidence(x.rows, 0.0);
  if (out.classes == 2) {
    VIGIL_ASSIGN_OR_RETURN(evidence, Evidence(classifier, horizons, x));
  }
  out.levels.resize(x.rows);
  out.confidence.resize(x.rows);
  for (int64_t row = 0; row < x.rows; ++row) {
    const RiskAssessment risk = AssessRisk(out.Probability(row), served.cutpoints, evidence[row]);
    out.levels[row] = risk.level;
    out.confidence[row] = risk.confidence;
  }
  return Status::Ok();
}

Status ScoreDetector(const AnomalyDetector& detector, const FeatureMatrix& x, ScoredRows& out) {
  VIGIL_ASSIGN_OR_RETURN(AnomalyScores scores, detector.Score(x));
  out.scores = std::move(scores.score);
  out.raw_scores = std::move(scores.raw);
  out.flags.assign(scores.flag.begin(), scores.flag.end());
  return Status::Ok();
}

// The top_k features of one row by |value| (ties: the earlier feature first).
std::vector<Contribution> TopContributions(const std::vector<std::string>& features,
                                           std::span<const double> values, int top_k) {
  std::vector<size_t> order(features.size());
  std::iota(order.begin(), order.end(), size_t{0});
  const size_t keep = std::min(order.size(), static_cast<size_t>(top_k));
  std::partial_sort(order.begin(), order.begin() + keep, order.end(), [&](size_t a, size_t b) {
    const double abs_a = std::abs(values[a]);
    const double abs_b = std::abs(values[b]);
    return abs_a != abs_b ? abs_a > abs_b : a < b;
  });
  std::vector<Contribution> top;
  top.reserve(keep);
  for (size_t i = 0; i < keep; ++i) top.push_back({features[order[i]], values[order[i]]});
  return top;
}

// The SHAP output a row is explained by: the primary horizon, the predicted class of a
// multiclass model, else the only output.
int ExplainedOutput(const Horizons& horizons, const ScoredRows& scored, int64_t row) {
  if (horizons.multi != nullptr) return static_cast<int>(horizons.primary);
  if (scored.classes <= 2) return 0;
  const auto first = scored.probabilities.begin() + row * scored.classes;
  return static_cast<int>(std::max_element(first, first + scored.classes) - first);
}

Status ExplainByShap(const ServedModel& served, const Horizons& horizons, const FeatureMatrix& x,
                     int top_k, ScoredRows& out) {
  const ExplainableModel* explainable = AsExplainable(&served.model());
  if (explainable == nullptr) {
    return FailedPrecondition("model " + ModelLabel(served) + " (kind '" +
                              served.loaded.manifest.kind + "') has no explanations");
  }
  VIGIL_ASSIGN_OR_RETURN(Attributions shap, explainable->Shap(x));
  const size_t features = shap.features.size();
  for (int64_t row = 0; row < x.rows; ++row) {
    const int output = ExplainedOutput(horizons, out, row);
    const std::span<const double> values(&shap.values[(row * shap.outputs + output) * shap.width()],
                                         features);
    out.explanations.push_back(TopContributions(shap.features, values, top_k));
  }
  return Status::Ok();
}

Status ExplainByShares(const AnomalyDetector& detector, const FeatureMatrix& x, int top_k,
                       ScoredRows& out) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> shares, detector.Contributions(x));
  for (int64_t row = 0; row < x.rows; ++row) {
    const std::span<const double> values(&shares[row * x.cols()], x.cols());
    out.explanations.push_back(TopContributions(x.columns, values, top_k));
  }
  return Status::Ok();
}

template <typename T>
std::vector<T> SliceOf(const std::vector<T>& values, int64_t begin, int64_t end, size_t width) {
  if (values.empty()) return {};
  return std::vector<T>(values.begin() + begin * width, values.begin() + end * width);
}

}  // namespace

double ScoredRows::Probability(int64_t row) const {
  if (task != Task::kClassification || classes < 2) return kNaN;
  if (classes == 2) return probabilities[row * 2 + 1];
  const auto first = probabilities.begin() + row * classes;
  return *std::max_element(first, first + classes);
}

double ScoredRows::Score(int64_t row) const {
  if (task == Task::kAnomaly) return scores[row];
  return 100.0 * Probability(row);
}

Result<ScoredRows> ScoreRows(const ServedModel& served, const FeatureMatrix& x,
                             const ScoreOptions& options) {
  if (options.explain && options.top_k < 1) {
    return InvalidArgument("top_k: must be at least 1, got " + std::to_string(options.top_k));
  }
  FeatureMatrix renamed;
  VIGIL_ASSIGN_OR_RETURN(const FeatureMatrix* input, NamedInput(served, x, renamed));
  ScoredRows out;
  out.task = served.model().task();
  out.rows = input->rows;
  if (out.rows == 0) return out;  // models refuse empty matrices; nothing to score
  const Model& model = served.model();
  const Horizons horizons(model);
  if (const Classifier* classifier = AsClassifier(&model)) {
    VIGIL_RETURN_IF_ERROR(ScoreClassifier(served, *classifier, horizons, *input, out));
    if (options.explain) {
      VIGIL_RETURN_IF_ERROR(ExplainByShap(served, horizons, *input, options.top_k, out));
    }
  } else if (const AnomalyDetector* detector = AsAnomalyDetector(&model)) {
    VIGIL_RETURN_IF_ERROR(ScoreDetector(*detector, *input, out));
    if (options.explain) {
      VIGIL_RETURN_IF_ERROR(ExplainByShares(*detector, *input, options.top_k, out));
    }
  } else if (const Regressor* regressor = AsRegressor(&model)) {
    VIGIL_ASSIGN_OR_RETURN(out.values, regressor->Predict(*input));
    if (options.explain) {
      VIGIL_RETURN_IF_ERROR(ExplainByShap(served, horizons, *input, options.top_k, out));
    }
  } else {
    return FailedPrecondition("model " + ModelLabel(served) + " of task " +
                              std::string(TaskName(out.task)) + " cannot score rows");
  }
  return out;
}

ScoredRows SliceRows(const ScoredRows& scored, int64_t begin, int64_t end) {
  ScoredRows out;
  out.task = scored.task;
  out.rows = end - begin;
  out.classes = scored.classes;
  out.horizon_names = scored.horizon_names;
  out.probabilities = SliceOf(scored.probabilities, begin, end, scored.classes);
  out.horizons = SliceOf(scored.horizons, begin, end, scored.horizon_names.size());
  out.levels = SliceOf(scored.levels, begin, end, 1);
  out.confidence = SliceOf(scored.confidence, begin, end, 1);
  out.scores = SliceOf(scored.scores, begin, end, 1);
  out.raw_scores = SliceOf(scored.raw_scores, begin, end, 1);
  out.flags = SliceOf(scored.flags, begin, end, 1);
  out.values = SliceOf(scored.values, begin, end, 1);
  out.explanations = SliceOf(scored.explanations, begin, end, 1);
  return out;
}

}  // namespace vigil
