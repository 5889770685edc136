// Distribution functions for the GARCH innovations and the simulation generator.
#include "garch_distribution.h"

#include <algorithm>
#include <limits>
#include <numbers>

namespace vigil::garch_internal {
namespace {

// Acklam's coefficients for the central and tail rational approximations of Phi^{-1}.
constexpr double kA[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                         1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
constexpr double kB[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                         6.680131188771972e+01, -1.328068155288572e+01};
constexpr double kC[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                         -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
constexpr double kD[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                         3.754408661907416e+00};

double AcklamQuantile(double p) {
  constexpr double kLow = 0.02425;
  if (p < kLow || p > 1 - kLow) {
    const double q = std::sqrt(-2 * std::log(p < kLow ? p : 1 - p));
    const double x = (((((kC[0] * q + kC[1]) * q + kC[2]) * q + kC[3]) * q + kC[4]) * q + kC[5]) /
                     ((((kD[0] * q + kD[1]) * q + kD[2]) * q + kD[3]) * q + 1);
    return p < kLow ? x : -x;
  }
  const double q = p - 0.5, r = q * q;
  return (((((kA[0] * r + kA[1]) * r + kA[2]) * r + kA[3]) * r + kA[4]) * r + kA[5]) * q /
         (((((kB[0] * r + kB[1]) * r + kB[2]) * r + kB[3]) * r + kB[4]) * r + 1);
}

// Continued fraction for the regularized incomplete beta (modified Lentz); converges fast
// for x < (a + 1) / (a + b + 2), the caller uses the symmetry otherwise.
double BetaContinuedFraction(double a, double b, double x) {
  constexpr double kFloor = 1e-300;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  d = 1 / (std::abs(d) < kFloor ? kFloor : d);
  double h = d;
  for (int m = 1; m <= 500; ++m) {
    for (int half = 0; half < 2; ++half) {
      const double numerator = half == 0
                                   ? m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
                                   : -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
      d = 1 + numerator * d;
      d = 1 / (std::abs(d) < kFloor ? kFloor : d);
      c = 1 + numerator / c;
      if (std::abs(c) < kFloor) c = kFloor;
      h *= c * d;
      if (half == 1 && std::abs(c * d - 1) < 1e-16) return h;
    }
  }
  return h;
}

double RegularizedBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return std::exp(log_front) * BetaContinuedFraction(a, b, x) / a;
  return 1 - std::exp(log_front) * BetaContinuedFraction(b, a, 1 - x) / b;
}

double StudentDensity(double t, double nu) {
  return std::exp(std::lgamma((nu + 1) / 2) - std::lgamma(nu / 2) -
                  0.5 * std::log(nu * std::numbers::pi) - 0.5 * (nu + 1) * std::log1p(t * t / nu));
}

double NormalDensity(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * std::numbers::pi); }

}  // namespace

double NormalQuantile(double p) {
  if (!(p > 0 && p < 1)) return std::numeric_limits<double>::quiet_NaN();
  const double x = AcklamQuantile(p);
  const double error = 0.5 * std::erfc(-x / std::numbers::sqrt2) - p;
  const double u = error * std::sqrt(2 * std::numbers::pi) * std::exp(0.5 * x * x);
  return x - u / (1 + 0.5 * x * u);
}

double StudentCdf(double t, double nu) {
  const double tail = 0.5 * RegularizedBeta(nu / 2, 0.5, nu / (nu + t * t));
  return t > 0 ? 1 - tail : tail;
}

double StudentQuantile(double p, double nu) {
  if (!(p > 0 && p < 1)) return std::numeric_limits<double>::quiet_NaN();
  if (p > 0.5) return -StudentQuantile(1 - p, nu);
  double lo = -1e10, hi = 0;
  double t = std::min(NormalQuantile(p), -1e-12);
  for (int iteration = 0; iteration < 200; ++iteration) {
    const double error = StudentCdf(t, nu) - p;
    (error > 0 ? hi : lo) = t;
    double next = t - error / StudentDensity(t, nu);
    if (!(next > lo && next < hi)) next = lo < -1e9 ? 2 * hi - 1 : 0.5 * (lo + hi);
    if (std::abs(next - t) <= 1e-15 * std::abs(t)) return next;
    t = next;
  }
  return t;
}

double InnovationQuantile(GarchDistribution distribution, double shape, double p) {
  if (distribution == GarchDistribution::kNormal) return NormalQuantile(p);
  return StudentQuantile(p, shape) * std::sqrt((shape - 2) / shape);
}

// Normal: E[z | z <= q] = -phi(q) / p. Student t: E[T | T <= t] = -(nu + t^2) f(t) /
// ((nu - 1) p), then scaled to unit variance.
double InnovationTailMean(GarchDistribution distribution, double shape, double p) {
  if (distribution == GarchDistribution::kNormal) return -NormalDensity(NormalQuantile(p)) / p;
  const double t = StudentQuantile(p, shape);
  return -(shape + t * t) * StudentDensity(t, shape) / ((shape - 1) * p) *
         std::sqrt((shape - 2) / shape);
}

InnovationGenerator::InnovationGenerator(uint64_t seed, GarchDistribution distribution,
                                         double shape)
    : student_(distribution == GarchDistribution::kStudentT) {
  for (uint64_t& word : s_) {  // SplitMix64
    seed += 0x9e3779b97f4a7c15ULL;
    uint64_t z = seed;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    word = z ^ (z >> 31);
  }
  if (!student_) return;
  scale_ = (shape - 2) / 2;
  gamma_d_ = shape / 2 - 1.0 / 3;
  gamma_c_ = 1 / std::sqrt(9 * gamma_d_);
}

uint64_t InnovationGenerator::Bits() {
  const auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

namespace {

// The 128 layers of equal area under exp(-x^2 / 2): right edges x_i (x_1 = R, the start of
// the tail; x_0 = area / f(R) the base strip's virtual width; x_128 = 0) and x_{i+1} / x_i.
struct Ziggurat {
  static constexpr int kLayers = 128;
  static constexpr double kR = 3.442619855899;
  static constexpr double kArea = 9.91256303526217e-3;
  double x[kLayers + 1];
  double ratio[kLayers];
  Ziggurat() {
    double f = std::exp(-0.5 * kR * kR);
    x[0] = kArea / f;
    x[1] = kR;
    x[kLayers] = 0;
    for (int i = 2; i < kLayers; ++i) {
      x[i] = std::sqrt(-2 * std::log(kArea / x[i - 1] + f));
      f = std::exp(-0.5 * x[i] * x[i]);
    }
    for (int i = 0; i < kLayers; ++i) ratio[i] = x[i + 1] / x[i];
  }
};

const Ziggurat& ZigguratTables() {
  static const Ziggurat tables;
  return tables;
}

}  // namespace

double InnovationGenerator::Normal() {
  const Ziggurat& zig = ZigguratTables();
  while (true) {
    const uint64_t bits = Bits();
    const double u = 2 * (static_cast<double>(bits >> 11) * 0x1.0p-53) - 1;
    const int layer = static_cast<int>(bits & (Ziggurat::kLayers - 1));
    if (std::abs(u) < zig.ratio[layer]) return u * zig.x[layer];  // inside the rectangle
    if (layer == 0) {  // the tail beyond R (Marsaglia 1964)
      double x, y;
      do {
        x = std::log(1 - Uniform()) / Ziggurat::kR;
        y = std::log(1 - Uniform());
      } while (-2 * y < x * x);
      return u < 0 ? x - Ziggurat::kR : Ziggurat::kR - x;
    }
    const double x = u * zig.x[layer];
    const double f_outer = std::exp(-0.5 * (zig.x[layer] * zig.x[layer] - x * x));
    const double f_inner = std::exp(-0.5 * (zig.x[layer + 1] * zig.x[layer + 1] - x * x));
    if (f_inner + Uniform() * (f_outer - f_inner) < 1.0) return x;
  }
}

double InnovationGenerator::Gamma() {
  while (true) {
    const double x = Normal();
    const double v_root = 1 + gamma_c_ * x;
    if (v_root <= 0) continue;
    const double v = v_root * v_root * v_root;
    const double u = Uniform();
    if (u < 1 - 0.0331 * x * x * x * x) return gamma_d_ * v;
    if (std::log(u) < 0.5 * x * x + gamma_d_ * (1 - v + std::log(v))) return gamma_d_ * v;
  }
}

}  // namespace vigil::garch_internal
