// Persistence of ArimaModel: options, the fit summary and the Kalman filter state, so a
// restored model forecasts and appends exactly as the original. NaN values (aic for css,
// standard errors of a singular Hessian) are written as null.
#include <cmath>
#include <limits>
#include <string>

#include "arima_internal.h"
#include "vigil/models/forecast/arima.h"

namespace vigil {
namespace {

using nlohmann::json;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Status FieldError(std::string_view field, std::string_view what) {
  return DataError("ARIMA model JSON: field '" + std::string(field) + "' " + std::string(what));
}

Result<const json*> Member(const json& object, std::string_view field) {
  if (!object.is_object() || !object.contains(field)) return FieldError(field, "is missing");
  return &object.at(std::string(field));
}

// A number; null reads as NaN when `nullable`.
Result<double> Number(const json& object, std::string_view field, bool nullable) {
  VIGIL_ASSIGN_OR_RETURN(const json* value, Member(object, field));
  if (nullable && value->is_null()) return kNaN;
  if (!value->is_number()) return FieldError(field, "is not a number");
  const double out = value->get<double>();
  if (!std::isfinite(out)) return FieldError(field, "is not finite");
  return out;
}

Result<int64_t> Integer(const json& object, std::string_view field, int64_t min) {
  VIGIL_ASSIGN_OR_RETURN(const json* value, Member(object, field));
  if (!value->is_number_integer()) return FieldError(field, "is not an integer");
  const int64_t out = value->get<int64_t>();
  if (out < min) return FieldError(field, "is below " + std::to_string(min));
  return out;
}

Result<bool> Boolean(const json& object, std::string_view field) {
  VIGIL_ASSIGN_OR_RETURN(const json* value, Member(object, field));
  if (!value->is_boolean()) return FieldError(field, "is not a boolean");
  return value->get<bool>();
}

// An array of numbers of the given length (any length when expected < 0).
Result<std::vector<double>> Numbers(const json& object, std::string_view field, int64_t expected,
                                    bool nullable) {
  VIGIL_ASSIGN_OR_RETURN(const json* value, Member(object, field));
  if (!value->is_array()) return FieldError(field, "is not an array");
  if (expected >= 0 && static_cast<int64_t>(value->size()) != expected)
    return FieldError(field, "has " + std::to_string(value->size()) + " values, expected " +
                                 std::to_string(expected));
  std::vector<double> out;
  for (const json& item : *value) {
    if (nullable && item.is_null()) {
      out.push_back(kNaN);
      continue;
    }
    if (!item.is_number() || !std::isfinite(item.get<double>()))
      return FieldError(field, "has a value that is not a finite number");
    out.push_back(item.get<double>());
  }
  return out;
}

json NullableNumber(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

json NullableNumbers(const std::vector<double>& values) {
  json out = json::array();
  for (double v : values) out.push_back(NullableNumber(v));
  return out;
}

Result<ArimaOptions> ReadOptions(const json& object) {
  ArimaOptions options;
  VIGIL_ASSIGN_OR_RETURN(const json* order, Member(object, "order"));
  if (!order->is_array() || order->size() != 3 ||
      !std::all_of(order->begin(), order->end(),
                   [](const json& v) { return v.is_number_integer(); }))
    return FieldError("options.order", "is not three integers");
  options.order = {(*order)[0].get<int>(), (*order)[1].get<int>(), (*order)[2].get<int>()};
  VIGIL_ASSIGN_OR_RETURN(const json* method, Member(object, "method"));
  if (!method->is_string()) return FieldError("options.method", "is not a string");
  Result<ArimaMethod> parsed = ParseArimaMethod(method->get<std::string>());
  if (!parsed.ok()) return FieldError("options.method", parsed.status().message());
  options.method = *parsed;
  VIGIL_ASSIGN_OR_RETURN(options.include_constant, Boolean(object, "include_constant"));
  VIGIL_ASSIGN_OR_RETURN(int64_t iterations, Integer(object, "max_iterations", 1));
  options.max_iterations = static_cast<int>(std::min<int64_t>(iterations, 1 << 30));
  VIGIL_ASSIGN_OR_RETURN(options.gradient_tolerance, Number(object, "gradient_tolerance", false));
  Status valid = options.Validate();
  if (!valid.ok()) return FieldError("options", valid.message());
  return options;
}

Status ReadFitNumbers(const json& object, ArimaFit& fit) {
  VIGIL_ASSIGN_OR_RETURN(fit.sigma2, Number(object, "sigma2", false));
  VIGIL_ASSIGN_OR_RETURN(fit.loglik, Number(object, "loglik", false));
  VIGIL_ASSIGN_OR_RETURN(fit.aic, Number(object, "aic", true));
  VIGIL_ASSIGN_OR_RETURN(fit.aicc, Number(object, "aicc", true));
  VIGIL_ASSIGN_OR_RETURN(fit.bic, Number(object, "bic", true));
  VIGIL_ASSIGN_OR_RETURN(fit.nobs, Integer(object, "nobs", 1));
  VIGIL_ASSIGN_OR_RETURN(int64_t iterations, Integer(object, "iterations", 0));
  fit.iterations = static_cast<int>(std::min<int64_t>(iterations, 1 << 30));
  VIGIL_ASSIGN_OR_RETURN(fit.converged, Boolean(object, "converged"));
  if (!(fit.sigma2 >= 0.0)) return FieldError("fit.sigma2", "is negative");
  return Status::Ok();
}

Result<ArimaFit> ReadFit(const json& object, const ArimaOptions& options) {
  ArimaFit fit;
  fit.order = options.order;
  fit.method = options.method;
  fit.names = arima_internal::CoefficientNames(options);
  VIGIL_ASSIGN_OR_RETURN(const json* names, Member(object, "names"));
  if (!names->is_array() || *names != json(fit.names))
    return FieldError("fit.names", "does not match the order and constant in options");
  const auto k = static_cast<int64_t>(fit.names.size());
  VIGIL_ASSIGN_OR_RETURN(fit.coefficients, Numbers(object, "coefficients", k, false));
  VIGIL_ASSIGN_OR_RETURN(fit.standard_errors, Numbers(object, "standard_errors", k, true));
  VIGIL_ASSIGN_OR_RETURN(fit.covariance, Numbers(object, "covariance", -1, false));
  if (!fit.covariance.empty() && static_cast<int64_t>(fit.covariance.size()) != k * k)
    return FieldError("fit.covariance", "is neither empty nor k x k");
  VIGIL_ASSIGN_OR_RETURN(fit.residuals, Numbers(object, "residuals", -1, false));
  VIGIL_RETURN_IF_ERROR(ReadFitNumbers(object, fit));
  return fit;
}

Status ReadState(const json& object, const ArimaFit& fit, ArimaModel::State& state) {
  arima_internal::ArimaKalmanFilter::Snapshot snapshot;
  const ArimaOrder& order = fit.order;
  VIGIL_ASSIGN_OR_RETURN(snapshot.phi, Numbers(object, "phi", order.p, false));
  VIGIL_ASSIGN_OR_RETURN(snapshot.theta, Numbers(object, "theta", order.q, false));
  if (!std::equal(snapshot.phi.begin(), snapshot.phi.end(), fit.coefficients.begin()) ||
      !std::equal(snapshot.theta.begin(), snapshot.theta.end(), fit.coefficients.begin() + order.p))
    return FieldError("state.phi/theta", "do not match fit.coefficients");
  snapshot.d = order.d;
  const int64_t states = std::max(order.p, order.q + 1) + order.d;
  VIGIL_ASSIGN_OR_RETURN(snapshot.a, Numbers(object, "a", states, false));
  VIGIL_ASSIGN_OR_RETURN(snapshot.filtered_cov,
                         Numbers(object, "filtered_cov", states * states, false));
  VIGIL_ASSIGN_OR_RETURN(snapshot.predicted_cov,
                         Numbers(object, "predicted_cov", states * states, false));
  VIGIL_ASSIGN_OR_RETURN(snapshot.at_prior, Boolean(object, "at_prior"));
  VIGIL_ASSIGN_OR_RETURN(snapshot.steady, Boolean(object, "steady"));
  VIGIL_ASSIGN_OR_RETURN(state.size, Integer(object, "size", 1));
  Status restored = state.filter.Restore(snapshot);
  if (!restored.ok()) return FieldError("state", restored.message());
  return Status::Ok();
}

}  // namespace

nlohmann::json ArimaModel::ToJson() const {
  const State& s = *state_;
  const ArimaOptions& o = s.options;
  json options = {{"order", {o.order.p, o.order.d, o.order.q}},
                  {"method", std::string(ArimaMethodName(o.method))},
                  {"include_constant", o.include_constant},
                  {"max_iterations", o.max_iterations},
                  {"gradient_tolerance", o.gradient_tolerance}};
  const ArimaFit& f = s.fit;
  json fit = {{"names", f.names},
              {"coefficients", f.coefficients},
              {"covariance", f.covariance},
              {"standard_errors", NullableNumbers(f.standard_errors)},
              {"sigma2", f.sigma2},
              {"loglik", f.loglik},
              {"aic", NullableNumber(f.aic)},
              {"aicc", NullableNumber(f.aicc)},
              {"bic", NullableNumber(f.bic)},
              {"nobs", f.nobs},
              {"iterations", f.iterations},
              {"converged", f.converged},
              {"residuals", f.residuals}};
  const auto snapshot = s.filter.Save();
  json state = {{"size", s.size},
                {"phi", snapshot.phi},
                {"theta", snapshot.theta},
                {"a", snapshot.a},
                {"filtered_cov", snapshot.filtered_cov},
                {"predicted_cov", snapshot.predicted_cov},
                {"at_prior", snapshot.at_prior},
                {"steady", snapshot.steady}};
  return {{"model", "arima"}, {"options", options}, {"fit", fit}, {"state", state}};
}

Result<ArimaModel> ArimaModel::FromJson(const nlohmann::json& json) {
  if (!json.is_object()) return DataError("ARIMA model JSON: not an object");
  ArimaModel model;
  VIGIL_ASSIGN_OR_RETURN(const nlohmann::json* options, Member(json, "options"));
  VIGIL_ASSIGN_OR_RETURN(model.state_->options, ReadOptions(*options));
  VIGIL_ASSIGN_OR_RETURN(const nlohmann::json* fit, Member(json, "fit"));
  VIGIL_ASSIGN_OR_RETURN(model.state_->fit, ReadFit(*fit, model.state_->options));
  VIGIL_ASSIGN_OR_RETURN(const nlohmann::json* state, Member(json, "state"));
  VIGIL_RETURN_IF_ERROR(ReadState(*state, model.state_->fit, *model.state_));
  return model;
}

}  // namespace vigil
