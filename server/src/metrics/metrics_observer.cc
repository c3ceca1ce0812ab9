#include "auroraedge/server/metrics_observer.h"

namespace auroraedge::server {

MetricsObserver::MetricsObserver(std::shared_ptr<Metrics> metrics, std::shared_ptr<RequestLog> log)
    : metrics_(std::move(metrics)), log_(std::move(log)) {}

MetricsObserver::~MetricsObserver() {
  if (model_) metrics_->ForgetModel(*model_);
}

void MetricsObserver::OnModelLoaded(const ModelRecord& model) {
  metrics_->RecordModel(model);
  std::lock_guard<std::mutex> lock(mutex_);
  model_ = std::make_shared<const ModelRecord>(model);
}

std::optional<ModelRecord> MetricsObserver::model() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!model_) return std::nullopt;
  return *model_;
}

std::shared_ptr<const ModelRecord> MetricsObserver::labels() const {
  std::lock_guard<std::mutex> lock(mutex_);
  // Empty labels only for reports before OnModelLoaded, which the engine
  // never makes.
  return model_ ? model_ : std::make_shared<const ModelRecord>();
}

void MetricsObserver::OnRequestFinished(const RequestRecord& record) {
  metrics_->RecordRequest(*labels(), record);
  if (log_) log_->Write(record);
}

void MetricsObserver::OnVisionBatch(int images, double seconds) {
  metrics_->RecordVisionBatch(*labels(), images, seconds);
}

void MetricsObserver::OnStep(const StepRecord& step) { metrics_->RecordStep(*labels(), step); }

void MetricsObserver::OnLoad(const LoadRecord& load) { metrics_->RecordLoad(*labels(), load); }

void MetricsObserver::OnImageFeatureLookups(int hits, int misses, int64_t cached_bytes) {
  metrics_->RecordImageFeatureLookups(*labels(), hits, misses, cached_bytes);
}

}  // namespace auroraedge::server
