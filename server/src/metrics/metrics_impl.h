#pragma once

// Metrics' private state: the prometheus-cpp registry and families.

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <mutex>
#include <string>
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
  std::string model() const;

  // One series of a histogram family, with the family's buckets; created at
  // zero on first use.
  prometheus::Histogram& RpcDuration(const std::string& method);
  prometheus::Histogram& RequestDuration(const std::string& model, const std::string& priority);
  prometheus::Histogram& QueueTime(const std::string& model, const std::string& priority);
  prometheus::Histogram& TimeToFirstToken(const std::string& model);
  prometheus::Histogram& InterTokenLatency(const std::string& model);
  prometheus::Histogram& StageDuration(const std::string& model, const std::string& stage);
  prometheus::Histogram& VisionBatchSize(const std::string& model);
  prometheus::Histogram& VisionBatchDuration(const std::string& model);
  prometheus::Histogram& DecodeBatchSize(const std::string& model);
  prometheus::Histogram& StepDuration(const std::string& model);

  // Creates every series of a model, or of a gRPC method, at zero: rate()
  // only sees an increase between two scrapes, so a series that first
  // appears with its value 4 would read as no traffic at all.
  void CreateModelSeries(const std::string& model);
  void CreateRpcSeries(const std::string& method);

  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::shared_ptr<ProcessCollector> process = std::make_shared<ProcessCollector>();

  prometheus::Family<prometheus::Counter>& rpc_requests;
  prometheus::Family<prometheus::Histogram>& rpc_duration;

  prometheus::Family<prometheus::Counter>& requests_finished;
  prometheus::Family<prometheus::Histogram>& request_duration;
  prometheus::Family<prometheus::Histogram>& queue_time;
  prometheus::Family<prometheus::Histogram>& time_to_first_token;
  prometheus::Family<prometheus::Histogram>& inter_token_latency;
  prometheus::Family<prometheus::Histogram>& stage_duration;
  prometheus::Family<prometheus::Counter>& prompt_tokens;
  prometheus::Family<prometheus::Counter>& completion_tokens;
  prometheus::Family<prometheus::Counter>& images;

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

  mutable std::mutex mutex;
  std::string model_name;  // guarded by mutex; the `model` label of every engine metric
};

}  // namespace auroraedge::server
