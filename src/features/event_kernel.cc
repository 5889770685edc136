#include "vigil/features/event_kernel.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include "vigil/core/timestamp.h"
#include "vigil/features/resample.h"

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const KernelInput kCandleInput[] = {{DataKind::kCandles, ""}};

// A bar kernel seen as an event kernel: it updates on each candle and emits the values
// of its latest update.
class BarKernelAdapter final : public EventKernel {
 public:
  explicit BarKernelAdapter(std::unique_ptr<FeatureKernel> inner)
      : inner_(std::move(inner)), latest_(inner_->output_names().size(), kNaN) {}

  std::span<const KernelInput> inputs() const override { return kCandleInput; }
  const std::vector<std::string>& output_names() const override { return inner_->output_names(); }
  void Observe(int /*input*/, const Event& event) override {
    inner_->Update(BarFromEvent(event), latest_);
  }
  void Emit(int64_t /*now*/, std::span<double> out) override {
    std::copy(latest_.begin(), latest_.end(), out.begin());
  }
  void Reset() override {
    inner_->Reset();
    std::fill(latest_.begin(), latest_.end(), kNaN);
  }
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<BarKernelAdapter>(inner_->Clone());
  }
  FeatureKernel* bar_kernel() override { return inner_.get(); }

 private:
  std::unique_ptr<FeatureKernel> inner_;
  std::vector<double> latest_;
};

// A bar kernel over one field of another kind's events.
class FieldKernel final : public EventKernel {
 public:
  FieldKernel(std::unique_ptr<FeatureKernel> inner, DataKind kind, int field_index)
      : inner_(std::move(inner)),
        input_{{kind, ""}},
        field_index_(field_index),
        latest_(inner_->output_names().size(), kNaN) {
    const std::string suffix = "_" + std::string(SchemaOf(kind).fields[field_index].name);
    for (const std::string& name : inner_->output_names()) names_.push_back(name + suffix);
  }

  std::span<const KernelInput> inputs() const override { return input_; }
  const std::vector<std::string>& output_names() const override { return names_; }
  void Observe(int /*input*/, const Event& event) override {
    const double value = event.values[field_index_];
    if (std::isnan(value)) return;
    inner_->Update(Bar{event.ts, value, value, value, value, kNaN}, latest_);
  }
  void Emit(int64_t /*now*/, std::span<double> out) override {
    std::copy(latest_.begin(), latest_.end(), out.begin());
  }
  void Reset() override {
    inner_->Reset();
    std::fill(latest_.begin(), latest_.end(), kNaN);
  }
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<FieldKernel>(inner_->Clone(), input_[0].kind, field_index_);
  }

 private:
  std::unique_ptr<FeatureKernel> inner_;
  KernelInput input_[1];
  int field_index_;
  std::vector<std::string> names_;
  std::vector<double> latest_;
};

// Feeds the inner kernel higher-timeframe candles as they close (bar-close semantics).
class ResampledKernel final : public EventKernel {
 public:
  ResampledKernel(std::unique_ptr<EventKernel> inner, BarResampler resampler)
      : inner_(std::move(inner)), resampler_(std::move(resampler)) {
    const std::string suffix = "_" + FormatDuration(resampler_.target_step_ns());
    for (const std::string& name : inner_->output_names()) names_.push_back(name + suffix);
    values_.assign(SchemaOf(DataKind::kCandles).fields.size(), kNaN);
  }

  std::span<const KernelInput> inputs() const override { return inner_->inputs(); }
  const std::vector<std::string>& output_names() const override { return names_; }
  void Observe(int input, const Event& event) override {
    for (const ClosedBar& closed : resampler_.Update(BarFromEvent(event))) {
      values_[fields::kOpen] = closed.bar.open;
      values_[fields::kHigh] = closed.bar.high;
      values_[fields::kLow] = closed.bar.low;
      values_[fields::kClose] = closed.bar.close;
      values_[fields::kVolume] = closed.bar.volume;
      inner_->Observe(input, Event{DataKind::kCandles, closed.bar.ts, values_, nullptr});
    }
  }
  void Emit(int64_t now, std::span<double> out) override { inner_->Emit(now, out); }
  void Reset() override {
    inner_->Reset();
    resampler_.Reset();
  }
  std::unique_ptr<EventKernel> Clone() const override {
    auto resampler = BarResampler::Create(resampler_.source_step_ns(), resampler_.target_step_ns());
    return std::make_unique<ResampledKernel>(inner_->Clone(), std::move(*resampler));
  }

 private:
  std::unique_ptr<EventKernel> inner_;
  BarResampler resampler_;
  std::vector<std::string> names_;
  std::vector<double> values_;  // the closed bar as a candle event
};

// Emits the inner kernel's rows from k emits ago for each lag k.
class LaggedKernel final : public EventKernel {
 public:
  LaggedKernel(std::unique_ptr<EventKernel> inner, std::vector<int> lags)
      : inner_(std::move(inner)), lags_(std::move(lags)) {
    max_lag_ = *std::max_element(lags_.begin(), lags_.end());
    names_ = inner_->output_names();
    for (int lag : lags_) {
      for (const std::string& name : inner_->output_names()) {
        names_.push_back(name + "_lag" + std::to_string(lag));
      }
    }
    current_.resize(inner_->output_names().size());
    ring_.assign(static_cast<size_t>(max_lag_) + 1, current_);
  }

  std::span<const KernelInput> inputs() const override { return inner_->inputs(); }
  const std::vector<std::string>& output_names() const override { return names_; }
  void Observe(int input, const Event& event) override { inner_->Observe(input, event); }
  void Emit(int64_t now, std::span<double> out) override {
    const size_t width = current_.size();
    // ring_ holds the last max_lag_ + 1 rows; row r (0 = oldest kept) of `filled_`.
    head_ = (head_ + 1) % ring_.size();
    inner_->Emit(now, ring_[head_]);
    filled_ = std::min(filled_ + 1, ring_.size());
    std::copy(ring_[head_].begin(), ring_[head_].end(), out.begin());
    for (size_t i = 0; i < lags_.size(); ++i) {
      const size_t lag = static_cast<size_t>(lags_[i]);
      const std::vector<double>* past =
          lag < filled_ ? &ring_[(head_ + ring_.size() - lag) % ring_.size()] : nullptr;
      for (size_t c = 0; c < width; ++c) out[(i + 1) * width + c] = past ? (*past)[c] : kNaN;
    }
  }
  void Reset() override {
    inner_->Reset();
    filled_ = 0;
    head_ = 0;
  }
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<LaggedKernel>(inner_->Clone(), lags_);
  }

 private:
  std::unique_ptr<EventKernel> inner_;
  std::vector<int> lags_;
  int max_lag_ = 1;
  std::vector<std::string> names_;
  std::vector<double> current_;
  std::vector<std::vector<double>> ring_;
  size_t head_ = 0;
  size_t filled_ = 0;
};

}  // namespace

std::unique_ptr<EventKernel> AdaptBarKernel(std::unique_ptr<FeatureKernel> bar_kernel) {
  return std::make_unique<BarKernelAdapter>(std::move(bar_kernel));
}

Result<std::unique_ptr<EventKernel>> MakeResampledKernel(std::unique_ptr<EventKernel> inner,
                                                         int64_t source_step_ns,
                                                         int64_t target_step_ns) {
  for (const KernelInput& input : inner->inputs()) {
    if (input.kind != DataKind::kCandles || !input.instrument.empty()) {
      return InvalidArgument("timeframes apply only to features of the instrument's own candles");
    }
  }
  VIGIL_ASSIGN_OR_RETURN(BarResampler resampler,
                         BarResampler::Create(source_step_ns, target_step_ns));
  return std::unique_ptr<EventKernel>(
      std::make_unique<ResampledKernel>(std::move(inner), std::move(resampler)));
}

std::unique_ptr<EventKernel> MakeFieldKernel(std::unique_ptr<FeatureKernel> bar_kernel,
                                             DataKind kind, int field_index) {
  assert(field_index >= 0 && static_cast<size_t>(field_index) < SchemaOf(kind).fields.size() &&
         SchemaOf(kind).fields[field_index].type == ColumnType::kDouble);
  return std::make_unique<FieldKernel>(std::move(bar_kernel), kind, field_index);
}

std::unique_ptr<EventKernel> MakeLaggedKernel(std::unique_ptr<EventKernel> inner,
                                              std::vector<int> lags) {
  assert(!lags.empty());
  return std::make_unique<LaggedKernel>(std::move(inner), std::move(lags));
}

std::vector<std::vector<double>> RunOverInputs(const EventKernel& kernel,
                                               std::span<const EventStream* const> inputs) {
  assert(inputs.size() == kernel.inputs().size());
  std::unique_ptr<EventKernel> fresh = kernel.Clone();
  std::vector<std::vector<double>> rows;
  std::vector<size_t> next(inputs.size(), 0);
  auto size_of = [&](size_t i) { return inputs[i] == nullptr ? 0 : inputs[i]->size(); };
  while (true) {
    // The input whose next event comes first; at equal ts inputs 1.. (lowest first)
    // before the driver input 0, as the engine orders streams.
    int best = -1;
    int64_t best_ts = 0;
    for (size_t step = 1; step <= inputs.size(); ++step) {
      const size_t i = step % inputs.size();
      if (next[i] >= size_of(i)) continue;
      const int64_t ts = inputs[i]->events()[next[i]].ts;
      if (best < 0 || ts < best_ts) {
        best = static_cast<int>(i);
        best_ts = ts;
      }
    }
    if (best < 0) break;
    const Event& event = inputs[best]->events()[next[best]++];
    fresh->Observe(best, event);
    if (best == 0) {
      rows.emplace_back(kernel.output_names().size());
      fresh->Emit(event.ts, rows.back());
    }
  }
  return rows;
}

std::vector<std::vector<double>> RunOverStream(const EventKernel& kernel,
                                               const EventStream& stream) {
  const EventStream* inputs[] = {&stream};
  return RunOverInputs(kernel, inputs);
}

}  // namespace vigil
