#include "vigil/features/engine.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <thread>

#include "vigil/core/timestamp.h"
#include "vigil/features/catalogue.h"

namespace vigil {

struct FeatureEngine::Bound {
  std::unique_ptr<EventKernel> kernel;
  size_t offset = 0;  // first output column
  size_t width = 0;
  std::vector<std::pair<int, int>> reads;  // (stream, kernel input)
  // The bar kernel of an adapted candles kernel whose only input is the driver: updated
  // straight into the row at each driver event (see EventKernel::bar_kernel()).
  FeatureKernel* fused = nullptr;
  std::vector<bool> observed;  // per kernel input: an event since Create / Reset
  size_t unobserved = 0;       // inputs still without an event

  void Observe(int input, const Event& event) {
    kernel->Observe(input, event);
    if (!observed[input]) {
      observed[input] = true;
      --unobserved;
    }
  }
  void ForgetInputs() {
    std::fill(observed.begin(), observed.end(), false);
    unobserved = observed.size();
  }
  // A kernel with an input that has delivered nothing would report, e.g., a liquidation
  // count of 0 for data that may not exist at all: its columns stay NaN until every input
  // has had an event. Emit is not called meanwhile, so lagged copies start at its first
  // real row.
  void Emit(const Event& driver_event, std::span<double> row) {
    const std::span<double> out = row.subspan(offset, width);
    if (fused != nullptr) {
      fused->Update(BarFromEvent(driver_event), out);
      return;
    }
    const int64_t now = driver_event.ts;
    if (unobserved > 0) {
      std::fill(out.begin(), out.end(), std::numeric_limits<double>::quiet_NaN());
      return;
    }
    kernel->Emit(now, out);
  }
};

FeatureEngine::FeatureEngine(FeatureEngine&&) noexcept = default;
FeatureEngine& FeatureEngine::operator=(FeatureEngine&&) noexcept = default;
FeatureEngine::~FeatureEngine() = default;

namespace {

std::string Where(const FeatureSetSpec& spec, const FeatureEntry& entry) {
  return spec.source + ":" + std::to_string(entry.line) + ": feature '" + entry.feature + "': ";
}

// The kernel of one (entry, timeframe): catalogue kernel, resampled, lagged.
Result<std::unique_ptr<EventKernel>> BuildKernel(const FeatureSetSpec& spec,
                                                 const FeatureEntry& entry,
                                                 const std::string& timeframe,
                                                 const EngineOptions& options) {
  Result<std::unique_ptr<EventKernel>> kernel = MakeEntryKernel(entry);
  if (!kernel.ok()) return InvalidArgument(Where(spec, entry) + kernel.status().message());
  std::unique_ptr<EventKernel> built = std::move(*kernel);
  if (!timeframe.empty()) {
    if (options.base_step_ns <= 0) {
      return InvalidArgument(Where(spec, entry) + "timeframe " + timeframe +
                             " needs the base candle timeframe, which is unknown");
    }
    VIGIL_ASSIGN_OR_RETURN(int64_t target, ParseDuration(timeframe));
    Result<std::unique_ptr<EventKernel>> resampled =
        MakeResampledKernel(std::move(built), options.base_step_ns, target);
    if (!resampled.ok()) {
      return InvalidArgument(Where(spec, entry) + "timeframe " + timeframe + ": " +
                             resampled.status().message());
    }
    built = std::move(*resampled);
  }
  if (!entry.shifts.empty()) built = MakeLaggedKernel(std::move(built), entry.shifts);
  return built;
}

}  // namespace

Result<FeatureEngine> FeatureEngine::Create(const FeatureSetSpec& spec,
                                            const EngineOptions& options) {
  FeatureEngine engine;
  engine.set_name_ = spec.name;
  engine.spec_hash_ = spec.SpecHash();
  engine.streams_.push_back(StreamKey{"", spec.driver});
  auto stream_of = [&](const StreamKey& key) {
    auto found = std::find(engine.streams_.begin(), engine.streams_.end(), key);
    if (found != engine.streams_.end()) return static_cast<int>(found - engine.streams_.begin());
    engine.streams_.push_back(key);
    engine.routes_.emplace_back();
    return static_cast<int>(engine.streams_.size()) - 1;
  };
  engine.routes_.emplace_back();
  for (const FeatureEntry& entry : spec.entries) {
    const std::vector<std::string> timeframes =
        entry.timeframes.empty() ? std::vector<std::string>{""} : entry.timeframes;
    for (const std::string& instrument : entry.instruments) {
      for (const std::string& timeframe : timeframes) {
        VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<EventKernel> kernel,
                               BuildKernel(spec, entry, timeframe, options));
        const int index = static_cast<int>(engine.kernels_.size());
        const auto inputs = kernel->inputs();
        Bound bound;
        for (size_t i = 0; i < inputs.size(); ++i) {
          const std::string& on = inputs[i].instrument.empty() ? instrument : inputs[i].instrument;
          bound.reads.emplace_back(stream_of(StreamKey{on, inputs[i].kind}), static_cast<int>(i));
        }
        const bool driver_only = bound.reads.size() == 1 && bound.reads[0].first == 0;
        bound.fused =
            driver_only && spec.driver == DataKind::kCandles ? kernel->bar_kernel() : nullptr;
        if (bound.fused == nullptr) {
          for (const auto& [stream, input] : bound.reads) {
            engine.routes_[stream].emplace_back(index, input);
          }
        }
        bound.observed.assign(inputs.size(), false);
        bound.unobserved = inputs.size();
        const std::string at = instrument.empty() ? "" : "@" + instrument;
        bound.offset = engine.columns_.size();
        bound.width = kernel->output_names().size();
        for (const std::string& name : kernel->output_names()) engine.columns_.push_back(name + at);
        bound.kernel = std::move(kernel);
        engine.kernels_.push_back(std::move(bound));
      }
    }
  }
  return engine;
}

bool FeatureEngine::Push(int stream, const Event& event, std::span<double> row) {
  for (const auto& [kernel, input] : routes_[stream]) kernels_[kernel].Observe(input, event);
  if (stream != 0) return false;
  for (Bound& bound : kernels_) bound.Emit(event, row);
  return true;
}

void FeatureEngine::Reset() {
  for (Bound& bound : kernels_) {
    bound.kernel->Reset();
    bound.ForgetInputs();
  }
}

size_t FeatureEngine::num_kernels() const { return kernels_.size(); }
size_t FeatureEngine::offset(size_t k) const { return kernels_[k].offset; }
size_t FeatureEngine::width(size_t k) const { return kernels_[k].width; }

void FeatureEngine::ObserveKernel(size_t k, int stream, const Event& event) {
  if (kernels_[k].fused != nullptr) return;  // updated in EmitKernel
  for (const auto& [s, input] : kernels_[k].reads) {
    if (s == stream) kernels_[k].Observe(input, event);
  }
}

void FeatureEngine::EmitKernel(size_t k, const Event& driver_event, std::span<double> row) {
  kernels_[k].Emit(driver_event, row);
}

namespace {

Status CheckStreams(const FeatureEngine& engine, std::span<const EventStream* const> streams) {
  const auto& keys = engine.streams();
  if (streams.size() != keys.size()) {
    return InvalidArgument("feature set '" + engine.set_name() + "' reads " +
                           std::to_string(keys.size()) + " streams, got " +
                           std::to_string(streams.size()));
  }
  for (size_t i = 0; i < streams.size(); ++i) {
    if (streams[i] == nullptr || streams[i]->size() == 0) continue;
    if (streams[i]->kind() != keys[i].kind) {
      return InvalidArgument("stream " + std::to_string(i) + " of feature set '" +
                             engine.set_name() + "' must hold " +
                             std::string(KindName(keys[i].kind)) + " events, not " +
                             std::string(KindName(streams[i]->kind())));
    }
    const auto events = streams[i]->events();
    for (size_t e = 1; e < events.size(); ++e) {
      if (events[e].ts < events[e - 1].ts) {
        return InvalidArgument(std::string(KindName(keys[i].kind)) +
                               " events are not in time order at event " + std::to_string(e));
      }
    }
  }
  return Status::Ok();
}

// The merged observation order: (stream, event index), earliest first; at equal ts the
// non-driver streams (lowest index first) before the driver.
std::vector<std::pair<int, size_t>> MergeOrder(std::span<const EventStream* const> streams) {
  std::vector<std::pair<int, size_t>> order;
  std::vector<size_t> next(streams.size(), 0);
  size_t total = 0;
  for (const EventStream* s : streams) total += s == nullptr ? 0 : s->size();
  order.reserve(total);
  auto remaining = [&](size_t i) { return streams[i] != nullptr && next[i] < streams[i]->size(); };
  if (streams.size() == 1) {
    for (size_t e = 0; remaining(0); ++e, ++next[0]) order.emplace_back(0, e);
    return order;
  }
  while (true) {
    int best = -1;
    int64_t best_ts = 0;
    for (size_t i = 1; i <= streams.size(); ++i) {
      const size_t s = i % streams.size();
      if (!remaining(s)) continue;
      const int64_t ts = streams[s]->events()[next[s]].ts;
      if (best < 0 || ts < best_ts) {
        best = static_cast<int>(s);
        best_ts = ts;
      }
    }
    if (best < 0) break;
    order.emplace_back(best, next[best]++);
  }
  return order;
}

// Runs kernel k over the whole merged sequence, writing its columns.
void RunKernel(FeatureEngine& engine, size_t k, std::span<const EventStream* const> streams,
               const std::vector<std::pair<int, size_t>>& order,
               std::vector<std::vector<double>>& columns) {
  const size_t offset = engine.offset(k);
  const size_t width = engine.width(k);
  std::vector<double> row(offset + width);
  for (const auto& [stream, index] : order) {
    const Event& event = streams[stream]->events()[index];
    engine.ObserveKernel(k, stream, event);
    if (stream != 0) continue;
    engine.EmitKernel(k, event, row);
    for (size_t c = 0; c < width; ++c) columns[offset + c].push_back(row[offset + c]);
  }
}

// One thread: the streaming path itself, row by row.
void RunRows(FeatureEngine& engine, std::span<const EventStream* const> streams,
             const std::vector<std::pair<int, size_t>>& order,
             std::vector<std::vector<double>>& columns) {
  std::vector<double> row(columns.size());
  for (const auto& [stream, index] : order) {
    if (!engine.Push(stream, streams[stream]->events()[index], row)) continue;
    for (size_t c = 0; c < row.size(); ++c) columns[c].push_back(row[c]);
  }
}

}  // namespace

Result<Frame> ComputeFeatures(FeatureEngine& engine, std::span<const EventStream* const> streams,
                              const ComputeOptions& options) {
  VIGIL_RETURN_IF_ERROR(CheckStreams(engine, streams));
  const std::vector<std::pair<int, size_t>> order = MergeOrder(streams);
  const size_t rows = streams[0] == nullptr ? 0 : streams[0]->size();
  // Reserved, not zero-filled: every row is written once, in order.
  std::vector<std::vector<double>> columns(engine.columns().size());
  for (std::vector<double>& column : columns) column.reserve(rows);
  const size_t kernels = engine.num_kernels();
  size_t threads = options.threads > 0 ? static_cast<size_t>(options.threads)
                                       : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, kernels);
  if (threads <= 1) {
    RunRows(engine, streams, order, columns);
  } else {
    // Kernels are independent objects; each thread takes the next unclaimed one.
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        for (size_t k = next++; k < kernels; k = next++)
          RunKernel(engine, k, streams, order, columns);
      });
    }
    for (std::thread& thread : pool) thread.join();
  }
  std::vector<ColumnSpec> specs;
  for (const std::string& name : engine.columns()) specs.push_back({name});
  Frame out(specs);
  std::vector<int64_t>& ts = out.mutable_timestamps();
  ts.reserve(rows);
  for (size_t e = 0; e < rows; ++e) ts.push_back(streams[0]->events()[e].ts);
  for (size_t c = 0; c < columns.size(); ++c) out.MutableDoublesAt(c) = std::move(columns[c]);
  return out;
}

}  // namespace vigil
