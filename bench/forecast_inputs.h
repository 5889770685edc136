// The series bench/forecast_benchmark.cc fits, and how they reach the reference tools.
//
// The benchmark and its references (scripts/bench/forecast_r.R, arima_statsmodels.py) read
// the same files from one directory DIR:
//   DIR/series/<name>.csv    one column "value", 17 significant digits. R's classic series
//                            (air_log, lynx, nile, lakehuron, wwwusage, sunspot_year) and
//                            fGarch's dem2gbp come from `forecast_r.R export DIR`; the crypto
//                            returns (eth_btc_5m) from `forecast_benchmark
//                            --write_reference_inputs=DIR`, read from ../shared/data.
//   DIR/auto_arima_series.csv  the generated auto_arima series, one per line, no header.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "vigil/core/status.h"

namespace vigil::bench {

// Percent log returns 100 ln(close_t / close_{t-1}) of the first `count` + 1 closes of a
// freqtrade candle CSV (date,open,high,low,close,volume).
Result<std::vector<double>> PercentLogReturns(const std::filesystem::path& candles_csv,
                                              int64_t count);

// A one-column CSV with header "value"; a non-numeric cell is DataError naming the line.
Result<std::vector<double>> ReadValueCsv(const std::filesystem::path& path);
Status WriteValueCsv(const std::filesystem::path& path, const std::vector<double>& values);

// `count` seeded series of `length` observations, a mix of the models auto_arima chooses
// between. Series i draws from Rng(seed).Derive("auto_arima/i"): d in {0, 1} (even odds),
// p and q uniform in 0..2, AR and MA coefficients from partial autocorrelations uniform in
// (-0.8, 0.8) (Durbin-Levinson, so the AR part is stationary and the MA part invertible),
// innovations N(0, s^2) with s uniform in (0.5, 2), a mean uniform in (-5, 5) when d = 0
// and, for half of the d = 1 series, a drift uniform in (-0.2, 0.2); 200 burn-in steps.
std::vector<std::vector<double>> MixedArimaSeries(int count, int length, uint64_t seed);

// One series per line, comma-separated, no header (R: read.csv(header = FALSE)).
Status WriteSeriesRows(const std::filesystem::path& path,
                       const std::vector<std::vector<double>>& series);

}  // namespace vigil::bench
