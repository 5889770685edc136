// Private to vigil_pipeline: the "sha256:<hex>" fingerprints that manifests record for the
// data a model was trained on (training sets and forecast series).
#pragma once

#include <cstddef>
#include <string>

struct evp_md_ctx_st;

namespace vigil::pipeline_internal {

class Sha256Fingerprint {
 public:
  Sha256Fingerprint();
  ~Sha256Fingerprint();
  Sha256Fingerprint(const Sha256Fingerprint&) = delete;
  Sha256Fingerprint& operator=(const Sha256Fingerprint&) = delete;

  void Add(const void* data, size_t bytes);
  // A contiguous container's bytes (vector, span, string).
  template <typename Container>
  void AddValues(const Container& values) {
    Add(values.data(), values.size() * sizeof(values[0]));
  }
  // "sha256:" + the lower-case hex digest of everything added; call once.
  std::string Hex();

 private:
  evp_md_ctx_st* context_;
};

}  // namespace vigil::pipeline_internal
