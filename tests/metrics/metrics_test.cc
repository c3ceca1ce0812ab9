#include "auroraedge/server/metrics.h"

#include <catch2/catch.hpp>

#include "exposition.h"

namespace auroraedge::server {
namespace {

using testing::MetricTypes;
using testing::SampleValue;

ModelRecord DemoModel() {
  return {"auroraedge-demo", "0.3.1", "compressed", "cpu", "float32", 1.25};
}

RequestRecord FinishedRequest() {
  RequestRecord record;
  record.request_id = "req-1";
  record.priority = Priority::kLineCritical;
  record.images = {{640, 480, "aa"}, {32, 32, "bb"}};
  record.prompt_tokens = 150;
  record.completion_tokens = 4;
  record.finish_reason = FinishReason::kLength;
  record.timings.queued = 0.002;
  record.timings.preprocessing = 0.004;
  record.timings.vision = 0.030;
  record.timings.prefill = 0.040;
  record.timings.decode = 0.060;
  record.timings.time_to_first_token = 0.080;
  record.timings.total = 0.140;
  record.inter_token_seconds = {0.02, 0.02, 0.02};
  return record;
}

TEST_CASE("gRPC calls are counted by method and status code name") {
  Metrics metrics;
  metrics.RecordRpc("Generate", 0, 0.5);
  metrics.RecordRpc("Generate", StatusCode::kOk, 0.25);
  metrics.RecordRpc("Generate", StatusCode::kInvalidArgument, 0.001);
  metrics.RecordRpc("Check", 16, 0.001);
  metrics.RecordRpc("Check", 99, 0.001);

  const std::string text = metrics.Serialize();
  const std::string requests = "auroraedge_rpc_requests_total";
  CHECK(SampleValue(text, requests, {{"method", "Generate"}, {"grpc_code", "OK"}}) == 2);
  CHECK(SampleValue(text, requests, {{"method", "Generate"}, {"grpc_code", "INVALID_ARGUMENT"}}) ==
        1);
  CHECK(SampleValue(text, requests, {{"method", "Check"}, {"grpc_code", "UNAUTHENTICATED"}}) == 1);
  CHECK(SampleValue(text, requests, {{"method", "Check"}, {"grpc_code", "UNKNOWN"}}) == 1);
  CHECK(SampleValue(text, "auroraedge_rpc_duration_seconds_count", {{"method", "Generate"}}) == 3);
  CHECK(SampleValue(text, "auroraedge_rpc_duration_seconds_sum", {{"method", "Generate"}}) ==
        Approx(0.751));
}

TEST_CASE("a finished request feeds the request, token and stage metrics under the model labels") {
  Metrics metrics;
  metrics.RecordModel(DemoModel());
  metrics.RecordRequest(DemoModel(), FinishedRequest());
  RequestRecord failed;
  failed.status = {StatusCode::kInvalidArgument, "images[0]: not an image"};
  failed.timings.total = 0.001;
  metrics.RecordRequest(DemoModel(), failed);

  const std::string text = metrics.Serialize();
  const std::map<std::string, std::string> model = {{"model", "auroraedge-demo"},
                                                    {"version", "0.3.1"}};
  CHECK(SampleValue(
            text, "auroraedge_requests_finished_total",
            {{"model", "auroraedge-demo"}, {"priority", "line_critical"}, {"reason", "length"}}) ==
        1);
  CHECK(SampleValue(text, "auroraedge_requests_finished_total",
                    {{"priority", "normal"}, {"reason", "error"}}) == 1);
  CHECK(SampleValue(text, "auroraedge_prompt_tokens_total", model) == 150);
  CHECK(SampleValue(text, "auroraedge_completion_tokens_total", model) == 4);
  CHECK(SampleValue(text, "auroraedge_images_total", model) == 2);
  CHECK(SampleValue(text, "auroraedge_request_duration_seconds_sum",
                    {{"priority", "line_critical"}}) == Approx(0.140));
  CHECK(SampleValue(text, "auroraedge_request_queue_seconds_count", {{"priority", "normal"}}) == 1);
  CHECK(SampleValue(text, "auroraedge_inter_token_latency_seconds_count", model) == 3);
  CHECK(SampleValue(text, "auroraedge_inter_token_latency_seconds_bucket",
                    {{"model", "auroraedge-demo"}, {"le", "0.02"}}) == 3);
  CHECK(SampleValue(text, "auroraedge_inter_token_latency_seconds_bucket",
                    {{"model", "auroraedge-demo"}, {"le", "0.01"}}) == 0);
  // The failed request generated nothing: no time to first token.
  CHECK(SampleValue(text, "auroraedge_time_to_first_token_seconds_count", model) == 1);
  for (const char* stage : {"preprocessing", "vision", "prefill", "decode"}) {
    INFO(stage);
    CHECK(SampleValue(text, "auroraedge_stage_duration_seconds_count",
                      {{"model", "auroraedge-demo"}, {"stage", stage}}) == 1);
  }
  CHECK(SampleValue(text, "auroraedge_stage_duration_seconds_sum",
                    {{"model", "auroraedge-demo"}, {"stage", "vision"}}) == Approx(0.030));
}

TEST_CASE("engine steps, vision batches and load become batch-size histograms and gauges") {
  Metrics metrics;
  metrics.RecordModel(DemoModel());
  metrics.RecordVisionBatch(DemoModel(), 3, 0.05);
  metrics.RecordStep(DemoModel(), {4, 0, 0.012});
  metrics.RecordStep(DemoModel(), {0, 64, 0.030});
  metrics.RecordLoad(DemoModel(), {5, 2, 1000, 8000, 2048});

  const std::string text = metrics.Serialize();
  const std::map<std::string, std::string> model = {{"model", "auroraedge-demo"}};
  CHECK(SampleValue(text, "auroraedge_vision_batch_size_sum", model) == 3);
  CHECK(SampleValue(text, "auroraedge_vision_batch_duration_seconds_count", model) == 1);
  // A prefill-only step has no decode batch.
  CHECK(SampleValue(text, "auroraedge_decode_batch_size_count", model) == 1);
  CHECK(SampleValue(text, "auroraedge_decode_batch_size_sum", model) == 4);
  CHECK(SampleValue(text, "auroraedge_engine_step_duration_seconds_count", model) == 2);
  CHECK(SampleValue(text, "auroraedge_prefill_tokens_total", model) == 64);
  CHECK(SampleValue(text, "auroraedge_requests_waiting", model) == 5);
  CHECK(SampleValue(text, "auroraedge_requests_running", model) == 2);
  CHECK(SampleValue(text, "auroraedge_kv_cache_used_bytes", model) == 1000.0 * 2048);
  CHECK(SampleValue(text, "auroraedge_kv_cache_total_bytes", model) == 8000.0 * 2048);
}

TEST_CASE("model, build and process information are exported") {
  Metrics metrics;
  metrics.RecordModel(DemoModel());
  const std::string text = metrics.Serialize();
  CHECK(SampleValue(text, "auroraedge_model_info",
                    {{"model", "auroraedge-demo"},
                     {"version", "0.3.1"},
                     {"path", "compressed"},
                     {"device", "cpu"},
                     {"dtype", "float32"}}) == 1);
  CHECK(SampleValue(text, "auroraedge_model_load_duration_seconds",
                    {{"model", "auroraedge-demo"}, {"version", "0.3.1"}}) == 1.25);
  CHECK(SampleValue(text, "auroraedge_build_info") == 1);
  CHECK(text.find("version=\"" AURORAEDGE_TEST_PROJECT_VERSION "\"") != std::string::npos);
  CHECK(SampleValue(text, "auroraedge_process_resident_memory_bytes").value_or(0) > 1 << 20);
  CHECK(SampleValue(text, "auroraedge_process_virtual_memory_bytes").value_or(0) >=
        SampleValue(text, "auroraedge_process_resident_memory_bytes").value_or(0));
  CHECK(SampleValue(text, "auroraedge_process_start_time_seconds").value_or(0) > 1.6e9);
}

TEST_CASE("a model's and a method's series exist at zero before their first event") {
  Metrics metrics;
  metrics.RecordModel(DemoModel());
  metrics.RecordRpc("Generate", 0, 0.1);
  const std::string text = metrics.Serialize();
  CHECK(SampleValue(text, "auroraedge_rpc_requests_total",
                    {{"method", "Generate"}, {"grpc_code", "INVALID_ARGUMENT"}}) == 0);
  CHECK(SampleValue(text, "auroraedge_rpc_requests_total",
                    {{"method", "Generate"}, {"grpc_code", "UNAUTHENTICATED"}}) == 0);
  CHECK(SampleValue(text, "auroraedge_requests_finished_total",
                    {{"priority", "background"}, {"reason", "deadline"}}) == 0);
  CHECK(SampleValue(text, "auroraedge_requests_finished_total",
                    {{"priority", "line_critical"}, {"reason", "error"}}) == 0);
  CHECK(SampleValue(text, "auroraedge_stage_duration_seconds_count", {{"stage", "prefill"}}) == 0);
  CHECK(SampleValue(text, "auroraedge_request_queue_seconds_count", {{"priority", "normal"}}) == 0);
  CHECK(SampleValue(text, "auroraedge_time_to_first_token_seconds_count") == 0);
  CHECK(SampleValue(text, "auroraedge_decode_batch_size_count") == 0);
  CHECK(SampleValue(text, "auroraedge_completion_tokens_total") == 0);
  CHECK(SampleValue(text, "auroraedge_images_total") == 0);
}

TEST_CASE("two versions of a model running side by side count under their own version") {
  Metrics metrics;
  ModelRecord old_model = DemoModel();
  ModelRecord new_model = DemoModel();
  new_model.version = "0.4.0";
  metrics.RecordModel(old_model);
  metrics.RecordModel(new_model);
  metrics.RecordRequest(old_model, FinishedRequest());
  metrics.RecordRequest(new_model, FinishedRequest());
  metrics.RecordRequest(new_model, FinishedRequest());
  metrics.RecordLoad(old_model, {1, 1, 10, 100, 4});
  metrics.RecordLoad(new_model, {0, 3, 20, 100, 4});

  const std::string text = metrics.Serialize();
  const std::map<std::string, std::string> old_labels = {{"version", "0.3.1"}};
  const std::map<std::string, std::string> new_labels = {{"version", "0.4.0"}};
  CHECK(SampleValue(text, "auroraedge_completion_tokens_total", old_labels) == 4);
  CHECK(SampleValue(text, "auroraedge_completion_tokens_total", new_labels) == 8);
  CHECK(SampleValue(text, "auroraedge_requests_running", old_labels) == 1);
  CHECK(SampleValue(text, "auroraedge_requests_running", new_labels) == 3);
  CHECK(SampleValue(text, "auroraedge_model_info", new_labels) == 1);
}

TEST_CASE("an unloaded model's gauges go, its counters stay, and a reload of it keeps them") {
  Metrics metrics;
  ModelRecord old_model = DemoModel();
  ModelRecord new_model = DemoModel();
  new_model.version = "0.4.0";
  metrics.RecordModel(old_model);
  metrics.RecordModel(new_model);
  metrics.RecordRequest(old_model, FinishedRequest());
  metrics.RecordLoad(old_model, {1, 1, 10, 100, 4});
  // Back to the old version while its first instance still finishes streams.
  metrics.RecordModel(old_model);
  metrics.ForgetModel(old_model);

  const std::map<std::string, std::string> old_labels = {{"version", "0.3.1"}};
  std::string text = metrics.Serialize();
  CHECK(SampleValue(text, "auroraedge_model_info", old_labels) == 1);
  CHECK(SampleValue(text, "auroraedge_kv_cache_total_bytes", old_labels) == 400);

  metrics.ForgetModel(old_model);
  text = metrics.Serialize();
  for (const char* gauge : {"auroraedge_model_info", "auroraedge_model_load_duration_seconds",
                            "auroraedge_requests_waiting", "auroraedge_requests_running",
                            "auroraedge_kv_cache_used_bytes", "auroraedge_kv_cache_total_bytes"}) {
    INFO(gauge);
    CHECK_FALSE(SampleValue(text, gauge, old_labels).has_value());
  }
  CHECK(SampleValue(text, "auroraedge_completion_tokens_total", old_labels) == 4);
  CHECK(SampleValue(text, "auroraedge_model_info", {{"version", "0.4.0"}}) == 1);
}

TEST_CASE("every metric follows the naming conventions") {
  Metrics metrics;
  metrics.RecordModel(DemoModel());
  metrics.RecordRpc("Generate", 0, 0.1);
  metrics.RecordRequest(DemoModel(), FinishedRequest());
  metrics.RecordVisionBatch(DemoModel(), 1, 0.01);
  metrics.RecordStep(DemoModel(), {1, 0, 0.01});
  metrics.RecordLoad(DemoModel(), {});

  const auto types = MetricTypes(metrics.Serialize());
  CHECK(types.size() >= 25);
  for (const auto& [name, type] : types) {
    INFO(name << " (" << type << ")");
    CHECK(name.rfind("auroraedge_", 0) == 0);
    const bool total = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
    CHECK(total == (type == "counter"));
    // Durations are in seconds, never milliseconds.
    CHECK(name.find("_ms") == std::string::npos);
    CHECK(name.find("millis") == std::string::npos);
  }
}

TEST_CASE("inspections are counted by decision with their latency; the image cache's lookups") {
  Metrics metrics;
  metrics.RecordModel(DemoModel());
  const std::string text0 = metrics.Serialize();
  CHECK(SampleValue(text0, "auroraedge_inspections_total", {{"decision", "ng"}}) == 0);
  CHECK(SampleValue(text0, "auroraedge_image_feature_cache_hits_total") == 0);

  RequestRecord inspected = FinishedRequest();
  inspected.inspection =
      InspectionRecord{{{"OK", 0.1, -2.3, 2}, {"NG", 0.9, -0.1, 2}}, "NG", Decision::kNg};
  metrics.RecordRequest(DemoModel(), inspected);
  inspected.inspection->decision = Decision::kNone;
  metrics.RecordRequest(DemoModel(), inspected);
  RequestRecord failed = inspected;
  failed.status = {StatusCode::kCancelled, "cancelled"};
  metrics.RecordRequest(DemoModel(), failed);
  metrics.RecordRequest(DemoModel(), FinishedRequest());  // a Generate: not an inspection
  metrics.RecordImageFeatureLookups(DemoModel(), 3, 1, 4096);
  metrics.RecordImageFeatureLookups(DemoModel(), 1, 2, 8192);

  const std::string text = metrics.Serialize();
  CHECK(SampleValue(text, "auroraedge_inspections_total", {{"decision", "ng"}}) == 1);
  CHECK(SampleValue(text, "auroraedge_inspections_total", {{"decision", "none"}}) == 1);
  CHECK(SampleValue(text, "auroraedge_inspections_total", {{"decision", "error"}}) == 1);
  CHECK(SampleValue(text, "auroraedge_inspections_total", {{"decision", "ok"}}) == 0);
  CHECK(SampleValue(text, "auroraedge_inspection_duration_seconds_count") == 3);
  CHECK(SampleValue(text, "auroraedge_inspection_duration_seconds_sum") == Approx(3 * 0.140));
  CHECK(SampleValue(text, "auroraedge_image_feature_cache_hits_total") == 4);
  CHECK(SampleValue(text, "auroraedge_image_feature_cache_misses_total") == 3);
  CHECK(SampleValue(text, "auroraedge_image_feature_cache_bytes") == 8192);
}

}  // namespace
}  // namespace auroraedge::server
