// Status and Result<T>: how every Vigil module reports expected failures.
//
// Expected failures (bad input, missing data, I/O, an unknown model) are values, not
// exceptions. A Status carries a code and a message that names the place: a file and
// line, a field, an instrument. Result<T> is either a T or a non-OK Status.
//
//   vigil::Result<Frame> LoadCandles(const std::string& path) {
//     VIGIL_ASSIGN_OR_RETURN(auto text, ReadWholeFile(path));
//     VIGIL_RETURN_IF_ERROR(CheckHeader(text).WithContext(path));
//     return ParseCandles(text);
//   }
//
// Thread-safety: Status and Result are values; const access is safe from any thread.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vigil {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the caller passed something malformed (bad option, bad value)
  kNotFound,            // a named thing (file, instrument, model, column) does not exist
  kAlreadyExists,       // creating something that is already there
  kParseError,          // input text could not be parsed
  kDataError,           // input parsed but violates a data rule
  kIoError,             // the file system or network failed
  kDatabaseError,       // the store backend failed
  kFailedPrecondition,  // the system is not in a state where the call can run
  kUnimplemented,       // a format or feature this build does not support
  kInternal,            // a bug: an invariant was broken
};

// Returns the lower-case name of a code, e.g. "parse error".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is prefixed by `context` ("file.csv:12: " style).
  // An OK status stays OK.
  Status WithContext(std::string_view context) const;

  // "parse error: file.csv:12: field 'close': not a number" (or "OK").
  std::string ToString() const;

  // Marks a deliberately dropped status (e.g. best-effort cleanup).
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status ParseError(std::string m) { return {StatusCode::kParseError, std::move(m)}; }
inline Status DataError(std::string m) { return {StatusCode::kDataError, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status DatabaseError(std::string m) { return {StatusCode::kDatabaseError, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Result<T>: a T, or the Status that explains why there is none.
// Precondition for value()/operator*: ok(). Violations assert in debug builds.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : state_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(state_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(state_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(state_);
  }

  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The value, or `fallback` when this holds an error.
  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace vigil

#define VIGIL_STATUS_CONCAT_INNER(a, b) a##b
#define VIGIL_STATUS_CONCAT(a, b) VIGIL_STATUS_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define VIGIL_RETURN_IF_ERROR(expr)                        \
  do {                                                     \
    ::vigil::Status vigil_status_tmp_ = (expr);            \
    if (!vigil_status_tmp_.ok()) return vigil_status_tmp_; \
  } while (0)

// `lhs = *result` when `rexpr` (a Result) is OK; returns its Status otherwise.
#define VIGIL_ASSIGN_OR_RETURN(lhs, rexpr) \
  VIGIL_ASSIGN_OR_RETURN_IMPL(VIGIL_STATUS_CONCAT(vigil_result_, __LINE__), lhs, rexpr)
#define VIGIL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
