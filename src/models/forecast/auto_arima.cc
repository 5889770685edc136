// forecast::auto.arima (forecast 8.20), non-seasonal: Hyndman & Khandakar (2008), "Automatic
// time series forecasting: the forecast package for R", JSS 27(3), sec. 3.2. The order
// searches live in auto_arima_search.cc, the candidate fits in auto_arima_candidate.cc and
// the KPSS tests for d in kpss.cc; this file chooses d, runs a search and the final refit.
#include "vigil/models/forecast/auto_arima.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <thread>

#include "models/forecast/auto_arima_candidate.h"
#include "models/forecast/auto_arima_search.h"
#include "models/forecast/auto_arima_series.h"

namespace vigil {
namespace {

using auto_arima_internal::Candidate;
using auto_arima_internal::CandidateFitter;
using auto_arima_internal::SearchLimits;
using auto_arima_internal::SearchOutcome;

constexpr double kInfinity = std::numeric_limits<double>::infinity();
// auto.arima's default approximation rule (frequency 1): length(x) > 150.
constexpr size_t kApproximationLength = 150;
// auto.arima starts at most from (1,d,1) when length(x) < 10.
constexpr size_t kShortSeriesLength = 10;

Status CheckSeries(std::span<const double> y) {
  if (y.size() < 3) return InvalidArgument("auto_arima: needs at least 3 observations");
  for (size_t t = 0; t < y.size(); ++t) {
    if (!std::isfinite(y[t])) {
      return InvalidArgument("auto_arima: value at index " + std::to_string(t) + " is not finite");
    }
  }
  return Status::Ok();
}

double Mean(std::span<const double> y) {
  return std::accumulate(y.begin(), y.end(), 0.0) / static_cast<double>(y.size());
}

// A model with every coefficient fixed (auto.arima's answers for constant series).
Result<AutoArimaResult> FixedResult(std::span<const double> y, ArimaOrder order,
                                    std::vector<double> coefficients, InformationCriterion ic) {
  ArimaOptions options;
  options.order = order;
  options.include_constant = !coefficients.empty();
  Result<ArimaModel> fixed = ArimaModel::FromCoefficients(y, options, coefficients);
  if (!fixed.ok()) {
    // R reports sigma2 = 0 and loglik = Inf here; say why instead of choosing another order.
    return FailedPrecondition("auto_arima: the series is constant after " +
                              std::to_string(order.d) + " difference(s) and ARIMA(0," +
                              std::to_string(order.d) +
                              ",0) with fixed coefficients failed: " + fixed.status().message());
  }
  ArimaModel model = std::move(fixed).value();
  AutoArimaResult result;
  const int nstar = static_cast<int>(y.size()) - order.d;
  // Fixed coefficients are not estimated: only sigma2 counts (R's mask).
  const double aic = -2 * model.fit().loglik + 2.0;
  result.ic = auto_arima_internal::CriterionFromAic(aic, 1, nstar, ic);
  result.model = std::move(model);
  result.order = order;
  result.constant = options.include_constant;
  return result;
}

// auto.arima on a series that is constant after d differences.
Result<AutoArimaResult> ConstantDifferencesResult(std::span<const double> y,
                                                  std::span<const double> differenced, int d,
                                                  InformationCriterion ic) {
  if (d == 2) return FixedResult(y, {0, 2, 0}, {}, ic);
  return FixedResult(y, {0, d, 0}, {Mean(differenced)}, ic);
}

struct Choice {
  Candidate candidate;
  bool approximate = false;  // the chosen fit is the CSS one
  SearchOutcome outcome;
  bool trace_approximate = false;  // the outcome's scores are CSS approximations
};

// The stepwise search, then (when approximating) the refit of every candidate by exact ML
// in order of its approximate score until one scores finitely.
Result<Choice> RunStepwise(const SearchLimits& limits, bool approximate, CandidateFitter& fitter) {
  Choice choice;
  choice.trace_approximate = approximate;
  choice.outcome = auto_arima_internal::StepwiseSearch(
      limits, [&](const Candidate& c) { return fitter.Evaluate(c, approximate); });
  const auto& trace = choice.outcome.trace;
  const auto& best = trace[choice.outcome.best];
  choice.candidate = best.candidate;
  choice.approximate = approximate;
  double chosen_ic = best.score.ic;
  if (approximate && best.score.fitted) {
    for (int index : auto_arima_internal::OrderByScore(trace)) {
      const double exact_ic = fitter.Evaluate(trace[index].candidate, false).ic;
      if (exact_ic < kInfinity) {
        choice.candidate = trace[index].candidate;
        choice.approximate = false;
        chosen_ic = exact_ic;
        break;
      }
    }
  }
  if (chosen_ic == kInfinity) return FailedPrecondition("auto_arima: no suitable ARIMA model");
  return choice;
}

// search.arima: the grid; when approximating, the best is refitted by exact ML and, should
// that fail, the whole grid is searched again by exact ML.
Result<Choice> RunGrid(const SearchLimits& limits, bool approximate, CandidateFitter& fitter) {
  Choice choice;
  choice.approximate = choice.trace_approximate = approximate;
  choice.outcome = auto_arima_internal::GridSearch(
      limits, [&](const Candidate& c) { return fitter.Evaluate(c, approximate); });
  if (choice.outcome.best >= 0 && approximate) {
    choice.candidate = choice.outcome.trace[choice.outcome.best].candidate;
    if (fitter.Evaluate(choice.candidate, false).ic < kInfinity) {
      choice.approximate = false;
      return choice;
    }
    choice.approximate = choice.trace_approximate = false;
    choice.outcome = auto_arima_internal::GridSearch(
        limits, [&](const Candidate& c) { return fitter.Evaluate(c, false); });
  }
  if (choice.outcome.best < 0) {
    return FailedPrecondition("auto_arima: no ARIMA model could be estimated");
  }
  choice.candidate = choice.outcome.trace[choice.outcome.best].candidate;
  return choice;
}

SearchLimits LimitsFor(const AutoArimaOptions& options, size_t n, bool constant_allowed) {
  SearchLimits limits;
  const int third = static_cast<int>(n / 3);
  limits.max_p = std::min(options.max_p, third);
  limits.max_q = std::min(options.max_q, third);
  limits.max_order = options.max_order;
  const int start_cap = n < kShortSeriesLength ? 1 : std::numeric_limits<int>::max();
  limits.start_p = std::min({options.start_p, start_cap, limits.max_p});
  limits.start_q = std::min({options.start_q, start_cap, limits.max_q});
  limits.max_models = options.max_models;
  limits.constant_allowed = constant_allowed;
  return limits;
}

Result<AutoArimaResult> BuildResult(const Choice& choice, int d, CandidateFitter& fitter) {
  const ArimaModel* model = fitter.Model(choice.candidate, choice.approximate);
  if (model == nullptr) return Internal("auto_arima: the chosen candidate has no fit");
  AutoArimaResult result;
  result.model = *model;
  result.order = {choice.candidate.p, d, choice.candidate.q};
  result.constant = choice.candidate.constant;
  result.ic = fitter.Evaluate(choice.candidate, choice.approximate).ic;  // cached
  result.approximated = choice.trace_approximate;
  for (const auto& scored : choice.outcome.trace) {
    result.trace.push_back(
        {{scored.candidate.p, d, scored.candidate.q}, scored.candidate.constant, scored.score.ic});
  }
  result.models_tried = static_cast<int>(result.trace.size());
  return result;
}

Result<int> ChooseDifferences(std::span<const double> y, const AutoArimaOptions& options) {
  if (options.d >= 0) return options.d;
  return KpssDifferences(y, options.kpss_alpha, options.max_d);
}

}  // namespace

Status AutoArimaOptions::Validate() const {
  auto fail = [](const std::string& what) { return InvalidArgument("auto_arima: " + what); };
  if (max_p < 0 || max_p > 20) return fail("max_p must be in 0..20");
  if (max_q < 0 || max_q > 20) return fail("max_q must be in 0..20");
  if (max_order < 0) return fail("max_order must be >= 0");
  if (max_d < 0 || max_d > 2) return fail("max_d must be in 0..2");
  if (start_p < 0 || start_q < 0) return fail("start_p and start_q must be >= 0");
  if (d < -1 || d > 2) return fail("d must be -1 (KPSS) or in 0..2");
  if (approximation < -1 || approximation > 1) return fail("approximation must be -1, 0 or 1");
  if (!(kpss_alpha >= 0.01 && kpss_alpha <= 0.1)) return fail("kpss_alpha must be in [0.01, 0.1]");
  if (max_models < 1) return fail("max_models must be >= 1");
  return Status::Ok();
}

Result<AutoArimaResult> AutoArima(std::span<const double> y, const AutoArimaOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(CheckSeries(y));
  const size_t n = y.size();
  // auto.arima switches to AIC for series of 3 or fewer observations.
  const InformationCriterion ic = n <= 3 ? InformationCriterion::kAic : options.ic;
  if (auto_arima_internal::IsConstantLikeR(y)) {
    if (options.allow_mean) return FixedResult(y, {0, 0, 0}, {Mean(y)}, ic);
    return FixedResult(y, {0, 0, 0}, {}, ic);
  }
  VIGIL_ASSIGN_OR_RETURN(const int d, ChooseDifferences(y, options));
  const std::vector<double> differenced = auto_arima_internal::Difference(y, d);
  if (differenced.empty()) return InvalidArgument("auto_arima: not enough data to difference");
  if (auto_arima_internal::IsConstantLikeR(differenced)) {
    return ConstantDifferencesResult(y, differenced, d, ic);
  }
  const bool approximate =
      options.approximation == -1 ? n > kApproximationLength : options.approximation == 1;
  const double offset = approximate ? auto_arima_internal::ApproximationOffset(y, d) : 0;
  const bool constant_allowed = (options.allow_drift && d == 1) || (options.allow_mean && d == 0);
  const SearchLimits limits = LimitsFor(options, n, constant_allowed);
  CandidateFitter fitter(y, d, ic, offset);
  VIGIL_ASSIGN_OR_RETURN(Choice choice, options.stepwise ? RunStepwise(limits, approximate, fitter)
                                                         : RunGrid(limits, approximate, fitter));
  return BuildResult(choice, d, fitter);
}

std::vector<Result<AutoArimaResult>> AutoArimaMany(const std::vector<std::vector<double>>& series,
                                                   const AutoArimaOptions& options, int threads) {
  std::vector<std::optional<Result<AutoArimaResult>>> slots(series.size());
  std::atomic<size_t> next{0};
  // Work stealing over series: each thread takes the next unclaimed index, so uneven
  // series lengths balance and each result depends only on its own series.
  auto worker = [&] {
    for (size_t i = next.fetch_add(1); i < series.size(); i = next.fetch_add(1)) {
      slots[i].emplace(AutoArima(series[i], options));
    }
  };
  size_t workers = threads > 0 ? static_cast<size_t>(threads)
                               : std::max(1u, std::thread::hardware_concurrency());
  workers = std::min(workers, std::max<size_t>(series.size(), 1));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < workers; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& thread : pool) thread.join();
  std::vector<Result<AutoArimaResult>> out;
  out.reserve(series.size());
  for (auto& slot : slots) out.push_back(std::move(*slot));
  return out;
}

}  // namespace vigil
