#include "auroraedge/server/metrics.h"

#include <prometheus/text_serializer.h>

#include <iterator>
#include <optional>

#include "build_info.h"
#include "histogram_buckets.h"
#include "metrics_impl.h"
#include "names.h"

namespace auroraedge::server {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;
using prometheus::Registry;

Family<Counter>& CounterFamily(Registry& registry, const std::string& name,
                               const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

Family<Gauge>& GaugeFamily(Registry& registry, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

Family<Histogram>& HistogramFamily(Registry& registry, const std::string& name,
                                   const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
}

std::string Str(std::string_view view) { return std::string(view); }

// The `stage` label values, in the order a request goes through them.
constexpr const char* kStages[] = {"preprocessing", "vision", "prefill", "decode"};

// `labels` with `more` added.
prometheus::Labels With(prometheus::Labels labels, const prometheus::Labels& more) {
  labels.insert(more.begin(), more.end());
  return labels;
}

prometheus::Labels InfoLabels(const ModelRecord& model) {
  return {{"model", model.name},
          {"version", model.version},
          {"path", model.path},
          {"device", model.device},
          {"dtype", model.dtype}};
}

template <typename T>
void RemoveIfPresent(Family<T>& family, const prometheus::Labels& labels) {
  if (family.Has(labels)) family.Remove(&family.Add(labels));
}

}  // namespace

prometheus::Labels ModelLabels(const ModelRecord& model) {
  return {{"model", model.name}, {"version", model.version}};
}

Metrics::Impl::Impl()
    : rpc_requests(CounterFamily(*registry, "auroraedge_rpc_requests_total",
                                 "Finished gRPC calls by method and status code.")),
      rpc_duration(HistogramFamily(*registry, "auroraedge_rpc_duration_seconds",
                                   "Duration of gRPC calls by method, in seconds.")),
      connections_refused(
          CounterFamily(*registry, "auroraedge_connections_refused_total",
                        "gRPC connections closed at accept by a connection limit (max_connections, "
                        "max_connections_per_peer).")),
      requests_finished(
          CounterFamily(*registry, "auroraedge_requests_finished_total",
                        "Generation requests the engine finished, by priority and finish reason "
                        "(\"error\" when it ended in an error).")),
      request_duration(HistogramFamily(
          *registry, "auroraedge_request_duration_seconds",
          "End-to-end time of a generation request in the engine, from admission to the "
          "last token, in seconds.")),
      queue_time(HistogramFamily(*registry, "auroraedge_request_queue_seconds",
                                 "Time a request waited in the queue before it was scheduled, "
                                 "in seconds.")),
      time_to_first_token(HistogramFamily(*registry, "auroraedge_time_to_first_token_seconds",
                                          "Time from admission to the first generated token, "
                                          "in seconds.")),
      inter_token_latency(HistogramFamily(*registry, "auroraedge_inter_token_latency_seconds",
                                          "Time between two consecutive generated tokens of a "
                                          "request, in seconds.")),
      stage_duration(HistogramFamily(
          *registry, "auroraedge_stage_duration_seconds",
          "Time a request spent in each stage (preprocessing, vision, prefill, decode), in "
          "seconds.")),
      prompt_tokens(CounterFamily(*registry, "auroraedge_prompt_tokens_total",
                                  "Prompt tokens of finished requests, image placeholders "
                                  "included.")),
      completion_tokens(CounterFamily(*registry, "auroraedge_completion_tokens_total",
                                      "Tokens generated for finished requests.")),
      images(CounterFamily(*registry, "auroraedge_images_total",
                           "Images received in finished requests.")),
      inspections(CounterFamily(*registry, "auroraedge_inspections_total",
                                "Finished Inspect requests by decision (\"none\" without a "
                                "decision rule, \"error\" when it failed).")),
      inspection_duration(HistogramFamily(*registry, "auroraedge_inspection_duration_seconds",
                                          "End-to-end time of an Inspect request in the engine, "
                                          "from arrival to its scores, in seconds.")),
      image_feature_cache_hits(CounterFamily(
          *registry, "auroraedge_image_feature_cache_hits_total",
          "Images whose features came from the image-feature cache (or an identical image in "
          "the same vision batch).")),
      image_feature_cache_misses(CounterFamily(*registry,
                                               "auroraedge_image_feature_cache_misses_total",
                                               "Images the vision encoder encoded.")),
      image_feature_cache_bytes(GaugeFamily(*registry, "auroraedge_image_feature_cache_bytes",
                                            "Bytes of features the image-feature cache holds.")),
      vision_batch_size(HistogramFamily(*registry, "auroraedge_vision_batch_size",
                                        "Images per vision encoder batch.")),
      vision_batch_duration(HistogramFamily(*registry, "auroraedge_vision_batch_duration_seconds",
                                            "Time of one vision encoder batch, in seconds.")),
      decode_batch_size(HistogramFamily(*registry, "auroraedge_decode_batch_size",
                                        "Sequences decoding in one engine step.")),
      step_duration(HistogramFamily(*registry, "auroraedge_engine_step_duration_seconds",
                                    "Time of one batched engine step, in seconds.")),
      prefill_tokens(CounterFamily(*registry, "auroraedge_prefill_tokens_total",
                                   "Prompt tokens computed by engine steps.")),
      requests_waiting(GaugeFamily(*registry, "auroraedge_requests_waiting",
                                   "Requests admitted and waiting to be scheduled.")),
      requests_running(GaugeFamily(*registry, "auroraedge_requests_running",
                                   "Requests being prefilled or decoded.")),
      kv_cache_used(GaugeFamily(*registry, "auroraedge_kv_cache_used_bytes",
                                "KV cache memory reserved by running requests, in bytes.")),
      kv_cache_total(GaugeFamily(*registry, "auroraedge_kv_cache_total_bytes",
                                 "KV cache memory the engine may use, in bytes.")),
      model_load_duration(GaugeFamily(*registry, "auroraedge_model_load_duration_seconds",
                                      "Time it took to load the model, in seconds.")),
      model_info(GaugeFamily(*registry, "auroraedge_model_info",
                             "The loaded model; always 1, the labels carry the information.")),
      build_info(GaugeFamily(*registry, "auroraedge_build_info",
                             "This build of the server; always 1, the labels carry the "
                             "information.")) {
  const BuildInfo& build = GetBuildInfo();
  build_info
      .Add({{"version", build.version},
            {"build_type", build.build_type},
            {"compiler", build.compiler}})
      .Set(1);
}

Histogram& Metrics::Impl::RpcDuration(const std::string& method) {
  return rpc_duration.Add({{"method", method}}, kRequestLatencyBuckets);
}

Histogram& Metrics::Impl::RequestDuration(const prometheus::Labels& model,
                                          const std::string& priority) {
  return request_duration.Add(With(model, {{"priority", priority}}), kRequestLatencyBuckets);
}

Histogram& Metrics::Impl::QueueTime(const prometheus::Labels& model, const std::string& priority) {
  return queue_time.Add(With(model, {{"priority", priority}}), kRequestLatencyBuckets);
}

Histogram& Metrics::Impl::TimeToFirstToken(const prometheus::Labels& model) {
  return time_to_first_token.Add(model, kRequestLatencyBuckets);
}

Histogram& Metrics::Impl::InterTokenLatency(const prometheus::Labels& model) {
  return inter_token_latency.Add(model, kTokenLatencyBuckets);
}

Histogram& Metrics::Impl::StageDuration(const prometheus::Labels& model, const std::string& stage) {
  return stage_duration.Add(With(model, {{"stage", stage}}), kRequestLatencyBuckets);
}

Histogram& Metrics::Impl::VisionBatchSize(const prometheus::Labels& model) {
  return vision_batch_size.Add(model, kBatchSizeBuckets);
}

Histogram& Metrics::Impl::VisionBatchDuration(const prometheus::Labels& model) {
  return vision_batch_duration.Add(model, kRequestLatencyBuckets);
}

Histogram& Metrics::Impl::DecodeBatchSize(const prometheus::Labels& model) {
  return decode_batch_size.Add(model, kBatchSizeBuckets);
}

Histogram& Metrics::Impl::StepDuration(const prometheus::Labels& model) {
  return step_duration.Add(model, kTokenLatencyBuckets);
}

Histogram& Metrics::Impl::InspectionDuration(const prometheus::Labels& model) {
  return inspection_duration.Add(model, kRequestLatencyBuckets);
}

void Metrics::Impl::CreateModelSeries(const prometheus::Labels& model) {
  const std::optional<FinishReason> reasons[] = {
      FinishReason::kStop,      FinishReason::kLength,   FinishReason::kStopString,
      FinishReason::kCancelled, FinishReason::kDeadline, std::nullopt};
  for (Priority p : {Priority::kLineCritical, Priority::kNormal, Priority::kBackground}) {
    const std::string priority = Str(PriorityName(p));
    for (const auto& reason : reasons) {
      requests_finished.Add(
          With(model, {{"priority", priority}, {"reason", Str(FinishReasonName(reason))}}));
    }
    RequestDuration(model, priority);
    QueueTime(model, priority);
  }
  for (const char* stage : kStages) StageDuration(model, stage);
  TimeToFirstToken(model);
  InterTokenLatency(model);
  VisionBatchSize(model);
  VisionBatchDuration(model);
  DecodeBatchSize(model);
  StepDuration(model);
  InspectionDuration(model);
  for (Decision d : {Decision::kNone, Decision::kOk, Decision::kNg, Decision::kUnknown}) {
    inspections.Add(With(model, {{"decision", Str(DecisionName(d))}}));
  }
  inspections.Add(With(model, {{"decision", "error"}}));
  for (auto* family : {&prompt_tokens, &completion_tokens, &images, &prefill_tokens,
                       &image_feature_cache_hits, &image_feature_cache_misses}) {
    family->Add(model);
  }
  image_feature_cache_bytes.Add(model);
}

void Metrics::Impl::RemoveModelGauges(const ModelRecord& model) {
  const prometheus::Labels labels = ModelLabels(model);
  for (auto* family : {&requests_waiting, &requests_running, &kv_cache_used, &kv_cache_total,
                       &model_load_duration, &image_feature_cache_bytes}) {
    RemoveIfPresent(*family, labels);
  }
  RemoveIfPresent(model_info, InfoLabels(model));
}

void Metrics::Impl::CreateRpcSeries(const std::string& method) {
  for (int code = 0; code <= kLastGrpcCode; ++code) {
    rpc_requests.Add({{"method", method}, {"grpc_code", Str(GrpcCodeName(code))}});
  }
  RpcDuration(method);
}

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::RecordRpc(std::string_view method, int grpc_code, double seconds) {
  const std::string name(method);
  if (!impl_->rpc_duration.Has({{"method", name}})) impl_->CreateRpcSeries(name);
  impl_->rpc_requests.Add({{"method", name}, {"grpc_code", Str(GrpcCodeName(grpc_code))}})
      .Increment();
  impl_->RpcDuration(name).Observe(seconds);
}

void Metrics::RecordRpc(std::string_view method, StatusCode code, double seconds) {
  RecordRpc(method, static_cast<int>(code), seconds);
}

void Metrics::RecordRefusedConnection(std::string_view limit) {
  impl_->connections_refused.Add({{"limit", std::string(limit)}}).Increment();
}

void Metrics::RecordModel(const ModelRecord& model) {
  const prometheus::Labels labels = ModelLabels(model);
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    ++impl_->loaded_models[{model.name, model.version}];
  }
  impl_->CreateModelSeries(labels);
  impl_->model_load_duration.Add(labels).Set(model.load_seconds);
  impl_->model_info.Add(InfoLabels(model)).Set(1);
}

void Metrics::ForgetModel(const ModelRecord& model) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  const auto loaded = impl_->loaded_models.find({model.name, model.version});
  if (loaded == impl_->loaded_models.end() || --loaded->second > 0) return;
  impl_->loaded_models.erase(loaded);
  // Under the lock, so that a RecordModel of the same version cannot slip
  // between the count and the removal.
  impl_->RemoveModelGauges(model);
}

void Metrics::RecordRequest(const ModelRecord& model_record, const RequestRecord& request) {
  const prometheus::Labels model = ModelLabels(model_record);
  const std::string priority = Str(PriorityName(request.priority));
  const StageTimings& t = request.timings;

  impl_->requests_finished
      .Add(With(model,
                {{"priority", priority}, {"reason", Str(FinishReasonName(request.finish_reason))}}))
      .Increment();
  impl_->RequestDuration(model, priority).Observe(t.total);
  impl_->QueueTime(model, priority).Observe(t.queued);
  if (request.completion_tokens > 0) impl_->TimeToFirstToken(model).Observe(t.time_to_first_token);
  if (!request.inter_token_seconds.empty()) {
    Histogram& inter_token = impl_->InterTokenLatency(model);
    for (double seconds : request.inter_token_seconds) inter_token.Observe(seconds);
  }
  // A stage the request never reached (no images: no vision) reads 0 and is
  // left out rather than pulling the percentiles down.
  const double stage_seconds[] = {t.preprocessing, t.vision, t.prefill, t.decode};
  for (size_t i = 0; i < std::size(kStages); ++i) {
    if (stage_seconds[i] > 0) impl_->StageDuration(model, kStages[i]).Observe(stage_seconds[i]);
  }
  impl_->prompt_tokens.Add(model).Increment(request.prompt_tokens);
  impl_->completion_tokens.Add(model).Increment(request.completion_tokens);
  impl_->images.Add(model).Increment(static_cast<double>(request.images.size()));
  if (request.inspection) {
    const std::string decision =
        request.status.ok() ? Str(DecisionName(request.inspection->decision)) : "error";
    impl_->inspections.Add(With(model, {{"decision", decision}})).Increment();
    impl_->InspectionDuration(model).Observe(t.total);
  }
}

void Metrics::RecordImageFeatureLookups(const ModelRecord& model_record, int hits, int misses,
                                        int64_t cached_bytes) {
  const prometheus::Labels model = ModelLabels(model_record);
  impl_->image_feature_cache_hits.Add(model).Increment(hits);
  impl_->image_feature_cache_misses.Add(model).Increment(misses);
  impl_->image_feature_cache_bytes.Add(model).Set(static_cast<double>(cached_bytes));
}

void Metrics::RecordVisionBatch(const ModelRecord& model_record, int images, double seconds) {
  const prometheus::Labels model = ModelLabels(model_record);
  impl_->VisionBatchSize(model).Observe(images);
  impl_->VisionBatchDuration(model).Observe(seconds);
}

void Metrics::RecordStep(const ModelRecord& model_record, const StepRecord& step) {
  const prometheus::Labels model = ModelLabels(model_record);
  if (step.decode_batch_size > 0) impl_->DecodeBatchSize(model).Observe(step.decode_batch_size);
  impl_->prefill_tokens.Add(model).Increment(step.prefill_tokens);
  impl_->StepDuration(model).Observe(step.seconds);
}

void Metrics::RecordLoad(const ModelRecord& model, const LoadRecord& load) {
  const prometheus::Labels labels = ModelLabels(model);
  impl_->requests_waiting.Add(labels).Set(load.requests_waiting);
  impl_->requests_running.Add(labels).Set(load.requests_running);
  impl_->kv_cache_used.Add(labels).Set(
      static_cast<double>(load.kv_tokens_used * load.kv_bytes_per_token));
  impl_->kv_cache_total.Add(labels).Set(
      static_cast<double>(load.kv_tokens_total * load.kv_bytes_per_token));
}

std::string Metrics::Serialize() const {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& collectable : impl_->collectables()) {
    auto collected = collectable->Collect();
    families.insert(families.end(), collected.begin(), collected.end());
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace auroraedge::server
