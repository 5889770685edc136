// Order searches of forecast::auto.arima (Hyndman & Khandakar 2008, sec. 3.2), written
// from the behaviour of forecast 8.20's auto.arima and search.arima.
#include "models/forecast/auto_arima_search.h"

#include <algorithm>
#include <array>
#include <limits>
#include <numeric>

namespace vigil::auto_arima_internal {
namespace {

// The stepwise state: where the moves are taken from, and the best model so far. As in
// auto.arima these can disagree: when the initial (0,d,0) without constant wins, the moves
// still keep the constant.
class StepwiseState {
 public:
  StepwiseState(const SearchLimits& limits, const CandidateScorer& score)
      : limits_(limits), score_(score) {}

  bool Seen(const Candidate& c) const {
    return std::any_of(out_.trace.begin(), out_.trace.end(),
                       [&](const ScoredCandidate& s) { return s.candidate == c; });
  }
  bool BudgetLeft() const { return static_cast<int>(out_.trace.size()) < limits_.max_models; }
  // Scores `c`; true when it is strictly better than the best so far (it becomes the best).
  bool Try(const Candidate& c) {
    out_.trace.push_back({c, score_(c)});
    const int index = static_cast<int>(out_.trace.size()) - 1;
    if (out_.best < 0 || out_.trace[index].score.ic < out_.trace[out_.best].score.ic) {
      out_.best = index;
      return true;
    }
    return false;
  }
  int size() const { return static_cast<int>(out_.trace.size()); }
  SearchOutcome Take() { return std::move(out_); }

  int p = 0;
  int q = 0;
  bool constant = false;

 private:
  const SearchLimits& limits_;
  const CandidateScorer& score_;
  SearchOutcome out_;
};

void TryStartModels(const SearchLimits& limits, StepwiseState& state) {
  const bool c = limits.constant_allowed;
  state.p = limits.start_p;
  state.q = limits.start_q;
  state.constant = c;
  state.Try({limits.start_p, limits.start_q, c});
  if (state.Try({0, 0, c})) state.p = state.q = 0;
  if (limits.max_p > 0 && state.Try({1, 0, c})) {
    state.p = 1;
    state.q = 0;
  }
  if (limits.max_q > 0 && state.Try({0, 1, c})) {
    state.p = 0;
    state.q = 1;
  }
  if (c && state.Try({0, 0, false})) state.p = state.q = 0;
}

enum class PassResult { kMoved, kStalled, kBudgetSpent };

// One pass over the neighbours of (p, q) in auto.arima's order.
PassResult StepwisePass(const SearchLimits& limits, StepwiseState& state) {
  const int p = state.p, q = state.q;
  const std::array<std::array<int, 2>, 8> kMoves = {
      {{-1, 0}, {0, -1}, {1, 0}, {0, 1}, {-1, -1}, {-1, 1}, {1, -1}, {1, 1}}};
  for (const auto& [dp, dq] : kMoves) {
    const int new_p = p + dp, new_q = q + dq;
    if (new_p < 0 || new_q < 0 || new_p > limits.max_p || new_q > limits.max_q) continue;
    const Candidate next{new_p, new_q, state.constant};
    if (state.Seen(next)) continue;
    if (!state.BudgetLeft()) return PassResult::kBudgetSpent;
    if (state.Try(next)) {
      state.p = new_p;
      state.q = new_q;
      return PassResult::kMoved;
    }
  }
  if (limits.constant_allowed) {
    const Candidate toggled{p, q, !state.constant};
    if (!state.Seen(toggled)) {
      if (!state.BudgetLeft()) return PassResult::kBudgetSpent;
      // auto.arima does not restart the pass here: the loop condition decides.
      if (state.Try(toggled)) state.constant = !state.constant;
    }
  }
  return PassResult::kStalled;
}

}  // namespace

SearchOutcome StepwiseSearch(const SearchLimits& limits, const CandidateScorer& score) {
  StepwiseState state(limits, score);
  TryStartModels(limits, state);
  // auto.arima: while (startk < k && k < nmodels), i.e. continue while the last pass scored
  // something and the budget is not exhausted.
  int scored_before = 0;
  while (scored_before < state.size() && state.BudgetLeft()) {
    scored_before = state.size();
    if (StepwisePass(limits, state) == PassResult::kBudgetSpent) break;
  }
  return state.Take();
}

SearchOutcome GridSearch(const SearchLimits& limits, const CandidateScorer& score) {
  SearchOutcome out;
  double best_ic = std::numeric_limits<double>::infinity();
  for (int p = 0; p <= limits.max_p; ++p) {
    for (int q = 0; q <= limits.max_q; ++q) {
      if (p + q > limits.max_order) continue;
      for (int with_constant = 0; with_constant <= (limits.constant_allowed ? 1 : 0);
           ++with_constant) {
        const Candidate c{p, q, with_constant == 1};
        out.trace.push_back({c, score(c)});
        if (out.trace.back().score.ic < best_ic) {
          best_ic = out.trace.back().score.ic;
          out.best = static_cast<int>(out.trace.size()) - 1;
        }
      }
    }
  }
  return out;
}

std::vector<int> OrderByScore(const std::vector<ScoredCandidate>& trace) {
  std::vector<int> order(trace.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return trace[a].score.ic < trace[b].score.ic; });
  return order;
}

}  // namespace vigil::auto_arima_internal
