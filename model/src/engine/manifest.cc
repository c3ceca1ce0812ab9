#include "manifest.h"

#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "auroraedge/model/model_config.h"

namespace auroraedge::model {
namespace {

constexpr char kManifest[] = "manifest.json";

std::string ToHex(const unsigned char* data, unsigned int size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kDigits[data[i] >> 4]);
    hex.push_back(kDigits[data[i] & 0xf]);
  }
  return hex;
}

}  // namespace

Manifest LoadManifest(const std::string& model_dir) {
  const auto path = std::filesystem::path(model_dir) / kManifest;
  std::ifstream in(path);
  if (!in)
    throw ModelLoadError(std::string(kManifest) + ": missing file (expected at " + path.string() +
                         ")");
  Manifest manifest;
  try {
    const auto root = nlohmann::json::parse(in);
    const int version = root.at("format_version").get<int>();
    if (version != 1) {
      throw ModelLoadError(std::string(kManifest) + ": field 'format_version': expected 1, found " +
                           std::to_string(version));
    }
    for (const auto& [name, entry] : root.at("files").items()) {
      manifest[name] = {entry.at("bytes").get<int64_t>(), entry.at("sha256").get<std::string>()};
    }
  } catch (const nlohmann::json::exception& e) {
    throw ModelLoadError(std::string(kManifest) + ": malformed: " + e.what());
  }
  return manifest;
}

void VerifyModelFiles(const std::string& model_dir, const Manifest& manifest,
                      const std::vector<std::string>& required_files, bool verify_checksums) {
  for (const auto& name : required_files) {
    const auto path = std::filesystem::path(model_dir) / name;
    if (!std::filesystem::is_regular_file(path)) {
      throw ModelLoadError(name + ": missing file (expected at " + path.string() + ")");
    }
    const auto entry = manifest.find(name);
    if (entry == manifest.end()) {
      throw ModelLoadError(name + ": not listed in " + kManifest);
    }
    const auto bytes = static_cast<int64_t>(std::filesystem::file_size(path));
    if (bytes != entry->second.bytes) {
      throw ModelLoadError(name + ": size mismatch: " + kManifest + " expects " +
                           std::to_string(entry->second.bytes) + " bytes, found " +
                           std::to_string(bytes));
    }
    if (verify_checksums) {
      const std::string found = Sha256OfFile(path.string());
      if (found != entry->second.sha256) {
        throw ModelLoadError(name + ": checksum mismatch: " + kManifest + " expects sha256 " +
                             entry->second.sha256 + ", found " + found);
      }
    }
  }
}

std::string Sha256OfFile(const std::string& path) {
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw ModelLoadError(path + ": cannot open for reading");
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    throw ModelLoadError(path + ": cannot initialise sha256");
  }
  std::vector<unsigned char> buffer(4 << 20);
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    EVP_DigestUpdate(ctx.get(), buffer.data(), n);
  }
  if (std::ferror(file.get())) throw ModelLoadError(path + ": read error while hashing");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &size);
  return ToHex(digest, size);
}

}  // namespace auroraedge::model
