#include "vigil/features/feature_store.h"

#include <bit>
#include <optional>
#include <set>

namespace vigil {
namespace {

int64_t StoredVersion(const FeatureSetSpec& spec) {
  return std::bit_cast<int64_t>(spec.SpecHash());
}

// The smallest candle timeframe stored for `instrument`, if any.
Result<std::optional<std::string>> SmallestTimeframe(Store& store, const Instrument& instrument) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<SeriesKey> series, store.ListSeries());
  std::optional<std::string> best;
  int64_t best_step = 0;
  for (const SeriesKey& key : series) {
    if (key.instrument != instrument || key.kind != DataKind::kCandles) continue;
    Result<int64_t> step = ParseDuration(key.timeframe);
    if (!step.ok()) continue;
    if (!best || *step < best_step) {
      best = key.timeframe;
      best_step = *step;
    }
  }
  return best;
}

}  // namespace

std::vector<const EventStream*> LoadedStreams::pointers() const {
  std::vector<const EventStream*> out;
  for (const EventStream& stream : streams) out.push_back(&stream);
  return out;
}

Result<LoadedStreams> LoadStreams(Store& store, const std::string& instrument,
                                  std::span<const StreamKey> keys,
                                  const std::string& candle_timeframe, Timestamp to) {
  VIGIL_ASSIGN_OR_RETURN(Instrument self, Instrument::Parse(instrument));
  LoadedStreams loaded;
  loaded.candle_timeframe = candle_timeframe;
  if (loaded.candle_timeframe.empty()) {
    VIGIL_ASSIGN_OR_RETURN(std::optional<std::string> smallest, SmallestTimeframe(store, self));
    if (smallest) loaded.candle_timeframe = *smallest;
  }
  if (!loaded.candle_timeframe.empty()) {
    VIGIL_ASSIGN_OR_RETURN(loaded.candle_step_ns, ParseDuration(loaded.candle_timeframe));
  }
  for (const StreamKey& key : keys) {
    SeriesKey series;
    if (key.instrument.empty()) {
      series.instrument = self;
    } else {
      VIGIL_ASSIGN_OR_RETURN(series.instrument, Instrument::Parse(key.instrument));
    }
    series.kind = key.kind;
    if (key.kind == DataKind::kCandles) series.timeframe = loaded.candle_timeframe;
    VIGIL_ASSIGN_OR_RETURN(Frame frame, store.Query(series, Timestamp::Min(), to));
    VIGIL_ASSIGN_OR_RETURN(EventStream stream, EventStream::FromFrame(key.kind, frame));
    loaded.streams.push_back(std::move(stream));
  }
  return loaded;
}

Result<StoredFeatures> ComputeStoredFeatures(Store& store, const std::string& instrument,
                                             const FeatureSetSpec& spec,
                                             const std::string& candle_timeframe, Timestamp from,
                                             Timestamp to, const ComputeOptions& options) {
  // The engine's streams do not depend on the base step; build once to learn them, then
  // again with the step of the candles actually loaded.
  VIGIL_ASSIGN_OR_RETURN(FeatureEngine probe, FeatureEngine::Create(spec, {.base_step_ns = 1}));
  StoredFeatures out;
  VIGIL_ASSIGN_OR_RETURN(out.inputs,
                         LoadStreams(store, instrument, probe.streams(), candle_timeframe, to));
  if (out.inputs.streams[0].size() == 0) {
    return NotFound("no " + std::string(KindName(spec.driver)) + " stored for " + instrument +
                    (candle_timeframe.empty() ? "" : " at timeframe " + candle_timeframe) +
                    " (see `vigil data summary`)");
  }
  VIGIL_ASSIGN_OR_RETURN(FeatureEngine engine,
                         FeatureEngine::Create(spec, {.base_step_ns = out.inputs.candle_step_ns}));
  VIGIL_ASSIGN_OR_RETURN(Frame all, ComputeFeatures(engine, out.inputs.pointers(), options));
  const FrameView window = all.Slice(from, to);
  out.first_event = static_cast<size_t>(window.begin_row());
  if (window.begin_row() == 0 && window.rows() == all.rows()) {
    out.table = std::move(all);
  } else {
    out.table = window.ToFrame();
  }
  return out;
}

Result<int64_t> SaveFeatures(Store& store, const std::string& instrument,
                             const FeatureSetSpec& spec, const Frame& features,
                             Timestamp computed_at) {
  FeatureValues values;
  values.instrument = instrument;
  values.feature_set = spec.name;
  values.version = StoredVersion(spec);
  values.frame = &features;
  values.computed_at = computed_at;
  return store.WriteFeatureValues(values);
}

Result<Frame> LoadFeatures(Store& store, const std::string& instrument, const FeatureSetSpec& spec,
                           Timestamp from, Timestamp to) {
  const std::vector<std::string> columns = spec.Columns();
  return store.ReadFeatureValues(instrument, spec.name, StoredVersion(spec), columns, from, to);
}

Result<std::vector<std::string>> InstrumentsWithData(Store& store, DataKind kind) {
  VIGIL_ASSIGN_OR_RETURN(std::vector<SeriesKey> series, store.ListSeries());
  std::set<std::string> instruments;
  for (const SeriesKey& key : series) {
    if (key.kind == kind) instruments.insert(key.instrument.ToString());
  }
  return std::vector<std::string>(instruments.begin(), instruments.end());
}

}  // namespace vigil
