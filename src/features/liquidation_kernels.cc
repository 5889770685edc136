// Liquidation kernels (micro.h): counts, notionals, cascades and the long share of forced
// closes over a trailing time window.
#include <cassert>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "vigil/core/timestamp.h"
#include "vigil/features/micro.h"
#include "window.h"

namespace vigil {
namespace {

using features_internal::FieldOrNaN;
using features_internal::kNaN;
using features_internal::Quantity;
using features_internal::SideOf;
using features_internal::TimeWindowSums;

std::span<const KernelInput> LiquidationInput() {
  static const KernelInput kInput[] = {{DataKind::kLiquidations, ""}};
  return kInput;
}

// The liquidated notional: the venue's figure, else price * qty (some feeds give only the
// fill), else 0.
double NotionalOf(const Event& event) {
  const double notional = FieldOrNaN(event, fields::kLiqNotional);
  if (std::isfinite(notional)) return Quantity(notional);
  return Quantity(FieldOrNaN(event, fields::kLiqPrice) * FieldOrNaN(event, fields::kLiqQty));
}

enum class Report { kCount, kNotional, kCascade, kLongShare };

// Sums kept per window entry.
enum Slot : size_t { kLong, kShort, kNotionalLong, kNotionalShort, kNotionalAll, kSlots };

std::vector<std::string> NamesOf(Report report, int n, int64_t window_ns) {
  const std::string w = FormatDuration(window_ns);
  switch (report) {
    case Report::kCount:
      return {"liq_count_long_" + w, "liq_count_short_" + w, "liq_count_" + w};
    case Report::kNotional:
      return {"liq_notional_long_" + w, "liq_notional_short_" + w, "liq_notional_" + w};
    case Report::kCascade:
      return {"liq_cascade_" + std::to_string(n) + "_" + w};
    case Report::kLongShare:
      return {"liq_long_share_" + w};
  }
  return {};
}

// All four liquidation features read the same window sums and differ only in what they
// report, so one kernel serves them.
class LiquidationWindow final : public EventKernel {
 public:
  LiquidationWindow(Report report, int n, int64_t window_ns)
      : report_(report), n_(n), window_(window_ns), names_(NamesOf(report, n, window_ns)) {}
  std::span<const KernelInput> inputs() const override { return LiquidationInput(); }
  const std::vector<std::string>& output_names() const override { return names_; }

  void Observe(int /*input*/, const Event& event) override {
    const double side = SideOf(FieldOrNaN(event, fields::kLiqSide));
    const double notional = NotionalOf(event);
    const double is_long = side > 0 ? 1 : 0;
    const double is_short = side < 0 ? 1 : 0;
    window_.Push(event.ts, {is_long, is_short, is_long * notional, is_short * notional, notional});
    window_.Evict(event.ts);
  }

  void Emit(int64_t now, std::span<double> out) override {
    window_.Evict(now);
    const auto count = static_cast<double>(window_.count());
    switch (report_) {
      case Report::kCount:
        out[0] = window_.sum(kLong);
        out[1] = window_.sum(kShort);
        out[2] = count;
        break;
      case Report::kNotional:
        out[0] = window_.sum(kNotionalLong);
        out[1] = window_.sum(kNotionalShort);
        out[2] = window_.sum(kNotionalAll);
        break;
      case Report::kCascade:
        out[0] = count >= n_ ? 1 : 0;
        break;
      case Report::kLongShare: {
        // Liquidations of unknown side say nothing about which side is being flushed.
        const double sided = window_.sum(kNotionalLong) + window_.sum(kNotionalShort);
        out[0] = sided > 0 ? window_.sum(kNotionalLong) / sided : kNaN;
        break;
      }
    }
  }

  void Reset() override { window_.Reset(); }
  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<LiquidationWindow>(report_, n_, window_.span_ns());
  }

 private:
  Report report_;
  int n_;  // cascade threshold (kCascade only)
  TimeWindowSums<kSlots> window_;
  std::vector<std::string> names_;
};

std::unique_ptr<EventKernel> Make(Report report, int n, int64_t window_ns) {
  assert(window_ns > 0 && n >= 1);
  return std::make_unique<LiquidationWindow>(report, n, window_ns);
}

}  // namespace

std::unique_ptr<EventKernel> MakeLiquidationCount(int64_t window_ns) {
  return Make(Report::kCount, 1, window_ns);
}

std::unique_ptr<EventKernel> MakeLiquidationNotional(int64_t window_ns) {
  return Make(Report::kNotional, 1, window_ns);
}

std::unique_ptr<EventKernel> MakeLiquidationCascade(int n, int64_t window_ns) {
  return Make(Report::kCascade, n, window_ns);
}

std::unique_ptr<EventKernel> MakeLiquidationLongShare(int64_t window_ns) {
  return Make(Report::kLongShare, 1, window_ns);
}

}  // namespace vigil
