#include "vigil/backtest/report.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <numeric>
#include <string_view>

#include "vigil/core/text_file.h"

namespace vigil {
namespace backtest_internal {
extern const std::string_view kReportStyle;  // report_page.cc
extern const std::string_view kReportScript;
}  // namespace backtest_internal

namespace {

// The smallest budget that still holds the first and last marks and one bucket's lowest and
// highest value of two series (equity and drawdown).
constexpr size_t kMinPoints = 6;

nlohmann::json JsonNumbers(std::span<const double> values, std::span<const size_t> kept) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t index : kept) out.push_back(nlohmann::json(JsonFinite(values[index])));
  return out;
}

nlohmann::json JsonMillis(std::span<const Timestamp> times, std::span<const size_t> kept) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t index : kept) out.push_back(times[index].millis());
  return out;
}

// The UTC calendar month of a time, as year * 12 + (month - 1).
int64_t MonthKey(Timestamp time) {
  const int64_t nanos = time.nanos();
  const int64_t days = nanos / kNanosPerDay - (nanos % kNanosPerDay < 0 ? 1 : 0);
  int64_t year = 0;
  unsigned month = 0, day = 0;
  CivilFromDays(days, &year, &month, &day);
  return year * 12 + static_cast<int64_t>(month) - 1;
}

// The first and the last position, and in each of `buckets` equal slices of the rest the
// positions of the lowest and the highest value of every series.
std::vector<size_t> BucketExtremes(size_t n, size_t buckets,
                                   std::initializer_list<std::span<const double>> series) {
  std::vector<size_t> kept = {0};
  const size_t interior = n - 2;
  for (size_t bucket = 0; bucket < buckets; ++bucket) {
    const size_t begin = 1 + interior * bucket / buckets;
    const size_t end = 1 + interior * (bucket + 1) / buckets;
    if (begin == end) continue;
    for (std::span<const double> values : series) {
      const auto [low, high] = std::minmax_element(values.begin() + begin, values.begin() + end);
      kept.push_back(static_cast<size_t>(low - values.begin()));
      kept.push_back(static_cast<size_t>(high - values.begin()));
    }
  }
  kept.push_back(n - 1);
  std::sort(kept.begin(), kept.end());
  kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
  return kept;
}

// Positions kept when drawing series of `n` values with at most `max_points` (>= 2 + 2 x the
// series) points. Keeping each bucket's extremes rather than an average means a drawdown's
// bottom or a price spike is drawn where and as deep as it happened.
std::vector<size_t> SampleIndices(size_t n, size_t max_points,
                                  std::initializer_list<std::span<const double>> series) {
  if (n <= max_points) {
    std::vector<size_t> all(n);
    std::iota(all.begin(), all.end(), size_t{0});
    return all;
  }
  // Extremes of a bucket often share a mark (the equity's high is where the drawdown is 0), so
  // the safe bucket count leaves budget unused: a few bisection steps on the count fill it.
  constexpr int kRefinements = 4;
  size_t fits = std::max<size_t>(1, (max_points - 2) / (2 * series.size()));
  size_t too_many = 0;
  std::vector<size_t> best = BucketExtremes(n, fits, series);
  for (int step = 0; step < kRefinements; ++step) {
    const size_t trial =
        too_many > 0 ? (fits + too_many) / 2 : std::min(n - 2, fits * max_points / best.size());
    if (trial <= fits) break;
    std::vector<size_t> candidate = BucketExtremes(n, trial, series);
    if (candidate.size() <= max_points) {
      best = std::move(candidate);
      fits = trial;
    } else {
      too_many = trial;
    }
  }
  return best;
}

// E_t / max(initial, E_1..E_t) - 1, the definition of metrics.h.
std::vector<double> Drawdown(std::span<const double> equity, double initial_capital) {
  std::vector<double> drawdown(equity.size());
  double peak = initial_capital;
  for (size_t mark = 0; mark < equity.size(); ++mark) {
    peak = std::max(peak, equity[mark]);
    drawdown[mark] = equity[mark] / peak - 1.0;
  }
  return drawdown;
}

double InitialCapital(const ReportInput& input) {
  if (input.initial_capital > 0.0) return input.initial_capital;
  const BacktestResult& result = *input.result;
  if (result.equity.empty()) return 0.0;
  const double growth = 1.0 + result.metrics.total_return;
  // A run that lost everything leaves no way back to its start; its first mark is the best
  // remaining guess.
  if (std::isfinite(growth) && growth > 0.0) return result.equity.back() / growth;
  return result.equity.front();
}

size_t MarkCount(const BacktestResult& result) {
  return std::min(result.mark_times.size(), result.equity.size());
}

nlohmann::json ResultJson(const BacktestResult& result, double initial_capital) {
  const PerformanceMetrics& m = result.metrics;
  nlohmann::json out = MetricsJson(m);
  out["max_drawdown_duration_hours"] =
      JsonFinite(static_cast<double>(m.max_drawdown_duration_ns) / kNanosPerHour);
  out["average_trade"] = JsonFinite(m.average_trade);
  out["slippage_paid"] = JsonFinite(m.slippage_paid);
  out["initial_capital"] = JsonFinite(initial_capital);
  out["final_equity"] = JsonFinite(result.equity.empty() ? 0.0 : result.equity.back());
  out["fills"] = result.fills.size();
  out["rejected_orders"] = result.rejected_orders;
  out["liquidations"] = result.liquidations;
  out["funding_paid"] = JsonFinite(result.funding_paid);
  out["gas_paid"] = JsonFinite(result.gas_paid);
  out["risk_state"] = result.risk_state;
  out["risk_trips"] = result.risk_trips;
  out["events"] = result.events;
  return out;
}

nlohmann::json EquityJson(const BacktestResult& result, double initial_capital, size_t max_points) {
  const size_t n = MarkCount(result);
  const std::span<const double> equity(result.equity.data(), n);
  const std::vector<double> drawdown = Drawdown(equity, initial_capital);
  const std::vector<size_t> kept = SampleIndices(n, max_points, {equity, drawdown});
  nlohmann::json out;
  out["marks"] = n;
  out["t"] = JsonMillis(result.mark_times, kept);
  out["equity"] = JsonNumbers(equity, kept);
  out["drawdown"] = JsonNumbers(drawdown, kept);
  return out;
}

nlohmann::json BaselineJson(const ReportInput& input, size_t max_points) {
  const BacktestResult& baseline = *input.baseline;
  const size_t n = MarkCount(baseline);
  const std::span<const double> equity(baseline.equity.data(), n);
  const std::vector<size_t> kept = SampleIndices(n, max_points, {equity});
  nlohmann::json out;
  out["name"] = input.baseline_name.empty() ? "baseline" : input.baseline_name;
  out["marks"] = n;
  out["t"] = JsonMillis(baseline.mark_times, kept);
  out["equity"] = JsonNumbers(equity, kept);
  out["total_return"] = JsonFinite(baseline.metrics.total_return);
  out["sharpe"] = JsonFinite(baseline.metrics.sharpe);
  out["max_drawdown"] = JsonFinite(baseline.metrics.max_drawdown);
  return out;
}

// The close line is drawn at each bar's close time, where the close became known, the same
// instants the equity is marked at.
nlohmann::json PriceJson(const ReportInput& input, size_t max_points) {
  const BarSeries& bars = *input.prices;
  const size_t n = std::min(bars.size(), bars.close.size());
  const std::span<const double> close(bars.close.data(), n);
  const std::vector<size_t> kept = SampleIndices(n, max_points, {close});
  nlohmann::json times = nlohmann::json::array();
  for (size_t bar : kept) times.push_back(bars.close_time(bar).millis());
  nlohmann::json out;
  out["instrument"] = bars.instrument;
  out["instrument_index"] = input.prices_instrument;
  out["timeframe"] = bars.timeframe_ns > 0 ? FormatDuration(bars.timeframe_ns) : "";
  out["bars"] = n;
  out["t"] = std::move(times);
  out["close"] = JsonNumbers(close, kept);
  return out;
}

nlohmann::json FillsJson(const std::vector<Fill>& fills) {
  nlohmann::json out = nlohmann::json::array();
  for (const Fill& fill : fills) {
    out.push_back({{"time", fill.time.ToIso()},
                   {"t", fill.time.millis()},
                   {"instrument", fill.instrument},
                   {"side", fill.side == OrderSide::kBuy ? "buy" : "sell"},
                   {"quantity", JsonFinite(fill.quantity)},
                   {"price", JsonFinite(fill.price)},
                   {"reference_price", JsonFinite(fill.reference_price)},
                   {"gas", JsonFinite(fill.gas)},
                   {"liquidation", fill.liquidation},
                   {"fee", JsonFinite(fill.fee)}});
  }
  return out;
}

nlohmann::json TradesJson(const std::vector<ClosedTrade>& trades) {
  nlohmann::json out = nlohmann::json::array();
  for (const ClosedTrade& trade : trades) {
    out.push_back({{"entry", trade.entry_time.ToIso()},
                   {"exit", trade.exit_time.ToIso()},
                   {"pnl", JsonFinite(trade.pnl)},
                   {"return", JsonFinite(trade.return_fraction)}});
  }
  return out;
}

nlohmann::json MonthlyJson(const BacktestResult& result, double initial_capital) {
  const size_t n = MarkCount(result);
  nlohmann::json out = nlohmann::json::array();
  for (const MonthlyReturn& month :
       MonthlyReturns(std::span(result.mark_times.data(), n), std::span(result.equity.data(), n),
                      initial_capital)) {
    out.push_back(
        {{"year", month.year}, {"month", month.month}, {"return", JsonFinite(month.value)}});
  }
  return out;
}

nlohmann::json PeriodJson(const BacktestResult& result) {
  const size_t n = MarkCount(result);
  nlohmann::json out = {{"marks", n}};
  if (n > 0) {
    out["start"] = result.mark_times.front().ToIso();
    out["end"] = result.mark_times[n - 1].ToIso();
  }
  return out;
}

nlohmann::json SettingsJson(const ReportInput& input) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, value] : input.settings) out.push_back({name, value});
  return out;
}

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// JSON as the text of a <script> element. '<' appears in JSON only inside strings, where
// \u003c means the same character, so writing every one that way leaves no "</script" or
// "<!--" for the HTML parser to act on. Invalid UTF-8 in a string becomes U+FFFD rather than
// an exception.
std::string EmbedJson(const nlohmann::json& document) {
  const std::string text = document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

std::string PageSections(const ReportInput& input) {
  std::string html =
      "<main>\n"
      "<section class=\"card\"><h2>Equity</h2><div class=\"legend\" id=\"legend-equity\"></div>"
      "<svg id=\"chart-equity\" class=\"chart\" role=\"img\" aria-label=\"Equity curve\"></svg>"
      "</section>\n"
      "<section class=\"card\"><h2>Drawdown</h2><div class=\"legend\" id=\"legend-drawdown\"></div>"
      "<svg id=\"chart-drawdown\" class=\"chart\" role=\"img\" aria-label=\"Drawdown\"></svg>"
      "</section>\n";
  if (input.prices != nullptr) {
    html += "<section class=\"card\"><h2>Price: " + EscapeHtml(input.prices->instrument) +
            "</h2><div class=\"legend\" id=\"legend-price\"></div>"
            "<svg id=\"chart-price\" class=\"chart\" role=\"img\" aria-label=\"Price and fills\">"
            "</svg></section>\n";
  }
  html +=
      "<section class=\"card\"><h2>Monthly returns (UTC)</h2><div id=\"monthly\"></div>"
      "</section>\n"
      "<section class=\"card pair\"><div><h2>Metrics</h2><div id=\"metrics\"></div></div>"
      "<div><h2>Settings</h2><div id=\"settings\"></div></div></section>\n"
      "</main>\n";
  return html;
}

std::string RenderPage(const ReportInput& input, const nlohmann::json& document) {
  const std::string title = EscapeHtml(input.title.empty() ? "Backtest" : input.title);
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"generator\" content=\"Vigil backtest report\">\n";
  html += "<title>" + title + " - Vigil backtest report</title>\n<style>";
  html += backtest_internal::kReportStyle;
  html +=
      "</style>\n</head>\n<body>\n<header><h1>" + title + "</h1><p id=\"period\"></p></header>\n";
  html +=
      "<noscript><p>This report draws its charts with JavaScript; the data is in the "
      "vigil-data element of this file.</p></noscript>\n";
  html += PageSections(input);
  html += "<footer>Vigil backtest report. Times are UTC; hover a chart for values.</footer>\n";
  html += "<script type=\"application/json\" id=\"vigil-data\">" + EmbedJson(document) +
          "</script>\n<script>";
  html += backtest_internal::kReportScript;
  html += "</script>\n</body>\n</html>\n";
  return html;
}

// Writes the file atomically, creating its directory first (a report path under a build
// directory that does not exist yet is the usual case, not an error).
Status WriteTextFile(const std::filesystem::path& path, const std::string& text) {
  std::error_code ignored;  // a directory that cannot be made fails the write, named there
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ignored);
  return WriteFileAtomically(path.string(), text);
}

}  // namespace

std::vector<MonthlyReturn> MonthlyReturns(std::span<const Timestamp> times,
                                          std::span<const double> equity, double initial_capital) {
  const size_t n = std::min(times.size(), equity.size());
  std::vector<MonthlyReturn> months;
  double previous_close = initial_capital;
  for (size_t mark = 0; mark < n; ++mark) {
    const int64_t key = MonthKey(times[mark]);
    // Only the month's last mark counts: look ahead instead of keeping a running state.
    if (mark + 1 < n && MonthKey(times[mark + 1]) == key) continue;
    const int64_t year = key >= 0 ? key / 12 : (key - 11) / 12;
    months.push_back({static_cast<int>(year), static_cast<int>(key - year * 12) + 1,
                      equity[mark] / previous_close - 1.0});
    previous_close = equity[mark];
  }
  return months;
}

nlohmann::json ReportJson(const ReportInput& input, size_t max_points) {
  max_points = std::max(max_points, kMinPoints);
  nlohmann::json out;
  out["format"] = "vigil-backtest-report/1";
  out["title"] = input.title;
  out["settings"] = SettingsJson(input);
  out["extra"] = input.extra;
  if (input.result == nullptr) {
    out["period"] = {{"marks", 0}};
    out["metrics"] = nlohmann::json::object();
    out["equity"] = {{"marks", 0},
                     {"t", nlohmann::json::array()},
                     {"equity", nlohmann::json::array()},
                     {"drawdown", nlohmann::json::array()}};
    out["fills"] = out["trades"] = out["monthly"] = nlohmann::json::array();
    return out;
  }
  const BacktestResult& result = *input.result;
  const double initial_capital = InitialCapital(input);
  out["period"] = PeriodJson(result);
  out["metrics"] = ResultJson(result, initial_capital);
  out["equity"] = EquityJson(result, initial_capital, max_points);
  if (input.baseline != nullptr) out["baseline"] = BaselineJson(input, max_points);
  if (input.prices != nullptr) out["price"] = PriceJson(input, max_points);
  out["fills"] = FillsJson(result.fills);
  out["trades"] = TradesJson(result.trades);
  out["monthly"] = MonthlyJson(result, initial_capital);
  return out;
}

std::string RenderHtmlReport(const ReportInput& input) {
  return RenderPage(input, ReportJson(input));
}

Status WriteReport(const ReportInput& input, const std::filesystem::path& html_path,
                   const std::filesystem::path& json_path) {
  if (input.result == nullptr)
    return InvalidArgument("report " + html_path.string() + ": no backtest result to show");
  const nlohmann::json document = ReportJson(input);
  VIGIL_RETURN_IF_ERROR(WriteTextFile(html_path, RenderPage(input, document)));
  if (json_path.empty()) return Status::Ok();
  return WriteTextFile(
      json_path, document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace vigil
