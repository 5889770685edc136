// The model routes: GET /v1/models, GET /v1/models/{name}, POST
// /v1/models/{name}/promote and POST /v1/models/{name}/rollback. Promotion and rollback go
// through LiveModels for served names, so the live snapshot swaps before the answer.
#include <cmath>
#include <map>
#include <set>

#include "serve/api_internal.h"

namespace vigil::serve_internal {
namespace {

constexpr size_t kMaxAliasLength = 64;

// A registry file that cannot be read or parsed is the server's problem, not the
// client's: it must answer 500 (and keep the file's path out of the answer), not 400.
Status Internalize(const Status& status) {
  switch (status.code()) {
    case StatusCode::kParseError:
    case StatusCode::kDataError:
    case StatusCode::kIoError:
      return Internal(status.ToString());
    default:
      return status;
  }
}

// What the registry knows about `name`: {"versions": [...], "aliases": {...}}.
Result<nlohmann::json> RegistryJson(const ModelRegistry& registry, const std::string& name) {
  Result<std::vector<int64_t>> versions = registry.Versions(name);
  if (!versions.ok()) return Internalize(versions.status());
  nlohmann::json aliases = nlohmann::json::object();
  if (!versions->empty()) {
    Result<std::map<std::string, int64_t>> named = registry.Aliases(name);
    if (!named.ok()) return Internalize(named.status());
    for (const auto& [alias, version] : *named) aliases[alias] = version;
  }
  return nlohmann::json{{"versions", *versions}, {"aliases", aliases}};
}

nlohmann::json ServingJson(const ApiContext& context, const std::string& name) {
  std::shared_ptr<const ServedModel> snapshot = context.models().Get(name);
  return snapshot == nullptr ? nlohmann::json(nullptr) : ModelJson(*snapshot);
}

// NotFound unless the registry has a version of `name`.
Status CheckKnown(const ApiContext& context, const std::string& name) {
  Result<std::vector<int64_t>> versions = context.models().registry().Versions(name);
  if (!versions.ok()) return Internalize(versions.status());
  if (versions->empty()) return NotFound("model '" + name + "' not found");
  return Status::Ok();
}

Result<std::string> AliasField(const nlohmann::json& body, const ApiContext& context) {
  if (!body.contains("alias")) return context.served.live.alias;
  if (!body["alias"].is_string()) return InvalidArgument("alias: expected a string");
  std::string alias = body["alias"].get<std::string>();
  const bool valid_chars = std::all_of(alias.begin(), alias.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-' || c == '.';
  });
  if (alias.empty() || alias.size() > kMaxAliasLength || !valid_chars) {
    return InvalidArgument("alias: expected 1-64 letters, digits, '_', '-' or '.'");
  }
  if (alias == "latest") return InvalidArgument("alias: 'latest' is automatic and cannot be set");
  return alias;
}

Result<int64_t> VersionField(const nlohmann::json& body) {
  if (!body.contains("version")) return InvalidArgument("version: required");
  const nlohmann::json& version = body["version"];
  if (!version.is_number_integer() || version.get<int64_t>() < 1) {
    return InvalidArgument("version: expected a positive integer");
  }
  return version.get<int64_t>();
}

ApiResponse ListModels(const httplib::Request&, ApiContext& context) {
  Result<std::vector<std::string>> stored = context.models().registry().Names();
  if (!stored.ok()) return StatusResponse(Internalize(stored.status()), "GET /v1/models");
  std::set<std::string> names(stored->begin(), stored->end());
  for (const std::string& name : context.models().Names()) names.insert(name);
  nlohmann::json list = nlohmann::json::array();
  for (const std::string& name : names) {
    Result<nlohmann::json> entry = RegistryJson(context.models().registry(), name);
    if (!entry.ok()) return StatusResponse(entry.status(), "GET /v1/models");
    (*entry)["name"] = name;
    (*entry)["serving"] = ServingJson(context, name);
    list.push_back(std::move(*entry));
  }
  return JsonResponse({{"models", list}});
}

Result<nlohmann::json> ShowModel(const httplib::Request& request, ApiContext& context) {
  VIGIL_ASSIGN_OR_RETURN(std::string name, ModelNameParam(request, 1));
  VIGIL_RETURN_IF_ERROR(CheckKnown(context, name));
  VIGIL_ASSIGN_OR_RETURN(std::optional<double> version, NumberQuery(request, "version"));
  if (version && (*version < 1 || std::floor(*version) != *version)) {
    return InvalidArgument("version: expected a positive integer");
  }
  const std::string reference =
      version ? name + "@" + std::to_string(static_cast<int64_t>(*version)) : name;
  const ModelRegistry& registry = context.models().registry();
  Result<Manifest> manifest = registry.Show(reference);
  if (!manifest.ok()) return Internalize(manifest.status());
  VIGIL_ASSIGN_OR_RETURN(nlohmann::json body, RegistryJson(registry, name));
  body["name"] = name;
  body["serving"] = ServingJson(context, name);
  body["manifest"] = nlohmann::json::parse(manifest->ToJson().dump());
  return body;
}

Result<nlohmann::json> PromoteModel(const httplib::Request& request, ApiContext& context) {
  VIGIL_ASSIGN_OR_RETURN(std::string name, ModelNameParam(request, 1));
  VIGIL_ASSIGN_OR_RETURN(nlohmann::json body, ParseJsonObject(request));
  VIGIL_RETURN_IF_ERROR(CheckFields(body, {"version", "alias"}, "body"));
  VIGIL_ASSIGN_OR_RETURN(int64_t version, VersionField(body));
  VIGIL_ASSIGN_OR_RETURN(std::string alias, AliasField(body, context));
  VIGIL_RETURN_IF_ERROR(CheckKnown(context, name));
  ModelRegistry& registry = context.models().registry();
  VIGIL_ASSIGN_OR_RETURN(std::vector<int64_t> versions, registry.Versions(name));
  if (std::find(versions.begin(), versions.end(), version) == versions.end()) {
    return NotFound("model '" + name + "' has no version " + std::to_string(version));
  }
  Result<std::map<std::string, int64_t>> aliases = registry.Aliases(name);
  if (!aliases.ok()) return Internalize(aliases.status());
  nlohmann::json previous = nullptr;
  if (auto it = aliases->find(alias); it != aliases->end()) previous = it->second;
  const bool served = context.models().Get(name) != nullptr;
  Status promoted = served ? context.models().Promote(name, version, alias)
                           : registry.Promote(name, version, alias);
  if (!promoted.ok()) return Internalize(promoted);
  return nlohmann::json{{"name", name},
                        {"alias", alias},
                        {"version", version},
                        {"previous", previous},
                        {"serving", ServingJson(context, name)}};
}

Result<nlohmann::json> RollbackModel(const httplib::Request& request, ApiContext& context) {
  VIGIL_ASSIGN_OR_RETURN(std::string name, ModelNameParam(request, 1));
  nlohmann::json body = nlohmann::json::object();  // the body is optional
  if (!request.body.empty()) {
    VIGIL_ASSIGN_OR_RETURN(body, ParseJsonObject(request));
    VIGIL_RETURN_IF_ERROR(CheckFields(body, {"alias"}, "body"));
  }
  VIGIL_ASSIGN_OR_RETURN(std::string alias, AliasField(body, context));
  VIGIL_RETURN_IF_ERROR(CheckKnown(context, name));
  const bool served = context.models().Get(name) != nullptr;
  Result<int64_t> version = served ? context.models().Rollback(name, alias)
                                   : context.models().registry().Rollback(name, alias);
  if (!version.ok()) return Internalize(version.status());
  return nlohmann::json{{"name", name},
                        {"alias", alias},
                        {"version", *version},
                        {"serving", ServingJson(context, name)}};
}

// Adapts a Result-returning route body to a handler.
Handler Answer(Result<nlohmann::json> (*route)(const httplib::Request&, ApiContext&),
               std::string what) {
  return [route, what](const httplib::Request& request, ApiContext& context) {
    Result<nlohmann::json> body = route(request, context);
    if (!body.ok()) return StatusResponse(body.status(), what);
    return JsonResponse(*body);
  };
}

}  // namespace

std::vector<Route> ModelRoutes() {
  return {
      {"GET", "/v1/models", "/v1/models", false, ListModels},
      {"GET", R"(/v1/models/([^/]+))", "/v1/models/{name}", false,
       Answer(ShowModel, "GET /v1/models/{name}")},
      {"POST", R"(/v1/models/([^/]+)/promote)", "/v1/models/{name}/promote", true,
       Answer(PromoteModel, "POST /v1/models/{name}/promote")},
      {"POST", R"(/v1/models/([^/]+)/rollback)", "/v1/models/{name}/rollback", true,
       Answer(RollbackModel, "POST /v1/models/{name}/rollback")},
  };
}

}  // namespace vigil::serve_internal
