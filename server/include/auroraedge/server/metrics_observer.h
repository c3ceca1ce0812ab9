#pragma once

// The ServingObserver the server hands to ServingFrontEnd::Start, one per
// loaded model: it feeds the metrics under that model's name and version
// and writes the request log. Thread-safe and non-blocking apart from the
// request log's write.

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "auroraedge/server/metrics.h"
#include "auroraedge/server/request_log.h"
#include "auroraedge/server/serving_observer.h"

namespace auroraedge::server {

class MetricsObserver : public ServingObserver {
 public:
  // `log` may be null (no request log). Both are shared with the caller,
  // which also reports gRPC calls to `metrics` and makes one observer per
  // model it loads.
  MetricsObserver(std::shared_ptr<Metrics> metrics, std::shared_ptr<RequestLog> log);
  // The model is unloaded: its gauges go (Metrics::ForgetModel).
  ~MetricsObserver() override;

  void OnModelLoaded(const ModelRecord& model) override;
  void OnRequestFinished(const RequestRecord& record) override;
  void OnVisionBatch(int images, double seconds) override;
  void OnStep(const StepRecord& step) override;
  void OnLoad(const LoadRecord& load) override;
  void OnImageFeatureLookups(int hits, int misses, int64_t cached_bytes) override;

  // What OnModelLoaded reported; unset before it.
  std::optional<ModelRecord> model() const;

 private:
  // The labels of the metrics: the loaded model's, or empty ones before.
  std::shared_ptr<const ModelRecord> labels() const;

  std::shared_ptr<Metrics> metrics_;
  std::shared_ptr<RequestLog> log_;
  mutable std::mutex mutex_;
  std::shared_ptr<const ModelRecord> model_;  // guarded by mutex_; null before OnModelLoaded
};

}  // namespace auroraedge::server
