#pragma once

// Encoded images' features (vision encoder, projector, compressor) by the
// content hash of their patches (PatchSha256), least recently used dropped
// first under a byte budget, so that a golden reference image sent with
// every request is encoded once. A hit hands back the very features the
// miss computed.
//
// Threading: none; the engine thread owns it.

#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "auroraedge/model/model_runner.h"

namespace auroraedge::server {

class ImageFeatureCache {
 public:
  // 0: keeps nothing.
  explicit ImageFeatureCache(int64_t max_bytes) : max_bytes_(max_bytes) {}

  // The features cached for `key`, now the most recently used.
  std::optional<model::VisualFeatures> Find(const std::string& key);
  // Keeps `features` (unless larger than the whole budget), dropping the
  // least recently used entries until the budget holds.
  void Insert(const std::string& key, const model::VisualFeatures& features);

  int64_t bytes() const { return bytes_; }
  size_t size() const { return entries_.size(); }
  int64_t max_bytes() const { return max_bytes_; }

 private:
  using Entry = std::pair<std::string, model::VisualFeatures>;

  const int64_t max_bytes_;
  int64_t bytes_ = 0;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace auroraedge::server
