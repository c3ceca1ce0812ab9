#include "auroraedge/server/metrics_observer.h"

namespace auroraedge::server {

MetricsObserver::MetricsObserver(std::shared_ptr<Metrics> metrics, std::shared_ptr<RequestLog> log)
    : metrics_(std::move(metrics)), log_(std::move(log)) {}

void MetricsObserver::OnModelLoaded(const ModelRecord& model) {
  metrics_->RecordModel(model);
  std::lock_guard<std::mutex> lock(mutex_);
  model_version_ = model.version;
}

void MetricsObserver::OnRequestFinished(const RequestRecord& record) {
  metrics_->RecordRequest(record);
  if (!log_) return;
  std::string version;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    version = model_version_;
  }
  log_->Write(record, version);
}

void MetricsObserver::OnVisionBatch(int images, double seconds) {
  metrics_->RecordVisionBatch(images, seconds);
}

void MetricsObserver::OnStep(const StepRecord& step) { metrics_->RecordStep(step); }

void MetricsObserver::OnLoad(const LoadRecord& load) { metrics_->RecordLoad(load); }

}  // namespace auroraedge::server
