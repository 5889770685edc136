// Deterministic randomness. Every random draw in Vigil comes from an Rng built from an
// explicit seed, so runs repeat exactly. Independent streams are derived by name, so
// adding a new consumer never shifts the numbers an existing one sees:
//
//   vigil::Rng master(42);
//   vigil::Rng prices = master.Derive("prices/binance:BTC/USDT");
//   double z = prices.Normal();
//
// Thread-safety: an Rng is not shareable; give each thread its own derived stream.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>

namespace vigil {

// SplitMix64 (Steele, Lea, Flood 2014): mixes a 64-bit value into a well-spread one.
uint64_t SplitMix64(uint64_t x);
// FNV-1a 64-bit hash of a name, for deriving stream seeds.
uint64_t HashName(std::string_view name);

class Rng {
 public:
  explicit Rng(uint64_t seed) : seed_(seed), engine_(SplitMix64(seed)) {}

  uint64_t seed() const { return seed_; }
  // A new stream whose seed depends only on this stream's seed and `name`.
  Rng Derive(std::string_view name) const { return Rng(SplitMix64(seed_ ^ HashName(name))); }

  double Uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }
  double Uniform(double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(engine_);
  }
  double Normal() { return normal_(engine_); }
  double Normal(double mean, double stddev) { return mean + stddev * Normal(); }
  // Student-t with `dof` degrees of freedom (fat-tailed shocks).
  double StudentT(double dof) { return std::student_t_distribution<double>(dof)(engine_); }
  int64_t UniformInt(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(engine_);
  }
  bool Bernoulli(double p) { return Uniform() < p; }
  int64_t Poisson(double mean) { return std::poisson_distribution<int64_t>(mean)(engine_); }
  double Exponential(double rate) { return std::exponential_distribution<double>(rate)(engine_); }
  std::mt19937_64& engine() { return engine_; }

 private:
  uint64_t seed_;
  std::mt19937_64 engine_;
  std::normal_distribution<double> normal_{0.0, 1.0};
};

}  // namespace vigil
