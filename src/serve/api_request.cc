// Request parsing for the HTTP API: strict JSON bodies, validated path segments (model
// names, instruments) and typed query parameters. Every error names the field.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <vector>

#include "serve/api_internal.h"
#include "vigil/data/market_data.h"
#include "vigil/registry/registry.h"

namespace vigil::serve_internal {
namespace {

// Deeper documents are refused: no request needs them, and they cost stack elsewhere.
constexpr int kMaxJsonDepth = 32;
constexpr size_t kMaxInstrumentLength = 128;

// What the strict parse found beyond nlohmann's own grammar checks.
struct StrictnessCheck {
  std::vector<std::set<std::string>> keys_by_depth;
  std::string duplicate_key;
  bool too_deep = false;
};

// Parses `text`, refusing duplicate keys (nlohmann would keep the last silently) and
// nesting beyond kMaxJsonDepth.
Result<nlohmann::json> ParseStrictJson(const std::string& text) {
  StrictnessCheck check;
  auto callback = [&check](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (depth > kMaxJsonDepth) check.too_deep = true;
    if (event == Event::object_start) check.keys_by_depth.emplace_back();
    if (event == Event::object_end && !check.keys_by_depth.empty()) check.keys_by_depth.pop_back();
    if (event == Event::key && !check.keys_by_depth.empty() &&
        !check.keys_by_depth.back().insert(parsed.get<std::string>()).second &&
        check.duplicate_key.empty()) {
      check.duplicate_key = parsed.get<std::string>();
    }
    return true;
  };
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text, callback);
  } catch (const nlohmann::json::parse_error& error) {
    return InvalidArgument("body: not valid JSON (at byte " + std::to_string(error.byte) + ")");
  } catch (const std::exception&) {
    return InvalidArgument("body: not valid JSON");
  }
  if (check.too_deep) {
    return InvalidArgument("body: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  if (!check.duplicate_key.empty()) {
    return InvalidArgument("body: key '" + check.duplicate_key + "' appears twice");
  }
  return json;
}

bool HasControlCharacter(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

std::string PathSegment(const httplib::Request& request, size_t index) {
  if (index >= request.matches.size()) return "";
  return request.matches[index].str();
}

}  // namespace

Result<nlohmann::json> ParseJsonObject(const httplib::Request& request) {
  if (request.body.empty()) return InvalidArgument("body: expected a JSON object, got nothing");
  VIGIL_ASSIGN_OR_RETURN(nlohmann::json json, ParseStrictJson(request.body));
  if (!json.is_object()) {
    return InvalidArgument(std::string("body: expected a JSON object, got ") + json.type_name());
  }
  return json;
}

Status CheckFields(const nlohmann::json& object, std::initializer_list<std::string_view> allowed,
                   std::string_view where) {
  for (const auto& item : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), item.key()) != allowed.end()) continue;
    std::string expected;
    for (std::string_view name : allowed)
      expected += (expected.empty() ? "" : ", ") + std::string(name);
    return InvalidArgument(std::string(where) + ": unknown field '" + item.key() + "' (expected " +
                           expected + ")");
  }
  return Status::Ok();
}

Status CheckQueryParams(const httplib::Request& request,
                        std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : request.params) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return InvalidArgument("unknown query parameter '" + name + "'");
    }
  }
  return Status::Ok();
}

// httplib decodes the path (%3A -> ':') before matching routes, so the group is decoded
// once already; decoding again would let "%252F" smuggle a '/' past the checks.
Result<std::string> InstrumentParam(const httplib::Request& request, size_t index) {
  return InstrumentText(PathSegment(request, index), "instrument");
}

Result<std::string> InstrumentText(std::string_view text, std::string_view field) {
  const std::string name(field);
  if (text.empty()) return InvalidArgument(name + ": missing");
  if (text.size() > kMaxInstrumentLength) {
    return InvalidArgument(name + ": longer than " + std::to_string(kMaxInstrumentLength) +
                           " characters");
  }
  if (HasControlCharacter(text)) return InvalidArgument(name + ": contains a control character");
  // '/' is part of real symbols ("binance:BTC/USDT") and instruments never become file
  // paths; in a URL path it cannot arrive (httplib decodes %2F before routing), so only
  // bodies and query strings carry it.
  if (text.find('\\') != std::string::npos || text.find("..") != std::string::npos) {
    return InvalidArgument(name + ": '" + std::string(text) + "' contains '\\' or '..'");
  }
  Result<Instrument> instrument = Instrument::Parse(text);
  if (!instrument.ok()) return InvalidArgument(name + ": " + instrument.status().message());
  return instrument->ToString();
}

Result<std::string> ModelNameParam(const httplib::Request& request, size_t index) {
  const std::string name = PathSegment(request, index);
  if (HasControlCharacter(name)) return InvalidArgument("model: contains a control character");
  Status valid = ValidateModelName(name);
  if (!valid.ok()) return InvalidArgument("model: " + valid.message());
  return name;
}

Result<std::optional<double>> NumberQuery(const httplib::Request& request, const char* name) {
  if (!request.has_param(name)) return std::optional<double>();
  const std::string text = request.get_param_value(name);
  double value = 0.0;
  const char* end = text.data() + text.size();
  auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || ptr != end || !std::isfinite(value)) {
    return InvalidArgument(std::string(name) + ": expected a number, got '" + text + "'");
  }
  return std::optional<double>(value);
}

Result<std::optional<Timestamp>> TimeQuery(const httplib::Request& request, const char* name) {
  if (!request.has_param(name)) return std::optional<Timestamp>();
  const std::string text = request.get_param_value(name);
  Result<Timestamp> time = Timestamp::Parse(text);
  if (!time.ok()) {
    return InvalidArgument(std::string(name) + ": expected an ISO-8601 time or epoch, got '" +
                           text + "'");
  }
  return std::optional<Timestamp>(*time);
}

Result<bool> BoolQuery(const httplib::Request& request, const char* name) {
  if (!request.has_param(name)) return false;
  const std::string text = request.get_param_value(name);
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return InvalidArgument(std::string(name) + ": expected true or false, got '" + text + "'");
}

Result<std::shared_ptr<const ServedModel>> ServedSnapshot(const ApiContext& context,
                                                          std::string_view name) {
  std::shared_ptr<const ServedModel> snapshot = context.models().Get(name);
  if (snapshot == nullptr) return NotFound("model '" + std::string(name) + "' is not served");
  return snapshot;
}

}  // namespace vigil::serve_internal
