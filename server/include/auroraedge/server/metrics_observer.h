#pragma once

// The ServingObserver the server hands to InferenceEngine::Start: it feeds
// the metrics and writes the request log. Thread-safe and non-blocking apart
// from the request log's write.

#include <memory>
#include <mutex>
#include <string>

#include "auroraedge/server/metrics.h"
#include "auroraedge/server/request_log.h"
#include "auroraedge/server/serving_observer.h"

namespace auroraedge::server {

class MetricsObserver : public ServingObserver {
 public:
  // `log` may be null (no request log). Both are shared with the caller,
  // which also reports gRPC calls to `metrics`.
  MetricsObserver(std::shared_ptr<Metrics> metrics, std::shared_ptr<RequestLog> log);

  void OnModelLoaded(const ModelRecord& model) override;
  void OnRequestFinished(const RequestRecord& record) override;
  void OnVisionBatch(int images, double seconds) override;
  void OnStep(const StepRecord& step) override;
  void OnLoad(const LoadRecord& load) override;

 private:
  std::shared_ptr<Metrics> metrics_;
  std::shared_ptr<RequestLog> log_;
  std::mutex mutex_;
  std::string model_version_;  // guarded by mutex_
};

}  // namespace auroraedge::server
