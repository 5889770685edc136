// POST /v1/predict/{model}: scores feature rows given in the request, or the row computed
// from the store for an instrument as of a time; and the helpers every scoring route
// shares (StoredFeatureRow, ScoredRowJson, ModelJson).
//
// A request takes one model snapshot and scores all of its rows with it through the
// micro-batcher, so a promotion during the request cannot mix versions, and the version in
// the answer is the one that produced its numbers.
#include <cmath>
#include <unordered_map>

#include "serve/api_internal.h"
#include "vigil/features/feature_store.h"

namespace vigil::serve_internal {
namespace {

// A body of 1 MiB holds a few thousand rows; more would only hold a worker for long.
constexpr size_t kMaxRequestRows = 10000;

nlohmann::json Number(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

std::string JsonTypeName(const nlohmann::json& value) { return value.type_name(); }

// One request row into row `row` of `x`; errors name the row and the field.
Status FillRow(const nlohmann::json& object, int64_t row,
               const std::unordered_map<std::string, size_t>& column_of, FeatureMatrix& x) {
  const std::string where = "rows[" + std::to_string(row) + "]";
  if (!object.is_object()) return InvalidArgument(where + ": expected an object");
  std::string unknown;
  std::vector<bool> seen(x.cols(), false);
  for (const auto& item : object.items()) {
    auto column = column_of.find(item.key());
    if (column == column_of.end()) {
      unknown += (unknown.empty() ? "'" : ", '") + item.key() + "'";
      continue;
    }
    if (!item.value().is_number()) {
      return InvalidArgument(where + "." + item.key() + ": expected a number, got " +
                             JsonTypeName(item.value()));
    }
    x.values[row * x.cols() + column->second] = item.value().get<double>();
    seen[column->second] = true;
  }
  if (!unknown.empty()) return InvalidArgument(where + ": unknown feature(s) " + unknown);
  for (size_t col = 0; col < x.cols(); ++col) {
    if (!seen[col]) return InvalidArgument(where + ": missing feature '" + x.columns[col] + "'");
  }
  return Status::Ok();
}

// {"rows": [{feature: value, ...}, ...]} as a matrix in the model's feature order.
Result<FeatureMatrix> RowsMatrix(const nlohmann::json& rows, const ServedModel& served) {
  if (!rows.is_array() || rows.empty()) return InvalidArgument("rows: expected a non-empty array");
  if (rows.size() > kMaxRequestRows) {
    return InvalidArgument("rows: more than " + std::to_string(kMaxRequestRows) + " rows");
  }
  FeatureMatrix x;
  x.columns = served.features();
  x.rows = static_cast<int64_t>(rows.size());
  x.values.assign(rows.size() * x.cols(), 0.0);
  std::unordered_map<std::string, size_t> column_of;
  for (size_t col = 0; col < x.cols(); ++col) column_of.emplace(x.columns[col], col);
  for (int64_t row = 0; row < x.rows; ++row) {
    VIGIL_RETURN_IF_ERROR(FillRow(rows[row], row, column_of, x));
  }
  return x;
}

nlohmann::json ScoredAnswer(const ServedModel& served, const ScoredRows& scored) {
  nlohmann::json answer = ModelJson(served);
  answer["task"] = served.task_name;
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t row = 0; row < scored.rows; ++row) rows.push_back(ScoredRowJson(scored, row));
  answer["rows"] = std::move(rows);
  return answer;
}

Result<nlohmann::json> PredictRows(const nlohmann::json& body, ApiContext& context,
                                   std::shared_ptr<const ServedModel> snapshot, bool explain) {
  VIGIL_RETURN_IF_ERROR(CheckFields(body, {"rows"}, "body"));
  VIGIL_ASSIGN_OR_RETURN(FeatureMatrix x, RowsMatrix(body["rows"], *snapshot));
  VIGIL_ASSIGN_OR_RETURN(ScoredRows scored,
                         context.batcher.Score(snapshot, x, ScoreOptions{.explain = explain}));
  return ScoredAnswer(*snapshot, scored);
}

Result<Timestamp> AsOfField(const nlohmann::json& body) {
  if (!body.contains("timestamp")) return Timestamp::Max();
  const nlohmann::json& field = body["timestamp"];
  if (!field.is_string()) return InvalidArgument("timestamp: expected an ISO-8601 string");
  Result<Timestamp> time = Timestamp::Parse(field.get<std::string>());
  if (!time.ok()) return InvalidArgument("timestamp: " + time.status().message());
  return *time;
}

// The question of the instrument form: which instrument, as of when.
struct StoredQuestion {
  std::string instrument;
  Timestamp as_of;
};

Result<StoredQuestion> ParseStoredQuestion(const nlohmann::json& body) {
  VIGIL_RETURN_IF_ERROR(CheckFields(body, {"instrument", "timestamp"}, "body"));
  if (!body["instrument"].is_string()) return InvalidArgument("instrument: expected a string");
  StoredQuestion question;
  VIGIL_ASSIGN_OR_RETURN(question.instrument,
                         InstrumentText(body["instrument"].get<std::string>(), "instrument"));
  VIGIL_ASSIGN_OR_RETURN(question.as_of, AsOfField(body));
  return question;
}

Result<nlohmann::json> PredictStored(const StoredQuestion& question, ApiContext& context,
                                     const std::string& name, bool explain) {
  VIGIL_ASSIGN_OR_RETURN(std::shared_ptr<const ServedModel> snapshot,
                         ServedSnapshot(context, name));
  FeatureRowAt row;
  {
    VIGIL_ASSIGN_OR_RETURN(StorePool::Lease store, context.store().Acquire());
    VIGIL_ASSIGN_OR_RETURN(
        row, StoredFeatureRow(*store, *snapshot, question.instrument, question.as_of));
  }
  VIGIL_ASSIGN_OR_RETURN(ScoredRows scored,
                         context.batcher.Score(snapshot, row.x, ScoreOptions{.explain = explain}));
  nlohmann::json answer = ScoredAnswer(*snapshot, scored);
  answer["instrument"] = question.instrument;
  answer["timestamp"] = row.ts.ToIso();
  return answer;
}

// The instrument form, from the cache when the same question was answered under the
// current generation (no new data, no model swap since).
ApiResponse PredictStoredCached(const nlohmann::json& body, ApiContext& context,
                                const std::string& name, bool explain, std::string_view what) {
  Result<StoredQuestion> question = ParseStoredQuestion(body);
  if (!question.ok()) return StatusResponse(question.status(), what);
  const std::string key = "predict\n" + name + "\n" + question->instrument + "\n" +
                          std::to_string(question->as_of.nanos()) + (explain ? "\nexplain" : "");
  return CachedRead(context, key, [&] {
    return AnswerResponse(PredictStored(*question, context, name, explain), what);
  });
}

ApiResponse Predict(const httplib::Request& request, ApiContext& context) {
  constexpr std::string_view kWhat = "POST /v1/predict/{model}";
  Result<std::string> name = ModelNameParam(request, 1);
  if (!name.ok()) return StatusResponse(name.status(), kWhat);
  if (Status known = CheckQueryParams(request, {"explain"}); !known.ok()) {
    return StatusResponse(known, kWhat);
  }
  Result<bool> explain = BoolQuery(request, "explain");
  if (!explain.ok()) return StatusResponse(explain.status(), kWhat);
  Result<nlohmann::json> body = ParseJsonObject(request);
  if (!body.ok()) return StatusResponse(body.status(), kWhat);
  const bool has_rows = body->contains("rows");
  if (has_rows == body->contains("instrument")) {
    return ErrorResponse(400, "invalid_argument", "body: give either \"rows\" or \"instrument\"");
  }
  if (!has_rows) return PredictStoredCached(*body, context, *name, *explain, kWhat);
  Result<std::shared_ptr<const ServedModel>> snapshot = ServedSnapshot(context, *name);
  if (!snapshot.ok()) return StatusResponse(snapshot.status(), kWhat);
  return AnswerResponse(PredictRows(*body, context, *snapshot, *explain), kWhat);
}

void AddExplanation(const ScoredRows& scored, int64_t row, nlohmann::json& out) {
  if (row >= static_cast<int64_t>(scored.explanations.size())) return;
  const char* key = scored.task == Task::kAnomaly ? "share" : "shap";
  nlohmann::json list = nlohmann::json::array();
  for (const Contribution& contribution : scored.explanations[row]) {
    list.push_back({{"feature", contribution.feature}, {key, Number(contribution.value)}});
  }
  out["explanation"] = std::move(list);
}

void AddClassification(const ScoredRows& scored, int64_t row, nlohmann::json& out) {
  out["probability"] = Number(scored.Probability(row));
  out["score"] = Number(scored.Score(row));
  if (row < static_cast<int64_t>(scored.levels.size())) {
    out["risk_level"] = RiskLevelName(scored.levels[row]);
  }
  if (row < static_cast<int64_t>(scored.confidence.size())) {
    out["confidence"] = Number(scored.confidence[row]);
  }
  if (scored.classes > 2) {
    nlohmann::json per_class = nlohmann::json::array();
    for (int k = 0; k < scored.classes; ++k) {
      per_class.push_back(Number(scored.probabilities[row * scored.classes + k]));
    }
    out["probabilities"] = std::move(per_class);
  }
  const size_t horizons = scored.horizon_names.size();
  if (horizons > 0) {
    nlohmann::json by_name = nlohmann::json::object();
    for (size_t h = 0; h < horizons; ++h) {
      by_name[scored.horizon_names[h]] = Number(scored.horizons[row * horizons + h]);
    }
    out["horizons"] = std::move(by_name);
  }
}

}  // namespace

nlohmann::json ScoredRowJson(const ScoredRows& scored, int64_t row) {
  nlohmann::json out = nlohmann::json::object();
  switch (scored.task) {
    case Task::kClassification:
      AddClassification(scored, row, out);
      break;
    case Task::kAnomaly:
      out["score"] = Number(scored.scores[row]);
      out["is_anomaly"] = scored.flags[row] != 0;
      out["raw_score"] = Number(scored.raw_scores[row]);
      break;
    case Task::kRegression:
      out["value"] = Number(scored.values[row]);
      break;
    case Task::kForecast:
      break;
  }
  AddExplanation(scored, row, out);
  return out;
}

nlohmann::json ModelJson(const ServedModel& served) {
  nlohmann::json out = {{"model", served.name},
                        {"version", served.version},
                        {"alias", served.alias},
                        {"fallback", served.is_fallback}};
  if (served.is_fallback) out["served_by"] = served.loaded.manifest.name;
  return out;
}

Result<FeatureRowAt> StoredFeatureRow(Store& store, const ServedModel& served,
                                      const std::string& instrument, Timestamp as_of) {
  if (!served.feature_set) {
    return FailedPrecondition("model '" + served.name +
                              "' was fitted without a feature set; give feature rows");
  }
  const Timestamp to =
      as_of == Timestamp::Max() ? as_of : as_of + 1;  // ComputeStoredFeatures: ts < to
  const std::string timeframe = served.loaded.manifest.details.value("timeframe", "");
  VIGIL_ASSIGN_OR_RETURN(StoredFeatures stored,
                         ComputeStoredFeatures(store, instrument, *served.feature_set, timeframe,
                                               Timestamp::Min(), to));
  const Frame& table = stored.table;
  if (table.empty()) {
    return NotFound("instrument '" + instrument + "' has no data at or before " + as_of.ToIso());
  }
  const int64_t last = table.rows() - 1;
  FeatureRowAt row{table.time(last), FeatureMatrix{served.features(), 1, {}}};
  for (const std::string& feature : served.features()) {
    VIGIL_ASSIGN_OR_RETURN(std::span<const double> column, table.DoubleColumn(feature));
    if (!std::isfinite(column[last])) {
      return FailedPrecondition("feature '" + feature + "' of " + instrument +
                                " is still undefined at " + row.ts.ToIso() +
                                " (not enough data yet)");
    }
    row.x.values.push_back(column[last]);
  }
  return row;
}

std::vector<Route> PredictRoutes() {
  return {{"POST", R"(/v1/predict/([^/]+))", "/v1/predict/{model}", false, Predict}};
}

}  // namespace vigil::serve_internal
