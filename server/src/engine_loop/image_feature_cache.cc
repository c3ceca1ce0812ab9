#include "image_feature_cache.h"

namespace auroraedge::server {

std::optional<model::VisualFeatures> ImageFeatureCache::Find(const std::string& key) {
  const auto found = index_.find(key);
  if (found == index_.end()) return std::nullopt;
  entries_.splice(entries_.begin(), entries_, found->second);
  return found->second->second;
}

void ImageFeatureCache::Insert(const std::string& key, const model::VisualFeatures& features) {
  const int64_t size = features.bytes();
  if (size > max_bytes_ || index_.count(key) != 0) return;
  entries_.emplace_front(key, features);
  index_[key] = entries_.begin();
  bytes_ += size;
  while (bytes_ > max_bytes_) {
    bytes_ -= entries_.back().second.bytes();
    index_.erase(entries_.back().first);
    entries_.pop_back();
  }
}

}  // namespace auroraedge::server
