#include "sha256_fingerprint.h"

#include <openssl/evp.h>

#include <array>
#include <cstdio>

namespace vigil::pipeline_internal {

Sha256Fingerprint::Sha256Fingerprint() : context_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(context_, EVP_sha256(), nullptr);
}

Sha256Fingerprint::~Sha256Fingerprint() { EVP_MD_CTX_free(context_); }

void Sha256Fingerprint::Add(const void* data, size_t bytes) {
  EVP_DigestUpdate(context_, data, bytes);
}

std::string Sha256Fingerprint::Hex() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_, digest.data(), &length);
  std::string hex = "sha256:";
  char byte[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof(byte), "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

}  // namespace vigil::pipeline_internal
