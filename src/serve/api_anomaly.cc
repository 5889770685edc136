// The anomaly reads: GET /v1/anomaly/{instrument} (every served detector on the
// instrument's latest stored row) and GET /v1/anomaly/scan (each detector across every
// instrument with data of its feature set's driver kind, most anomalous first).
//
// Anomaly answers are always computed from stored data, never read from stored
// predictions: a scan compares instruments at their latest rows with one detector version,
// and the top features come from the detector. Answers go through the TTL cache like the
// other market reads (api_market.cc). NaN numbers are null.
//   anomaly  {instrument, detectors: [{model, version, as_of, score, is_anomaly,
//            top_features: [{feature, contribution}]}], unavailable: [{model, reason}]}
//   scan     {detectors: [{model, version, feature_set, driver, results: [{instrument,
//            as_of, score, is_anomaly, top_features}], skipped: [{instrument, reason}]}]}
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "serve/api_internal.h"
#include "vigil/features/feature_store.h"
#include "vigil/features/spec.h"

namespace vigil::serve_internal {
namespace {

// Features listed per anomaly, as `vigil detect scan` lists them.
constexpr int kAnomalyTopFeatures = 3;
constexpr std::string_view kNoDetector = "no anomaly detector is configured and loaded";

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
                         InstrumentsWithData(store, served->feature_set->driver));
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
  if (Status known = CheckQueryParams(request, {"model"}); !known.ok()) {
    return StatusResponse(known, "anomaly scan");
  }
  const std::string model = request.get_param_value("model");
  return CachedRead(context, "anomaly-scan|" + model, [&] {
    std::vector<std::shared_ptr<const ServedModel>> detectors = AnomalyDetectors(context);
    if (detectors.empty()) return UnavailableResponse(kNoDetector);
    if (!model.empty()) {
      std::erase_if(detectors, [&](const auto& served) { return served->name != model; });
      if (detectors.empty()) {
        return ErrorResponse(404, "not_found",
                             "model: '" + model + "' is not a served anomaly detector");
      }
    }
    Result<nlohmann::json> body = ScanAnswer(context, detectors);
    return AnswerResponse(body, "anomaly scan");
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
  if (Status known = CheckQueryParams(request, {}); !known.ok())
    return StatusResponse(known, "anomaly");
  Result<std::string> instrument = InstrumentParam(request, 1);
  if (!instrument.ok()) return StatusResponse(instrument.status(), "anomaly");
  return CachedRead(context, "anomaly|" + *instrument, [&] {
    const std::vector<std::shared_ptr<const ServedModel>> detectors = AnomalyDetectors(context);
    if (detectors.empty()) return UnavailableResponse(kNoDetector);
    Result<nlohmann::json> body = AnomalyAnswer(context, detectors, *instrument);
    return AnswerResponse(body, "anomaly " + *instrument);
  });
}

}  // namespace

std::vector<Route> AnomalyRoutes() {
  // The scan comes before /v1/anomaly/{instrument}, whose pattern also matches "scan".
  return {
      {"GET", R"(/v1/anomaly/scan)", "/v1/anomaly/scan", false, HandleAnomalyScan},
      {"GET", R"(/v1/anomaly/([^/]+))", "/v1/anomaly/{instrument}", false, HandleAnomaly},
  };
}

}  // namespace vigil::serve_internal
