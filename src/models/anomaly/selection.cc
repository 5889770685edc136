#include "vigil/models/anomaly/selection.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <utility>

#include "vigil/core/rng.h"
#include "vigil/models/anomaly/ensemble.h"
#include "vigil/models/metrics.h"

namespace vigil {
namespace {

constexpr std::string_view kRngStream = "anomaly-selection/silhouette-sample";

// A fresh detector for the candidate, or the reason there is none. `complete_config`
// receives the model's full configuration when it could be created.
Result<std::unique_ptr<Model>> CreateCandidate(const SelectionCandidate& candidate,
                                               std::optional<uint64_t> seed,
                                               nlohmann::json& complete_config) {
  const nlohmann::json config = ParamsWithSeed(candidate.kind, candidate.config, seed);
  complete_config = config;
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, CreateModel(candidate.kind, config));
  if (AsAnomalyDetector(model.get()) == nullptr) {
    return InvalidArgument("kind '" + candidate.kind + "' is not an anomaly detector");
  }
  complete_config = model->config();
  return model;
}

Status CheckValidation(const FeatureMatrix& train, const LabeledRows& validation) {
  if (validation.x == nullptr) return Status::Ok();
  if (validation.x->columns != train.columns) {
    return InvalidArgument("model selection: validation columns differ from training columns");
  }
  if (static_cast<int64_t>(validation.labels.size()) != validation.x->rows) {
    return InvalidArgument("model selection: " + std::to_string(validation.labels.size()) +
                           " labels for " + std::to_string(validation.x->rows) +
                           " validation rows");
  }
  bool any_anomaly = false;
  for (size_t row = 0; row < validation.labels.size(); ++row) {
    const int label = validation.labels[row];
    if (label != 0 && label != 1) {
      return InvalidArgument("model selection: validation label " + std::to_string(row) + " is " +
                             std::to_string(label) + " (expected 0 or 1)");
    }
    any_anomaly = any_anomaly || label == 1;
  }
  if (!any_anomaly) return InvalidArgument("model selection: no validation row is an anomaly");
  return Status::Ok();
}

Result<double> PrAucOf(AnomalyDetector& detector, const FeatureMatrix& train,
                       const LabeledRows& validation) {
  VIGIL_RETURN_IF_ERROR(detector.Fit(train));
  VIGIL_ASSIGN_OR_RETURN(AnomalyScores scores, detector.Score(*validation.x));
  return AveragePrecision(validation.labels, scores.raw);
}

// At most `limit` row indices, drawn without replacement (all rows, in order, when fewer).
std::vector<int64_t> SampleRows(int64_t rows, int64_t limit, uint64_t seed) {
  std::vector<int64_t> order(rows);
  std::iota(order.begin(), order.end(), 0);
  if (rows <= limit) return order;
  Rng rng = Rng(seed).Derive(kRngStream);
  for (int64_t i = 0; i < limit; ++i) std::swap(order[i], order[rng.UniformInt(i, rows - 1)]);
  order.resize(limit);
  std::sort(order.begin(), order.end());
  return order;
}

// The sampled rows of x, standardized by x's column means and standard deviations;
// constant columns are dropped.
FeatureMatrix StandardizedSample(const FeatureMatrix& x, const std::vector<int64_t>& sample) {
  const double n = static_cast<double>(x.rows);
  std::vector<size_t> kept;
  std::vector<double> means, sds;
  for (size_t col = 0; col < x.cols(); ++col) {
    double mean = 0.0, square = 0.0;
    for (int64_t row = 0; row < x.rows; ++row) mean += x.at(row, col);
    mean /= n;
    for (int64_t row = 0; row < x.rows; ++row) square += std::pow(x.at(row, col) - mean, 2);
    const double sd = std::sqrt(square / n);
    if (!(sd > 0)) continue;
    kept.push_back(col);
    means.push_back(mean);
    sds.push_back(sd);
  }
  FeatureMatrix out{{}, static_cast<int64_t>(sample.size()), {}};
  for (size_t k : kept) out.columns.push_back(x.columns[k]);
  out.values.reserve(sample.size() * kept.size());
  for (int64_t row : sample) {
    for (size_t k = 0; k < kept.size(); ++k) {
      out.values.push_back((x.at(row, kept[k]) - means[k]) / sds[k]);
    }
  }
  return out;
}

Result<double> SilhouetteOf(AnomalyDetector& detector, const FeatureMatrix& train,
                            const FeatureMatrix& sample, const std::vector<int64_t>& rows) {
  VIGIL_ASSIGN_OR_RETURN(AnomalyScores scores, detector.FitScore(train));
  std::vector<bool> flagged(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) flagged[i] = scores.flag[rows[i]];
  return TwoGroupSilhouette(sample, flagged);
}

// Index of the best successful candidate (first on ties), or nullopt.
std::optional<size_t> BestCandidate(const std::vector<CandidateOutcome>& outcomes) {
  std::optional<size_t> best;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (!outcomes[i].ok() || !outcomes[i].metric.has_value()) continue;
    if (!best.has_value() || *outcomes[i].metric > *outcomes[*best].metric) best = i;
  }
  return best;
}

Status NoCandidateSucceeded(const std::vector<CandidateOutcome>& outcomes) {
  std::string errors;
  for (const CandidateOutcome& outcome : outcomes) {
    errors += (errors.empty() ? "" : "; ") + outcome.kind + ": " + outcome.error;
  }
  return FailedPrecondition("model selection: no candidate succeeded: " + errors);
}

SelectionMethod ResolveMethod(SelectionMethod method, const LabeledRows& validation) {
  if (method != SelectionMethod::kAuto) return method;
  return validation.x != nullptr ? SelectionMethod::kPrAuc : SelectionMethod::kEnsemble;
}

}  // namespace

std::string_view SelectionMethodName(SelectionMethod method) {
  switch (method) {
    case SelectionMethod::kAuto:
      return "auto";
    case SelectionMethod::kPrAuc:
      return "pr_auc";
    case SelectionMethod::kEnsemble:
      return "ensemble";
    case SelectionMethod::kSilhouette:
      return "silhouette";
  }
  return "auto";
}

Result<SelectionMethod> ParseSelectionMethod(std::string_view text) {
  for (SelectionMethod method : {SelectionMethod::kAuto, SelectionMethod::kPrAuc,
                                 SelectionMethod::kEnsemble, SelectionMethod::kSilhouette}) {
    if (SelectionMethodName(method) == text) return method;
  }
  return InvalidArgument("model selection: unknown method '" + std::string(text) +
                         "' (expected auto, pr_auc, ensemble or silhouette)");
}

std::vector<SelectionCandidate> SelectionOptions::DefaultCandidates() {
  std::vector<SelectionCandidate> out;
  for (const char* kind :
       {"isolation_forest", "extended_iforest", "lof", "ocsvm", "dbscan", "ecod", "zscore"}) {
    out.push_back({kind, nlohmann::json::object()});
  }
  return out;
}

Status SelectionOptions::Validate() const {
  if (candidates.empty()) return InvalidArgument("model selection: no candidate");
  if (silhouette_sample_rows < 2) {
    return InvalidArgument("model selection: silhouette_sample_rows must be >= 2");
  }
  return Status::Ok();
}

nlohmann::json SelectionResult::ToJson() const {
  nlohmann::json table = nlohmann::json::array();
  for (const CandidateOutcome& c : candidates) {
    table.push_back({{"kind", c.kind},
                     {"config", c.config},
                     {"metric", c.metric.has_value() ? nlohmann::json(*c.metric) : nullptr},
                     {"error", c.ok() ? nlohmann::json(nullptr) : nlohmann::json(c.error)}});
  }
  return {{"kind", kind},
          {"config", config},
          {"method", SelectionMethodName(method)},
          {"candidates", table}};
}

Result<double> TwoGroupSilhouette(const FeatureMatrix& x,
                                  const std::vector<bool>& in_second_group) {
  const size_t n = static_cast<size_t>(x.rows);
  if (in_second_group.size() != n) return InvalidArgument("silhouette: one group flag per row");
  const size_t second =
      static_cast<size_t>(std::count(in_second_group.begin(), in_second_group.end(), true));
  if (second == 0 || second == n) {
    return InvalidArgument("silhouette: the partition has a single group (" +
                           std::to_string(second) + " of " + std::to_string(n) + " rows flagged)");
  }
  const size_t group_size[2] = {n - second, second};
  std::vector<double> sums(2 * n, 0.0);  // per row, summed distance to each group
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      double square = 0.0;
      for (size_t col = 0; col < x.cols(); ++col)
        square += std::pow(x.at(i, col) - x.at(j, col), 2);
      const double distance = std::sqrt(square);
      sums[2 * i + in_second_group[j]] += distance;
      sums[2 * j + in_second_group[i]] += distance;
    }
  }
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const int own = in_second_group[i];
    if (group_size[own] == 1) continue;  // a singleton scores 0
    const double a = sums[2 * i + own] / static_cast<double>(group_size[own] - 1);
    const double b = sums[2 * i + 1 - own] / static_cast<double>(group_size[1 - own]);
    const double scale = std::max(a, b);
    if (scale > 0) total += (b - a) / scale;
  }
  return total / static_cast<double>(n);
}

Result<SelectionResult> SelectDetector(const FeatureMatrix& train, const LabeledRows& validation,
                                       const SelectionOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(CheckValidation(train, validation));
  SelectionResult result;
  result.method = ResolveMethod(options.method, validation);
  if (result.method == SelectionMethod::kPrAuc && validation.x == nullptr) {
    return InvalidArgument("model selection: method pr_auc needs labeled validation rows");
  }
  std::vector<int64_t> sample_rows;
  FeatureMatrix sample;
  if (result.method == SelectionMethod::kSilhouette) {
    VIGIL_RETURN_IF_ERROR(train.Validate(/*allow_nan=*/false).WithContext("model selection"));
    sample_rows = SampleRows(train.rows, options.silhouette_sample_rows, options.seed.value_or(0));
    sample = StandardizedSample(train, sample_rows);
  }
  for (const SelectionCandidate& candidate : options.candidates) {
    CandidateOutcome outcome{candidate.kind, candidate.config, std::nullopt, ""};
    Result<std::unique_ptr<Model>> model = CreateCandidate(candidate, options.seed, outcome.config);
    Result<double> metric = model.ok() ? Result<double>(0.0) : model.status();
    if (model.ok()) {
      AnomalyDetector& detector = *AsAnomalyDetector(model->get());
      switch (result.method) {
        case SelectionMethod::kPrAuc:
          metric = PrAucOf(detector, train, validation);
          break;
        case SelectionMethod::kSilhouette:
          metric = SilhouetteOf(detector, train, sample, sample_rows);
          break;
        default: {  // ensemble: only whether the candidate fits
          const Status fit = detector.Fit(train);
          metric = fit.ok() ? Result<double>(0.0) : Result<double>(fit);
        }
      }
    }
    if (!metric.ok()) {
      outcome.error = metric.status().ToString();
    } else if (result.method != SelectionMethod::kEnsemble) {
      outcome.metric = *metric;
    }
    result.candidates.push_back(std::move(outcome));
  }
  if (result.method == SelectionMethod::kEnsemble) {
    nlohmann::json members = nlohmann::json::array();
    for (const CandidateOutcome& c : result.candidates) {
      if (c.ok()) members.push_back({{"kind", c.kind}, {"params", c.config}});
    }
    if (members.empty()) return NoCandidateSucceeded(result.candidates);
    result.kind = std::string(Ensemble::kKind);
    nlohmann::json ensemble_config = nlohmann::json::object();
    ensemble_config["members"] = std::move(members);
    VIGIL_ASSIGN_OR_RETURN(EnsembleOptions ensemble, EnsembleOptions::FromJson(ensemble_config));
    ensemble.seed = options.seed;
    result.config = ensemble.ToJson();
    return result;
  }
  const std::optional<size_t> best = BestCandidate(result.candidates);
  if (!best.has_value()) return NoCandidateSucceeded(result.candidates);
  result.kind = result.candidates[*best].kind;
  result.config = result.candidates[*best].config;
  return result;
}

Result<std::unique_ptr<Model>> FitSelectedDetector(const SelectionResult& selection,
                                                   const FeatureMatrix& train) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model,
                         CreateModel(selection.kind, selection.config));
  AnomalyDetector* detector = AsAnomalyDetector(model.get());
  if (detector == nullptr) {
    return InvalidArgument("model selection: kind '" + selection.kind +
                           "' is not an anomaly detector");
  }
  VIGIL_RETURN_IF_ERROR(detector->Fit(train));
  return model;
}

}  // namespace vigil
