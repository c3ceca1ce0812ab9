#include "auroraedge/server/metrics.h"

#include <prometheus/text_serializer.h>

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

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::RecordRpc(std::string_view method, int grpc_code, double seconds) {
  impl_->rpc_requests.Add({{"method", Str(method)}, {"grpc_code", Str(GrpcCodeName(grpc_code))}})
      .Increment();
  impl_->rpc_duration.Add({{"method", Str(method)}}, kRequestLatencyBuckets).Observe(seconds);
}

void Metrics::RecordRpc(std::string_view method, StatusCode code, double seconds) {
  RecordRpc(method, static_cast<int>(code), seconds);
}

void Metrics::RecordModel(const ModelRecord& model) {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->model_name = model.name;
  }
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
  impl_->request_duration.Add({{"model", model}, {"priority", priority}}, kRequestLatencyBuckets)
      .Observe(t.total);
  impl_->queue_time.Add({{"model", model}, {"priority", priority}}, kRequestLatencyBuckets)
      .Observe(t.queued);
  if (request.completion_tokens > 0) {
    impl_->time_to_first_token.Add({{"model", model}}, kRequestLatencyBuckets)
        .Observe(t.time_to_first_token);
  }
  if (!request.inter_token_seconds.empty()) {
    Histogram& inter_token =
        impl_->inter_token_latency.Add({{"model", model}}, kTokenLatencyBuckets);
    for (double seconds : request.inter_token_seconds) inter_token.Observe(seconds);
  }
  // A stage the request never reached (no images: no vision) reads 0 and is
  // left out rather than pulling the percentiles down.
  const std::pair<const char*, double> stages[] = {{"preprocessing", t.preprocessing},
                                                   {"vision", t.vision},
                                                   {"prefill", t.prefill},
                                                   {"decode", t.decode}};
  for (const auto& [stage, seconds] : stages) {
    if (seconds <= 0) continue;
    impl_->stage_duration.Add({{"model", model}, {"stage", stage}}, kRequestLatencyBuckets)
        .Observe(seconds);
  }
  impl_->prompt_tokens.Add({{"model", model}}).Increment(request.prompt_tokens);
  impl_->completion_tokens.Add({{"model", model}}).Increment(request.completion_tokens);
  impl_->images.Add({{"model", model}}).Increment(static_cast<double>(request.images.size()));
}

void Metrics::RecordVisionBatch(int images, double seconds) {
  const std::string model = impl_->model();
  impl_->vision_batch_size.Add({{"model", model}}, kBatchSizeBuckets).Observe(images);
  impl_->vision_batch_duration.Add({{"model", model}}, kRequestLatencyBuckets).Observe(seconds);
}

void Metrics::RecordStep(const StepRecord& step) {
  const std::string model = impl_->model();
  if (step.decode_batch_size > 0) {
    impl_->decode_batch_size.Add({{"model", model}}, kBatchSizeBuckets)
        .Observe(step.decode_batch_size);
  }
  impl_->prefill_tokens.Add({{"model", model}}).Increment(step.prefill_tokens);
  impl_->step_duration.Add({{"model", model}}, kTokenLatencyBuckets).Observe(step.seconds);
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
