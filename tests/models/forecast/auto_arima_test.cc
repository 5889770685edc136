// auto-ARIMA (Hyndman & Khandakar 2008) and the KPSS test (Kwiatkowski et al. 1992): the
// statistic against an independent computation and urca, ndiffs's decisions, the stepwise
// move order and budget on scripted scores, and end-to-end searches on simulated series.
#include "vigil/models/forecast/auto_arima.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "models/forecast/auto_arima_search.h"

namespace vigil {
namespace {

using auto_arima_internal::Candidate;
using auto_arima_internal::Score;
using auto_arima_internal::SearchLimits;

constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<double> Formula(int n, double (*f)(double)) {
  std::vector<double> y;
  for (int t = 1; t <= n; ++t) y.push_back(f(t));
  return y;
}

// Simulates w_t = sum ar_i w_{t-i} + e_t + sum ma_j e_{t-j} after a burn-in, then
// integrates it `d` times.
std::vector<double> SimulateArima(const std::vector<double>& ar, const std::vector<double>& ma,
                                  int d, int n, unsigned seed, double mean = 0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 1);
  const int burn = 200;
  std::vector<double> w(n + burn, 0), e(n + burn, 0);
  for (int t = 0; t < n + burn; ++t) {
    e[t] = noise(rng);
    w[t] = e[t];
    for (size_t i = 0; i < ar.size(); ++i)
      w[t] += t > static_cast<int>(i) ? ar[i] * w[t - i - 1] : 0;
    for (size_t j = 0; j < ma.size(); ++j)
      w[t] += t > static_cast<int>(j) ? ma[j] * e[t - j - 1] : 0;
  }
  std::vector<double> y(w.begin() + burn, w.end());
  for (double& v : y) v += mean;
  for (int round = 0; round < d; ++round) {
    for (int t = 1; t < n; ++t) y[t] += y[t - 1];
  }
  return y;
}

// KPSS eta_mu written from the paper's definitions: partial sums S_t of the demeaned
// series, and the long-run variance as a Bartlett-weighted double sum over all pairs.
double KpssByDefinition(const std::vector<double>& y) {
  const int n = static_cast<int>(y.size());
  const int lags = static_cast<int>(std::trunc(3 * std::sqrt(n) / 13));
  double mean = 0;
  for (double v : y) mean += v / n;
  double eta = 0;
  for (int t = 0; t < n; ++t) {
    double partial = 0;
    for (int s = 0; s <= t; ++s) partial += y[s] - mean;
    eta += partial * partial;
  }
  double long_run = 0;
  for (int t = 0; t < n; ++t) {
    for (int s = 0; s < n; ++s) {
      const int lag = std::abs(t - s);
      if (lag <= lags) long_run += (1.0 - lag / (lags + 1.0)) * (y[t] - mean) * (y[s] - mean);
    }
  }
  return (eta / (static_cast<double>(n) * n)) / (long_run / n);
}

TEST(KpssTest, StatisticEqualsTheDefinition) {
  for (unsigned seed : {1u, 2u, 3u}) {
    const auto y = SimulateArima({0.5}, {}, seed == 3 ? 1 : 0, 80 + 60 * seed, seed);
    Result<double> stat = KpssStatistic(y);
    ASSERT_TRUE(stat.ok()) << stat.status().ToString();
    EXPECT_NEAR(*stat, KpssByDefinition(y), 1e-10 * std::fabs(*stat)) << "seed " << seed;
  }
}

// Rscript -e 'library(urca); for (y in list(sin(0.3*(1:120)) + 0.05*(1:120),
//   cos(1.7*(1:200))*(1 + 0.01*(1:200)), ((1:50) %% 7) - 0.02*(1:50)^2))
//   print(ur.kpss(y, type = "mu", use.lag = trunc(3*sqrt(length(y))/13))@teststat,
//   digits = 15)'  (ndiffs: 1, 0, 1)
TEST(KpssTest, MatchesUrca) {
  const std::vector<std::tuple<std::vector<double>, double, int>> cases = {
      {Formula(120, [](double t) { return std::sin(0.3 * t) + 0.05 * t; }), 3.52287726744423, 1},
      {Formula(200, [](double t) { return std::cos(1.7 * t) * (1 + 0.01 * t); }), 0.148606171993976,
       0},
      {Formula(50, [](double t) { return std::fmod(t, 7.0) - 0.02 * t * t; }), 2.43206262788628,
       1}};
  for (const auto& [y, urca, ndiffs] : cases) {
    EXPECT_NEAR(KpssStatistic(y).value(), urca, 1e-12 * urca);
    EXPECT_EQ(KpssDifferences(y).value(), ndiffs);
  }
}

TEST(KpssTest, PValueInterpolatesUrcaTable) {
  EXPECT_DOUBLE_EQ(KpssPValue(0.463), 0.05);
  EXPECT_DOUBLE_EQ(KpssPValue(0.1), 0.10);  // clamped (approx rule = 2)
  EXPECT_DOUBLE_EQ(KpssPValue(5.0), 0.01);
  EXPECT_NEAR(KpssPValue((0.463 + 0.574) / 2), (0.05 + 0.025) / 2, 1e-15);
  EXPECT_TRUE(std::isnan(KpssPValue(std::nan(""))));
}

TEST(KpssTest, DifferencesOfKnownProcesses) {
  EXPECT_EQ(KpssDifferences(SimulateArima({}, {}, 1, 500, 11)).value(), 1);     // random walk
  EXPECT_EQ(KpssDifferences(SimulateArima({0.5}, {}, 0, 500, 12)).value(), 0);  // AR(1)
  EXPECT_EQ(KpssDifferences(SimulateArima({0.3}, {}, 2, 500, 13)).value(), 2);  // I(2)
  EXPECT_EQ(KpssDifferences(std::vector<double>(40, 3.25)).value(), 0);         // constant
  EXPECT_EQ(KpssDifferences(SimulateArima({0.3}, {}, 2, 500, 13), 0.05, 1).value(), 1);
}

TEST(KpssTest, RejectsBadArguments) {
  const std::vector<double> y = {1, 2, 3, 4};
  EXPECT_EQ(KpssDifferences(y, 0.5).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KpssDifferences(y, 0.05, 3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KpssStatistic(std::vector<double>{1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KpssStatistic(std::vector<double>{1, NAN, 2}).status().code(),
            StatusCode::kInvalidArgument);
}

// ---- the search alone, on scripted scores -------------------------------------------

struct Recorder {
  std::function<double(const Candidate&)> ic;
  std::vector<Candidate> calls;
  auto Scorer() {
    return [this](const Candidate& c) {
      calls.push_back(c);
      return Score{ic(c), true};
    };
  }
};

TEST(StepwiseSearchTest, MoveOrderAndTiesFollowAutoArima) {
  Recorder recorder{[](const Candidate&) { return 1.0; }};
  const auto outcome = auto_arima_internal::StepwiseSearch(SearchLimits{}, recorder.Scorer());
  const std::vector<Candidate> expected = {
      {2, 2, true}, {0, 0, true}, {1, 0, true}, {0, 1, true}, {0, 0, false},  // start
      {1, 2, true}, {2, 1, true}, {3, 2, true}, {2, 3, true},                 // single moves
      {1, 1, true}, {1, 3, true}, {3, 1, true}, {3, 3, true},                 // diagonal
      {2, 2, false}};                                                         // constant
  EXPECT_EQ(recorder.calls, expected);
  EXPECT_EQ(outcome.best, 0);  // ties keep the earliest model
}

double Bowl(const Candidate& c) {
  return (c.p - 3) * (c.p - 3) + 1.5 * (c.q - 1) * (c.q - 1) + (c.constant ? 0 : 0.7);
}

TEST(StepwiseSearchTest, EndsAtALocalMinimumOfItsNeighbourhood) {
  Recorder recorder{Bowl};
  const auto outcome = auto_arima_internal::StepwiseSearch(SearchLimits{}, recorder.Scorer());
  const Candidate best = outcome.trace[outcome.best].candidate;
  EXPECT_EQ(best, (Candidate{3, 1, true}));
  std::map<std::tuple<int, int, bool>, double> scored;
  for (const auto& s : outcome.trace) {
    const auto key = std::make_tuple(s.candidate.p, s.candidate.q, s.candidate.constant);
    EXPECT_EQ(scored.count(key), 0u) << "scored twice";
    scored[key] = s.score.ic;
  }
  for (int dp = -1; dp <= 1; ++dp) {
    for (int dq = -1; dq <= 1; ++dq) {
      const auto key = std::make_tuple(best.p + dp, best.q + dq, best.constant);
      ASSERT_TRUE(scored.count(key)) << dp << "," << dq;
      EXPECT_LE(outcome.trace[outcome.best].score.ic, scored[key]);
    }
  }
  EXPECT_TRUE(scored.count(std::make_tuple(best.p, best.q, !best.constant)));
}

TEST(StepwiseSearchTest, StopsAtTheModelBudget) {
  Recorder recorder{Bowl};
  SearchLimits limits;
  limits.max_models = 8;
  EXPECT_EQ(auto_arima_internal::StepwiseSearch(limits, recorder.Scorer()).trace.size(), 8u);
}

// auto.arima keeps moving with the constant when the initial (0,d,0) without it wins.
TEST(StepwiseSearchTest, NullModelWithoutConstantKeepsConstantForMoves) {
  Recorder recorder{[](const Candidate& c) {
    return c == Candidate{0, 0, false} ? 0.0 : 1.0 + c.p + c.q + (c.constant ? 1 : 0);
  }};
  const auto outcome = auto_arima_internal::StepwiseSearch(SearchLimits{}, recorder.Scorer());
  ASSERT_EQ(outcome.trace.size(), 6u);
  EXPECT_EQ(outcome.trace.back().candidate, (Candidate{1, 1, true}));
  EXPECT_EQ(outcome.trace[outcome.best].candidate, (Candidate{0, 0, false}));
}

TEST(GridSearchTest, EqualsBruteForceOverTheGrid) {
  auto ic = [](const Candidate& c) {
    return c.p == 4 && c.q == 1 ? kInf : std::cos(3.0 * c.p + 1.3 * c.q + c.constant);
  };
  Recorder recorder{ic};
  SearchLimits limits;
  const auto outcome = auto_arima_internal::GridSearch(limits, recorder.Scorer());
  double brute = kInf;
  Candidate brute_best;
  int count = 0;
  for (int p = 0; p <= 5; ++p)
    for (int q = 0; p + q <= 5; ++q)
      for (bool constant : {false, true}) {
        ++count;
        const Candidate c{p, q, constant};
        if (ic(c) < brute) {
          brute = ic(c);
          brute_best = c;
        }
      }
  EXPECT_EQ(static_cast<int>(outcome.trace.size()), count);
  EXPECT_EQ(outcome.trace[outcome.best].candidate, brute_best);
}

TEST(GridSearchTest, OrderByScoreIsStable) {
  std::vector<auto_arima_internal::ScoredCandidate> trace = {{{0, 0, true}, {kInf, false}},
                                                             {{1, 0, true}, {2.0, true}},
                                                             {{0, 1, true}, {1.0, true}},
                                                             {{1, 1, true}, {2.0, true}}};
  EXPECT_EQ(auto_arima_internal::OrderByScore(trace), (std::vector<int>{2, 1, 3, 0}));
}

// ---- end to end, with ArimaModel fits ------------------------------------------------

AutoArimaResult MustSelect(const std::vector<double>& y, const AutoArimaOptions& options) {
  Result<AutoArimaResult> result = AutoArima(y, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? std::move(result).value() : AutoArimaResult{};
}

double DirectAicc(const std::vector<double>& y, ArimaOrder order, bool constant) {
  ArimaOptions options;
  options.order = order;
  options.include_constant = constant;
  Result<ArimaModel> model = ArimaModel::Fit(y, options);
  return model.ok() ? model->fit().aicc : kInf;
}

TEST(AutoArimaTest, RecoversSensibleOrdersOfSimulatedSeries) {
  const auto ar2 = MustSelect(SimulateArima({0.6, -0.3}, {}, 0, 300, 21, 5.0), {});
  EXPECT_EQ(ar2.order.d, 0);
  EXPECT_TRUE(ar2.constant);
  EXPECT_GE(ar2.order.p + ar2.order.q, 1);
  const auto arima111 = MustSelect(SimulateArima({0.5}, {0.4}, 1, 400, 22), {});
  EXPECT_EQ(arima111.order.d, 1);
  EXPECT_GE(arima111.order.p + arima111.order.q, 1);
  const auto ma1 = MustSelect(SimulateArima({}, {0.8}, 0, 120, 23), {});
  EXPECT_EQ(ma1.order.d, 0);
  EXPECT_FALSE(ma1.approximated);
  EXPECT_GE(ma1.order.q, 1);
}

TEST(AutoArimaTest, ChosenExactModelBeatsEveryCandidateTried) {
  AutoArimaOptions options;
  options.approximation = 0;
  const auto y = SimulateArima({0.7}, {-0.4}, 0, 140, 31, 2.0);
  const auto chosen = MustSelect(y, options);
  EXPECT_FALSE(chosen.approximated);
  EXPECT_EQ(chosen.models_tried, static_cast<int>(chosen.trace.size()));
  for (const auto& candidate : chosen.trace) EXPECT_LE(chosen.ic, candidate.ic);
  // Scores are the AICc of plain css-ml fits (or +infinity when rejected).
  int finite = 0;
  for (const auto& candidate : chosen.trace) {
    if (candidate.ic == kInf) continue;
    ++finite;
    EXPECT_NEAR(candidate.ic, DirectAicc(y, candidate.order, candidate.constant), 1e-8);
  }
  EXPECT_GT(finite, static_cast<int>(chosen.trace.size()) / 2);
  EXPECT_NEAR(chosen.ic, chosen.model.fit().aicc, 1e-8);
}

TEST(AutoArimaTest, NonStepwiseEqualsBruteForceOverTheGrid) {
  AutoArimaOptions options;
  options.stepwise = false;
  options.max_p = options.max_q = 3;
  options.max_order = 4;
  const auto y = SimulateArima({0.5, 0.2}, {0.3}, 0, 120, 41, 1.0);
  const auto chosen = MustSelect(y, options);
  double best = kInf;
  ArimaOrder best_order;
  bool best_constant = false;
  int rejected = 0;
  for (const auto& candidate : chosen.trace) {
    if (candidate.ic == kInf) {
      ++rejected;
      continue;
    }
    const double aicc = DirectAicc(y, candidate.order, candidate.constant);
    EXPECT_NEAR(candidate.ic, aicc, 1e-8);
    if (aicc < best) {
      best = aicc;
      best_order = candidate.order;
      best_constant = candidate.constant;
    }
  }
  EXPECT_EQ(chosen.trace.size(), 2u * 13u);  // p + q <= 4 within 0..3, with and without mean
  EXPECT_LT(rejected, 13);
  EXPECT_EQ(chosen.order, best_order);
  EXPECT_EQ(chosen.constant, best_constant);
  EXPECT_DOUBLE_EQ(chosen.ic, best);
}

TEST(AutoArimaTest, LongSeriesSearchByCssThenRefitByExactMl) {
  const auto y = SimulateArima({0.4}, {0.3}, 1, 300, 51);
  const auto chosen = MustSelect(y, {});
  EXPECT_TRUE(chosen.approximated);
  EXPECT_EQ(chosen.model.fit().method, ArimaMethod::kCssMl);
  EXPECT_NEAR(chosen.ic, DirectAicc(y, chosen.order, chosen.constant), 1e-8);
  AutoArimaOptions exact;
  exact.approximation = 0;
  EXPECT_FALSE(MustSelect(y, exact).approximated);
}

TEST(AutoArimaTest, ManyEqualsSequentialForAnyThreadCount) {
  std::vector<std::vector<double>> series;
  for (unsigned seed = 0; seed < 6; ++seed) {
    series.push_back(SimulateArima({0.5}, {}, seed % 2, seed < 3 ? 80 : 200, 60 + seed));
  }
  series.push_back({1.0, NAN, 2.0});  // an invalid series fails alone
  for (int threads : {1, 2}) {
    const auto many = AutoArimaMany(series, {}, threads);
    ASSERT_EQ(many.size(), series.size());
    for (size_t i = 0; i < series.size(); ++i) {
      const Result<AutoArimaResult> one = AutoArima(series[i], {});
      ASSERT_EQ(many[i].ok(), one.ok()) << i;
      if (!one.ok()) continue;
      EXPECT_EQ(many[i]->order, one->order);
      EXPECT_EQ(many[i]->constant, one->constant);
      EXPECT_EQ(many[i]->ic, one->ic);
      EXPECT_EQ(many[i]->model.fit().coefficients, one->model.fit().coefficients);
    }
  }
}

// R answers ARIMA(0,0,0) with the mean fixed, and ARIMA(0,1,0) with the drift fixed for a
// line (loglik = Inf there, as sigma2 = 0); a model that cannot represent a zero variance
// must say so rather than pick another order.
void ExpectFixedAnswer(const std::vector<double>& y, ArimaOrder order, const char* name,
                       double value) {
  const Result<AutoArimaResult> result = AutoArima(y, {});
  if (!result.ok()) {
    EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(result.status().message().find("constant"), std::string::npos)
        << result.status().ToString();
    return;
  }
  EXPECT_EQ(result->order, order);
  EXPECT_TRUE(result->constant);
  EXPECT_DOUBLE_EQ(result->model.fit().Coefficient(name), value);
}

TEST(AutoArimaTest, ConstantAndPolynomialSeries) {
  ExpectFixedAnswer(std::vector<double>(30, 4.5), {0, 0, 0}, "intercept", 4.5);
  ExpectFixedAnswer(Formula(40, [](double t) { return 1 + 2 * t; }), {0, 1, 0}, "drift", 2.0);
}

TEST(AutoArimaTest, RejectsInvalidOptionsAndInputs) {
  const auto y = SimulateArima({0.5}, {}, 0, 50, 71);
  auto bad = [&](auto mutate) {
    AutoArimaOptions options;
    mutate(options);
    return AutoArima(y, options).status().code();
  };
  EXPECT_EQ(bad([](auto& o) { o.max_d = 3; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](auto& o) { o.d = 3; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](auto& o) { o.max_p = -1; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](auto& o) { o.kpss_alpha = 0.5; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](auto& o) { o.approximation = 2; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad([](auto& o) { o.max_models = 0; }), StatusCode::kInvalidArgument);
  EXPECT_EQ(AutoArima(std::vector<double>{1, 2}, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(AutoArima(std::vector<double>{1, 2, INFINITY, 4}, {}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vigil
