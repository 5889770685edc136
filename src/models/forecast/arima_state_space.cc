// The exact ARIMA likelihood by Kalman filter, in the state space R's makeARIMA builds:
// Gardner, Harvey & Phillips (1980), "An algorithm for exact maximum likelihood estimation of
// autoregressive-moving average models by means of Kalman filtering", Applied Statistics 29,
// 311-322 (AS 154), with the differencing carried in the state as in Harvey (1989),
// "Forecasting, structural time series models and the Kalman filter", sec. 3.4.
//
// States: alpha_t = (r ARMA states, d lagged levels), r = max(p, q + 1);
//   transition T: ARMA block is the companion form with phi in the first column and ones on
//   the superdiagonal; the level row is (1, 0.., delta); the other level rows shift.
//   Observation x_t = Z alpha_t with Z = (1, 0.., delta), no observation noise; the state
//   noise is (1, theta_1.., theta_{r-1}, 0..) e_t, so the covariances are relative to sigma2.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "arima_internal.h"

namespace vigil::arima_internal {
namespace {

// Calls body(r, d) with r and d as std::integral_constant for the state spaces small fits use
// (r = max(p, q + 1) <= 5, d <= 2, r + d <= 5), else with (0, -1): the runtime dimensions.
// The fixed instances run the same arithmetic with unrolled loops.
template <typename Body>
decltype(auto) WithFixedDimensions(int r, int d, Body&& body) {
  using std::integral_constant;
  using Zero = integral_constant<int, 0>;
  using One = integral_constant<int, 1>;
  using Two = integral_constant<int, 2>;
  switch (d * 8 + r) {
    case 1:
      return body(One{}, Zero{});
    case 2:
      return body(Two{}, Zero{});
    case 3:
      return body(integral_constant<int, 3>{}, Zero{});
    case 4:
      return body(integral_constant<int, 4>{}, Zero{});
    case 5:
      return body(integral_constant<int, 5>{}, Zero{});
    case 8 + 1:
      return body(One{}, One{});
    case 8 + 2:
      return body(Two{}, One{});
    case 8 + 3:
      return body(integral_constant<int, 3>{}, One{});
    case 8 + 4:
      return body(integral_constant<int, 4>{}, One{});
    case 16 + 1:
      return body(One{}, Two{});
    case 16 + 2:
      return body(Two{}, Two{});
    case 16 + 3:
      return body(integral_constant<int, 3>{}, Two{});
    default:
      return body(Zero{}, integral_constant<int, -1>{});
  }
}

// psi_i: the loading of e_t on ARMA state i (1, theta_1, ..., 0).
double NoiseLoading(std::span<const double> theta, int i) {
  if (i == 0) return 1.0;
  return i - 1 < static_cast<int>(theta.size()) ? theta[i - 1] : 0.0;
}

double PhiAt(std::span<const double> phi, int i) {
  return i < static_cast<int>(phi.size()) ? phi[i] : 0.0;
}

}  // namespace

namespace {

// Gardner's linear system for the packed upper triangle of Q0 (unknowns P(i, j), i <= j, row
// by row), factorised once so that the derivatives reuse it.
class GardnerSystem {
 public:
  GardnerSystem(std::span<const double> phi, int r) : r_(r) {
    const int unknowns = r * (r + 1) / 2;
    // One equation per unknown:
    // P(i,j) - [phi_i phi_j P(0,0) + phi_i P(0,j+1) + phi_j P(i+1,0) + P(i+1,j+1)] = rhs(i,j).
    Eigen::MatrixXd system = Eigen::MatrixXd::Zero(unknowns, unknowns);
    for (int i = 0; i < r; ++i) {
      for (int j = i; j < r; ++j) {
        const int row = Index(i, j);
        const double phi_i = PhiAt(phi, i), phi_j = PhiAt(phi, j);
        system(row, row) += 1.0;
        system(row, Index(0, 0)) -= phi_i * phi_j;
        if (j + 1 < r) system(row, Index(0, j + 1)) -= phi_i;
        if (i + 1 < r) system(row, Index(i + 1, 0)) -= phi_j;
        if (i + 1 < r && j + 1 < r) system(row, Index(i + 1, j + 1)) -= 1.0;
      }
    }
    lu_.compute(system);
  }

  int Index(int i, int j) const {
    if (i > j) std::swap(i, j);
    return i * r_ - i * (i - 1) / 2 + (j - i);
  }
  int unknowns() const { return r_ * (r_ + 1) / 2; }

  // Solves with the right-hand side rhs(i, j) and unpacks into a row-major r x r matrix.
  template <typename Rhs>
  void Solve(Rhs rhs, double* out) const {
    Eigen::VectorXd b(unknowns());
    for (int i = 0; i < r_; ++i)
      for (int j = i; j < r_; ++j) b(Index(i, j)) = rhs(i, j);
    const Eigen::VectorXd packed = lu_.solve(b);
    for (int i = 0; i < r_; ++i)
      for (int j = 0; j < r_; ++j) out[i * r_ + j] = packed(Index(i, j));
  }

 private:
  int r_;
  Eigen::PartialPivLU<Eigen::MatrixXd> lu_;
};

// Differentiating the system: d/dphi_m of the bracket gives, with Q0 held at its solution,
// S dQ0 = (delta_im phi_j + phi_i delta_jm) P(0,0) + delta_im P(0,j+1) + delta_jm P(i+1,0);
// d/dtheta_m changes only the right-hand side psi_i psi_j (psi_{m+1} = theta_m).
void CovarianceDerivatives(const GardnerSystem& system, std::span<const double> phi,
                           std::span<const double> theta, int r, const std::vector<double>& cov,
                           std::vector<double>& derivatives) {
  const int p = static_cast<int>(phi.size()), q = static_cast<int>(theta.size());
  derivatives.assign(static_cast<size_t>(p + q) * r * r, 0.0);
  auto at = [&](int i, int j) { return i < r && j < r ? cov[i * r + j] : 0.0; };
  for (int m = 0; m < p; ++m) {
    system.Solve(
        [&](int i, int j) {
          const double dphi_i = i == m ? 1.0 : 0.0, dphi_j = j == m ? 1.0 : 0.0;
          return (dphi_i * PhiAt(phi, j) + PhiAt(phi, i) * dphi_j) * cov[0] +
                 dphi_i * at(0, j + 1) + dphi_j * at(i + 1, 0);
        },
        &derivatives[static_cast<size_t>(m) * r * r]);
  }
  for (int m = 0; m < q; ++m) {
    system.Solve(
        [&](int i, int j) {
          const double dpsi_i = i == m + 1 ? 1.0 : 0.0, dpsi_j = j == m + 1 ? 1.0 : 0.0;
          return dpsi_i * NoiseLoading(theta, j) + NoiseLoading(theta, i) * dpsi_j;
        },
        &derivatives[static_cast<size_t>(p + m) * r * r]);
  }
}

}  // namespace

Result<std::vector<double>> StationaryCovariance(std::span<const double> phi,
                                                 std::span<const double> theta,
                                                 bool allow_explosive,
                                                 std::vector<double>* derivatives) {
  const int r = std::max(static_cast<int>(phi.size()), static_cast<int>(theta.size()) + 1);
  const GardnerSystem system(phi, r);
  std::vector<double> cov(r * r);
  system.Solve([&](int i, int j) { return NoiseLoading(theta, i) * NoiseLoading(theta, j); },
               cov.data());
  const bool finite =
      std::all_of(cov.begin(), cov.end(), [](double v) { return std::isfinite(v); });
  if (!finite || !(allow_explosive || cov[0] > 0.0))
    return InvalidArgument("ARMA stationary covariance is singular (AR root on the unit circle)");
  if (derivatives != nullptr) CovarianceDerivatives(system, phi, theta, r, cov, *derivatives);
  return cov;
}

Status ArimaKalmanFilter::Reset(std::span<const double> phi, std::span<const double> theta, int d,
                                bool allow_explosive, std::vector<double>* q0_derivatives) {
  if (phi.size() > kMaxArmaOrder || theta.size() > kMaxArmaOrder || d < 0 || d > kMaxDifferences)
    return InvalidArgument("ARIMA filter: order out of range");
  p_ = static_cast<int>(phi.size());
  q_ = static_cast<int>(theta.size());
  r_ = std::max(p_, q_ + 1);
  d_ = d;
  rd_ = r_ + d_;
  std::copy(phi.begin(), phi.end(), phi_.begin());
  std::copy(theta.begin(), theta.end(), theta_.begin());
  // (1 - B)^d = 1 - delta_1 B - ... - delta_d B^d.
  delta_ = {d == 2 ? 2.0 : 1.0, d == 2 ? -1.0 : 0.0};
  VIGIL_ASSIGN_OR_RETURN(std::vector<double> q0,
                         StationaryCovariance(phi, theta, allow_explosive, q0_derivatives));
  std::fill(predicted_cov_.begin(), predicted_cov_.end(), 0.0);
  for (int i = 0; i < r_; ++i)
    for (int j = 0; j < r_; ++j) predicted_cov_[i + rd_ * j] = q0[i * r_ + j];
  for (int k = 0; k < d_; ++k) predicted_cov_[(r_ + k) * (rd_ + 1)] = kDiffusePriorVariance;
  std::fill(a_.begin(), a_.end(), 0.0);
  std::fill(filtered_cov_.begin(), filtered_cov_.end(), 0.0);
  at_prior_ = true;
  steady_ = false;
  return Status::Ok();
}

template <int kR, int kD>
bool ArimaKalmanFilter::PredictCovarianceFixed() {
  const int r = kR > 0 ? kR : r_, rd = r + (kD >= 0 ? kD : d_);
  // work = (T P)': column c of T P written as row c of work; then P_pred = T (T P)'.
  for (int c = 0; c < rd; ++c) Transition<kR, kD>(&filtered_cov_[c * rd], 1, &work_[c], rd);
  for (int j = 0; j < rd; ++j) Transition<kR, kD>(&work_[j * rd], 1, &predicted_cov_[j * rd], 1);
  const int loaded = q_ + 1;
  for (int j = 0; j < loaded; ++j) {
    const double psi_j = j == 0 ? 1.0 : theta_[j - 1];
    for (int i = 0; i < loaded; ++i)
      predicted_cov_[i + rd * j] += (i == 0 ? 1.0 : theta_[i - 1]) * psi_j;
  }
  if (!steady_enabled_) return false;
  double change = 0.0, scale = 0.0;
  for (int i = 0; i < rd * rd; ++i) {
    change = std::max(change, std::abs(predicted_cov_[i] - previous_predicted_[i]));
    scale = std::max(scale, std::abs(predicted_cov_[i]));
  }
  return change <= kSteadyTolerance * scale;
}

bool ArimaKalmanFilter::PredictCovariance() {
  return WithFixedDimensions(r_, d_, [this](auto r, auto d) {
    return PredictCovarianceFixed<decltype(r)::value, decltype(d)::value>();
  });
}

template <int kR, int kD>
void ArimaKalmanFilter::UpdateGainFixed() {
  const int r = kR > 0 ? kR : r_, d = kD >= 0 ? kD : d_, rd = r + d;
  for (int i = 0; i < rd; ++i) {
    double m = predicted_cov_[i];
    for (int k = 0; k < d; ++k) m += delta_[k] * predicted_cov_[i + rd * (r + k)];
    gain_vec_[i] = m;
  }
  gain_ = gain_vec_[0];
  for (int k = 0; k < d; ++k) gain_ += delta_[k] * gain_vec_[r + k];
}

void ArimaKalmanFilter::UpdateGain() {
  WithFixedDimensions(r_, d_, [this](auto r, auto d) {
    UpdateGainFixed<decltype(r)::value, decltype(d)::value>();
  });
}

template <int kR, int kD>
double ArimaKalmanFilter::StepFixed(double x, FilterSums& sums) {
  const int r = kR > 0 ? kR : r_, d = kD >= 0 ? kD : d_, rd = r + d;
  Transition<kR, kD>(a_.data(), 1, a_pred_.data(), 1);
  if (!steady_) {
    if (!at_prior_) {
      if (steady_enabled_)
        std::copy_n(predicted_cov_.begin(), rd * rd, previous_predicted_.begin());
      steady_ = PredictCovarianceFixed<kR, kD>();
    }
    at_prior_ = false;
    UpdateGainFixed<kR, kD>();
  }
  double innovation = x - a_pred_[0];
  for (int k = 0; k < d; ++k) innovation -= delta_[k] * a_pred_[r + k];
  if (gain_ < kDiffuseGainThreshold) {
    ++sums.nu;
    sums.ssq += innovation * innovation / gain_;
    sums.sumlog += std::log(gain_);
  }
  const double scaled = innovation / gain_;
  for (int i = 0; i < rd; ++i) a_[i] = a_pred_[i] + gain_vec_[i] * scaled;
  if (!steady_) {
    for (int j = 0; j < rd; ++j)
      for (int i = 0; i < rd; ++i)
        filtered_cov_[i + rd * j] =
            predicted_cov_[i + rd * j] - gain_vec_[i] * gain_vec_[j] / gain_;
  }
  return innovation / std::sqrt(gain_);
}

double ArimaKalmanFilter::Step(double x, FilterSums& sums) {
  return WithFixedDimensions(r_, d_, [this, x, &sums](auto r, auto d) {
    return StepFixed<decltype(r)::value, decltype(d)::value>(x, sums);
  });
}

FilterSums ArimaKalmanFilter::Run(std::span<const double> x, std::span<double> standardized) {
  FilterSums sums;
  const bool write = !standardized.empty();
  size_t t = 0;
  for (; t < x.size() && !steady_; ++t) {
    const double value = Step(x[t], sums);
    if (write) standardized[t] = value;
  }
  if (t < x.size()) RunSteady(x.subspan(t), write ? standardized.subspan(t) : standardized, sums);
  return sums;
}

// Step() once the covariance has converged: the gain is constant, so only the state moves
// and log(gain) and sqrt(gain) are computed once. The arithmetic is otherwise Step()'s,
// operation for operation, so both give the same bits (auto_arima's choices on
// near-tied candidates depend on them).
void ArimaKalmanFilter::RunSteady(std::span<const double> x, std::span<double> standardized,
                                  FilterSums& sums) {
  const bool write = !standardized.empty();
  const bool counted = gain_ < kDiffuseGainThreshold;
  const double log_gain = std::log(gain_);
  const double sd = std::sqrt(gain_);
  Vec a = a_, predicted{};
  for (size_t t = 0; t < x.size(); ++t) {
    Transition(a.data(), 1, predicted.data(), 1);
    double innovation = x[t] - predicted[0];
    for (int k = 0; k < d_; ++k) innovation -= delta_[k] * predicted[r_ + k];
    if (counted) {
      sums.ssq += innovation * innovation / gain_;
      sums.sumlog += log_gain;
    }
    const double scaled = innovation / gain_;
    for (int i = 0; i < rd_; ++i) a[i] = predicted[i] + gain_vec_[i] * scaled;
    if (write) standardized[t] = innovation / sd;
  }
  if (counted) sums.nu += static_cast<int64_t>(x.size());
  a_ = a;
  a_pred_ = predicted;
}

void ArimaKalmanFilter::Forecast(std::span<double> mean, std::span<double> variance) const {
  ArimaKalmanFilter ahead = *this;  // the forecast must not move this filter's state
  for (size_t h = 0; h < mean.size(); ++h) {
    ahead.Transition(ahead.a_.data(), 1, ahead.a_pred_.data(), 1);
    ahead.a_ = ahead.a_pred_;
    ahead.PredictCovariance();
    ahead.filtered_cov_ = ahead.predicted_cov_;
    ahead.UpdateGain();
    double level = ahead.a_[0];
    for (int k = 0; k < d_; ++k) level += delta_[k] * ahead.a_[r_ + k];
    mean[h] = level;
    variance[h] = ahead.gain_;
  }
}

ArimaKalmanFilter::Snapshot ArimaKalmanFilter::Save() const {
  Snapshot out;
  out.phi.assign(phi_.begin(), phi_.begin() + p_);
  out.theta.assign(theta_.begin(), theta_.begin() + q_);
  out.d = d_;
  out.a.assign(a_.begin(), a_.begin() + rd_);
  out.filtered_cov.assign(filtered_cov_.begin(), filtered_cov_.begin() + rd_ * rd_);
  out.predicted_cov.assign(predicted_cov_.begin(), predicted_cov_.begin() + rd_ * rd_);
  out.at_prior = at_prior_;
  out.steady = steady_;
  return out;
}

Status ArimaKalmanFilter::Restore(const Snapshot& snapshot) {
  VIGIL_RETURN_IF_ERROR(Reset(snapshot.phi, snapshot.theta, snapshot.d));
  const size_t cells = static_cast<size_t>(rd_) * rd_;
  if (snapshot.a.size() != static_cast<size_t>(rd_) || snapshot.filtered_cov.size() != cells ||
      snapshot.predicted_cov.size() != cells)
    return InvalidArgument("ARIMA filter state has the wrong dimensions");
  std::copy(snapshot.a.begin(), snapshot.a.end(), a_.begin());
  std::copy(snapshot.filtered_cov.begin(), snapshot.filtered_cov.end(), filtered_cov_.begin());
  std::copy(snapshot.predicted_cov.begin(), snapshot.predicted_cov.end(), predicted_cov_.begin());
  at_prior_ = snapshot.at_prior;
  steady_ = snapshot.steady;
  if (!at_prior_) UpdateGain();  // the gain of the last step, reused while steady
  return Status::Ok();
}

}  // namespace vigil::arima_internal
