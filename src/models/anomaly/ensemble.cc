#include "vigil/models/anomaly/ensemble.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>
#include <utility>

#include "models/builtin_kinds.h"
#include "vigil/core/logging.h"
#include "vigil/core/text_file.h"

namespace vigil {
namespace {

using models_internal::ConfigError;

constexpr std::string_view kFormat = "vigil.ensemble";
constexpr int kFormatVersion = 1;

std::string MemberLabel(size_t index, std::string_view kind) {
  return "member " + std::to_string(index) + " ('" + std::string(kind) + "')";
}

std::filesystem::path MemberDir(const std::filesystem::path& dir, size_t index,
                                std::string_view kind) {
  return dir / ("member_" + std::to_string(index) + "_" + std::string(kind));
}

Result<EnsembleMember> ParseMember(const nlohmann::json& entry, size_t index) {
  const std::string where = "entry " + std::to_string(index);
  if (!entry.is_object()) return ConfigError(Ensemble::kKind, "members", where + ": not an object");
  for (const auto& [key, value] : entry.items()) {
    if (key != "kind" && key != "params") {
      return ConfigError(Ensemble::kKind, "members", where + ": unknown key '" + key + "'");
    }
  }
  if (!entry.contains("kind") || !entry.at("kind").is_string()) {
    return ConfigError(Ensemble::kKind, "members", where + ": 'kind' must be a string");
  }
  EnsembleMember member{entry.at("kind").get<std::string>(), nlohmann::json::object()};
  if (entry.contains("params") && !entry.at("params").is_null()) {
    if (!entry.at("params").is_object()) {
      return ConfigError(Ensemble::kKind, "members", where + ": 'params' must be an object");
    }
    member.params = entry.at("params");
  }
  return member;
}

// The training raw scores' empirical distribution in at most kMaxQuantilePoints points.
std::vector<double> QuantilePoints(std::vector<double> raw) {
  std::sort(raw.begin(), raw.end());
  const size_t count = Ensemble::kMaxQuantilePoints;
  if (raw.size() <= count) return raw;
  std::vector<double> points(count);
  const double last = static_cast<double>(raw.size() - 1);
  for (size_t k = 0; k < count; ++k) {
    // Hyndman & Fan type 7 on the sorted values (numpy's default), as InterpolatedQuantile.
    const double position = last * static_cast<double>(k) / static_cast<double>(count - 1);
    const size_t lower = std::min(static_cast<size_t>(position), raw.size() - 1);
    const size_t upper = std::min(lower + 1, raw.size() - 1);
    points[k] = raw[lower] + (position - lower) * (raw[upper] - raw[lower]);
  }
  // Rounding in the interpolation must not break the order the ranks rely on.
  for (size_t k = 1; k < count; ++k) points[k] = std::max(points[k], points[k - 1]);
  return points;
}

Status CheckScoreCount(const std::vector<double>& raw, int64_t rows) {
  if (static_cast<int64_t>(raw.size()) == rows) return Status::Ok();
  return Internal("returned " + std::to_string(raw.size()) + " scores for " + std::to_string(rows) +
                  " rows");
}

// Training scores must be finite: they define the member's rank scale.
Status CheckTrainingScores(const std::vector<double>& raw, int64_t rows) {
  VIGIL_RETURN_IF_ERROR(CheckScoreCount(raw, rows));
  for (size_t row = 0; row < raw.size(); ++row) {
    if (!std::isfinite(raw[row])) {
      return DataError("training row " + std::to_string(row) + " has a non-finite raw score");
    }
  }
  return Status::Ok();
}

// A fitted member model of `kind` with `params` and its in-sample raw scores.
Result<std::pair<std::unique_ptr<Model>, std::vector<double>>> FitMember(
    const std::string& kind, const nlohmann::json& params, const FeatureMatrix& x) {
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, CreateModel(kind, params));
  AnomalyDetector* detector = AsAnomalyDetector(model.get());
  if (detector == nullptr) return InvalidArgument("kind '" + kind + "' is not an anomaly detector");
  VIGIL_ASSIGN_OR_RETURN(AnomalyScores scores, detector->FitScore(x));
  VIGIL_RETURN_IF_ERROR(CheckTrainingScores(scores.raw, x.rows));
  return std::make_pair(std::move(model), std::move(scores.raw));
}

Result<std::vector<double>> ReadQuantiles(const nlohmann::json& value) {
  auto points = value.get<std::vector<double>>();
  const bool finite =
      std::all_of(points.begin(), points.end(), [](double v) { return std::isfinite(v); });
  if (points.empty() || points.size() > Ensemble::kMaxQuantilePoints || !finite ||
      !std::is_sorted(points.begin(), points.end())) {
    return DataError("quantiles must be 1.." + std::to_string(Ensemble::kMaxQuantilePoints) +
                     " finite ascending values");
  }
  return points;
}

}  // namespace

nlohmann::json ParamsWithSeed(std::string_view kind, nlohmann::json params,
                              std::optional<uint64_t> seed) {
  const bool seeded =
      std::find(kSeededKinds.begin(), kSeededKinds.end(), kind) != kSeededKinds.end();
  if (!seed.has_value() || !seeded) return params;
  if (params.is_null()) params = nlohmann::json::object();
  if (params.is_object() && !params.contains("seed")) params["seed"] = *seed;
  return params;
}

std::vector<EnsembleMember> EnsembleOptions::DefaultMembers() {
  return {{"isolation_forest", nlohmann::json::object()},
          {"lof", nlohmann::json::object()},
          {"ecod", nlohmann::json::object()}};
}

Status EnsembleOptions::Validate() const {
  VIGIL_RETURN_IF_ERROR(contamination.Validate());
  if (members.empty()) return ConfigError(Ensemble::kKind, "members", "must not be empty");
  for (size_t i = 0; i < members.size(); ++i) {
    if (members[i].kind == Ensemble::kKind) {
      return ConfigError(Ensemble::kKind, "members",
                         "entry " + std::to_string(i) + ": an ensemble cannot be a member");
    }
    if (!members[i].params.is_object()) {
      return ConfigError(Ensemble::kKind, "members",
                         "entry " + std::to_string(i) + ": 'params' must be an object");
    }
  }
  return Status::Ok();
}

Result<EnsembleOptions> EnsembleOptions::FromJson(const nlohmann::json& config) {
  constexpr std::string_view kind = Ensemble::kKind;
  VIGIL_RETURN_IF_ERROR(models_internal::CheckConfigKeys(
      kind, config, {"members", "combine", "contamination", "seed"}));
  EnsembleOptions options;
  if (config.is_object() && config.contains("members")) {
    const nlohmann::json& members = config.at("members");
    if (!members.is_array()) return ConfigError(kind, "members", "must be a list");
    options.members.clear();
    for (size_t i = 0; i < members.size(); ++i) {
      VIGIL_ASSIGN_OR_RETURN(EnsembleMember member, ParseMember(members[i], i));
      options.members.push_back(std::move(member));
    }
  }
  VIGIL_ASSIGN_OR_RETURN(std::string combine,
                         models_internal::ConfigString(kind, config, "combine", "mean"));
  if (combine == "max") {
    options.combine = Combine::kMax;
  } else if (combine != "mean") {
    return ConfigError(kind, "combine", "'" + combine + "' (expected mean or max)");
  }
  VIGIL_ASSIGN_OR_RETURN(options.contamination, Contamination::FromJson(kind, config));
  if (config.is_object() && config.contains("seed") && !config.at("seed").is_null()) {
    const nlohmann::json& seed = config.at("seed");
    if (!seed.is_number_integer() || (!seed.is_number_unsigned() && seed.get<int64_t>() < 0)) {
      return ConfigError(kind, "seed", "must be a non-negative integer");
    }
    options.seed = seed.get<uint64_t>();
  }
  VIGIL_RETURN_IF_ERROR(options.Validate());
  return options;
}

nlohmann::json EnsembleOptions::ToJson() const {
  nlohmann::json member_list = nlohmann::json::array();
  for (const EnsembleMember& member : members) {
    member_list.push_back({{"kind", member.kind}, {"params", member.params}});
  }
  nlohmann::json out = {{"members", member_list},
                        {"combine", combine == Combine::kMax ? "max" : "mean"},
                        {"contamination", contamination.ToJson()}};
  out["seed"] = seed.has_value() ? nlohmann::json(*seed) : nlohmann::json(nullptr);
  return out;
}

Ensemble::Ensemble(EnsembleOptions options) : options_(std::move(options)) {}

const AnomalyDetector& Ensemble::member(size_t i) const {
  return *AsAnomalyDetector(members_[i].model.get());
}

double Ensemble::NormalizedRank(std::span<const double> points, double raw) {
  if (std::isnan(raw)) return raw;
  if (points.size() < 2)
    return points.empty() || raw < points[0] ? 0.0 : raw > points[0] ? 1.0 : 0.5;
  const double last = static_cast<double>(points.size() - 1);
  const auto first_not_below = std::lower_bound(points.begin(), points.end(), raw);
  const auto first_above = std::upper_bound(first_not_below, points.end(), raw);
  if (first_not_below != first_above) {  // raw equals a run of points: the run's middle
    const double begin = static_cast<double>(first_not_below - points.begin());
    const double end = static_cast<double>(first_above - points.begin()) - 1.0;
    return (begin + end) / 2.0 / last;
  }
  if (first_above == points.begin()) return 0.0;
  if (first_above == points.end()) return 1.0;
  const size_t upper = static_cast<size_t>(first_above - points.begin());
  const double below = points[upper - 1];
  const double fraction = (raw - below) / (points[upper] - below);
  return (static_cast<double>(upper - 1) + fraction) / last;
}

Result<std::vector<double>> Ensemble::FitMembers(const FeatureMatrix& x) {
  std::vector<std::vector<double>> member_raw;
  std::string failures;
  StatusCode failure_code = StatusCode::kInvalidArgument;
  for (size_t index = 0; index < options_.members.size(); ++index) {
    const EnsembleMember& spec = options_.members[index];
    nlohmann::json params = ParamsWithSeed(spec.kind, spec.params, options_.seed);
    auto fitted = FitMember(spec.kind, params, x);
    if (!fitted.ok()) {
      const std::string label = MemberLabel(index, spec.kind);
      VIGIL_LOG_WARN("model 'ensemble': dropping {}: {}", label, fitted.status().ToString());
      if (failures.empty()) failure_code = fitted.status().code();
      failures += (failures.empty() ? "" : "; ") + label + ": " + fitted.status().ToString();
      failed_.push_back({index, spec.kind, std::move(params), fitted.status().ToString()});
      continue;
    }
    auto& [model, raw] = *fitted;
    members_.push_back(
        {index, spec.kind, std::move(params), std::move(model), QuantilePoints(raw)});
    member_raw.push_back(std::move(raw));
  }
  if (members_.empty()) {
    return Status(failure_code, "model 'ensemble': every member failed: " + failures);
  }
  return Combine(member_raw, x.rows);
}

std::vector<double> Ensemble::Combine(const std::vector<std::vector<double>>& member_raw,
                                      int64_t rows) const {
  std::vector<double> combined(rows, 0.0);
  std::vector<int> counts(rows, 0);
  for (size_t m = 0; m < member_raw.size(); ++m) {
    if (member_raw[m].empty()) continue;
    for (int64_t row = 0; row < rows; ++row) {
      const double rank = NormalizedRank(members_[m].quantiles, member_raw[m][row]);
      if (std::isnan(rank)) continue;
      combined[row] = options_.combine == EnsembleOptions::Combine::kMax && counts[row] > 0
                          ? std::max(combined[row], rank)
                          : combined[row] + rank;
      ++counts[row];
    }
  }
  for (int64_t row = 0; row < rows; ++row) {
    if (counts[row] == 0) {
      combined[row] = std::nan("");
    } else if (options_.combine == EnsembleOptions::Combine::kMean) {
      combined[row] /= counts[row];
    }
  }
  return combined;
}

Status Ensemble::Fit(const FeatureMatrix& x) { return FitScore(x).status(); }

Result<AnomalyScores> Ensemble::FitScore(const FeatureMatrix& x) {
  VIGIL_RETURN_IF_ERROR(options_.Validate());
  VIGIL_RETURN_IF_ERROR(x.Validate(/*allow_nan=*/true).WithContext("model 'ensemble'"));
  Ensemble fitted(options_);
  fitted.feature_names_ = x.columns;
  AnomalyScores out;
  VIGIL_ASSIGN_OR_RETURN(out.raw, fitted.FitMembers(x));
  VIGIL_ASSIGN_OR_RETURN(fitted.calibration_,
                         ScoreCalibration::Fit(out.raw, options_.contamination));
  fitted.fitted_ = true;
  ApplyCalibration(fitted.calibration_, static_cast<int64_t>(x.cols()), out);
  VIGIL_RETURN_IF_ERROR(fitted.FillFlaggedContributions(x, out));
  *this = std::move(fitted);
  return out;
}

Result<AnomalyScores> Ensemble::Score(const FeatureMatrix& x) const {
  if (!fitted_) return FailedPrecondition("model 'ensemble': not fitted");
  VIGIL_RETURN_IF_ERROR(models_internal::CheckColumns(kKind, feature_names_, x));
  std::vector<std::vector<double>> member_raw(members_.size());
  std::string failures;
  for (size_t m = 0; m < members_.size(); ++m) {
    Result<AnomalyScores> scores = member(m).Score(x);
    // A NaN score later skips that member for that row only (see Combine).
    const Status status = scores.ok() ? CheckScoreCount(scores->raw, x.rows) : scores.status();
    if (!status.ok()) {
      const std::string label = MemberLabel(members_[m].index, members_[m].kind);
      VIGIL_LOG_WARN("model 'ensemble': {} failed to score, skipped: {}", label, status.ToString());
      failures += (failures.empty() ? "" : "; ") + label + ": " + status.ToString();
      continue;
    }
    member_raw[m] = std::move(scores->raw);
  }
  if (std::all_of(member_raw.begin(), member_raw.end(), [](const auto& r) { return r.empty(); }) &&
      x.rows > 0) {
    return InvalidArgument("model 'ensemble': every member failed to score: " + failures);
  }
  AnomalyScores out;
  out.raw = Combine(member_raw, x.rows);
  ApplyCalibration(calibration_, static_cast<int64_t>(x.cols()), out);
  VIGIL_RETURN_IF_ERROR(FillFlaggedContributions(x, out));
  return out;
}

Status Ensemble::FillFlaggedContributions(const FeatureMatrix& x, AnomalyScores& scores) const {
  FeatureMatrix flagged{x.columns, 0, {}};
  std::vector<int64_t> flagged_rows;
  for (int64_t row = 0; row < x.rows; ++row) {
    if (!scores.flag[row]) continue;
    flagged_rows.push_back(row);
    flagged.values.insert(flagged.values.end(), x.row(row).begin(), x.row(row).end());
  }
  if (flagged_rows.empty()) return Status::Ok();
  flagged.rows = static_cast<int64_t>(flagged_rows.size());
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> shares, Contributions(flagged));
  const size_t cols = x.cols();
  for (size_t i = 0; i < flagged_rows.size(); ++i) {
    std::copy_n(shares.begin() + i * cols, cols,
                scores.contributions.begin() + flagged_rows[i] * cols);
  }
  return Status::Ok();
}

Result<std::vector<double>> Ensemble::Contributions(const FeatureMatrix& x) const {
  if (!fitted_) return FailedPrecondition("model 'ensemble': not fitted");
  VIGIL_RETURN_IF_ERROR(models_internal::CheckColumns(kKind, feature_names_, x));
  const size_t cols = x.cols();
  std::vector<double> sum(static_cast<size_t>(x.rows) * cols, 0.0);
  size_t contributed = 0;
  std::string failures;
  for (size_t m = 0; m < members_.size(); ++m) {
    Result<std::vector<double>> shares = member(m).Contributions(x);
    if (shares.ok() && shares->size() != sum.size()) {
      shares = Internal("returned " + std::to_string(shares->size()) + " contributions");
    }
    if (!shares.ok()) {
      const std::string label = MemberLabel(members_[m].index, members_[m].kind);
      VIGIL_LOG_WARN("model 'ensemble': {} failed to attribute, skipped: {}", label,
                     shares.status().ToString());
      failures += (failures.empty() ? "" : "; ") + label + ": " + shares.status().ToString();
      continue;
    }
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += (*shares)[i];
    ++contributed;
  }
  if (contributed == 0 && x.rows > 0) {
    return InvalidArgument("model 'ensemble': every member failed to attribute: " + failures);
  }
  for (int64_t row = 0; row < x.rows; ++row) {
    NormalizeShares(std::span<double>(sum.data() + row * cols, cols));
  }
  return sum;
}

nlohmann::json Ensemble::Describe() const {
  nlohmann::json members = nlohmann::json::array();
  for (const FittedMember& m : members_) {
    members.push_back({{"index", m.index},
                       {"kind", m.kind},
                       {"params", m.params},
                       {"status", "fitted"},
                       {"quantile_points", m.quantiles.size()},
                       {"model", m.model->Describe()}});
  }
  for (const FailedMember& m : failed_) {
    members.push_back({{"index", m.index},
                       {"kind", m.kind},
                       {"params", m.params},
                       {"status", "failed"},
                       {"error", m.error}});
  }
  std::sort(members.begin(), members.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a.at("index").get<size_t>() < b.at("index").get<size_t>();
  });
  return {{"kind", kKind},
          {"fitted", fitted_},
          {"combine", options_.combine == EnsembleOptions::Combine::kMax ? "max" : "mean"},
          {"members", members},
          {"calibration", fitted_ ? calibration_.ToJson() : nlohmann::json(nullptr)}};
}

Status Ensemble::SaveWeights(const std::filesystem::path& dir) const {
  if (!fitted_) return FailedPrecondition("model 'ensemble': not fitted, nothing to save");
  nlohmann::json members = nlohmann::json::array();
  for (const FittedMember& m : members_) {
    const std::filesystem::path member_dir = MemberDir(dir, m.index, m.kind);
    std::error_code error;
    std::filesystem::create_directories(member_dir, error);
    if (error) return IoError(member_dir.string() + ": " + error.message());
    VIGIL_RETURN_IF_ERROR(m.model->SaveWeights(member_dir)
                              .WithContext("model 'ensemble': " + MemberLabel(m.index, m.kind)));
    members.push_back(
        {{"index", m.index}, {"kind", m.kind}, {"params", m.params}, {"quantiles", m.quantiles}});
  }
  nlohmann::json failed = nlohmann::json::array();
  for (const FailedMember& m : failed_) {
    failed.push_back(
        {{"index", m.index}, {"kind", m.kind}, {"params", m.params}, {"error", m.error}});
  }
  const nlohmann::json doc = {
      {"format", kFormat},  {"version", kFormatVersion}, {"feature_names", feature_names_},
      {"members", members}, {"failed", failed},          {"calibration", calibration_.ToJson()}};
  return WriteFileAtomically((dir / kWeightsFile).string(), doc.dump(2) + "\n");
}

Status Ensemble::LoadWeights(const std::filesystem::path& dir) {
  const std::string path = (dir / kWeightsFile).string();
  VIGIL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  Ensemble loaded(options_);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
    if (!doc.is_object() || doc.value("format", "") != kFormat) {
      return DataError(path + ": not a '" + std::string(kFormat) + "' document");
    }
    if (doc.value("version", 0) != kFormatVersion) return DataError(path + ": unsupported version");
    loaded.feature_names_ = doc.at("feature_names").get<std::vector<std::string>>();
    for (const nlohmann::json& entry : doc.at("failed")) {
      loaded.failed_.push_back({entry.at("index").get<size_t>(),
                                entry.at("kind").get<std::string>(), entry.at("params"),
                                entry.at("error").get<std::string>()});
    }
    for (const nlohmann::json& entry : doc.at("members")) {
      FittedMember m{entry.at("index").get<size_t>(),
                     entry.at("kind").get<std::string>(),
                     entry.at("params"),
                     nullptr,
                     {}};
      if (m.index >= options_.members.size() || options_.members[m.index].kind != m.kind) {
        return DataError(path + ": " + MemberLabel(m.index, m.kind) +
                         " does not match the configured members");
      }
      Result<std::vector<double>> quantiles = ReadQuantiles(entry.at("quantiles"));
      if (!quantiles.ok())
        return quantiles.status().WithContext(path + ": " + MemberLabel(m.index, m.kind));
      m.quantiles = std::move(*quantiles);
      loaded.members_.push_back(std::move(m));
    }
    Result<ScoreCalibration> calibration = ScoreCalibration::FromJson(doc.at("calibration"));
    if (!calibration.ok()) return calibration.status().WithContext(path);
    loaded.calibration_ = *calibration;
  } catch (const std::exception& e) {
    return DataError(path + ": " + e.what());
  }
  if (loaded.members_.empty()) return DataError(path + ": no fitted member");
  for (FittedMember& m : loaded.members_) {
    const std::string label = MemberLabel(m.index, m.kind);
    Result<std::unique_ptr<Model>> model = CreateModel(m.kind, m.params);
    if (!model.ok()) return DataError(path + ": " + label + ": " + model.status().ToString());
    if (AsAnomalyDetector(model->get()) == nullptr) {
      return DataError(path + ": " + label + ": not an anomaly detector");
    }
    VIGIL_RETURN_IF_ERROR((*model)->LoadWeights(MemberDir(dir, m.index, m.kind)));
    if ((*model)->feature_names() != loaded.feature_names_) {
      return DataError(path + ": " + label + ": fitted on other features than the ensemble");
    }
    m.model = std::move(*model);
  }
  loaded.fitted_ = true;
  *this = std::move(loaded);
  return Status::Ok();
}

namespace models_internal {
KindRegistration EnsembleKind() {
  return {std::string(Ensemble::kKind), Task::kAnomaly,
          [](const nlohmann::json& config) -> Result<std::unique_ptr<Model>> {
            VIGIL_ASSIGN_OR_RETURN(EnsembleOptions options, EnsembleOptions::FromJson(config));
            return std::unique_ptr<Model>(std::make_unique<Ensemble>(options));
          }};
}
}  // namespace models_internal

}  // namespace vigil
