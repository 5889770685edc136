// The market reads: GET /v1/risk/{instrument} and /v1/liquidation/{instrument} (the
// anomaly reads are in api_anomaly.cc).
//
// Every answer is the live runner's latest stored prediction when there is one, else
// computed from the latest stored data, and goes through the TTL cache under the context's
// generation, so it is recomputed once data arrives or a model swaps.
// Answers ("source": "predictions" | "computed"; NaN numbers are null):
//   risk         {instrument, model, version, as_of, probability, score, risk_level,
//                confidence, source}; for a multi-horizon model, of its primary horizon.
//                A stored prediction's confidence is the one the runner recorded with it
//                (see StoredConfidence), else null when it cannot be recomputed exactly.
//   liquidation  {instrument, leverage, side, models: [{model, version, leverage, side,
//                as_of, source, horizons: [{horizon, probability, risk_level}]}]}
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "serve/api_internal.h"
#include "vigil/models/model.h"
#include "vigil/models/multi_horizon.h"
#include "vigil/models/probability_calibration.h"
#include "vigil/models/risk_levels.h"

namespace vigil::serve_internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A served model's latest feature row for `instrument`, scored through the batcher.
struct ScoredLatest {
  Timestamp ts;
  ScoredRows scored;
};

Result<ScoredLatest> ScoreLatest(ApiContext& context, Store& store,
                                 const std::shared_ptr<const ServedModel>& served,
                                 const std::string& instrument) {
  VIGIL_ASSIGN_OR_RETURN(FeatureRowAt row,
                         StoredFeatureRow(store, *served, instrument, Timestamp::Max()));
  VIGIL_ASSIGN_OR_RETURN(ScoredRows scored, context.batcher.Score(served, row.x));
  return ScoredLatest{row.ts, std::move(scored)};
}

// --- risk ---

// Whether `instrument` has driver data (the served model's feature-set driver kind) stamped
// after `ts`: then a prediction stored at `ts` is not the latest answer and the route
// computes one from the stored data instead (new bars ingested after the last `vigil run`).
Result<bool> HasDriverDataAfter(Store& store, const ServedModel& served,
                                const std::string& instrument, Timestamp ts) {
  if (!served.feature_set.has_value()) return false;
  VIGIL_ASSIGN_OR_RETURN(std::vector<SeriesKey> series, store.ListSeries());
  for (const SeriesKey& key : series) {
    if (key.kind != served.feature_set->driver || key.instrument.ToString() != instrument) {
      continue;
    }
    VIGIL_ASSIGN_OR_RETURN(Frame newer,
                           store.Query(key, Timestamp(ts.nanos() + 1), Timestamp::Max()));
    if (newer.rows() > 0) return true;
  }
  return false;
}

// The stored rows when they are as fresh as the stored data, else nothing.
Result<std::vector<PredictionRow>> FreshPredictions(Store& store, const ServedModel& served,
                                                    const std::string& instrument) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<PredictionRow> stored,
                         store.LatestPredictions(instrument, served.name));
  if (stored.empty()) return stored;
  VIGIL_ASSIGN_OR_RETURN(bool stale,
                         HasDriverDataAfter(store, served, instrument, stored.front().ts));
  if (stale) stored.clear();
  return stored;
}

// A stored row's horizon as a duration; the largest value when it has none or it does not
// parse, so such rows sort last.
int64_t HorizonDuration(const PredictionRow& row) {
  Result<int64_t> duration = ParseDuration(row.horizon);
  return duration.ok() ? *duration : std::numeric_limits<int64_t>::max();
}

// The primary horizon's index in a multi-horizon model: what its PredictProba (so
// ScoreRows' headline probability, level and confidence) answers. Its config always
// names it ("primary", the first horizon unless set).
size_t PrimaryHorizon(const MultiHorizonClassifier& model) {
  const nlohmann::json primary = model.config().value("primary", nlohmann::json());
  Result<int64_t> duration = ParseDuration(primary.is_string() ? primary.get<std::string>() : "");
  const std::vector<int64_t>& horizons = model.horizons_ns();
  const auto found = std::find(horizons.begin(), horizons.end(), duration.ok() ? *duration : 0);
  return found == horizons.end() ? 0 : static_cast<size_t>(found - horizons.begin());
}

// The stored prediction of the headline output: the row without a horizon; for a
// multi-horizon model, the row of its primary horizon, else the shortest horizon's.
const PredictionRow* HeadlineRow(const Model& model, const std::vector<PredictionRow>& rows) {
  if (rows.empty()) return nullptr;
  int64_t primary = 0;
  if (const auto* multi = dynamic_cast<const MultiHorizonClassifier*>(&model)) {
    primary = multi->horizons_ns()[PrimaryHorizon(*multi)];
  }
  const PredictionRow* headline = &rows.front();
  for (const PredictionRow& row : rows) {
    if (row.horizon.empty() || HorizonDuration(row) == primary) return &row;
    if (HorizonDuration(row) < HorizonDuration(*headline)) headline = &row;
  }
  return headline;
}

// The confidence the live runner recorded with a prediction (explanation_json
// {"confidence": c, ...}); nullopt when the row carries none.
std::optional<double> RecordedConfidence(const PredictionRow& row) {
  if (row.explanation_json.empty()) return std::nullopt;
  const nlohmann::json json = nlohmann::json::parse(row.explanation_json, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  const auto confidence = json.find("confidence");
  if (confidence == json.end() || !confidence->is_number()) return std::nullopt;
  return confidence->get<double>();
}

// The confidence of a stored headline probability. ScoreRows takes the calibrator's
// evidence at the UNCALIBRATED probability, which a stored (calibrated) value no longer
// tells: an isotonic calibrator maps a range of them to one value. So: the confidence the
// runner recorded with the row; else, for a row of the loaded version whose evidence does
// not depend on the probability (Platt: every held-out row; not calibrated: none), the
// same computation as ScoreRows; else NaN (null). For a multi-horizon model the calibrator
// is its primary horizon's, as in ScoreRows.
double StoredConfidence(const ServedModel& served, const PredictionRow& row) {
  if (std::optional<double> recorded = RecordedConfidence(row)) return *recorded;
  if (row.model_version != served.version || !std::isfinite(row.value)) return kNaN;
  const Model* level_model = &served.model();
  if (const auto* multi = dynamic_cast<const MultiHorizonClassifier*>(level_model)) {
    level_model = &multi->horizon_model(PrimaryHorizon(*multi));
  }
  double evidence = 0.0;
  if (const auto* calibrated = dynamic_cast<const CalibratedClassifier*>(level_model)) {
    const ProbabilityCalibrator& calibrator = calibrated->calibrator();
    if (calibrator.method() == CalibrationMethod::kIsotonic) return kNaN;
    evidence = calibrator.Evidence(0.5);  // the same at every probability
  }
  return AssessRisk(row.value, served.cutpoints, evidence).confidence;
}

std::string StoredLevel(const ServedModel& served, const PredictionRow& row) {
  if (!row.label.empty()) return row.label;
  return std::string(RiskLevelName(RiskLevelOf(row.value, served.cutpoints)));
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
                         FreshPredictions(*store, *served, instrument));
  nlohmann::json body;
  if (const PredictionRow* row = HeadlineRow(served->model(), stored)) {
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
  if (Status known = CheckQueryParams(request, {}); !known.ok())
    return StatusResponse(known, "risk");
  Result<std::string> instrument = InstrumentParam(request, 1);
  if (!instrument.ok()) return StatusResponse(instrument.status(), "risk");
  const std::string& name = context.served.risk;
  if (name.empty()) return UnavailableResponse("no risk model is configured");
  return CachedRead(context, "risk|" + *instrument, [&] {
    std::shared_ptr<const ServedModel> served = context.models().Get(name);
    if (served == nullptr) return UnavailableResponse("risk model '" + name + "' is not loaded");
    Result<nlohmann::json> body = RiskOf(context, served, *instrument);
    return AnswerResponse(body, "risk " + *instrument);
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
  VIGIL_RETURN_IF_ERROR(CheckQueryParams(request, {"leverage", "side"}));
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
                         FreshPredictions(store, *served, instrument));
  std::erase_if(stored, [](const PredictionRow& row) { return row.horizon.empty(); });
  nlohmann::json body = {{"model", served->name}, {"horizons", nlohmann::json::array()}};
  if (!stored.empty()) {
    body.update({{"version", stored.front().model_version},
                 {"as_of", stored.front().ts.ToIso()},
                 {"source", "predictions"}});
    // Stored rows come sorted by horizon text ("15m" < "1h" < "30m" < "5m"): list them by
    // duration instead.
    std::stable_sort(stored.begin(), stored.end(), [](const auto& a, const auto& b) {
      return HorizonDuration(a) < HorizonDuration(b);
    });
    for (const PredictionRow& row : stored) {
      body["horizons"].push_back(HorizonJson(row.horizon, row.value, StoredLevel(*served, row)));
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
    if (models.empty()) return UnavailableResponse("no liquidation model is configured and loaded");
    Result<nlohmann::json> body = LiquidationAnswer(context, models, *query, *instrument);
    return AnswerResponse(body, "liquidation " + *instrument);
  });
}

}  // namespace

std::vector<Route> MarketRoutes() {
  return {
      {"GET", R"(/v1/risk/([^/]+))", "/v1/risk/{instrument}", false, HandleRisk},
      {"GET", R"(/v1/liquidation/([^/]+))", "/v1/liquidation/{instrument}", false,
       HandleLiquidation},
  };
}

}  // namespace vigil::serve_internal
