#include "vigil/features/catalogue.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <set>

#include "catalogue_groups.h"
#include "vigil/core/timestamp.h"

namespace vigil {
namespace {

std::string TypeName(ParamType type) {
  switch (type) {
    case ParamType::kInt:
      return "an integer";
    case ParamType::kDouble:
      return "a number";
    case ParamType::kDuration:
      return "a duration such as 30s, 5m or 1h";
    case ParamType::kInstrument:
      return "an instrument venue:symbol";
  }
  return "a value";
}

std::string FormatBound(double value) {
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  return std::to_string(value);
}

// The shortest text that reads back as `value` ("0.5", "2"), so equal values hash equal.
std::string ShortestText(double value) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, end);
}

std::optional<double> ParseNumber(std::string_view text) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

// Validates one value; on success stores its number (ints, doubles, durations) and a
// canonical text form.
Status ResolveOne(const ParamInfo& param, const std::string& text, double& number,
                  std::string& canonical) {
  const auto bad = [&](const std::string& why) {
    return InvalidArgument("parameter '" + param.name + "': expected " + why + ", got '" + text +
                           "'");
  };
  switch (param.type) {
    case ParamType::kInt:
    case ParamType::kDouble: {
      const std::optional<double> value = ParseNumber(text);
      if (!value) return bad(TypeName(param.type));
      if (param.type == ParamType::kInt && *value != std::floor(*value)) {
        return bad(TypeName(param.type));
      }
      if (*value < param.min || *value > param.max) {
        return bad(TypeName(param.type) + " in [" + FormatBound(param.min) + ", " +
                   FormatBound(param.max) + "]");
      }
      number = *value;
      canonical = param.type == ParamType::kInt ? FormatBound(*value) : ShortestText(*value);
      return Status::Ok();
    }
    case ParamType::kDuration: {
      Result<int64_t> nanos = ParseDuration(text);
      if (!nanos.ok() || *nanos <= 0) return bad(TypeName(param.type));
      number = static_cast<double>(*nanos);
      canonical = FormatDuration(*nanos);
      return Status::Ok();
    }
    case ParamType::kInstrument: {
      if (text.empty() && !param.required) {
        canonical.clear();
        return Status::Ok();
      }
      Result<Instrument> instrument = Instrument::Parse(text);
      if (!instrument.ok())
        return bad(TypeName(param.type) + " (" + instrument.status().message() + ")");
      canonical = instrument->ToString();
      return Status::Ok();
    }
  }
  return bad("a value");
}

std::vector<FeatureInfo> BuildCatalogue() {
  std::vector<FeatureInfo> all;
  internal::AppendPriceFeatures(all);
  internal::AppendMicroFeatures(all);
  internal::AppendLiquidationFeatures(all);
  internal::AppendOnchainFeatures(all);
  internal::AppendCrossFeatures(all);
  return all;
}

}  // namespace

int ParamValues::Int(std::string_view name) const {
  return static_cast<int>(numbers_.find(name)->second);
}
double ParamValues::Double(std::string_view name) const { return numbers_.find(name)->second; }
int64_t ParamValues::DurationNs(std::string_view name) const {
  return static_cast<int64_t>(numbers_.find(name)->second);
}
const std::string& ParamValues::Text(std::string_view name) const {
  return text_.find(name)->second;
}

Result<ParamValues> FeatureInfo::Resolve(const std::map<std::string, std::string>& given) const {
  const std::string where = "feature '" + name + "': ";
  for (const auto& [key, value] : given) {
    bool known = false;
    for (const ParamInfo& param : params) known = known || param.name == key;
    if (!known) {
      std::string expected;
      for (const ParamInfo& param : params) expected += (expected.empty() ? "" : ", ") + param.name;
      return InvalidArgument(where + "unknown parameter '" + key + "' (" +
                             (expected.empty() ? "it takes none" : "expected " + expected) + ")");
    }
  }
  ParamValues values;
  for (const ParamInfo& param : params) {
    const auto found = given.find(param.name);
    if (found == given.end() && param.required) {
      return InvalidArgument(where + "parameter '" + param.name + "' is required");
    }
    const std::string& text = found == given.end() ? param.default_value : found->second;
    double number = 0;
    std::string canonical;
    const Status status = ResolveOne(param, text, number, canonical);
    if (!status.ok()) return InvalidArgument(where + status.message());
    values.numbers_[param.name] = number;
    values.text_[param.name] = canonical;
    values.canonical_.push_back(param.name + "=" + canonical);
  }
  return values;
}

const std::vector<FeatureInfo>& FeatureCatalogue() {
  static const std::vector<FeatureInfo> catalogue = BuildCatalogue();
  return catalogue;
}

const FeatureInfo* FindFeature(std::string_view name) {
  for (const FeatureInfo& info : FeatureCatalogue()) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

}  // namespace vigil
