// Writes the benchmark candle CSV (bench_data.h) to a file, so the end-to-end ingest and
// the reference tool read the very same bytes: make_candle_csv ROWS PATH
#include <cstdio>
#include <cstdlib>

#include "bench_data.h"
#include "vigil/core/text_file.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_candle_csv ROWS PATH\n");
    return 2;
  }
  const long long rows = std::atoll(argv[1]);
  vigil::Status status = vigil::WriteFileAtomically(argv[2], vigil::bench::CandleCsv(rows));
  if (!status.ok()) {
    std::fprintf(stderr, "make_candle_csv: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
