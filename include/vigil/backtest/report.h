// The backtest report: one self-contained HTML page (and the JSON document it is drawn from)
// showing a run's equity curve against an optional baseline, its drawdown, the price with the
// fills on it, the calendar-month returns and the performance metrics with the run's
// settings. The page needs no network at all: CSS, data and the drawing script are inline and
// the charts are inline SVG, so it opens from a file, an e-mail or a CI artifact as it is.
//
//   vigil::ReportInput input;
//   input.title = "sma_cross on file:ETH/BTC";
//   input.result = &result;  // from vigil::RunBacktest
//   input.prices = &bars;    // the replayed candles, optional
//   input.initial_capital = options.initial_capital;
//   input.settings = {{"strategy", "sma_cross"}, {"params", "fast=10,slow=30"}};
//   VIGIL_RETURN_IF_ERROR(vigil::WriteReport(input, "report.html", "report.json"));
//
// Large runs stay fast to open: the equity, drawdown and price series are downsampled to at
// most `max_points` points each, keeping every bucket's extremes (so the maximum drawdown and
// the highs and lows are still drawn where they happened). Fills and trades are kept whole in
// the JSON; the page marks at most 1,000 fills per side, evenly chosen, and says so.
//
// Numbers JSON cannot hold (NaN, infinities: a win rate without trades, a profit factor
// without losses) are null, and the page shows them as a dash.
//
// All functions are pure apart from WriteReport's files, and safe to call from several
// threads on inputs nobody modifies meanwhile.
#pragma once

#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "vigil/backtest/bar_series.h"
#include "vigil/backtest/engine.h"
#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"

namespace vigil {

// What the report shows. The pointers are borrowed: they must outlive the calls below.
struct ReportInput {
  std::string title;                       // e.g. "sma_cross on file:ETH/BTC"
  const BacktestResult* result = nullptr;  // required: metrics, marks, equity, fills, trades
  // The run's starting capital (BacktestOptions::initial_capital). 0 derives it from the
  // result as final equity / (1 + total_return).
  double initial_capital = 0.0;
  // Optional: the candles of one replayed instrument, drawn as a close line with that
  // instrument's fills (those whose Fill::instrument is `prices_instrument`) on it.
  const BarSeries* prices = nullptr;
  size_t prices_instrument = 0;
  // Optional: a baseline run drawn on the equity chart, e.g. buy_hold over the same bars.
  const BacktestResult* baseline = nullptr;
  std::string baseline_name;  // its legend; "baseline" when empty
  // Run settings shown in a table, in this order (strategy, params, fees, slippage, ...).
  std::vector<std::pair<std::string, std::string>> settings;
  // Optional extra JSON (e.g. a comparison with the baseline), embedded in the document under
  // "extra" and, when it is an object, shown as key/value rows.
  nlohmann::json extra;
};

// One calendar month (UTC) of an equity curve.
struct MonthlyReturn {
  int year = 0;
  int month = 0;       // 1..12
  double value = 0.0;  // a fraction: 0.05 is +5 %
};

// The calendar-month returns of an equity curve (UTC months), in time order: for each month
// with a mark, equity at its last mark / equity at the last mark of the previous month that
// has one (`initial_capital` for the first month) - 1. `times` must be increasing and as long
// as `equity` (extra values of the longer one are ignored). Empty for no marks.
std::vector<MonthlyReturn> MonthlyReturns(std::span<const Timestamp> times,
                                          std::span<const double> equity, double initial_capital);

// The report's JSON document, which the HTML page embeds: title, period, settings, metrics,
// the equity and drawdown series (and the baseline's equity), the price series, fills,
// trades, monthly returns and `extra`. Times are milliseconds since the Unix epoch in the
// series and ISO-8601 strings in the fills and trades. Each series holds at most
// `max_points` points (values below 6 count as 6) and always its first and last mark and the
// mark of the maximum drawdown. Without `input.result` the series are empty and the metrics
// null.
nlohmann::json ReportJson(const ReportInput& input, size_t max_points = 5000);

// The HTML page: inline CSS, the JSON document in <script type="application/json"
// id="vigil-data"> (every '<' written as \u003c, so no string in it can close the element),
// and an inline script drawing with SVG:
//   1. the equity curve, with the baseline when given   <svg id="chart-equity">
//   2. the drawdown                                      <svg id="chart-drawdown">
//   3. the price with buy and sell markers (with prices) <svg id="chart-price">
//   4. the monthly returns table, years x months plus the year's compounded total
//   5. the metrics table, with the settings and `extra`
// When done the script sets <body data-rendered="N">, N the number of parts drawn (5 with
// prices, else 4), and gives each chart's <svg> a data-points attribute with the number of
// points drawn; on a script error it sets <body data-error="message"> instead. Text from the
// input (title, instrument names, settings) is HTML-escaped or inserted as text.
std::string RenderHtmlReport(const ReportInput& input);

// Writes the page to `html_path` and, when `json_path` is not empty, the JSON document there
// (indented). InvalidArgument without `input.result`; IoError naming the path when a file
// cannot be written. Does not create directories.
Status WriteReport(const ReportInput& input, const std::filesystem::path& html_path,
                   const std::filesystem::path& json_path = {});

}  // namespace vigil
