// The live runner's feature engines: one per (instrument, feature set) a served model
// reads, created on the instrument's first event, and fed the events of one timestamp in
// the engine's batch order so that live rows equal the batch path bit for bit.
#include <algorithm>
#include <cstdint>
#include <tuple>

#include "serve/live_runner_internal.h"
#include "vigil/core/logging.h"

namespace vigil {
namespace {

using live_runner_internal::HeldEvent;

HeldEvent Hold(const SourceEvent& source, int stream, Timestamp arrived) {
  const Event& e = source.event;
  HeldEvent held{stream, e.kind, e.ts, arrived, {e.values.begin(), e.values.end()}};
  if (e.book != nullptr) {
    held.has_book = true;
    held.bid_price.assign(e.book->bid_price.begin(), e.book->bid_price.end());
    held.bid_size.assign(e.book->bid_size.begin(), e.book->bid_size.end());
    held.ask_price.assign(e.book->ask_price.begin(), e.book->ask_price.end());
    held.ask_size.assign(e.book->ask_size.begin(), e.book->ask_size.end());
  }
  return held;
}

// The source's order at equal timestamps (source.h): non-candle kinds first in DataKind
// order, then candles, each series in instrument order.
std::tuple<bool, int, std::string> SourceRank(DataKind kind, const std::string& instrument) {
  return {kind == DataKind::kCandles, static_cast<int>(kind), instrument};
}

}  // namespace

void LiveRunner::Impl::RebuildGroups() {
  groups.clear();
  for (const std::string& name : deps.models->Names()) {
    std::shared_ptr<const ServedModel> model = deps.models->Get(name);
    if (model == nullptr || !model->feature_set) continue;  // served for request rows only
    const uint64_t hash = model->feature_set->SpecHash();
    FeatureSetGroup& group = groups[hash];
    if (group.models.empty()) group.spec = *model->feature_set;
    const std::vector<std::string> columns = group.spec.Columns();
    ModelBinding binding{model, {}, false};
    for (const std::string& feature : model->features()) {
      const auto found = std::find(columns.begin(), columns.end(), feature);
      if (found == columns.end()) break;
      binding.columns.push_back(static_cast<size_t>(found - columns.begin()));
    }
    if (binding.columns.size() != model->features().size()) {
      VIGIL_LOG_ERROR("model {} v{}: features missing from feature set {}; not scored live", name,
                      model->version, group.spec.name);
      continue;
    }
    group.models.push_back(std::move(binding));
  }
  groups_generation = deps.models->generation();
}

Status LiveRunner::Impl::CreateEngine(const std::string& instrument, const FeatureSetGroup& group,
                                      const SourceEvent& event) {
  EngineOptions options;
  const bool candle = event.event.kind == DataKind::kCandles && !event.timeframe.empty();
  if (candle) {
    VIGIL_ASSIGN_OR_RETURN(options.base_step_ns, ParseDuration(event.timeframe));
  }
  VIGIL_ASSIGN_OR_RETURN(FeatureEngine engine, FeatureEngine::Create(group.spec, options));
  auto live = std::make_unique<LiveEngine>(std::move(engine));
  live->instrument = instrument;
  live->spec_hash = group.spec.SpecHash();
  live->timeframe = candle ? event.timeframe : "";
  live->row.assign(live->engine.columns().size(), 0.0);
  const std::vector<StreamKey>& streams = live->engine.streams();
  std::tuple<bool, int, std::string> last{false, -1, ""};
  for (size_t s = 0; s < streams.size(); ++s) {
    const std::string on = streams[s].instrument.empty() ? instrument : streams[s].instrument;
    routes[{on, streams[s].kind}].emplace_back(live.get(), static_cast<int>(s));
    const auto rank = SourceRank(streams[s].kind, on);
    if (s == 0 || rank > last) {
      last = rank;
      live->completing_stream = streams[s].kind == DataKind::kCandles ? static_cast<int>(s) : -1;
    }
  }
  engines[{instrument, live->spec_hash}] = std::move(live);
  return Status::Ok();
}

void LiveRunner::Impl::EnsureEngines(const SourceEvent& event) {
  for (const auto& [hash, group] : groups) {
    if (group.models.empty() || engines.count({event.instrument, hash}) > 0) continue;
    // A failed creation (e.g. a set with timeframes seen first through a non-candle event)
    // is retried on the instrument's next event.
    if (Status created = CreateEngine(event.instrument, group, event); !created.ok()) {
      VIGIL_LOG_DEBUG("feature set {} on {}: {}", group.spec.name, event.instrument,
                      created.message());
    }
  }
}

void LiveRunner::Impl::Route(LiveEngine& engine, int stream, const SourceEvent& event,
                             Timestamp arrived) {
  if (event.event.kind == DataKind::kCandles) {
    if (engine.timeframe.empty()) engine.timeframe = event.timeframe;
    if (event.timeframe != engine.timeframe) return;  // another timeframe of the series
  }
  const bool alone = engine.engine.streams().size() == 1;
  if (alone) {  // nothing to order it against: straight in
    if (engine.engine.Push(stream, event.event, engine.row)) Score(engine, event.event.ts, arrived);
    return;
  }
  if (engine.held.empty()) with_held.push_back(&engine);
  engine.held.push_back(Hold(event, stream, arrived));
  if (stream == engine.completing_stream) Feed(engine);
}

// Feeds the held events in the batch order: non-driver streams by index, then the driver.
void LiveRunner::Impl::Feed(LiveEngine& engine) {
  std::stable_sort(
      engine.held.begin(), engine.held.end(), [](const HeldEvent& a, const HeldEvent& b) {
        return (a.stream == 0 ? INT32_MAX : a.stream) < (b.stream == 0 ? INT32_MAX : b.stream);
      });
  for (const HeldEvent& held : engine.held) {
    const BookView book{held.bid_price, held.bid_size, held.ask_price, held.ask_size};
    const Event event{held.kind, held.ts, held.values, held.has_book ? &book : nullptr};
    if (engine.engine.Push(held.stream, event, engine.row)) Score(engine, held.ts, held.arrived);
  }
  engine.held.clear();
}

void LiveRunner::Impl::FeedAll() {
  for (LiveEngine* engine : with_held) {
    if (!engine->held.empty()) Feed(*engine);
  }
  with_held.clear();
}

}  // namespace vigil
