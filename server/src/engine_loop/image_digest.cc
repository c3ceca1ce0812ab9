#include "image_digest.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <memory>
#include <stdexcept>

namespace auroraedge::server {

namespace {

std::string Hex(const unsigned char (&digest)[SHA256_DIGEST_LENGTH]) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char byte : digest) {
    hex.push_back(kHex[byte >> 4]);
    hex.push_back(kHex[byte & 0xF]);
  }
  return hex;
}

}  // namespace

std::string ImageSha256(const preprocessing::ImageSource& image) {
  const std::string& bytes = image.raw ? image.raw->data : image.encoded;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return Hex(digest);
}

std::string PatchSha256(const preprocessing::PatchImage& image) {
  const int32_t shape[] = {image.max_num_patches, image.patch_dim, image.grid_h, image.grid_w};
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int length = 0;
  const std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> context(EVP_MD_CTX_new(),
                                                                   EVP_MD_CTX_free);
  if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), shape, sizeof shape) != 1 ||
      EVP_DigestUpdate(context.get(), image.patches.data(), image.patches.size() * sizeof(float)) !=
          1 ||
      EVP_DigestFinal_ex(context.get(), digest, &length) != 1) {
    throw std::runtime_error("SHA-256 of an image's patches failed (OpenSSL)");
  }
  return Hex(digest);
}

}  // namespace auroraedge::server
