// The explanation reads: GET /v1/features/importance?model=NAME and
// GET /v1/features/shap/{instrument}?model=NAME[&timestamp=ISO].
//
// Importance: what the training job recorded in the manifest (details.importance, which
// adds held-out mean |SHAP| and permutation importance to the model's own) when present,
// else the loaded model's own ExplainableModel::Importance, each method's features sorted
// by value, largest first. SHAP: the model's exact attributions (TreeSHAP / linear SHAP) of
// the stored feature row at or before the time asked for, one entry per model output (a
// multi-horizon model has one per horizon), with each feature's value and contribution,
// the bias and the margin (bias + contributions = the model's raw margin).
// Answers:
//   importance  {model, version, source: "manifest" | "model", methods: {NAME: [{feature,
//               value}]}, rows?}
//   shap        {instrument, model, version, as_of, outputs: [{output, bias, margin,
//               features: [{feature, value, contribution}]}]} (+ bias, margin, features
//               flat for single-output models)
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "serve/api_internal.h"
#include "vigil/models/model.h"
#include "vigil/models/multi_horizon.h"
#include "vigil/registry/registry.h"

namespace vigil::serve_internal {
namespace {

// The served model named by ?model=: 400 when absent or malformed, 404 when not served,
// 409 when it cannot explain itself.
Result<std::shared_ptr<const ServedModel>> ExplainedModel(const httplib::Request& request,
                                                          const ApiContext& context) {
  if (!request.has_param("model")) return InvalidArgument("model: required");
  const std::string name = request.get_param_value("model");
  VIGIL_RETURN_IF_ERROR(ValidateModelName(name).WithContext("model"));
  VIGIL_ASSIGN_OR_RETURN(std::shared_ptr<const ServedModel> served, ServedSnapshot(context, name));
  if (AsExplainable(&served->model()) == nullptr) {
    return FailedPrecondition("model '" + name + "' (kind " + std::string(served->model().kind()) +
                              ") cannot explain its predictions");
  }
  return served;
}

// --- importance ---

nlohmann::json SortedImportance(const std::vector<std::string>& features,
                                const std::vector<double>& values) {
  std::vector<size_t> order(std::min(features.size(), values.size()));
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a] > values[b]; });
  nlohmann::json out = nlohmann::json::array();
  for (size_t feature : order) {
    out.push_back({{"feature", features[feature]}, {"value", values[feature]}});
  }
  return out;
}

// details.importance when the training job recorded at least one method.
const nlohmann::json* RecordedImportance(const Manifest& manifest) {
  const auto importance = manifest.details.find("importance");
  if (importance == manifest.details.end() || !importance->is_object()) return nullptr;
  const auto methods = importance->find("methods");
  if (methods == importance->end() || !methods->is_object() || methods->empty()) return nullptr;
  return &*importance;
}

Result<nlohmann::json> ImportanceAnswer(const ServedModel& served) {
  nlohmann::json body = {{"model", served.name}, {"version", served.version}};
  if (const nlohmann::json* recorded = RecordedImportance(served.loaded.manifest)) {
    body["source"] = "manifest";
    body["methods"] = (*recorded)["methods"];
    if (recorded->contains("rows")) body["rows"] = (*recorded)["rows"];
    return body;
  }
  VIGIL_ASSIGN_OR_RETURN(FeatureImportance importance,
                         AsExplainable(&served.model())->Importance());
  body["source"] = "model";
  body["methods"] = nlohmann::json::object();
  for (const auto& [method, values] : importance.by_method) {
    body["methods"][method] = SortedImportance(importance.features, values);
  }
  return body;
}

ApiResponse HandleImportance(const httplib::Request& request, ApiContext& context) {
  if (Status known = CheckQueryParams(request, {"model"}); !known.ok()) {
    return StatusResponse(known, "importance");
  }
  Result<std::shared_ptr<const ServedModel>> served = ExplainedModel(request, context);
  if (!served.ok()) return StatusResponse(served.status(), "importance");
  Result<nlohmann::json> body = ImportanceAnswer(**served);
  return AnswerResponse(body, "importance");
}

// --- SHAP ---

// The name of output k: the horizon of a multi-horizon model, else the class index.
std::string OutputName(const Model& model, int output) {
  if (const auto* multi = dynamic_cast<const MultiHorizonClassifier*>(&model)) {
    return FormatDuration(multi->horizons_ns()[output]);
  }
  return std::to_string(output);
}

// One output's attributions of row 0, features by |contribution|, largest first.
nlohmann::json OutputJson(const Attributions& shap, const FeatureMatrix& x, int output,
                          double margin, const std::string& name) {
  std::vector<size_t> order(shap.features.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return std::abs(shap.at(0, output, a)) > std::abs(shap.at(0, output, b));
  });
  nlohmann::json features = nlohmann::json::array();
  for (size_t feature : order) {
    const auto column = std::find(x.columns.begin(), x.columns.end(), shap.features[feature]);
    const double value =
        column == x.columns.end() ? std::nan("") : x.at(0, column - x.columns.begin());
    features.push_back({{"feature", shap.features[feature]},
                        {"value", value},
                        {"contribution", shap.at(0, output, feature)}});
  }
  return {{"output", name},
          {"bias", shap.at(0, output, shap.features.size())},
          {"margin", margin},
          {"features", std::move(features)}};
}

Result<nlohmann::json> ShapAnswer(ApiContext& context, const ServedModel& served,
                                  const std::string& instrument, Timestamp as_of) {
  VIGIL_ASSIGN_OR_RETURN(StorePool::Lease store, context.store().Acquire());
  VIGIL_ASSIGN_OR_RETURN(FeatureRowAt row, StoredFeatureRow(*store, served, instrument, as_of));
  const ExplainableModel& explainable = *AsExplainable(&served.model());
  VIGIL_ASSIGN_OR_RETURN(Attributions shap, explainable.Shap(row.x));
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> margins, explainable.RawMargin(row.x));
  nlohmann::json outputs = nlohmann::json::array();
  for (int output = 0; output < shap.outputs; ++output) {
    outputs.push_back(
        OutputJson(shap, row.x, output, margins[output], OutputName(served.model(), output)));
  }
  nlohmann::json body = {{"instrument", instrument},
                         {"model", served.name},
                         {"version", served.version},
                         {"as_of", row.ts.ToIso()},
                         {"outputs", std::move(outputs)}};
  // Single-output models (binary classifiers, regressors) also answer flat.
  if (shap.outputs == 1) {
    for (const char* key : {"bias", "margin", "features"}) body[key] = body["outputs"][0][key];
  }
  return body;
}

ApiResponse HandleShap(const httplib::Request& request, ApiContext& context) {
  if (Status known = CheckQueryParams(request, {"model", "timestamp"}); !known.ok()) {
    return StatusResponse(known, "shap");
  }
  Result<std::string> instrument = InstrumentParam(request, 1);
  if (!instrument.ok()) return StatusResponse(instrument.status(), "shap");
  Result<std::optional<Timestamp>> as_of = TimeQuery(request, "timestamp");
  if (!as_of.ok()) return StatusResponse(as_of.status(), "shap");
  Result<std::shared_ptr<const ServedModel>> served = ExplainedModel(request, context);
  if (!served.ok()) return StatusResponse(served.status(), "shap");
  Result<nlohmann::json> body =
      ShapAnswer(context, **served, *instrument, as_of->value_or(Timestamp::Max()));
  return AnswerResponse(body, "shap " + *instrument);
}

}  // namespace

std::vector<Route> FeatureRoutes() {
  return {
      {"GET", R"(/v1/features/importance)", "/v1/features/importance", false, HandleImportance},
      {"GET", R"(/v1/features/shap/([^/]+))", "/v1/features/shap/{instrument}", false, HandleShap},
  };
}

}  // namespace vigil::serve_internal
