#include "image_digest.h"

#include <openssl/sha.h>

namespace auroraedge::server {

std::string ImageSha256(const preprocessing::ImageSource& image) {
  const std::string& bytes = image.raw ? image.raw->data : image.encoded;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char byte : digest) {
    hex.push_back(kHex[byte >> 4]);
    hex.push_back(kHex[byte & 0xF]);
  }
  return hex;
}

}  // namespace auroraedge::server
