// Cross-instrument kernels: rolling correlation and beta of two instruments' returns
// (onchain.h).
//
// The returns are sampled at Emit, not per event: the two legs' candles need not share
// timestamps (venues stamp bars differently, one leg may skip a quiet bar), and pairing
// each row's latest closes is what keeps both returns over the same interval.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "rolling_stats.h"
#include "vigil/features/onchain.h"

namespace vigil {
namespace {

using features_internal::IsFlat;
using features_internal::kNaN;
using features_internal::RollingCovariance;

enum class CrossStatistic { kCorrelation, kBeta };

class CrossReturns final : public EventKernel {
 public:
  CrossReturns(CrossStatistic statistic, int n, std::string with)
      : statistic_(statistic),
        n_(n),
        with_(std::move(with)),
        inputs_{KernelInput{DataKind::kCandles, ""}, KernelInput{DataKind::kCandles, with_}},
        names_{std::string(statistic == CrossStatistic::kCorrelation ? "corr_" : "beta_") +
               std::to_string(n) + "_" + InstrumentColumnSuffix(with_)},
        window_(n) {
    assert(n >= 2);
  }

  std::span<const KernelInput> inputs() const override { return inputs_; }
  const std::vector<std::string>& output_names() const override { return names_; }

  void Observe(int input, const Event& event) override {
    if (input < 0 || input > 1 || event.values.size() <= fields::kClose) return;
    const double close = event.values[fields::kClose];
    if (close > 0 && std::isfinite(close)) close_[input] = close;
  }

  void Emit(int64_t /*now*/, std::span<double> out) override {
    Sample();
    out[0] = window_.full() ? Compute() : kNaN;
  }

  void Reset() override {
    window_.Reset();
    close_[0] = close_[1] = previous_[0] = previous_[1] = kNaN;
  }

  std::unique_ptr<EventKernel> Clone() const override {
    return std::make_unique<CrossReturns>(statistic_, n_, with_);
  }

 private:
  // Pushes the pair of log returns since the previous Emit that had both closes.
  void Sample() {
    if (std::isnan(close_[0]) || std::isnan(close_[1])) return;
    if (!std::isnan(previous_[0])) {
      window_.Push(std::log(close_[0] / previous_[0]), std::log(close_[1] / previous_[1]));
    }
    previous_[0] = close_[0];
    previous_[1] = close_[1];
  }

  // x = own returns, y = returns of `with`. A leg whose returns are all equal has no
  // variance to divide by.
  double Compute() const {
    const bool flat_x = IsFlat(std::sqrt(window_.sxx() / n_), window_.mean_x());
    const bool flat_y = IsFlat(std::sqrt(window_.syy() / n_), window_.mean_y());
    if (statistic_ == CrossStatistic::kBeta) return flat_y ? kNaN : window_.sxy() / window_.syy();
    if (flat_x || flat_y) return kNaN;
    // Rounding can carry |r| an ulp past 1.
    return std::clamp(window_.sxy() / std::sqrt(window_.sxx() * window_.syy()), -1.0, 1.0);
  }

  CrossStatistic statistic_;
  int n_;
  std::string with_;
  std::vector<KernelInput> inputs_;
  std::vector<std::string> names_;
  RollingCovariance window_;
  double close_[2] = {kNaN, kNaN};     // latest close of each leg
  double previous_[2] = {kNaN, kNaN};  // closes taken at the previous sample
};

}  // namespace

std::string InstrumentColumnSuffix(std::string_view instrument) {
  std::string out(instrument);
  for (char& c : out) {
    const bool alphanumeric =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alphanumeric) c = '_';
  }
  return out;
}

std::unique_ptr<EventKernel> MakeCorrelation(int n, std::string with) {
  return std::make_unique<CrossReturns>(CrossStatistic::kCorrelation, n, std::move(with));
}

std::unique_ptr<EventKernel> MakeBeta(int n, std::string with) {
  return std::make_unique<CrossReturns>(CrossStatistic::kBeta, n, std::move(with));
}

}  // namespace vigil
