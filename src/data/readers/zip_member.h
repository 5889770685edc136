// Internal to vigil_data: opening a zip archive that holds one file, so a venue download
// such as Bybit's "xrpusdt-ob500.data.zip" is read like its extracted member.
//
//   if (LooksLikeZip(bytes)) {
//     VIGIL_ASSIGN_OR_RETURN(ZipMember member, ExtractSingleZipMember(bytes));
//     // member.name = "2024-12-01_XRPUSDT_ob500.data", member.data = its bytes
//   }
//
// Supports stored (method 0) and deflated (method 8) members, checked against the CRC-32
// and sizes the archive records. Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "vigil/core/status.h"

namespace vigil::data_internal {

struct ZipMember {
  std::string name;  // the member's path inside the archive, as stored
  std::string data;  // its uncompressed bytes
};

// True if `bytes` starts with a zip local file header signature ("PK\3\4").
bool LooksLikeZip(std::string_view bytes);

// The one member of the zip archive in `bytes`. Fails with ParseError when the archive
// is truncated or corrupt, holds no or several members, is encrypted, uses zip64 or a
// compression method other than stored / deflate, or when the member's CRC-32 or size
// differs from the recorded one. Messages say what to do (e.g. extract the member).
Result<ZipMember> ExtractSingleZipMember(std::string_view bytes);

}  // namespace vigil::data_internal
