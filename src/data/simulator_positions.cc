// Leveraged positions of the simulated perpetuals and their liquidation.
#include <algorithm>
#include <array>
#include <cmath>

#include "data/simulator_internal.h"

namespace vigil::sim_internal {
namespace {

// Arrivals per minute (more in turbulent spells), the long share (crypto leans long),
// the median size as a share of a minute's volume with its log spread, and the mean time
// a trader keeps a position.
constexpr double kArrivalsPerMinute = 1.5;
constexpr double kTurbulentArrivals = 1.5;
constexpr double kLongShare = 0.55;
constexpr double kPositionVolumeShare = 0.01;
constexpr double kPositionSizeSpread = 1.0;
constexpr double kMeanLifetimeMinutes = 720.0;
// Leverage choices and how often traders pick them.
constexpr std::array<double, 7> kLeverages = {2, 3, 5, 10, 20, 25, 50};
constexpr std::array<double, 7> kLeverageWeights = {0.10, 0.10, 0.20, 0.25, 0.20, 0.08, 0.07};

}  // namespace

// Isolated-margin liquidation price, as exchanges compute it without fees: the position
// is closed when its loss leaves only the maintenance margin,
// long: entry * (1 - 1/L + mm), short: entry * (1 + 1/L - mm).
void PositionBook::Open(int64_t minute, double entry, bool turbulent) {
  const double rate = kArrivalsPerMinute * (turbulent ? kTurbulentArrivals : 1.0);
  const int64_t count = rng_.Poisson(rate);
  for (int64_t i = 0; i < count; ++i) {
    const bool is_long = rng_.Bernoulli(kLongShare);
    const double distance = 1.0 / DrawLeverage() - kMaintenanceMargin;
    const double notional = typical_quote_volume_ * kPositionVolumeShare *
                            std::exp(kPositionSizeSpread * rng_.Normal());
    const auto lifetime = static_cast<int64_t>(rng_.Exponential(1.0 / kMeanLifetimeMinutes));
    const Position position{entry * (is_long ? 1.0 - distance : 1.0 + distance), notional / entry,
                            minute + 1 + lifetime};
    if (is_long) {
      longs_.push_back(position);
      std::push_heap(longs_.begin(), longs_.end(), LongsBelow);
    } else {
      shorts_.push_back(position);
      std::push_heap(shorts_.begin(), shorts_.end(), ShortsAbove);
    }
  }
}

double PositionBook::DrawLeverage() {
  double u = rng_.Uniform();
  for (size_t i = 0; i + 1 < kLeverages.size(); ++i) {
    if (u < kLeverageWeights[i]) return kLeverages[i];
    u -= kLeverageWeights[i];
  }
  return kLeverages.back();
}

// The heaps keep the positions nearest the price on top, so a minute costs only the
// positions it liquidates, not the whole book.
void PositionBook::PopCrossed(std::vector<Position>& heap, int64_t side, int64_t minute,
                              std::span<const double> path) {
  const auto compare = side == kSideBuy ? LongsBelow : ShortsAbove;
  const auto [low, high] = std::minmax_element(path.begin(), path.end());
  auto reached = [&](double liq_price, double price) {
    return side == kSideBuy ? price <= liq_price : price >= liq_price;
  };
  while (!heap.empty() && reached(heap.front().liq_price, side == kSideBuy ? *low : *high)) {
    std::pop_heap(heap.begin(), heap.end(), compare);
    const Position position = heap.back();
    heap.pop_back();
    if (position.close_minute <= minute) continue;  // closed by its owner earlier
    const auto step = std::find_if(path.begin() + 1, path.end(), [&](double price) {
      return reached(position.liq_price, price);
    });
    // A position is always reached after the open: the open is where last minute ended.
    const auto index = std::min<ptrdiff_t>(step - path.begin(), std::ssize(path) - 1);
    crossed_.push_back({static_cast<int>(index), side, position.liq_price, position.qty});
  }
}

const std::vector<PositionBook::Liquidation>& PositionBook::Cross(std::span<const double> path,
                                                                  int64_t minute) {
  crossed_.clear();
  PopCrossed(longs_, kSideBuy, minute, path);
  PopCrossed(shorts_, kSideSell, minute, path);
  std::stable_sort(crossed_.begin(), crossed_.end(),
                   [](const Liquidation& a, const Liquidation& b) { return a.step < b.step; });
  return crossed_;
}

void PositionBook::DropClosed(int64_t minute) {
  auto closed = [minute](const Position& position) { return position.close_minute <= minute; };
  std::erase_if(longs_, closed);
  std::erase_if(shorts_, closed);
  std::make_heap(longs_.begin(), longs_.end(), LongsBelow);
  std::make_heap(shorts_.begin(), shorts_.end(), ShortsAbove);
}

}  // namespace vigil::sim_internal
