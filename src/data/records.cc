#include "vigil/data/records.h"

namespace vigil {

std::string RejectedRow::ToString() const {
  std::string out = source;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!field.empty()) out += "field '" + field + "': ";
  out += reason;
  return out;
}

int64_t ParsedFile::rows_valid() const {
  int64_t rows = 0;
  for (const RecordBatch& batch : batches) rows += batch.frame.rows();
  return rows;
}

}  // namespace vigil
