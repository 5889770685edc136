// Internal to vigil_data: turning JSON values and epoch numbers from venue files into
// row values, shared by the venue-specific readers (freqtrade, Kraken, DeFiLlama, Bybit).
//
//   VIGIL_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJsonDocument(text));
//   int64_t ts;
//   if (!JsonEpochToNanos(row[0], TimeUnit::kMilliseconds, &ts)) { ...reject... }
//
// All functions are pure, never throw, and return false (or a non-OK Result) on values
// they cannot convert; the caller turns that into a RejectedRow naming the field.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "data/readers/format_readers.h"
#include "vigil/core/status.h"
#include "vigil/core/timestamp.h"

namespace vigil::data_internal {

// The unit an epoch number is in: `unit` when given, else chosen from the magnitude by
// the same rule as Timestamp::ParseEpoch.
inline TimeUnit EpochUnit(double magnitude, TimeUnit unit) {
  return unit != TimeUnit::kAuto ? unit : EpochUnitForMagnitude(magnitude);
}

// `format_default` is the unit the format defines; ReadOptions::time_unit overrides it.
inline TimeUnit UnitOrDefault(TimeUnit option, TimeUnit format_default) {
  return option == TimeUnit::kAuto ? format_default : option;
}

// Integer epoch -> nanoseconds; false on overflow.
inline bool EpochToNanos(int64_t value, TimeUnit unit, int64_t* nanos) {
  const int64_t scale = NanosPerUnit(EpochUnit(static_cast<double>(value), unit));
  return !__builtin_mul_overflow(value, scale, nanos);
}

// Fractional epoch -> nanoseconds. A double carries ~16 significant digits, so an epoch
// in seconds today is exact to about 0.2 us only: round to whole microseconds rather
// than invent nanoseconds.
inline bool FractionalEpochToNanos(double value, TimeUnit unit, int64_t* nanos) {
  if (!std::isfinite(value)) return false;
  const int64_t scale = NanosPerUnit(EpochUnit(value, unit));
  const long double micros = static_cast<long double>(value) * scale / kNanosPerMicro;
  constexpr long double kMaxMicros = std::numeric_limits<int64_t>::max() / kNanosPerMicro;
  if (std::fabs(micros) >= kMaxMicros) return false;
  if (scale < kNanosPerMicro) {  // ns input: keep the integer nanoseconds
    *nanos = std::llround(value);
    return true;
  }
  *nanos = static_cast<int64_t>(std::llround(micros)) * kNanosPerMicro;
  return true;
}

// A JSON number or numeric string -> double. Null and other types -> false.
inline bool JsonToDouble(const nlohmann::json& value, double* out) {
  if (value.is_number()) {
    *out = value.get<double>();
    return true;
  }
  if (value.is_string()) return ParseDouble(value.get_ref<const std::string&>(), out);
  return false;
}

// Like JsonToDouble, but null (an absent optional value) -> NaN.
inline bool JsonToOptionalDouble(const nlohmann::json& value, double* out) {
  if (value.is_null()) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  return JsonToDouble(value, out);
}

// A JSON integer, integral float or integer string -> int64; false otherwise.
inline bool JsonToInt64(const nlohmann::json& value, int64_t* out) {
  if (value.is_number_unsigned()) {
    const uint64_t v = value.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    *out = static_cast<int64_t>(v);
    return true;
  }
  if (value.is_number_integer()) {
    *out = value.get<int64_t>();
    return true;
  }
  if (value.is_number_float()) {
    const double v = value.get<double>();
    if (!std::isfinite(v) || v != std::trunc(v) || std::fabs(v) >= 9.2e18) return false;
    *out = static_cast<int64_t>(v);
    return true;
  }
  if (value.is_string()) return ParseInt64(value.get_ref<const std::string&>(), out);
  return false;
}

// An epoch time given as a JSON integer, float or numeric string -> nanoseconds.
inline bool JsonEpochToNanos(const nlohmann::json& value, TimeUnit unit, int64_t* nanos) {
  int64_t whole = 0;
  if (value.is_number_integer() || value.is_string()) {
    if (JsonToInt64(value, &whole)) return EpochToNanos(whole, unit, nanos);
  }
  double fractional = 0;
  if (!JsonToDouble(value, &fractional)) return false;
  return FractionalEpochToNanos(fractional, unit, nanos);
}

// The JSON text of a record for RejectedRow::raw (invalid UTF-8 replaced, not thrown).
inline std::string JsonSnippet(const nlohmann::json& value) {
  constexpr size_t kMaxRaw = 512;
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kMaxRaw) text.resize(kMaxRaw);
  return text;
}

// Parses a whole JSON document; the error gives nlohmann's line and column (the caller
// adds the file name).
inline Result<nlohmann::json> ParseJsonDocument(std::string_view text) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    return ParseError(std::string("not valid JSON: ") + e.what());
  }
}

// Record numbers in messages and RejectedRow::line are 1-based.
inline int64_t RecordNumber(size_t index) { return static_cast<int64_t>(index) + 1; }

// Reports progress every `kEvery` records of a parsed document of `bytes` bytes.
inline void ReportRecordProgress(const BatchSink& sink, size_t index, size_t count, size_t bytes) {
  constexpr size_t kEvery = 4096;
  if (count == 0 || index % kEvery != 0) return;
  sink.ReportProgress(static_cast<size_t>(static_cast<double>(bytes) * index / count), bytes);
}

}  // namespace vigil::data_internal
