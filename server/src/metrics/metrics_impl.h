#pragma once

// Metrics' private state: the prometheus-cpp registry and families.

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "auroraedge/server/metrics.h"
#include "process_collector.h"

namespace auroraedge::server {

struct Metrics::Impl {
  Impl();

  // Everything /metrics serves, in order.
  std::vector<std::shared_ptr<const prometheus::Collectable>> collectables() const {
    return {registry, process};
  }
  // One series of a histogram family, with the family's buckets; created at
  // zero on first use. `model`: ModelLabels().
  prometheus::Histogram& RpcDuration(const std::string& method);
  prometheus::Histogram& RequestDuration(const prometheus::Labels& model,
                                         const std::string& priority);
  prometheus::Histogram& QueueTime(const prometheus::Labels& model, const std::string& priority);
  prometheus::Histogram& TimeToFirstToken(const prometheus::Labels& model);
  prometheus::Histogram& InterTokenLatency(const prometheus::Labels& model);
  prometheus::Histogram& StageDuration(const prometheus::Labels& model, const std::string& stage);
  prometheus::Histogram& VisionBatchSize(const prometheus::Labels& model);
  prometheus::Histogram& VisionBatchDuration(const prometheus::Labels& model);
  prometheus::Histogram& DecodeBatchSize(const prometheus::Labels& model);
  prometheus::Histogram& StepDuration(const prometheus::Labels& model);
  prometheus::Histogram& InspectionDuration(const prometheus::Labels& model);

  // Creates every series of a model, or of a gRPC method, at zero: rate()
  // only sees an increase between two scrapes, so a series that first
  // appears with its value 4 would read as no traffic at all.
  void CreateModelSeries(const prometheus::Labels& model);
  void CreateRpcSeries(const std::string& method);
  // Removes the gauges of a model no instance of which is loaded.
  void RemoveModelGauges(const ModelRecord& model);

  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::shared_ptr<ProcessCollector> process = std::make_shared<ProcessCollector>();

  prometheus::Family<prometheus::Counter>& rpc_requests;
  prometheus::Family<prometheus::Histogram>& rpc_duration;
  prometheus::Family<prometheus::Counter>& connections_refused;

  prometheus::Family<prometheus::Counter>& requests_finished;
  prometheus::Family<prometheus::Histogram>& request_duration;
  prometheus::Family<prometheus::Histogram>& queue_time;
  prometheus::Family<prometheus::Histogram>& time_to_first_token;
  prometheus::Family<prometheus::Histogram>& inter_token_latency;
  prometheus::Family<prometheus::Histogram>& stage_duration;
  prometheus::Family<prometheus::Counter>& prompt_tokens;
  prometheus::Family<prometheus::Counter>& completion_tokens;
  prometheus::Family<prometheus::Counter>& images;
  prometheus::Family<prometheus::Counter>& inspections;
  prometheus::Family<prometheus::Histogram>& inspection_duration;
  prometheus::Family<prometheus::Counter>& image_feature_cache_hits;
  prometheus::Family<prometheus::Counter>& image_feature_cache_misses;
  prometheus::Family<prometheus::Gauge>& image_feature_cache_bytes;

  prometheus::Family<prometheus::Histogram>& vision_batch_size;
  prometheus::Family<prometheus::Histogram>& vision_batch_duration;
  prometheus::Family<prometheus::Histogram>& decode_batch_size;
  prometheus::Family<prometheus::Histogram>& step_duration;
  prometheus::Family<prometheus::Counter>& prefill_tokens;

  prometheus::Family<prometheus::Gauge>& requests_waiting;
  prometheus::Family<prometheus::Gauge>& requests_running;
  prometheus::Family<prometheus::Gauge>& kv_cache_used;
  prometheus::Family<prometheus::Gauge>& kv_cache_total;

  prometheus::Family<prometheus::Gauge>& model_load_duration;
  prometheus::Family<prometheus::Gauge>& model_info;
  prometheus::Family<prometheus::Gauge>& build_info;

  std::mutex mutex;
  // Loaded instances by model name and version; guarded by mutex.
  std::map<std::pair<std::string, std::string>, int> loaded_models;
};

// The labels that name a model in every engine metric.
prometheus::Labels ModelLabels(const ModelRecord& model);

}  // namespace auroraedge::server
