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

}  // namespace

Metrics::Impl::Impl()
    : rpc_requests(CounterFamily(*registry, "auroraedge_rpc_requests_total",
                                 "Finished gRPC calls by method and status code.")),
      rpc_duration(HistogramFamily(*registry, "auroraedge_rpc_duration_seconds",
                                   "Duration of gRPC calls by method, in seconds.")),
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

std::string Metrics::Impl::model() const {
  std::lock_guard<std::mutex> lock(mutex);
  return model_name;
}

Histogram& Metrics::Impl::RpcDuration(const std::string& method) {
  return rpc_duration.Add({{"method", method}}, kRequestLatencyBuckets);
}

Histogram& Metrics::Impl::RequestDuration(const std::string& model, const std::string& priority) {
  return request_duration.Add({{"model", model}, {"priority", priority}}, kRequestLatencyBuckets);
}

Histogram& Metrics::Impl::QueueTime(const std::string& model, const std::string& priority) {
  return queue_time.Add({{"model", model}, {"priority", priority}}, kRequestLatencyBuckets);
}

Histogram& Metrics::Impl::TimeToFirstToken(const std::string& model) {
  return time_to_first_token.Add({{"model", model}}, kRequestLatencyBuckets);
}

Histogram& Metrics::Impl::InterTokenLatency(const std::string& model) {
  return inter_token_latency.Add({{"model", model}}, kTokenLatencyBuckets);
}

Histogram& Metrics::Impl::StageDuration(const std::string& model, const std::string& stage) {
  return stage_duration.Add({{"model", model}, {"stage", stage}}, kRequestLatencyBuckets);
}

Histogram& Metrics::Impl::VisionBatchSize(const std::string& model) {
  return vision_batch_size.Add({{"model", model}}, kBatchSizeBuckets);
}

Histogram& Metrics::Impl::VisionBatchDuration(const std::string& model) {
  return vision_batch_duration.Add({{"model", model}}, kRequestLatencyBuckets);
}

Histogram& Metrics::Impl::DecodeBatchSize(const std::string& model) {
  return decode_batch_size.Add({{"model", model}}, kBatchSizeBuckets);
}

Histogram& Metrics::Impl::StepDuration(const std::string& model) {
  return step_duration.Add({{"model", model}}, kTokenLatencyBuckets);
}

void Metrics::Impl::CreateModelSeries(const std::string& model) {
  const std::optional<FinishReason> reasons[] = {
      FinishReason::kStop,      FinishReason::kLength,   FinishReason::kStopString,
      FinishReason::kCancelled, FinishReason::kDeadline, std::nullopt};
  for (Priority p : {Priority::kLineCritical, Priority::kNormal, Priority::kBackground}) {
    const std::string priority = Str(PriorityName(p));
    for (const auto& reason : reasons) {
      requests_finished.Add(
          {{"model", model}, {"priority", priority}, {"reason", Str(FinishReasonName(reason))}});
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
  for (auto* family : {&prompt_tokens, &completion_tokens, &images, &prefill_tokens}) {
    family->Add({{"model", model}});
  }
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

void Metrics::RecordModel(const ModelRecord& model) {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->model_name = model.name;
  }
  impl_->CreateModelSeries(model.name);
  impl_->model_load_duration.Add({{"model", model.name}}).Set(model.load_seconds);
  impl_->model_info
      .Add({{"model", model.name},
            {"version", model.version},
            {"path", model.path},
            {"device", model.device},
            {"dtype", model.dtype}})
      .Set(1);
}

void Metrics::RecordRequest(const RequestRecord& request) {
  const std::string model = impl_->model();
  const std::string priority = Str(PriorityName(request.priority));
  const StageTimings& t = request.timings;

  impl_->requests_finished
      .Add({{"model", model},
            {"priority", priority},
            {"reason", Str(FinishReasonName(request.finish_reason))}})
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
  impl_->prompt_tokens.Add({{"model", model}}).Increment(request.prompt_tokens);
  impl_->completion_tokens.Add({{"model", model}}).Increment(request.completion_tokens);
  impl_->images.Add({{"model", model}}).Increment(static_cast<double>(request.images.size()));
}

void Metrics::RecordVisionBatch(int images, double seconds) {
  const std::string model = impl_->model();
  impl_->VisionBatchSize(model).Observe(images);
  impl_->VisionBatchDuration(model).Observe(seconds);
}

void Metrics::RecordStep(const StepRecord& step) {
  const std::string model = impl_->model();
  if (step.decode_batch_size > 0) impl_->DecodeBatchSize(model).Observe(step.decode_batch_size);
  impl_->prefill_tokens.Add({{"model", model}}).Increment(step.prefill_tokens);
  impl_->StepDuration(model).Observe(step.seconds);
}

void Metrics::RecordLoad(const LoadRecord& load) {
  const prometheus::Labels labels = {{"model", impl_->model()}};
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
