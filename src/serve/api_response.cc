// Responses of the HTTP API: JSON bodies and the one error shape
// {"error":{"code":..,"message":..}}, with failures mapped to statuses without leaking
// internal detail; and reads answered from the TTL cache.
#include "serve/api_internal.h"
#include "vigil/core/logging.h"

namespace vigil::serve_internal {

ApiResponse JsonResponse(const nlohmann::json& body, int status) {
  ApiResponse response;
  response.status = status;
  // Replace invalid UTF-8 rather than throw: a message may quote user input.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

ApiResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  return JsonResponse(body, status);
}

ApiResponse StatusResponse(const Status& status, std::string_view what) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kParseError:
    case StatusCode::kDataError:
      return ErrorResponse(400, "invalid_argument", status.message());
    case StatusCode::kNotFound:
      return ErrorResponse(404, "not_found", status.message());
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      return ErrorResponse(409, "conflict", status.message());
    default:
      break;
  }
  // Store, file and internal errors carry paths and SQL: they go to the log only.
  VIGIL_LOG_ERROR("{}: {}", what, status.ToString());
  return ErrorResponse(500, "internal", "internal error; see the server log");
}

ApiResponse AnswerResponse(const Result<nlohmann::json>& answer, std::string_view what) {
  return answer.ok() ? JsonResponse(*answer) : StatusResponse(answer.status(), what);
}

ApiResponse UnavailableResponse(std::string_view message) {
  return ErrorResponse(503, "unavailable", message);
}

ApiResponse CachedRead(ApiContext& context, const std::string& key,
                       const std::function<ApiResponse()>& answer) {
  const uint64_t generation = context.CacheGeneration();
  if (std::optional<std::string> hit = context.cache.Get(key, generation)) {
    ApiResponse response;
    response.body = std::move(*hit);
    return response;
  }
  ApiResponse response = answer();
  if (response.status == 200) context.cache.Put(key, response.body, generation);
  return response;
}

}  // namespace vigil::serve_internal
