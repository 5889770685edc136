// GarchModel::ToJson / FromJson: the options, the fitted coefficients with their standard
// errors and fit statistics, and the end of the variance recursion (enough to forecast and
// to Append). The in-sample h_t and z_t series are not stored.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "garch_likelihood.h"
#include "garch_state.h"
#include "vigil/models/forecast/garch.h"

namespace vigil {
namespace {

using nlohmann::json;

// NaN is written as null (JSON has no NaN) and read back as NaN.
json Number(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

json NamedValues(const std::vector<std::string>& names, const std::vector<double>& values) {
  json out = json::object();
  for (size_t i = 0; i < names.size(); ++i) out[names[i]] = Number(values[i]);
  return out;
}

Status FieldError(const std::string& field, const std::string& what) {
  return DataError("GARCH model JSON: field '" + field + "' " + what);
}

Result<double> ReadNumber(const json& j, const std::string& field, bool allow_null) {
  if (!j.contains(field)) return FieldError(field, "is missing");
  const json& v = j.at(field);
  if (v.is_null() && allow_null) return std::numeric_limits<double>::quiet_NaN();
  if (!v.is_number()) return FieldError(field, "is not a number");
  return v.get<double>();
}

Result<std::string> ReadString(const json& j, const std::string& field) {
  if (!j.contains(field) || !j.at(field).is_string()) return FieldError(field, "is not a string");
  return j.at(field).get<std::string>();
}

Result<GarchOptions> ReadOptions(const json& j) {
  GarchOptions o;
  VIGIL_ASSIGN_OR_RETURN(const std::string spec, ReadString(j, "spec"));
  VIGIL_ASSIGN_OR_RETURN(o.spec, ParseGarchSpec(spec));
  VIGIL_ASSIGN_OR_RETURN(const std::string dist, ReadString(j, "distribution"));
  VIGIL_ASSIGN_OR_RETURN(o.distribution, ParseGarchDistribution(dist));
  VIGIL_ASSIGN_OR_RETURN(const std::string mean, ReadString(j, "mean"));
  VIGIL_ASSIGN_OR_RETURN(o.mean, ParseGarchMean(mean));
  if (!j.contains("variance_targeting") || !j.at("variance_targeting").is_boolean()) {
    return FieldError("variance_targeting", "is not a boolean");
  }
  o.variance_targeting = j.at("variance_targeting").get<bool>();
  for (const char* field : {"max_iterations", "simulations"}) {
    if (!j.contains(field) || !j.at(field).is_number_integer()) {
      return FieldError(field, "is not an integer");
    }
  }
  o.max_iterations = j.at("max_iterations").get<int>();
  o.simulations = j.at("simulations").get<int>();
  if (!j.contains("seed") || !j.at("seed").is_number_unsigned()) {
    return FieldError("seed", "is not a non-negative integer");
  }
  o.seed = j.at("seed").get<uint64_t>();
  VIGIL_RETURN_IF_ERROR(o.Validate());
  return o;
}

Result<std::vector<double>> ReadNamed(const json& j, const std::string& field,
                                      const std::vector<std::string>& names, bool allow_null) {
  if (!j.contains(field) || !j.at(field).is_object()) return FieldError(field, "is not an object");
  const json& values = j.at(field);
  std::vector<double> out;
  for (const std::string& name : names) {
    Result<double> v = ReadNumber(values, name, allow_null);
    if (!v.ok()) return FieldError(field + "." + name, "is missing or not a number");
    out.push_back(*v);
  }
  for (const auto& [name, value] : values.items()) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      return FieldError(field + "." + name, "is not a coefficient of this specification");
    }
  }
  return out;
}

// Ranges the recursion needs: omega > 0 (garch, gjr), alpha, beta >= 0, alpha + gamma >= 0,
// |beta| < 1 (egarch), shape > 2, |ar1| < 1.
Status CheckCoefficients(const GarchOptions& o, const GarchFit& fit) {
  const bool egarch = o.spec == GarchSpec::kEgarch;
  for (size_t i = 0; i < fit.names.size(); ++i) {
    const std::string& name = fit.names[i];
    const double v = fit.coefficients[i];
    const bool bad =
        !std::isfinite(v) || (name == "omega" && !egarch && v <= 0) ||
        (name == "alpha1" && !egarch && v < 0) ||
        (name == "beta1" && (egarch ? std::abs(v) >= 1 : v < 0)) ||
        (name == "gamma1" && o.spec == GarchSpec::kGjr && fit.Coefficient("alpha1") + v < 0) ||
        (name == "shape" && v <= 2) || (name == "ar1" && std::abs(v) >= 1);
    if (bad) return FieldError("coefficients." + name, "is out of range");
  }
  return Status::Ok();
}

Status ReadStatistics(const json& j, GarchFit& fit) {
  VIGIL_ASSIGN_OR_RETURN(fit.loglik, ReadNumber(j, "loglik", true));
  VIGIL_ASSIGN_OR_RETURN(fit.aic, ReadNumber(j, "aic", true));
  VIGIL_ASSIGN_OR_RETURN(fit.bic, ReadNumber(j, "bic", true));
  VIGIL_ASSIGN_OR_RETURN(fit.unconditional_variance, ReadNumber(j, "unconditional_variance", true));
  if (!j.contains("nobs") || !j.at("nobs").is_number_integer() || j.at("nobs").get<int64_t>() < 1) {
    return FieldError("nobs", "is not a positive integer");
  }
  fit.nobs = j.at("nobs").get<int64_t>();
  if (!j.contains("iterations") || !j.at("iterations").is_number_integer()) {
    return FieldError("iterations", "is not an integer");
  }
  fit.iterations = j.at("iterations").get<int>();
  if (!j.contains("converged") || !j.at("converged").is_boolean()) {
    return FieldError("converged", "is not a boolean");
  }
  fit.converged = j.at("converged").get<bool>();
  return Status::Ok();
}

Status ReadRecursionEnd(const json& j, GarchModel::State& s) {
  VIGIL_ASSIGN_OR_RETURN(s.last_return, ReadNumber(j, "last_return", false));
  VIGIL_ASSIGN_OR_RETURN(s.last_residual, ReadNumber(j, "last_residual", false));
  VIGIL_ASSIGN_OR_RETURN(s.last_variance, ReadNumber(j, "last_variance", false));
  if (!std::isfinite(s.last_return)) return FieldError("last_return", "is not finite");
  if (!std::isfinite(s.last_residual)) return FieldError("last_residual", "is not finite");
  if (!(s.last_variance > 0) || !std::isfinite(s.last_variance)) {
    return FieldError("last_variance", "is not a positive number");
  }
  return Status::Ok();
}

}  // namespace

nlohmann::json GarchModel::ToJson() const {
  const State& s = *state_;
  if (!s.fitted) return json::object();
  const GarchOptions& o = s.fit.options;
  return json{{"model", "garch"},
              {"spec", GarchSpecName(o.spec)},
              {"distribution", GarchDistributionName(o.distribution)},
              {"mean", GarchMeanName(o.mean)},
              {"variance_targeting", o.variance_targeting},
              {"max_iterations", o.max_iterations},
              {"simulations", o.simulations},
              {"seed", o.seed},
              {"coefficients", NamedValues(s.fit.names, s.fit.coefficients)},
              {"standard_errors", NamedValues(s.fit.names, s.fit.standard_errors)},
              {"robust_standard_errors", NamedValues(s.fit.names, s.fit.robust_standard_errors)},
              {"loglik", Number(s.fit.loglik)},
              {"aic", Number(s.fit.aic)},
              {"bic", Number(s.fit.bic)},
              {"nobs", s.fit.nobs},
              {"iterations", s.fit.iterations},
              {"converged", s.fit.converged},
              {"unconditional_variance", Number(s.fit.unconditional_variance)},
              {"last_return", s.last_return},
              {"last_residual", s.last_residual},
              {"last_variance", s.last_variance}};
}

Result<GarchModel> GarchModel::FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return DataError("GARCH model JSON: not an object");
  GarchModel model;
  State& s = *model.state_;
  VIGIL_ASSIGN_OR_RETURN(s.fit.options, ReadOptions(j));
  const std::vector<int> params = garch_internal::ModelParams(s.fit.options);
  for (int param : params) s.fit.names.emplace_back(garch_internal::ParamName(param));
  VIGIL_ASSIGN_OR_RETURN(s.fit.coefficients, ReadNamed(j, "coefficients", s.fit.names, false));
  VIGIL_ASSIGN_OR_RETURN(s.fit.standard_errors, ReadNamed(j, "standard_errors", s.fit.names, true));
  VIGIL_ASSIGN_OR_RETURN(s.fit.robust_standard_errors,
                         ReadNamed(j, "robust_standard_errors", s.fit.names, true));
  VIGIL_RETURN_IF_ERROR(CheckCoefficients(s.fit.options, s.fit));
  VIGIL_RETURN_IF_ERROR(ReadStatistics(j, s.fit));
  VIGIL_RETURN_IF_ERROR(ReadRecursionEnd(j, s));
  for (size_t i = 0; i < params.size(); ++i) s.params[params[i]] = s.fit.coefficients[i];
  s.fitted = true;
  return model;
}

}  // namespace vigil
