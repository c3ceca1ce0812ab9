// EngineLoop::RunVisionBatch: the images of the requests in a vision batch,
// through the image-feature cache: each distinct image that is not cached
// is encoded once, all of them in one batch, and kept for the next request
// that sends it.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <string>
#include <unordered_map>

#include "engine_loop.h"

namespace auroraedge::server {

void EngineLoop::RunVisionBatch(const std::vector<SequenceId>& batch) {
  // Where each request's image comes from: the cache, or the encoder's
  // output at `encoded`.
  struct Source {
    std::optional<model::VisualFeatures> cached;
    size_t encoded = 0;
  };
  std::vector<LiveRequest*> requests;
  std::vector<std::vector<Source>> sources;
  std::vector<const preprocessing::PatchImage*> images;
  std::vector<std::string> keys;  // per image to encode; empty without the cache
  std::unordered_map<std::string, size_t> encoding;
  int hits = 0;
  for (SequenceId id : batch) {
    LiveRequest* live = Find(id);
    if (live == nullptr) continue;
    requests.push_back(live);
    std::vector<Source>& request_sources = sources.emplace_back();
    for (size_t i = 0; i < live->patches.size(); ++i) {
      const std::string key = i < live->feature_keys.size() ? live->feature_keys[i] : "";
      if (!key.empty()) {
        if (std::optional<model::VisualFeatures> cached = image_features_.Find(key)) {
          request_sources.push_back({std::move(cached), 0});
          ++hits;
          continue;
        }
        const auto [it, first] = encoding.emplace(key, images.size());
        if (!first) {  // the same image twice in this batch
          request_sources.push_back({std::nullopt, it->second});
          ++hits;
          continue;
        }
      }
      request_sources.push_back({std::nullopt, images.size()});
      images.push_back(&live->patches[i]);
      keys.push_back(key);
    }
  }

  const TimePoint start = std::chrono::steady_clock::now();
  std::vector<model::VisualFeatures> features;
  try {
    features = runner_->EncodeImages(images);
  } catch (const std::exception& error) {
    spdlog::error("vision batch of {} images failed: {}", images.size(), error.what());
    for (LiveRequest* live : requests) {
      EndWithError(live->id,
                   {StatusCode::kInternal, std::string("vision encoder: ") + error.what()});
    }
    return;
  }
  const TimePoint end = std::chrono::steady_clock::now();
  for (size_t i = 0; i < features.size(); ++i) {
    if (!keys[i].empty()) image_features_.Insert(keys[i], features[i]);
  }
  for (size_t r = 0; r < requests.size(); ++r) {
    LiveRequest* live = requests[r];
    live->features.clear();
    for (Source& source : sources[r]) {
      live->features.push_back(source.cached ? std::move(*source.cached)
                                             : features[source.encoded]);
    }
    live->patches.clear();
    EnterStage(*live, RequestStage::kPrefill, end);
  }
  const bool observed = std::any_of(requests.begin(), requests.end(),
                                    [](const LiveRequest* live) { return live->observed; });
  if (!observer_ || !observed) return;
  if (!images.empty()) {
    observer_->OnVisionBatch(static_cast<int>(images.size()), SecondsBetween(start, end));
  }
  if (image_features_.max_bytes() > 0) {
    observer_->OnImageFeatureLookups(hits, static_cast<int>(images.size()),
                                     image_features_.bytes());
  }
}

}  // namespace auroraedge::server
