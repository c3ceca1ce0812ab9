#pragma once

// manifest.json of a model directory: the size and sha256 of every file.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace auroraedge::model {

struct ManifestEntry {
  int64_t bytes = 0;
  std::string sha256;  // lower-case hex
};

using Manifest = std::map<std::string, ManifestEntry>;

// Parses <model_dir>/manifest.json. Throws ModelLoadError.
Manifest LoadManifest(const std::string& model_dir);

// Checks that each required file exists, is listed in the manifest and has
// the listed size and (when verify_checksums) sha256. Throws ModelLoadError
// naming the file, the expected and the found value.
void VerifyModelFiles(const std::string& model_dir, const Manifest& manifest,
                      const std::vector<std::string>& required_files, bool verify_checksums);

// Lower-case hex sha256 of a file's content. Throws ModelLoadError.
std::string Sha256OfFile(const std::string& path);

}  // namespace auroraedge::model
