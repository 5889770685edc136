// A registered model's signals over stored data (walk_forward.h, ScoreRegisteredModel): its
// built-in feature set recomputed, checked against the manifest, and scored row by row.
#include "vigil/features/spec.h"
#include "walk_forward_internal.h"

namespace vigil {

Result<RegisteredSignals> ScoreRegisteredModel(const ModelRegistry& registry,
                                               std::string_view reference, Store& store,
                                               const std::vector<std::string>& instruments,
                                               const std::string& timeframe) {
  VIGIL_ASSIGN_OR_RETURN(LoadedModel loaded, registry.Load(reference));
  const ManifestFeatureSet& wanted = loaded.manifest.feature_set;
  Result<FeatureSetSpec> spec = BuiltinFeatureSet(wanted.name);
  if (!spec.ok())
    return FailedPrecondition(std::string(reference) + ": its feature set '" + wanted.name +
                              "' is not a built-in set, so the backtest cannot recompute it");
  VIGIL_RETURN_IF_ERROR(CheckFeatures(loaded.manifest, spec->SpecHashHex(), spec->Columns())
                            .WithContext(std::string(reference)));
  TrainingConfig config;
  config.features = std::move(*spec);
  config.timeframe = timeframe;
  RegisteredSignals out;
  Timestamp first = Timestamp::Max();
  for (const std::string& instrument : instruments) {
    Result<backtest_internal::FeatureRows> rows =
        backtest_internal::ComputeFeatureRows(config, store, instrument);
    if (!rows.ok()) return rows.status().WithContext(instrument);
    VIGIL_ASSIGN_OR_RETURN(std::vector<double> values,
                           backtest_internal::PredictSignal(*loaded.model, rows->x));
    ModelSignals signals;
    signals.instrument = instrument;
    for (size_t r = 0; r < values.size(); ++r) {
      signals.time.emplace_back(rows->ts[r]);
      signals.value.push_back(values[r]);
      signals.disagreement.push_back(0.0);
      signals.window.push_back(-1);
    }
    if (!signals.time.empty()) first = std::min(first, signals.time.front());
    out.signals.push_back(std::move(signals));
  }
  const ManifestTrainingData& trained = loaded.manifest.training_data;
  if (first <= trained.to)
    out.overlap_note = std::string(reference) + " was trained on " + trained.from.ToIso() + " .. " +
                       trained.to.ToIso() +
                       ": signals from then on are in-sample, not a fair backtest";
  out.manifest = std::move(loaded.manifest);
  return out;
}

}  // namespace vigil
