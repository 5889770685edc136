// The order searches of forecast::auto.arima (stepwise, Hyndman & Khandakar 2008, sec. 3.2)
// and forecast:::search.arima (the grid), independent of how a candidate is fitted: the
// caller supplies a scorer, so the move order, budget and tie rules are testable alone.
// Private to auto_arima.cc and its tests.
#pragma once

#include <functional>
#include <vector>

namespace vigil::auto_arima_internal {

struct Candidate {
  int p = 0;
  int q = 0;
  bool constant = false;
  bool operator==(const Candidate&) const = default;
};

// A scored candidate. `fitted` is false when the fit itself failed (R's try-error), as
// opposed to a fit that was rejected or scored +infinity; auto.arima's final refit only
// runs when its best model is a fitted one.
struct Score {
  double ic = 0;
  bool fitted = false;
};

using CandidateScorer = std::function<Score(const Candidate&)>;

struct SearchLimits {
  int max_p = 5;
  int max_q = 5;
  int max_order = 5;  // grid only
  int start_p = 2;    // stepwise only, already capped at max_p
  int start_q = 2;
  int max_models = 94;           // stepwise only
  bool constant_allowed = true;  // allowdrift | allowmean after the d conditions
};

struct ScoredCandidate {
  Candidate candidate;
  Score score;
};

struct SearchOutcome {
  std::vector<ScoredCandidate> trace;  // every candidate scored, in order
  int best = -1;  // index into trace of the search's best (-1: none, grid search only)
};

// auto.arima's stepwise loop: the start models, then moves from the current best in the
// order (p-1), (q-1), (p+1), (q+1), (p-1,q-1), (p-1,q+1), (p+1,q-1), (p+1,q+1), constant
// toggled; a move is taken at the first strict improvement. Candidates already in the
// trace are skipped; once max_models are scored the search stops. `best` is the first
// model unless a later one scored strictly lower.
SearchOutcome StepwiseSearch(const SearchLimits& limits, const CandidateScorer& score);

// search.arima: p in 0..max_p, q in 0..max_q, p + q <= max_order, constant off then on
// (when allowed); `best` is the first strictly lowest finite score, -1 if none is finite.
SearchOutcome GridSearch(const SearchLimits& limits, const CandidateScorer& score);

// Trace indices ordered by score (stable: ties keep trace order), as order(results[, 8]).
std::vector<int> OrderByScore(const std::vector<ScoredCandidate>& trace);

}  // namespace vigil::auto_arima_internal
