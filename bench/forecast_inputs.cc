#include "forecast_inputs.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "vigil/core/rng.h"

namespace vigil::bench {
namespace {

Result<double> ParseNumber(std::string_view cell, const std::string& where) {
  double value = 0;
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (error != std::errc() || end != cell.data() + cell.size()) {
    return DataError(where + ": not a number: '" + std::string(cell) + "'");
  }
  return value;
}

std::vector<std::string_view> SplitCommas(std::string_view line) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  for (size_t comma; (comma = line.find(',', start)) != std::string_view::npos; start = comma + 1) {
    cells.push_back(line.substr(start, comma - start));
  }
  cells.push_back(line.substr(start));
  return cells;
}

// Durbin-Levinson: partial autocorrelations in (-1, 1) -> the coefficients of a stationary
// AR polynomial (Box, Jenkins & Reinsel, sec. 3.2.2); used for the MA side too, which makes
// it invertible.
std::vector<double> FromPartials(const std::vector<double>& partials) {
  std::vector<double> phi;
  for (double partial : partials) {
    std::vector<double> next(phi.size() + 1);
    for (size_t j = 0; j < phi.size(); ++j) next[j] = phi[j] - partial * phi[phi.size() - 1 - j];
    next.back() = partial;
    phi = std::move(next);
  }
  return phi;
}

std::vector<double> DrawPartials(Rng& rng, int64_t order) {
  std::vector<double> partials(static_cast<size_t>(order));
  for (double& partial : partials) partial = rng.Uniform(-0.8, 0.8);
  return partials;
}

std::vector<double> OneMixedSeries(Rng rng, int length) {
  constexpr int kBurnIn = 200;
  const int d = rng.Bernoulli(0.5) ? 1 : 0;
  const std::vector<double> ar = FromPartials(DrawPartials(rng, rng.UniformInt(0, 2)));
  const std::vector<double> ma = FromPartials(DrawPartials(rng, rng.UniformInt(0, 2)));
  const double scale = rng.Uniform(0.5, 2.0);
  const double mean = d == 0 ? rng.Uniform(-5, 5) : 0.0;
  const double drift = d == 1 && rng.Bernoulli(0.5) ? rng.Uniform(-0.2, 0.2) : 0.0;
  std::vector<double> w(kBurnIn + length, 0.0), e(kBurnIn + length, 0.0);
  for (size_t t = 0; t < w.size(); ++t) {
    e[t] = scale * rng.Normal();
    w[t] = e[t];
    for (size_t i = 0; i < ar.size() && i < t; ++i) w[t] += ar[i] * w[t - 1 - i];
    for (size_t i = 0; i < ma.size() && i < t; ++i) w[t] += ma[i] * e[t - 1 - i];
  }
  std::vector<double> y(w.begin() + kBurnIn, w.end());
  double level = 0;
  for (double& value : y) {
    if (d == 1)
      value = level += value + drift;
    else
      value += mean;
  }
  return y;
}

}  // namespace

Result<std::vector<double>> PercentLogReturns(const std::filesystem::path& candles_csv,
                                              int64_t count) {
  std::ifstream in(candles_csv);
  if (!in) return IoError(candles_csv.string() + ": cannot open");
  std::string line;
  std::getline(in, line);
  const std::vector<std::string_view> header = SplitCommas(line);
  size_t close_column = header.size();
  for (size_t column = 0; column < header.size(); ++column) {
    if (header[column] == "close") close_column = column;
  }
  if (close_column == header.size()) return DataError(candles_csv.string() + ": no close column");
  std::vector<double> closes;
  for (int64_t line_number = 2; static_cast<int64_t>(closes.size()) <= count; ++line_number) {
    if (!std::getline(in, line)) return DataError(candles_csv.string() + ": too few rows");
    const std::vector<std::string_view> cells = SplitCommas(line);
    if (cells.size() <= close_column) {
      return DataError(candles_csv.string() + ":" + std::to_string(line_number) + ": short row");
    }
    VIGIL_ASSIGN_OR_RETURN(
        double close,
        ParseNumber(cells[close_column], candles_csv.string() + ":" + std::to_string(line_number)));
    closes.push_back(close);
  }
  std::vector<double> returns(closes.size() - 1);
  for (size_t t = 1; t < closes.size(); ++t)
    returns[t - 1] = 100 * std::log(closes[t] / closes[t - 1]);
  return returns;
}

Result<std::vector<double>> ReadValueCsv(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return IoError(path.string() + ": cannot open");
  std::string line;
  std::getline(in, line);
  std::vector<double> values;
  for (int64_t line_number = 2; std::getline(in, line); ++line_number) {
    if (line.empty()) continue;
    VIGIL_ASSIGN_OR_RETURN(double value,
                           ParseNumber(line, path.string() + ":" + std::to_string(line_number)));
    values.push_back(value);
  }
  return values;
}

Status WriteValueCsv(const std::filesystem::path& path, const std::vector<double>& values) {
  std::ofstream out(path, std::ios::trunc);
  out << "value\n";
  char cell[32];
  for (double value : values) {
    std::snprintf(cell, sizeof(cell), "%.17g\n", value);
    out << cell;
  }
  out.close();
  return out ? Status::Ok() : IoError(path.string() + ": write failed");
}

std::vector<std::vector<double>> MixedArimaSeries(int count, int length, uint64_t seed) {
  const Rng master(seed);
  std::vector<std::vector<double>> series;
  series.reserve(static_cast<size_t>(count));
  for (int index = 0; index < count; ++index) {
    series.push_back(OneMixedSeries(master.Derive("auto_arima/" + std::to_string(index)), length));
  }
  return series;
}

Status WriteSeriesRows(const std::filesystem::path& path,
                       const std::vector<std::vector<double>>& series) {
  std::ofstream out(path, std::ios::trunc);
  char cell[32];
  for (const std::vector<double>& values : series) {
    for (size_t t = 0; t < values.size(); ++t) {
      std::snprintf(cell, sizeof(cell), t == 0 ? "%.17g" : ",%.17g", values[t]);
      out << cell;
    }
    out << "\n";
  }
  out.close();
  return out ? Status::Ok() : IoError(path.string() + ": write failed");
}

}  // namespace vigil::bench
