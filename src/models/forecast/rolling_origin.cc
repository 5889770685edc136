#include "vigil/models/forecast/rolling_origin.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "models/anomaly/parallel.h"

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One origin's outcome for one method, filled by the worker that owns its refit block.
struct OriginSlot {
  Status status;  // OK: forecast holds the path
  OriginForecast forecast;
};

Status CheckSeries(std::span<const double> series) {
  for (size_t i = 0; i < series.size(); ++i) {
    if (!std::isfinite(series[i])) {
      return InvalidArgument("rolling origin: series value " + std::to_string(i) +
                             " is not finite");
    }
  }
  return Status::Ok();
}

Result<std::vector<int64_t>> PlanOrigins(int64_t n, const RollingOriginOptions& options) {
  std::vector<int64_t> origins;
  if (options.origins == 0) {
    for (int64_t t = options.min_train; t < n; t += options.origin_step) origins.push_back(t);
  } else {
    // Anchored at the last full-horizon origin, so the grid ends exactly at n - H.
    for (int64_t k = options.origins - 1; k >= 0; --k) {
      const int64_t t = n - options.horizon - k * options.origin_step;
      if (t >= options.min_train) origins.push_back(t);
    }
    if (static_cast<int64_t>(origins.size()) < options.origins) {
      return InvalidArgument("rolling origin: " + std::to_string(options.origins) +
                             " origins with a full horizon need a series of at least " +
                             std::to_string(options.min_train + options.horizon +
                                            (options.origins - 1) * int64_t{options.origin_step}) +
                             " values, got " + std::to_string(n));
    }
  }
  if (origins.empty()) {
    return InvalidArgument("rolling origin: a series of " + std::to_string(n) +
                           " values leaves no origin after min_train " +
                           std::to_string(options.min_train));
  }
  return origins;
}

Status CheckPath(const ForecastPath& path, const RollingOriginOptions& options) {
  const size_t h = static_cast<size_t>(options.horizon);
  bool shape_ok = path.mean.size() == h && path.lower.size() == options.levels.size() &&
                  path.upper.size() == options.levels.size();
  for (size_t i = 0; shape_ok && i < path.lower.size(); ++i) {
    shape_ok = path.lower[i].size() == h && path.upper[i].size() == h;
  }
  if (!shape_ok) return Internal("forecast path has the wrong shape");
  for (double value : path.mean) {
    if (!std::isfinite(value)) return DataError("non-finite forecast");
  }
  return Status::Ok();
}

// Fits at the block's first origin, Appends the new observations at each later one, and
// forecasts at every origin. A failed fit or Append leaves the rest of the block failed.
void RunBlock(std::span<const double> series, const ForecastMethod& method,
              const std::vector<int64_t>& origins, size_t begin, size_t end,
              const RollingOriginOptions& options, std::vector<OriginSlot>& slots) {
  std::unique_ptr<Forecaster> model;
  Status state;
  for (size_t k = begin; k < end; ++k) {
    const int64_t t = origins[k];
    if (state.ok() && k == begin) {
      Result<std::unique_ptr<Forecaster>> made = method.make();
      state = made.ok() ? (*made)->Fit(series.first(t)) : made.status();
      if (made.ok()) model = std::move(*made);
    } else if (state.ok()) {
      state = model->Append(series.subspan(origins[k - 1], t - origins[k - 1]));
    }
    OriginSlot& slot = slots[k];
    slot.forecast.origin = t;
    slot.forecast.refit = k == begin;
    if (!state.ok()) {
      slot.status = state;
      continue;
    }
    Result<ForecastPath> path = model->Forecast(options.horizon, options.levels);
    slot.status = path.ok() ? CheckPath(*path, options) : path.status();
    if (slot.status.ok()) slot.forecast.path = std::move(*path);
  }
}

// Running sums for one group of forecasts (a horizon step, or all).
struct AccuracySums {
  int64_t count = 0;
  double abs_error = 0;
  double squared_error = 0;
  double abs_percent_error = 0;
  int64_t percent_count = 0;
  double abs_scaled_error = 0;
  int64_t scaled_count = 0;
  std::vector<int64_t> covered;

  void Add(double actual, const ForecastPath& path, size_t step, double scale) {
    const double error = actual - path.mean[step];
    ++count;
    abs_error += std::abs(error);
    squared_error += error * error;
    if (actual != 0) {
      abs_percent_error += std::abs(error / actual);
      ++percent_count;
    }
    if (scale > 0) {
      abs_scaled_error += std::abs(error / scale);
      ++scaled_count;
    }
    covered.resize(path.level.size());
    for (size_t i = 0; i < path.level.size(); ++i) {
      if (path.lower[i][step] <= actual && actual <= path.upper[i][step]) ++covered[i];
    }
  }

  ForecastAccuracy Finish(size_t levels) const {
    ForecastAccuracy out;
    out.forecasts = count;
    const double n = static_cast<double>(count);
    out.mae = count > 0 ? abs_error / n : kNaN;
    out.rmse = count > 0 ? std::sqrt(squared_error / n) : kNaN;
    out.mape = percent_count > 0 ? 100 * abs_percent_error / percent_count : kNaN;
    out.mape_skipped = count - percent_count;
    out.mase = scaled_count > 0 ? abs_scaled_error / scaled_count : kNaN;
    out.mase_skipped = count - scaled_count;
    for (size_t i = 0; i < levels; ++i) {
      out.coverage.push_back(count > 0 && i < covered.size() ? covered[i] / n : kNaN);
    }
    return out;
  }
};

// s_t for every t: the in-sample MAE of the one-step naive forecast on y[0..t) (NaN for t <
// 2), from prefix sums so each origin costs O(1).
std::vector<double> NaiveScales(std::span<const double> series) {
  std::vector<double> scale(series.size() + 1, kNaN);
  double sum = 0;
  for (size_t t = 2; t <= series.size(); ++t) {
    sum += std::abs(series[t - 1] - series[t - 2]);
    scale[t] = sum / static_cast<double>(t - 1);
  }
  return scale;
}

Result<MethodEvaluation> Summarize(std::span<const double> series, const std::string& name,
                                   std::vector<OriginSlot>& slots,
                                   const RollingOriginOptions& options,
                                   const std::vector<double>& scales) {
  MethodEvaluation out;
  out.name = name;
  AccuracySums overall;
  std::vector<AccuracySums> by_step(static_cast<size_t>(options.horizon));
  for (OriginSlot& slot : slots) {
    if (slot.forecast.refit) ++out.refits;
    if (!slot.status.ok()) {
      const Status failure = slot.status.WithContext("method '" + name + "' at origin " +
                                                     std::to_string(slot.forecast.origin));
      if (!options.skip_failures) return failure;
      if (out.failed_origins++ == 0) out.first_failure = failure.ToString();
      continue;
    }
    const int64_t t = slot.forecast.origin;
    const int64_t steps =
        std::min<int64_t>(options.horizon, static_cast<int64_t>(series.size()) - t);
    for (int64_t step = 0; step < steps; ++step) {
      const double actual = series[t + step];
      overall.Add(actual, slot.forecast.path, step, scales[t]);
      by_step[step].Add(actual, slot.forecast.path, step, scales[t]);
    }
    if (options.keep_forecasts) out.forecasts.push_back(std::move(slot.forecast));
  }
  out.overall = overall.Finish(options.levels.size());
  for (const AccuracySums& sums : by_step)
    out.by_horizon.push_back(sums.Finish(options.levels.size()));
  return out;
}

Status CheckMethods(const std::vector<ForecastMethod>& methods) {
  if (methods.empty()) return InvalidArgument("rolling origin: no methods to evaluate");
  std::set<std::string> names;
  for (const ForecastMethod& method : methods) {
    if (!method.make)
      return InvalidArgument("rolling origin: method '" + method.name + "' has no factory");
    if (!names.insert(method.name).second) {
      return InvalidArgument("rolling origin: duplicate method name '" + method.name + "'");
    }
  }
  return Status::Ok();
}

nlohmann::ordered_json Number(double value) {
  return std::isfinite(value) ? nlohmann::ordered_json(value) : nlohmann::ordered_json(nullptr);
}

std::string LevelKey(double level) {
  std::ostringstream text;
  text << level;
  return text.str();
}

nlohmann::ordered_json AccuracyJson(const ForecastAccuracy& accuracy,
                                    const std::vector<double>& levels) {
  nlohmann::ordered_json coverage = nlohmann::ordered_json::object();
  for (size_t i = 0; i < levels.size(); ++i)
    coverage[LevelKey(levels[i])] = Number(accuracy.coverage[i]);
  return {{"forecasts", accuracy.forecasts},       {"mae", Number(accuracy.mae)},
          {"rmse", Number(accuracy.rmse)},         {"mape", Number(accuracy.mape)},
          {"mape_skipped", accuracy.mape_skipped}, {"mase", Number(accuracy.mase)},
          {"mase_skipped", accuracy.mase_skipped}, {"coverage", coverage}};
}

nlohmann::ordered_json ForecastJson(const OriginForecast& forecast) {
  nlohmann::ordered_json out = {
      {"origin", forecast.origin}, {"refit", forecast.refit}, {"mean", forecast.path.mean}};
  if (!forecast.path.se.empty()) out["se"] = forecast.path.se;
  out["lower"] = forecast.path.lower;
  out["upper"] = forecast.path.upper;
  return out;
}

}  // namespace

Status RollingOriginOptions::Validate() const {
  const auto fail = [](const char* field, const char* what) {
    return InvalidArgument(std::string("rolling origin: option '") + field + "': " + what);
  };
  if (horizon < 1) return fail("horizon", "must be >= 1");
  if (min_train < 2) return fail("min_train", "must be >= 2");
  if (origin_step < 1) return fail("origin_step", "must be >= 1");
  if (origins < 0) return fail("origins", "must be >= 0 (0 = all)");
  if (refit_every < 1) return fail("refit_every", "must be >= 1");
  if (threads < 0) return fail("threads", "must be >= 0 (0 = all cores)");
  for (double level : levels) {
    if (!(level > 0 && level < 1)) return fail("levels", "each level must be in (0, 1)");
  }
  return Status::Ok();
}

ForecastMethod ForecastMethodOfKind(std::string name, std::string kind, nlohmann::json config) {
  ForecasterFactory make = [kind = std::move(kind),
                            config = std::move(config)]() -> Result<std::unique_ptr<Forecaster>> {
    VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, CreateModel(kind, config));
    if (AsForecaster(model.get()) == nullptr) {
      return InvalidArgument("model kind '" + kind + "' is not a forecasting kind");
    }
    return std::unique_ptr<Forecaster>(AsForecaster(model.release()));
  };
  return {std::move(name), std::move(make)};
}

Result<RollingOriginResult> EvaluateRollingOrigin(std::span<const double> series,
                                                  const std::vector<ForecastMethod>& methods,
                                                  const RollingOriginOptions& options) {
  VIGIL_RETURN_IF_ERROR(options.Validate());
  VIGIL_RETURN_IF_ERROR(CheckMethods(methods));
  VIGIL_RETURN_IF_ERROR(CheckSeries(series));
  RollingOriginResult result;
  result.options = options;
  VIGIL_ASSIGN_OR_RETURN(result.origins, PlanOrigins(static_cast<int64_t>(series.size()), options));
  const std::vector<int64_t>& origins = result.origins;
  const size_t block = static_cast<size_t>(options.refit_every);
  const size_t blocks_per_method = (origins.size() + block - 1) / block;
  std::vector<std::vector<OriginSlot>> slots(methods.size(),
                                             std::vector<OriginSlot>(origins.size()));
  // Work items are (method, refit block) pairs: independent, each writing its own slots.
  // Workers pull them one at a time, so a slow method does not pin one thread's share.
  const int64_t items = static_cast<int64_t>(methods.size() * blocks_per_method);
  const int threads = options.threads == 0 ? models_internal::ResolveJobs(-1) : options.threads;
  std::atomic<int64_t> next_item{0};
  models_internal::ParallelFor(std::min<int64_t>(threads, items), threads, [&](int64_t, int64_t) {
    for (int64_t item = next_item++; item < items; item = next_item++) {
      const size_t method = static_cast<size_t>(item) / blocks_per_method;
      const size_t begin = (static_cast<size_t>(item) % blocks_per_method) * block;
      RunBlock(series, methods[method], origins, begin, std::min(origins.size(), begin + block),
               options, slots[method]);
    }
  });
  const std::vector<double> scales = NaiveScales(series);
  for (size_t method = 0; method < methods.size(); ++method) {
    VIGIL_ASSIGN_OR_RETURN(MethodEvaluation evaluation,
                           Summarize(series, methods[method].name, slots[method], options, scales));
    result.methods.push_back(std::move(evaluation));
  }
  return result;
}

nlohmann::ordered_json RollingOriginResult::ToJson(bool include_forecasts) const {
  nlohmann::ordered_json out = {{"horizon", options.horizon},
                                {"refit_every", options.refit_every},
                                {"levels", options.levels},
                                {"origins",
                                 {{"count", origins.size()},
                                  {"first", origins.empty() ? 0 : origins.front()},
                                  {"last", origins.empty() ? 0 : origins.back()},
                                  {"step", options.origin_step}}}};
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const MethodEvaluation& method : methods) {
    nlohmann::ordered_json entry = {{"name", method.name},
                                    {"refits", method.refits},
                                    {"failed_origins", method.failed_origins}};
    if (!method.first_failure.empty()) entry["first_failure"] = method.first_failure;
    entry["overall"] = AccuracyJson(method.overall, options.levels);
    entry["by_horizon"] = nlohmann::ordered_json::array();
    for (const ForecastAccuracy& step : method.by_horizon) {
      entry["by_horizon"].push_back(AccuracyJson(step, options.levels));
    }
    if (include_forecasts) {
      entry["forecasts"] = nlohmann::ordered_json::array();
      for (const OriginForecast& forecast : method.forecasts) {
        entry["forecasts"].push_back(ForecastJson(forecast));
      }
    }
    list.push_back(std::move(entry));
  }
  out["methods"] = std::move(list);
  return out;
}

}  // namespace vigil
