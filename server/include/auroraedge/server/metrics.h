#pragma once

// The service's Prometheus metrics (prometheus-cpp behind a pimpl, so no
// prometheus header leaks out). Names, labels and histogram buckets are
// listed in deploy/README.md; every name starts with `auroraedge_`, uses base
// units (seconds, bytes) and counters end in `_total`. Labels are of low
// cardinality only: model and version, priority, stage, finish reason, gRPC
// method and status code; never a request id. Every engine metric names the
// model that did the work by `model` (config.json's name) and `version`:
// during a model change two models run side by side, each under its own.
//
// Thread-safe: every method may be called from any thread, and none blocks
// beyond a short internal lock.

#include <memory>
#include <string>
#include <string_view>

#include "auroraedge/server/serving_observer.h"
#include "auroraedge/server/status.h"

namespace auroraedge::server {

class Metrics {
 public:
  // Registers every metric family and sets auroraedge_build_info.
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One finished gRPC call. `method` is the short method name ("Generate",
  // "Check"); `grpc_code` is the numeric gRPC status code (0..16), reported
  // as its canonical name ("OK", "INVALID_ARGUMENT", ...).
  void RecordRpc(std::string_view method, int grpc_code, double seconds);
  void RecordRpc(std::string_view method, StatusCode code, double seconds);
  // A gRPC connection refused at accept; `limit` names the limit
  // ("max_connections", "max_connections_per_peer").
  void RecordRefusedConnection(std::string_view limit);

  // A model was loaded: creates its series at zero and sets its info and
  // load-time gauges. Loaded instances are counted by name and version: a
  // change back to a version whose old instance still finishes its streams
  // shares its series.
  void RecordModel(const ModelRecord& model);
  // A loaded instance is gone (unloaded after a model change, or at exit).
  // When no instance of that name and version is left, its gauges (info,
  // load time, requests waiting and running, KV cache) are removed, so that
  // a sum over models counts the live ones; its counters and histograms
  // stay.
  void ForgetModel(const ModelRecord& model);

  // The engine loop's reports (see ServingObserver), under `model`'s labels.
  void RecordRequest(const ModelRecord& model, const RequestRecord& request);
  void RecordVisionBatch(const ModelRecord& model, int images, double seconds);
  void RecordStep(const ModelRecord& model, const StepRecord& step);
  void RecordLoad(const ModelRecord& model, const LoadRecord& load);
  // The image-feature cache's lookups since the last report, and its size.
  void RecordImageFeatureLookups(const ModelRecord& model, int hits, int misses,
                                 int64_t cached_bytes);

  // Every metric in Prometheus' text exposition format: what /metrics serves.
  std::string Serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auroraedge::server
