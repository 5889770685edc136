#include <cmath>
#include <exception>
#include <limits>
#include <string>

#include "models/forecast/forecaster_kind.h"
#include "vigil/models/forecast/baselines.h"

namespace vigil {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Polynomial(const double (&c)[8], double r) {
  double value = c[7];
  for (int k = 6; k >= 0; --k) value = value * r + c[k];
  return value;
}

// AS 241's three rational approximations (Wichura 1988, PPND16): the centre |q| <= 0.425,
// then r = sqrt(-log(tail)) below and above 5.
constexpr double kCentreNum[8] = {3.3871328727963666080e0,  1.3314166789178437745e+2,
                                  1.9715909503065514427e+3, 1.3731693765509461125e+4,
                                  4.5921953931549871457e+4, 6.7265770927008700853e+4,
                                  3.3430575583588128105e+4, 2.5090809287301226727e+3};
constexpr double kCentreDen[8] = {1.0,
                                  4.2313330701600911252e+1,
                                  6.8718700749205790830e+2,
                                  5.3941960214247511077e+3,
                                  2.1213794301586595867e+4,
                                  3.9307895800092710610e+4,
                                  2.8729085735721942674e+4,
                                  5.2264952788528545610e+3};
constexpr double kNearNum[8] = {1.42343711074968357734e0,  4.63033784615654529590e0,
                                5.76949722146069140550e0,  3.64784832476320460504e0,
                                1.27045825245236838258e0,  2.41780725177450611770e-1,
                                2.27238449892691845833e-2, 7.74545014278341407640e-4};
constexpr double kNearDen[8] = {1.0,
                                2.05319162663775882187e0,
                                1.67638483018380384940e0,
                                6.89767334985100004550e-1,
                                1.48103976427480074590e-1,
                                1.51986665636164571966e-2,
                                5.47593808499534494600e-4,
                                1.05075007164441684324e-9};
constexpr double kFarNum[8] = {6.65790464350110377720e0,  5.46378491116411436990e0,
                               1.78482653991729133580e0,  2.96560571828504891230e-1,
                               2.65321895265761230930e-2, 1.24266094738807843860e-3,
                               2.71155556874348757815e-5, 2.01033439929228813265e-7};
constexpr double kFarDen[8] = {1.0,
                               5.99832206555887937690e-1,
                               1.36929880922735805310e-1,
                               1.48753612908506148525e-2,
                               7.86869131145613259100e-4,
                               1.84631831751005468180e-5,
                               1.42151175831644588870e-7,
                               2.04426310338993978564e-15};

Status CheckFinite(std::span<const double> values, int64_t offset) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return InvalidArgument("random walk: value " + std::to_string(offset + i) + " is not finite");
    }
  }
  return Status::Ok();
}

}  // namespace

double NormalIntervalMultiplier(double level) {
  if (!(level > 0 && level < 1)) return kNaN;
  // Upper quantile at p = (1 + level) / 2; q = p - 1/2 and the tail 1 - p are formed from
  // `level` directly so no precision is lost to the subtraction.
  const double q = level / 2;
  if (q <= 0.425) {
    const double r = 0.180625 - q * q;
    return q * Polynomial(kCentreNum, r) / Polynomial(kCentreDen, r);
  }
  double r = std::sqrt(-std::log((1 - level) / 2));
  if (r <= 5) {
    r -= 1.6;
    return Polynomial(kNearNum, r) / Polynomial(kNearDen, r);
  }
  r -= 5;
  return Polynomial(kFarNum, r) / Polynomial(kFarDen, r);
}

Status FillNormalIntervals(std::span<const double> levels, ForecastPath& path) {
  path.level.assign(levels.begin(), levels.end());
  path.lower.assign(levels.size(), {});
  path.upper.assign(levels.size(), {});
  for (size_t i = 0; i < levels.size(); ++i) {
    const double z = NormalIntervalMultiplier(levels[i]);
    if (std::isnan(z)) {
      return InvalidArgument("interval level " + std::to_string(levels[i]) + " is not in (0, 1)");
    }
    for (size_t h = 0; h < path.mean.size(); ++h) {
      path.lower[i].push_back(path.mean[h] - z * path.se[h]);
      path.upper[i].push_back(path.mean[h] + z * path.se[h]);
    }
  }
  return Status::Ok();
}

// forecast:::lagwalk with lag 1: the drift is the intercept of lm(d ~ 1), i.e. mean(d),
// with its standard error sigma / sqrt(m); forecast.lagwalk's mse divides the residual sum
// of squares by m - [b != 0].
Result<RandomWalkModel> RandomWalkModel::Fit(std::span<const double> y, bool with_drift) {
  VIGIL_RETURN_IF_ERROR(CheckFinite(y, 0));
  const size_t needed = with_drift ? 3 : 2;
  if (y.size() < needed) {
    return InvalidArgument(std::string(with_drift ? "drift" : "naive") + ": needs at least " +
                           std::to_string(needed) + " observations, got " +
                           std::to_string(y.size()));
  }
  const double m = static_cast<double>(y.size() - 1);
  RandomWalkModel model;
  model.with_drift_ = with_drift;
  if (with_drift) model.drift_ = (y.back() - y.front()) / m;
  double rss = 0;
  for (size_t t = 1; t < y.size(); ++t) {
    const double residual = y[t] - y[t - 1] - model.drift_;
    rss += residual * residual;
  }
  model.sigma2_ = rss / (m - (model.drift_ != 0 ? 1 : 0));
  if (with_drift) model.drift_se_ = std::sqrt(rss / (m - 1) / m);
  model.last_ = y.back();
  model.nobs_ = static_cast<int64_t>(y.size());
  model.size_ = model.nobs_;
  return model;
}

Result<ForecastPath> RandomWalkModel::Forecast(int horizon, std::span<const double> levels) const {
  if (!fitted()) return FailedPrecondition("random walk: not fitted");
  if (horizon < 1) {
    return InvalidArgument("random walk: horizon " + std::to_string(horizon) + " must be >= 1");
  }
  ForecastPath path;
  for (int h = 1; h <= horizon; ++h) {
    path.mean.push_back(last_ + h * drift_);
    path.se.push_back(std::sqrt(h * sigma2_ + (h * drift_se_) * (h * drift_se_)));
  }
  VIGIL_RETURN_IF_ERROR(FillNormalIntervals(levels, path).WithContext("random walk"));
  return path;
}

Status RandomWalkModel::Append(std::span<const double> values) {
  if (!fitted()) return FailedPrecondition("random walk: not fitted");
  VIGIL_RETURN_IF_ERROR(CheckFinite(values, size_));
  if (values.empty()) return Status::Ok();
  last_ = values.back();
  size_ += static_cast<int64_t>(values.size());
  return Status::Ok();
}

nlohmann::json RandomWalkModel::ToJson() const {
  return {{"with_drift", with_drift_}, {"last", last_}, {"drift", drift_}, {"drift_se", drift_se_},
          {"sigma2", sigma2_},         {"nobs", nobs_}, {"size", size_}};
}

Result<RandomWalkModel> RandomWalkModel::FromJson(const nlohmann::json& json) {
  RandomWalkModel model;
  std::string field;
  try {
    const auto number = [&](const char* key) {
      field = key;
      return json.at(key).get<double>();
    };
    field = "with_drift";
    model.with_drift_ = json.at("with_drift").get<bool>();
    model.last_ = number("last");
    model.drift_ = number("drift");
    model.drift_se_ = number("drift_se");
    model.sigma2_ = number("sigma2");
    field = "nobs";
    model.nobs_ = json.at("nobs").get<int64_t>();
    field = "size";
    model.size_ = json.at("size").get<int64_t>();
  } catch (const std::exception& e) {
    return DataError("random walk: field '" + field + "': " + e.what());
  }
  const bool finite = std::isfinite(model.last_) && std::isfinite(model.drift_) &&
                      std::isfinite(model.drift_se_) && std::isfinite(model.sigma2_);
  if (!finite || model.sigma2_ < 0 || model.drift_se_ < 0) {
    return DataError("random walk: non-finite or negative last/drift/drift_se/sigma2");
  }
  if (model.nobs_ < 2 || model.size_ < model.nobs_) {
    return DataError("random walk: field 'nobs'/'size': need 2 <= nobs <= size");
  }
  if (!model.with_drift_ && (model.drift_ != 0 || model.drift_se_ != 0)) {
    return DataError("random walk: field 'drift': must be 0 without drift");
  }
  return model;
}

// The "naive" and "drift" kinds: the baselines as registry models (forecaster_kind.h).
namespace {

using models_internal::CheckConfigKeys;

struct NoOptions {};

template <bool kWithDrift>
struct RandomWalkTraits {
  static constexpr std::string_view kKind = kWithDrift ? "drift" : "naive";
  using Options = NoOptions;
  using Engine = RandomWalkModel;

  static Result<Options> ParseConfig(const nlohmann::json& config) {
    VIGIL_RETURN_IF_ERROR(CheckConfigKeys(kKind, config, {}));
    return Options{};
  }
  static nlohmann::json Config(const Options&) { return nlohmann::json::object(); }
  static Result<Engine> Fit(std::span<const double> y, const Options&) {
    return RandomWalkModel::Fit(y, kWithDrift);
  }
  static Result<ForecastPath> Forecast(const Engine& model, int horizon,
                                       std::span<const double> levels) {
    return model.Forecast(horizon, levels);
  }
  static Status Append(Engine& model, std::span<const double> values) {
    return model.Append(values);
  }
  static nlohmann::json Describe(const Engine& model) {
    nlohmann::json out = {{"sigma2", model.sigma2()}, {"nobs", model.nobs()}};
    if (kWithDrift) {
      out["coefficients"] = {{"drift", model.drift()}};
      out["se"] = {{"drift", model.drift_se()}};
    }
    return out;
  }
  static nlohmann::json ToJson(const Engine& model) { return model.ToJson(); }
  static Result<Engine> FromJson(const nlohmann::json& json, const Options&) {
    VIGIL_ASSIGN_OR_RETURN(RandomWalkModel model, RandomWalkModel::FromJson(json));
    if (model.with_drift() != kWithDrift) {
      return DataError("field 'with_drift' differs from the kind");
    }
    return model;
  }
};

}  // namespace

namespace models_internal {
KindRegistration NaiveForecastKind() { return TraitsKindRegistration<RandomWalkTraits<false>>(); }
KindRegistration DriftForecastKind() { return TraitsKindRegistration<RandomWalkTraits<true>>(); }
}  // namespace models_internal

}  // namespace vigil
