// Helpers shared by the reader tests: parse inline text or a shared data file with a
// MarketFileReader and look at the result.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "vigil/data/reader.h"

namespace vigil::testing_util {

inline std::string SharedData(std::string_view relative) {
  return std::string(VIGIL_SHARED_DATA) + "/" + std::string(relative);
}

inline ReadOptions Options(DataKind kind, std::string venue = "", std::string symbol = "") {
  ReadOptions options;
  options.kind = kind;
  options.venue = std::move(venue);
  options.symbol = std::move(symbol);
  return options;
}

inline Result<ParsedFile> ParseText(std::string_view text, const ReadOptions& options,
                                    const std::string& name = "test.csv") {
  MarketFileReader reader(options);
  return reader.Parse(text, name);
}

inline Result<ParsedFile> ReadShared(std::string_view relative, const ReadOptions& options) {
  MarketFileReader reader(options);
  return reader.Read(SharedData(relative));
}

// Every rejected row, one per line, for assertion messages.
inline std::string RejectsText(const ParsedFile& parsed) {
  std::string out;
  for (const RejectedRow& row : parsed.rejects) out += row.ToString() + "\n";
  return out;
}

// The batch of one instrument ("venue:symbol"), or nullptr.
inline const RecordBatch* BatchOf(const ParsedFile& parsed, std::string_view instrument) {
  for (const RecordBatch& batch : parsed.batches) {
    if (batch.series.instrument.ToString() == instrument) return &batch;
  }
  return nullptr;
}

inline int64_t Nanos(std::string_view iso) { return Timestamp::ParseIso(iso)->nanos(); }

}  // namespace vigil::testing_util
