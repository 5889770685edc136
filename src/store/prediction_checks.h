// Internal to vigil_store: what both backends check and share for the predictions and
// alerts tables (WritePredictions ... QueryAlerts in vigil/store/store.h), so SQLite and
// PostgreSQL reject the same rows with the same messages and return rows in the same order.
//
//   VIGIL_RETURN_IF_ERROR(CheckPredictionRows(rows).WithContext(Where()));
//
// Header-only: a private helper of sqlite_predictions.cc and postgres_predictions.cc.
// Thread-safety: pure functions.
#pragma once

#include <algorithm>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "store/store_common.h"
#include "vigil/store/store.h"

namespace vigil::store_internal {

// InvalidArgument naming `field` unless `text` is UTF-8 without NUL bytes (what both
// backends can store byte for byte).
inline Status CheckPredictionText(std::string_view field, std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = Utf8SequenceLength(text, pos);
    if (length == 0) {
      return InvalidArgument(std::string(field) + " is not valid UTF-8 (byte " +
                             std::to_string(pos) + ")");
    }
    if (text[pos] == '\0') {
      return InvalidArgument(std::string(field) + " contains a NUL byte (byte " +
                             std::to_string(pos) + ")");
    }
    pos += length;
  }
  return Status::Ok();
}

inline Status CheckRequiredText(std::string_view field, std::string_view text) {
  if (text.empty()) return InvalidArgument(std::string(field) + " is empty");
  return CheckPredictionText(field, text);
}

// "prediction 3 (model 'risk', instrument 'binance:BTC/USDT')": names a row in messages.
inline std::string PredictionRowLabel(size_t index, const PredictionRow& row) {
  return "prediction " + std::to_string(index) + " (model '" + row.model_name + "', instrument '" +
         row.instrument + "')";
}

inline std::string AlertRowLabel(size_t index, const AlertRow& row) {
  return "alert " + std::to_string(index) + " (rule '" + row.rule + "', instrument '" +
         row.instrument + "')";
}

inline Status CheckPredictionRow(const PredictionRow& row) {
  VIGIL_RETURN_IF_ERROR(CheckRequiredText("model_name", row.model_name));
  VIGIL_RETURN_IF_ERROR(CheckRequiredText("instrument", row.instrument));
  VIGIL_RETURN_IF_ERROR(CheckPredictionText("horizon", row.horizon));
  VIGIL_RETURN_IF_ERROR(CheckPredictionText("label", row.label));
  return CheckPredictionText("explanation_json", row.explanation_json);
}

inline bool IsAlertSeverity(std::string_view severity) {
  return severity == "info" || severity == "warning" || severity == "high" ||
         severity == "critical";
}

inline Status CheckAlertRow(const AlertRow& row) {
  VIGIL_RETURN_IF_ERROR(CheckRequiredText("rule", row.rule));
  VIGIL_RETURN_IF_ERROR(CheckRequiredText("instrument", row.instrument));
  VIGIL_RETURN_IF_ERROR(CheckRequiredText("message", row.message));
  if (!IsAlertSeverity(row.severity)) {
    return InvalidArgument("severity '" + row.severity +
                           "' is not one of info, warning, high, critical");
  }
  VIGIL_RETURN_IF_ERROR(CheckPredictionText("features_json", row.features_json));
  return CheckPredictionText("model_name", row.model_name);
}

// InvalidArgument naming the row and field of the first row that cannot be stored.
inline Status CheckPredictionRows(std::span<const PredictionRow> rows) {
  for (size_t index = 0; index < rows.size(); ++index) {
    VIGIL_RETURN_IF_ERROR(
        CheckPredictionRow(rows[index]).WithContext(PredictionRowLabel(index, rows[index])));
  }
  return Status::Ok();
}

inline Status CheckAlertRows(std::span<const AlertRow> rows) {
  for (size_t index = 0; index < rows.size(); ++index) {
    VIGIL_RETURN_IF_ERROR(
        CheckAlertRow(rows[index]).WithContext(AlertRowLabel(index, rows[index])));
  }
  return Status::Ok();
}

// A stored prediction with the id that orders rows written at the same ts.
struct IdentifiedPrediction {
  int64_t prediction_id = 0;
  PredictionRow row;
};

// What LatestPredictions returns from every row stored at the latest ts: per (model,
// horizon) the row written last (a re-scored bar replaces, it does not add), sorted by
// horizon, then model name, bytewise (independent of any database collation).
inline std::vector<PredictionRow> LatestPerHorizon(std::vector<IdentifiedPrediction> rows) {
  auto key = [](const IdentifiedPrediction& one) {
    return std::tie(one.row.horizon, one.row.model_name);
  };
  std::sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
    if (key(a) != key(b)) return key(a) < key(b);
    return a.prediction_id > b.prediction_id;  // newest first within a key
  });
  std::vector<PredictionRow> latest;
  for (IdentifiedPrediction& one : rows) {
    const bool repeated = !latest.empty() && latest.back().horizon == one.row.horizon &&
                          latest.back().model_name == one.row.model_name;
    if (!repeated) latest.push_back(std::move(one.row));
  }
  return latest;
}

// "writing 3 predictions of model 'risk'" style context for messages.
inline std::string CountLabel(size_t count, std::string_view what) {
  return std::to_string(count) + " " + std::string(what) + (count == 1 ? "" : "s");
}

}  // namespace vigil::store_internal
