// The market reads: GET /v1/risk/{instrument}, /v1/liquidation/{instrument},
// /v1/anomaly/{instrument} and /v1/anomaly/scan.
//
// Every answer is of the latest stored data (or, for risk and liquidation, the live
// runner's latest stored prediction when there is one) and goes through the TTL cache
// under the context's generation, so it is recomputed once data arrives or a model swaps.
// Anomaly answers are always computed from stored data: a scan compares instruments at
// their latest rows with one detector version, and the top features come from the detector.
// Answers ("source": "predictions" | "computed"; NaN numbers are null):
//   risk         {instrument, model, version, as_of, probability, score, risk_level,
//                confidence, source}
//   liquidation  {instrument, leverage, side, models: [{model, version, leverage, side,
//                as_of, source, horizons: [{horizon, probability, risk_level}]}]}
//   anomaly      {instrument, detectors: [{model, version, as_of, score, is_anomaly,
//                top_features: [{feature, contribution}]}], unavailable: [{model, reason}]}
//   scan         {detectors: [{model, version, feature_set, driver, results: [{instrument,
//                as_of, score, is_anomaly, top_features}], skipped: [{instrument, reason}]}]}
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "serve/api_internal.h"
#include "vigil/features/spec.h"
#include "vigil/models/model.h"
#include "vigil/models/probability_calibration.h"
#include "vigil/models/risk_levels.h"

namespace vigil::serve_internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Features listed per anomaly, as `vigil detect scan` lists them.
constexpr int kAnomalyTopFeatures = 3;

Status OnlyParams(const httplib::Request& request, std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : request.params) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return InvalidArgument("unknown query parameter '" + name + "'");
    }
  }
  return Status::Ok();
}

// The cached body for `key` when fresh, else `answer()` (cached when it is a 200). The
// generation is read before `answer` takes its model snapshots and reads the store, so an
// answer computed across new data or a model swap is stored under the old generation and
// never served.
ApiResponse CachedRead(ApiContext& context, const std::string& key,
                       const std::function<ApiResponse()>& answer) {
  const uint64_t generation = context.CacheGeneration();
  if (std::optional<std::string> hit = context.cache.Get(key, generation)) {
    ApiResponse response;
    response.body = std::move(*hit);
    return response;
  }
  ApiResponse response = answer();
  if (response.status == 200) context.cache.Put(key, response.body, generation);
  return response;
}

ApiResponse Unavailable(std::string_view message) {
  return ErrorResponse(503, "unavailable", message);
}

// A served model's latest feature row for `instrument`, scored through the batcher.
struct ScoredLatest {
  Timestamp ts;
  ScoredRows scored;
};

Result<ScoredLatest> ScoreLatest(ApiContext& context, Store& store,
                                 const std::shared_ptr<const ServedModel>& served,
                                 const std::string& instrument, const ScoreOptions& options = {}) {
  VIGIL_ASSIGN_OR_RETURN(FeatureRowAt row,
                         StoredFeatureRow(store, *served, instrument, Timestamp::Max()));
  VIGIL_ASSIGN_OR_RETURN(ScoredRows scored, context.batcher.Score(served, row.x, options));
  return ScoredLatest{row.ts, std::move(scored)};
}

// --- risk ---

// Confidence of a stored probability as ScoreRows computes it: only when the row is of the
// loaded version, whose calibrator's evidence stands behind it; NaN (null) otherwise.
double StoredConfidence(const ServedModel& served, const PredictionRow& row) {
  if (row.model_version != served.version || !std::isfinite(row.value)) return kNaN;
  double evidence = 0.0;
  if (const auto* calibrated = dynamic_cast<const CalibratedClassifier*>(&served.model())) {
    evidence = calibrated->calibrator().Evidence(row.value);
  }
  return AssessRisk(row.value, served.cutpoints, evidence).confidence;
}

std::string StoredLevel(const ServedModel& served, const PredictionRow& row) {
  if (!row.label.empty()) return row.label;
  return std::string(RiskLevelName(RiskLevelOf(row.value, served.cutpoints)));
}

// The stored prediction of the headline output: the row without a horizon, else the first.
const PredictionRow* HeadlineRow(const std::vector<PredictionRow>& rows) {
  for (const PredictionRow& row : rows) {
    if (row.horizon.empty()) return &row;
  }
  return rows.empty() ? nullptr : &rows.front();
}

nlohmann::json StoredRiskJson(const ServedModel& served, const PredictionRow& row) {
  return {{"version", row.model_version},
          {"as_of", row.ts.ToIso()},
          {"probability", row.value},
          {"score", row.score},
          {"risk_level", StoredLevel(served, row)},
          {"confidence", StoredConfidence(served, row)},
          {"source", "predictions"}};
}

nlohmann::json ComputedRiskJson(const ServedModel& served, const ScoredLatest& latest) {
  const ScoredRows& scored = latest.scored;
  const RiskLevel level = scored.levels.empty()
                              ? RiskLevelOf(scored.Probability(0), served.cutpoints)
                              : scored.levels[0];
  return {{"version", served.version},
          {"as_of", latest.ts.ToIso()},
          {"probability", scored.Probability(0)},
          {"score", scored.Score(0)},
          {"risk_level", RiskLevelName(level)},
          {"confidence", scored.confidence.empty() ? kNaN : scored.confidence[0]},
          {"source", "computed"}};
}

Result<nlohmann::json> RiskOf(ApiContext& context, const std::shared_ptr<const ServedModel>& served,
                              const std::string& instrument) {
  VIGIL_ASSIGN_OR_RETURN(StorePool::Lease store, context.store().Acquire());
  VIGIL_ASSIGN_OR_RETURN(std::vector<PredictionRow> stored,
                         store->LatestPredictions(instrument, served->name));
  nlohmann::json body;
  if (const PredictionRow* row = HeadlineRow(stored)) {
    body = StoredRiskJson(*served, *row);
  } else {
    VIGIL_ASSIGN_OR_RETURN(ScoredLatest latest, ScoreLatest(context, *store, served, instrument));
    body = ComputedRiskJson(*served, latest);
  }
  body["instrument"] = instrument;
  body["model"] = served->name;
  return body;
}

ApiResponse HandleRisk(const httplib::Request& request, ApiContext& context) {
  if (Status known = OnlyParams(request, {}); !known.ok()) return StatusResponse(known, "risk");
  Result<std::string> instrument = InstrumentParam(request, 1);
  if (!instrument.ok()) return StatusResponse(instrument.status(), "risk");
  const std::string& name = context.served.risk;
  if (name.empty()) return Unavailable("no risk model is configured");
  return CachedRead(context, "risk|" + *instrument, [&] {
    std::shared_ptr<const ServedModel> served = context.models().Get(name);
    if (served == nullptr) return Unavailable("risk model '" + name + "' is not loaded");
    Result<nlohmann::json> body = RiskOf(context, served, *instrument);
    return body.ok() ? JsonResponse(*body) : StatusResponse(body.status(), "risk " + *instrument);
  });
}

// --- liquidation ---

// What a liquidation model was trained to predict (manifest details.label, written by the
// training job: {"kind": "liquidation", "leverage": 20, "side": "long", ...}).
struct LiquidationLabel {
  double leverage = 0.0;
  std::string side;
};

std::optional<LiquidationLabel> LiquidationLabelOf(const Manifest& manifest) {
  const auto label = manifest.details.find("label");
  if (label == manifest.details.end() || !label->is_object()) return std::nullopt;
  const auto kind = label->find("kind");
  const auto leverage = label->find("leverage");
  const auto side = label->find("side");
  if (kind == label->end() || *kind != "liquidation" || leverage == label->end() ||
      !leverage->is_number() || side == label->end() || !side->is_string()) {
    return std::nullopt;
  }
  return LiquidationLabel{leverage->get<double>(), side->get<std::string>()};
}

struct LiquidationQuery {
  std::optional<double> leverage;  // absent = any
  std::optional<std::string> side;
};

Result<LiquidationQuery> ParseLiquidationQuery(const httplib::Request& request) {
  VIGIL_RETURN_IF_ERROR(OnlyParams(request, {"leverage", "side"}));
  LiquidationQuery query;
  VIGIL_ASSIGN_OR_RETURN(query.leverage, NumberQuery(request, "leverage"));
  if (query.leverage && !(std::isfinite(*query.leverage) && *query.leverage > 1.0)) {
    return InvalidArgument("leverage: must be a number greater than 1");
  }
  if (request.has_param("side")) {
    query.side = request.get_param_value("side");
    if (*query.side != "long" && *query.side != "short") {
      return InvalidArgument("side: must be 'long' or 'short'");
    }
  }
  return query;
}

bool Matches(const LiquidationQuery& query, const LiquidationLabel& label) {
  // Leverages are small decimals written by the same JSON code; compare with a tolerance
  // so "20" and "20.0" agree.
  if (query.leverage && std::abs(*query.leverage - label.leverage) > 1e-9) return false;
  return !query.side || *query.side == label.side;
}

std::string Describe(const std::string& name, const LiquidationLabel& label) {
  char leverage[32];
  std::snprintf(leverage, sizeof leverage, "%g", label.leverage);
  return name + " (" + leverage + "x " + label.side + ")";
}

nlohmann::json HorizonJson(const std::string& horizon, double probability, std::string level) {
  return {{"horizon", horizon}, {"probability", probability}, {"risk_level", std::move(level)}};
}

Result<nlohmann::json> LiquidationOf(ApiContext& context, Store& store,
                                     const std::shared_ptr<const ServedModel>& served,
                                     const std::string& instrument) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<PredictionRow> stored,
                         store.LatestPredictions(instrument, served->name));
  std::erase_if(stored, [](const PredictionRow& row) { return row.horizon.empty(); });
  nlohmann::json body = {{"model", served->name}, {"horizons", nlohmann::json::array()}};
  if (!stored.empty()) {
    body.update({{"version", stored.front().model_version},
                 {"as_of", stored.front().ts.ToIso()},
                 {"source", "predictions"}});
    // Stored rows come sorted by horizon text ("15m" < "1h" < "30m" < "5m"): list them by
    // duration instead.
    std::vector<std::pair<int64_t, const PredictionRow*>> order;
    for (const PredictionRow& row : stored) {
      Result<int64_t> duration = ParseDuration(row.horizon);
      order.emplace_back(duration.ok() ? *duration : std::numeric_limits<int64_t>::max(), &row);
    }
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [duration, row] : order) {
      body["horizons"].push_back(HorizonJson(row->horizon, row->value, StoredLevel(*served, *row)));
    }
    return body;
  }
  VIGIL_ASSIGN_OR_RETURN(ScoredLatest latest, ScoreLatest(context, store, served, instrument));
  const ScoredRows& scored = latest.scored;
  body.update({{"version", served->version}, {"as_of", latest.ts.ToIso()}, {"source", "computed"}});
  for (size_t k = 0; k < scored.horizon_names.size(); ++k) {
    const double p = scored.horizons[k];  // row 0
    body["horizons"].push_back(HorizonJson(
        scored.horizon_names[k], p, std::string(RiskLevelName(RiskLevelOf(p, served->cutpoints)))));
  }
  return body;
}

// The loaded liquidation models and their labels.
using LiquidationModelList =
    std::vector<std::pair<std::shared_ptr<const ServedModel>, LiquidationLabel>>;

LiquidationModelList LiquidationModels(const ApiContext& context) {
  LiquidationModelList models;
  for (const std::string& name : context.served.liquidation) {
    std::shared_ptr<const ServedModel> served = context.models().Get(name);
    if (served == nullptr) continue;
    if (std::optional<LiquidationLabel> label = LiquidationLabelOf(served->loaded.manifest)) {
      models.emplace_back(std::move(served), *label);
    }
  }
  return models;
}

Result<nlohmann::json> LiquidationAnswer(ApiContext& context, const LiquidationModelList& models,
                                         const LiquidationQuery& query,
                                         const std::string& instrument) {
  VIGIL_ASSIGN_OR_RETURN(StorePool::Lease store, context.store().Acquire());
  nlohmann::json answers = nlohmann::json::array();
  for (const auto& [served, label] : models) {
    if (!Matches(query, label)) continue;
    VIGIL_ASSIGN_OR_RETURN(nlohmann::json answer,
                           LiquidationOf(context, *store, served, instrument));
    answer["leverage"] = label.leverage;
    answer["side"] = label.side;
    answers.push_back(std::move(answer));
  }
  if (answers.empty()) {
    std::string served;
    for (const auto& [model, label] : models) {
      served += (served.empty() ? "" : ", ") + Describe(model->name, label);
    }
    return NotFound("no liquidation model matches the leverage and side asked for; served: " +
                    served);
  }
  return nlohmann::json{{"instrument", instrument},
                        {"leverage", query.leverage ? nlohmann::json(*query.leverage) : nullptr},
                        {"side", query.side ? nlohmann::json(*query.side) : nullptr},
                        {"models", std::move(answers)}};
}

ApiResponse HandleLiquidation(const httplib::Request& request, ApiContext& context) {
  Result<LiquidationQuery> query = ParseLiquidationQuery(request);
  if (!query.ok()) return StatusResponse(query.status(), "liquidation");
  Result<std::string> instrument = InstrumentParam(request, 1);
  if (!instrument.ok()) return StatusResponse(instrument.status(), "liquidation");
  const std::string key = "liquidation|" + *instrument + "|" + request.get_param_value("leverage") +
                          "|" + request.get_param_value("side");
  return CachedRead(context, key, [&] {
    const auto models = LiquidationModels(context);
    if (models.empty()) return Unavailable("no liquidation model is configured and loaded");
    Result<nlohmann::json> body = LiquidationAnswer(context, models, *query, *instrument);
    return body.ok() ? JsonResponse(*body)
                     : StatusResponse(body.status(), "liquidation " + *instrument);
  });
}

// --- anomaly ---

struct AnomalyReading {
  std::string instrument;
  Timestamp ts;
  double score = 0.0;
  bool flag = false;
  std::vector<Contribution> top;  // the largest non-zero shares, largest first
};

nlohmann::json AnomalyJson(const AnomalyReading& reading) {
  nlohmann::json top = nlohmann::json::array();
  for (const Contribution& share : reading.top) {
    top.push_back({{"feature", share.feature}, {"contribution", share.value}});
  }
  return {{"instrument", reading.instrument},
          {"as_of", reading.ts.ToIso()},
          {"score", reading.score},
          {"is_anomaly", reading.flag},
          {"top_features", std::move(top)}};
}

// Scores the rows (one per instrument) in one batch, with the detector's feature shares.
Result<std::vector<AnomalyReading>> ScoreAnomalies(ApiContext& context,
                                                   const std::shared_ptr<const ServedModel>& served,
                                                   const std::vector<std::string>& instruments,
                                                   const std::vector<FeatureRowAt>& rows) {
  FeatureMatrix x;
  x.columns = served->features();
  x.rows = static_cast<int64_t>(rows.size());
  for (const FeatureRowAt& row : rows)
    x.values.insert(x.values.end(), row.x.values.begin(), row.x.values.end());
  ScoreOptions options;
  options.explain = true;
  options.top_k = kAnomalyTopFeatures;
  VIGIL_ASSIGN_OR_RETURN(ScoredRows scored, context.batcher.Score(served, x, options));
  std::vector<AnomalyReading> readings;
  for (size_t row = 0; row < rows.size(); ++row) {
    AnomalyReading reading{
        instruments[row], rows[row].ts, scored.scores[row], scored.flags[row] != 0, {}};
    if (row < scored.explanations.size()) {
      for (const Contribution& share : scored.explanations[row]) {
        if (share.value > 0.0) reading.top.push_back(share);
      }
    }
    readings.push_back(std::move(reading));
  }
  return readings;
}

// Why an instrument cannot be scored now (no driver data, features still warming up) is
// part of the answer; any other failure fails the request.
bool IsExpectedGap(const Status& status) {
  return status.code() == StatusCode::kNotFound || status.code() == StatusCode::kFailedPrecondition;
}

std::vector<std::shared_ptr<const ServedModel>> AnomalyDetectors(const ApiContext& context) {
  std::vector<std::shared_ptr<const ServedModel>> detectors;
  for (const std::string& name : context.served.anomaly) {
    if (std::shared_ptr<const ServedModel> served = context.models().Get(name)) {
      detectors.push_back(std::move(served));
    }
  }
  return detectors;
}

// Instruments with data of `driver`, sorted.
Result<std::vector<std::string>> DriverInstruments(Store& store, DataKind driver) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<SeriesKey> series, store.ListSeries());
  std::set<std::string> instruments;
  for (const SeriesKey& key : series) {
    if (key.kind == driver) instruments.insert(key.instrument.ToString());
  }
  return std::vector<std::string>(instruments.begin(), instruments.end());
}

// One detector across every instrument with data of its feature set's driver kind, most
// anomalous first (ties keep instrument order).
Result<nlohmann::json> ScanDetector(ApiContext& context, Store& store,
                                    const std::shared_ptr<const ServedModel>& served) {
  nlohmann::json out = {{"model", served->name},
                        {"version", served->version},
                        {"results", nlohmann::json::array()},
                        {"skipped", nlohmann::json::array()}};
  if (!served->feature_set) {
    out["skipped"].push_back({{"instrument", nullptr}, {"reason", "fitted without a feature set"}});
    return out;
  }
  out["feature_set"] = served->feature_set->name;
  out["driver"] = KindName(served->feature_set->driver);
  VIGIL_ASSIGN_OR_RETURN(std::vector<std::string> instruments,
                         DriverInstruments(store, served->feature_set->driver));
  std::vector<std::string> scored_instruments;
  std::vector<FeatureRowAt> rows;
  for (const std::string& instrument : instruments) {
    Result<FeatureRowAt> row = StoredFeatureRow(store, *served, instrument, Timestamp::Max());
    if (row.ok()) {
      scored_instruments.push_back(instrument);
      rows.push_back(std::move(*row));
    } else if (IsExpectedGap(row.status())) {
      out["skipped"].push_back({{"instrument", instrument}, {"reason", row.status().message()}});
    } else {
      return row.status();
    }
  }
  if (rows.empty()) return out;
  VIGIL_ASSIGN_OR_RETURN(std::vector<AnomalyReading> readings,
                         ScoreAnomalies(context, served, scored_instruments, rows));
  std::stable_sort(
      readings.begin(), readings.end(),
      [](const AnomalyReading& a, const AnomalyReading& b) { return a.score > b.score; });
  for (const AnomalyReading& reading : readings) out["results"].push_back(AnomalyJson(reading));
  return out;
}

Result<nlohmann::json> ScanAnswer(
    ApiContext& context, const std::vector<std::shared_ptr<const ServedModel>>& detectors) {
  VIGIL_ASSIGN_OR_RETURN(StorePool::Lease store, context.store().Acquire());
  nlohmann::json out = nlohmann::json::array();
  for (const auto& served : detectors) {
    VIGIL_ASSIGN_OR_RETURN(nlohmann::json detector, ScanDetector(context, *store, served));
    out.push_back(std::move(detector));
  }
  return nlohmann::json{{"detectors", std::move(out)}};
}

ApiResponse HandleAnomalyScan(const httplib::Request& request, ApiContext& context) {
  if (Status known = OnlyParams(request, {"model"}); !known.ok()) {
    return StatusResponse(known, "anomaly scan");
  }
  const std::string model = request.get_param_value("model");
  return CachedRead(context, "anomaly-scan|" + model, [&] {
    std::vector<std::shared_ptr<const ServedModel>> detectors = AnomalyDetectors(context);
    if (detectors.empty()) return Unavailable("no anomaly detector is configured and loaded");
    if (!model.empty()) {
      std::erase_if(detectors, [&](const auto& served) { return served->name != model; });
      if (detectors.empty()) {
        return ErrorResponse(404, "not_found",
                             "model: '" + model + "' is not a served anomaly detector");
      }
    }
    Result<nlohmann::json> body = ScanAnswer(context, detectors);
    return body.ok() ? JsonResponse(*body) : StatusResponse(body.status(), "anomaly scan");
  });
}

Result<nlohmann::json> AnomalyAnswer(
    ApiContext& context, const std::vector<std::shared_ptr<const ServedModel>>& detectors,
    const std::string& instrument) {
  VIGIL_ASSIGN_OR_RETURN(StorePool::Lease store, context.store().Acquire());
  nlohmann::json scored = nlohmann::json::array();
  nlohmann::json unavailable = nlohmann::json::array();
  size_t not_found = 0;
  for (const auto& served : detectors) {
    Result<FeatureRowAt> row = StoredFeatureRow(*store, *served, instrument, Timestamp::Max());
    if (!row.ok()) {
      if (!IsExpectedGap(row.status())) return row.status();
      not_found += row.status().code() == StatusCode::kNotFound ? 1 : 0;
      unavailable.push_back({{"model", served->name}, {"reason", row.status().message()}});
      continue;
    }
    VIGIL_ASSIGN_OR_RETURN(std::vector<AnomalyReading> readings,
                           ScoreAnomalies(context, served, {instrument}, {std::move(*row)}));
    nlohmann::json reading = AnomalyJson(readings.front());
    reading.erase("instrument");
    reading["model"] = served->name;
    reading["version"] = served->version;
    scored.push_back(std::move(reading));
  }
  if (not_found == detectors.size()) {
    return NotFound("instrument '" + instrument + "' has no stored data for any anomaly detector");
  }
  return nlohmann::json{{"instrument", instrument},
                        {"detectors", std::move(scored)},
                        {"unavailable", std::move(unavailable)}};
}

ApiResponse HandleAnomaly(const httplib::Request& request, ApiContext& context) {
  if (Status known = OnlyParams(request, {}); !known.ok()) return StatusResponse(known, "anomaly");
  Result<std::string> instrument = InstrumentParam(request, 1);
  if (!instrument.ok()) return StatusResponse(instrument.status(), "anomaly");
  return CachedRead(context, "anomaly|" + *instrument, [&] {
    const std::vector<std::shared_ptr<const ServedModel>> detectors = AnomalyDetectors(context);
    if (detectors.empty()) return Unavailable("no anomaly detector is configured and loaded");
    Result<nlohmann::json> body = AnomalyAnswer(context, detectors, *instrument);
    return body.ok() ? JsonResponse(*body)
                     : StatusResponse(body.status(), "anomaly " + *instrument);
  });
}

}  // namespace

std::vector<Route> MarketRoutes() {
  // The scan comes before /v1/anomaly/{instrument}, whose pattern also matches "scan".
  return {
      {"GET", R"(/v1/risk/([^/]+))", "/v1/risk/{instrument}", false, HandleRisk},
      {"GET", R"(/v1/liquidation/([^/]+))", "/v1/liquidation/{instrument}", false,
       HandleLiquidation},
      {"GET", R"(/v1/anomaly/scan)", "/v1/anomaly/scan", false, HandleAnomalyScan},
      {"GET", R"(/v1/anomaly/([^/]+))", "/v1/anomaly/{instrument}", false, HandleAnomaly},
  };
}

}  // namespace vigil::serve_internal
