// The exact gradient of the ARIMA likelihood by forward-mode differentiation of the Kalman
// filter (the tangent recursions of arima_state_space.cc's Step). Written by hand: no
// automatic-differentiation library is among the project's dependencies, and the recursions
// are short. For a parameter m (phi_m, theta_m or the regression coefficient beta):
//   a_pred = T a            d a_pred = dT a + T da
//   P_pred = T P T' + R R'  d P_pred = T dP T' + dT P T' + T P dT' + d(R R')
//   M = P_pred Z, F = Z' M  dM = dP_pred Z, dF = Z' dM
//   v = x - Z' a_pred       dv = dx - Z' d a_pred          (dx = -regressor for beta)
//   a = a_pred + M v / F    da = d a_pred + dM v / F + M (dv / F - v dF / F^2)
//   P = P_pred - M M' / F   dP = dP_pred - (dM M' + M dM') / F + M M' dF / F^2
// with dT = e_m e_0' for phi_m (T's first column holds phi), d(R R') = e_s psi' + psi e_s'
// for theta_m (s = m + 1, psi = R = (1, theta_1, ...)), and the prior's dQ0 from Gardner's
// differentiated system. The objective 0.5 (log(ssq / nu) + sumlog / nu) then has the
// derivative 0.5 (d ssq / ssq + d sumlog / nu), d ssq = sum (2 v dv / F - v^2 dF / F^2) and
// d sumlog = sum dF / F over the non-diffuse steps.
#include <algorithm>
#include <cmath>
#include <limits>

#include "arima_internal.h"

namespace vigil::arima_internal {

namespace {

// The derivatives are frozen once d P_pred changes by less than this (relative) per step: the
// gradient is then exact to about 1e-11 relative, far below what the optimiser resolves.
constexpr double kDerivativeSteadyTolerance = 1e-11;

}  // namespace

void ArimaLikelihoodGradient::Prepare(const ArimaKalmanFilter& filter, bool has_beta) {
  k_cov_ = filter.p_ + filter.q_;
  k_ = k_cov_ + (has_beta ? 1 : 0);
  rd_ = filter.rd_;
  steady_ = false;
  const size_t cells = static_cast<size_t>(rd_) * rd_;
  cov_.assign(k_cov_ * cells, 0.0);
  predicted_cov_.assign(k_cov_ * cells, 0.0);
  gain_vec_.assign(k_cov_ * rd_, 0.0);
  gain_.assign(k_cov_, 0.0);
  state_.assign(k_ * rd_, 0.0);
  predicted_state_.assign(k_ * rd_, 0.0);
  work_.assign(2 * cells, 0.0);
  ssq_.assign(k_, 0.0);
  sumlog_.assign(k_, 0.0);
}

// d P_pred for every covariance parameter: the prior's dQ0 on the first step, then the
// tangent of T P T' + R R'. Once the filter's own covariance is steady (P, M and F fixed) the
// recursion is linear with constant coefficients; when it has converged too (the filter's
// relative tolerance), steady_ is set.
void ArimaLikelihoodGradient::PredictCovarianceDerivatives(const ArimaKalmanFilter& filter) {
  const int r = filter.r_, p = filter.p_, q = filter.q_;
  const size_t cells = static_cast<size_t>(rd_) * rd_;
  if (filter.at_prior_) {
    for (int m = 0; m < k_cov_; ++m) {
      double* out = &predicted_cov_[m * cells];
      const double* dq0 = &q0_derivatives_[static_cast<size_t>(m) * r * r];
      for (int j = 0; j < r; ++j)
        for (int i = 0; i < r; ++i) out[i + rd_ * j] = dq0[i * r + j];
    }
    return;
  }
  // Until the filter is steady nothing needs the previous d P_pred: write it in place.
  const bool check = filter.steady_;
  double* transposed = work_.data();
  std::array<double, kMaxStates> first_column{};  // T P e_0
  filter.Transition(filter.filtered_cov_.data(), 1, first_column.data(), 1);
  double change = 0.0, scale = 0.0;
  for (int m = 0; m < k_cov_; ++m) {
    const double* dp = &cov_[m * cells];
    double* out = &predicted_cov_[m * cells];
    double* next = check ? work_.data() + cells : out;
    for (int c = 0; c < rd_; ++c) filter.Transition(&dp[c * rd_], 1, &transposed[c], rd_);
    for (int j = 0; j < rd_; ++j) filter.Transition(&transposed[j * rd_], 1, &next[j * rd_], 1);
    if (m < p) {  // dT P T' + T P dT' = e_m u' + u e_m', u = T P e_0
      for (int i = 0; i < rd_; ++i) {
        next[m + rd_ * i] += first_column[i];
        next[i + rd_ * m] += first_column[i];
      }
    } else {  // d(R R') = e_s psi' + psi e_s'
      const int s = m - p + 1;
      for (int i = 0; i <= q; ++i) {
        const double psi = i == 0 ? 1.0 : filter.theta_[i - 1];
        next[s + rd_ * i] += psi;
        next[i + rd_ * s] += psi;
      }
    }
    if (!check) continue;
    for (size_t c = 0; c < cells; ++c) {
      change = std::max(change, std::abs(next[c] - out[c]));
      scale = std::max(scale, std::abs(next[c]));
      out[c] = next[c];
    }
  }
  if (!check) return;
  // Relative to the covariance too: where P_pred no longer depends on a parameter (a pure AR
  // model once p + d observations are in) the derivatives fall to rounding noise around 0.
  for (size_t c = 0; c < cells; ++c) scale = std::max(scale, std::abs(filter.predicted_cov_[c]));
  steady_ = change <= kDerivativeSteadyTolerance * scale;
}

void ArimaLikelihoodGradient::PredictStateDerivatives(const ArimaKalmanFilter& filter) {
  for (int m = 0; m < k_; ++m) {
    filter.Transition(&state_[m * rd_], 1, &predicted_state_[m * rd_], 1);
    if (m < filter.p_) predicted_state_[m * rd_ + m] += filter.a_[0];  // dT a
  }
}

void ArimaLikelihoodGradient::UpdateCovarianceDerivatives(const ArimaKalmanFilter& filter) {
  const int r = filter.r_, d = filter.d_;
  const double f = filter.gain_;
  const double* gain_vec = filter.gain_vec_.data();
  const size_t cells = static_cast<size_t>(rd_) * rd_;
  for (int m = 0; m < k_cov_; ++m) {
    const double* dp_pred = &predicted_cov_[m * cells];
    double* dm = &gain_vec_[m * rd_];
    for (int i = 0; i < rd_; ++i) {
      double value = dp_pred[i];
      for (int k = 0; k < d; ++k) value += filter.delta_[k] * dp_pred[i + rd_ * (r + k)];
      dm[i] = value;
    }
    double df = dm[0];
    for (int k = 0; k < d; ++k) df += filter.delta_[k] * dm[r + k];
    gain_[m] = df;
    // The upper triangle, mirrored (dP is symmetric).
    double* dp = &cov_[m * cells];
    const double inverse_f = 1.0 / f, df_f2 = df * inverse_f * inverse_f;
    for (int j = 0; j < rd_; ++j) {
      for (int i = 0; i <= j; ++i) {
        const double value = dp_pred[i + rd_ * j] -
                             (dm[i] * gain_vec[j] + gain_vec[i] * dm[j]) * inverse_f +
                             gain_vec[i] * gain_vec[j] * df_f2;
        dp[i + rd_ * j] = value;
        dp[j + rd_ * i] = value;
      }
    }
  }
}

void ArimaLikelihoodGradient::UpdateStateDerivatives(const ArimaKalmanFilter& filter,
                                                     double innovation, double regressor,
                                                     bool counted) {
  const int r = filter.r_, d = filter.d_;
  const double f = filter.gain_;
  const double scaled = innovation / f;
  for (int m = 0; m < k_; ++m) {
    const double* da_pred = &predicted_state_[m * rd_];
    double dv = m == k_cov_ ? -regressor : 0.0;
    dv -= da_pred[0];
    for (int k = 0; k < d; ++k) dv -= filter.delta_[k] * da_pred[r + k];
    const bool covariance = m < k_cov_;
    const double df = covariance ? gain_[m] : 0.0;
    if (counted) {
      ssq_[m] += innovation * (2.0 * dv - innovation * df / f) / f;
      sumlog_[m] += df / f;
    }
    const double coefficient = (dv - innovation * df / f) / f;
    double* da = &state_[m * rd_];
    for (int i = 0; i < rd_; ++i) {
      const double dm = covariance ? gain_vec_[m * rd_ + i] : 0.0;
      da[i] = da_pred[i] + dm * scaled + filter.gain_vec_[i] * coefficient;
    }
  }
}

// Both covariances have converged: the filter's RunSteady arithmetic for the value (the same
// bits), and the state derivatives with constant dM and dF. The derivatives are held as rows
// (state index) of k parameters so that every operation runs across the parameters.
void ArimaLikelihoodGradient::RunSteady(ArimaKalmanFilter& filter, std::span<const double> x,
                                        std::span<const double> regressor, FilterSums& sums) {
  const int r = filter.r_, d = filter.d_, p = filter.p_, k = k_;
  const double gain = filter.gain_;
  const bool counted = gain < kDiffuseGainThreshold;
  const double log_gain = std::log(gain);
  const double* gain_vec = filter.gain_vec_.data();
  // da (rd x k, row-major), dM (rd x k, zero for beta), dF / F (zero for beta).
  std::array<double, kMaxStates * kMaxParams> da{}, dm{};
  std::array<double, kMaxParams> df_over_f{}, first{}, dv{}, innovation_dv{};
  double innovation_squares = 0.0;  // d ssq = sum (2 v dv - v^2 dF / F) / F, F constant
  const double inverse_gain = 1.0 / gain;
  for (int m = 0; m < k; ++m) {
    for (int i = 0; i < rd_; ++i) da[i * k + m] = state_[m * rd_ + i];
    if (m < k_cov_) {
      for (int i = 0; i < rd_; ++i) dm[i * k + m] = gain_vec_[m * rd_ + i];
      df_over_f[m] = gain_[m] / gain;
    }
  }
  ArimaKalmanFilter::Vec a = filter.a_, predicted{};
  for (size_t t = 0; t < x.size(); ++t) {
    const double previous_level = a[0];
    filter.Transition(a.data(), 1, predicted.data(), 1);
    double innovation = x[t] - predicted[0];
    for (int j = 0; j < d; ++j) innovation -= filter.delta_[j] * predicted[r + j];
    if (counted) {
      sums.ssq += innovation * innovation / gain;
      sums.sumlog += log_gain;
    }
    const double scaled = innovation / gain;
    for (int i = 0; i < rd_; ++i) a[i] = predicted[i] + gain_vec[i] * scaled;
    // d a_pred = T da + dT a, in place: the ARMA rows read only later ARMA rows and the old
    // first row; the level row reads the old lagged levels before they shift.
    std::copy_n(da.begin(), k, first.begin());
    for (int i = 0; i < r; ++i) {
      const double phi = i < p ? filter.phi_[i] : 0.0;
      double* row = &da[i * k];
      const double* below = &da[(i + 1) * k];
      if (i + 1 < r)
        for (int m = 0; m < k; ++m) row[m] = phi * first[m] + below[m];
      else
        for (int m = 0; m < k; ++m) row[m] = phi * first[m];
    }
    if (d > 0) {
      double* level = &da[r * k];
      for (int m = 0; m < k; ++m) {
        double value = first[m];
        for (int j = 0; j < d; ++j) value += filter.delta_[j] * level[j * k + m];
        dv[m] = value;  // the new level, written after the shift
      }
      for (int j = d - 1; j >= 1; --j) std::copy_n(&level[(j - 1) * k], k, &level[j * k]);
      std::copy_n(dv.begin(), k, level);
    }
    for (int m = 0; m < p; ++m) da[m * k + m] += previous_level;
    // dv = dx - Z' d a_pred, then ssq's derivative and the update.
    for (int m = 0; m < k; ++m) dv[m] = -da[m];
    if (k > k_cov_) dv[k_cov_] -= regressor[t];
    for (int j = 0; j < d; ++j)
      for (int m = 0; m < k; ++m) dv[m] -= filter.delta_[j] * da[(r + j) * k + m];
    innovation_squares += innovation * innovation;
    for (int m = 0; m < k; ++m) {
      innovation_dv[m] += innovation * dv[m];
      dv[m] = (dv[m] - innovation * df_over_f[m]) * inverse_gain;  // da's coefficient on M
    }
    for (int i = 0; i < rd_; ++i) {
      double* row = &da[i * k];
      const double* dm_row = &dm[i * k];
      for (int m = 0; m < k; ++m) row[m] += dm_row[m] * scaled + gain_vec[i] * dv[m];
    }
  }
  if (counted) {
    sums.nu += static_cast<int64_t>(x.size());
    for (int m = 0; m < k; ++m) {
      ssq_[m] += (2.0 * innovation_dv[m] - df_over_f[m] * innovation_squares) * inverse_gain;
      sumlog_[m] += static_cast<double>(x.size()) * df_over_f[m];
    }
  }
  filter.a_ = a;
  filter.a_pred_ = predicted;
}

double ArimaLikelihoodGradient::Evaluate(ArimaKalmanFilter& filter, std::span<const double> phi,
                                         std::span<const double> theta, int d,
                                         std::span<const double> x,
                                         std::span<const double> regressor,
                                         std::span<double> gradient) {
  std::fill(gradient.begin(), gradient.end(), 0.0);
  if (!filter.Reset(phi, theta, d, false, &q0_derivatives_).ok())
    return std::numeric_limits<double>::infinity();
  const bool has_beta = !regressor.empty();
  Prepare(filter, has_beta);
  FilterSums sums;
  size_t t = 0;
  for (; t < x.size() && !(filter.steady_ && steady_); ++t) {
    const bool covariance_moves = !steady_;
    if (covariance_moves) PredictCovarianceDerivatives(filter);
    PredictStateDerivatives(filter);
    filter.Step(x[t], sums);
    double innovation = x[t] - filter.a_pred_[0];
    for (int k = 0; k < filter.d_; ++k)
      innovation -= filter.delta_[k] * filter.a_pred_[filter.r_ + k];
    if (covariance_moves) UpdateCovarianceDerivatives(filter);
    UpdateStateDerivatives(filter, innovation, has_beta ? regressor[t] : 0.0,
                           filter.gain_ < kDiffuseGainThreshold);
  }
  if (t < x.size())
    RunSteady(filter, x.subspan(t), has_beta ? regressor.subspan(t) : regressor, sums);
  const double nu = static_cast<double>(sums.nu);
  for (int m = 0; m < k_; ++m) gradient[m] = 0.5 * (ssq_[m] / sums.ssq + sumlog_[m] / nu);
  return 0.5 * (std::log(sums.ssq / nu) + sums.sumlog / nu);
}

}  // namespace vigil::arima_internal
