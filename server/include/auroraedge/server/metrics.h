#pragma once

// The service's Prometheus metrics (prometheus-cpp behind a pimpl, so no
// prometheus header leaks out). Names, labels and histogram buckets are
// listed in deploy/README.md; every name starts with `auroraedge_`, uses base
// units (seconds, bytes) and counters end in `_total`. Labels are of low
// cardinality only: model, priority, stage, finish reason, gRPC method and
// status code; never a request id.
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

  // The engine loop's reports (see ServingObserver).
  void RecordModel(const ModelRecord& model);
  void RecordRequest(const RequestRecord& request);
  void RecordVisionBatch(int images, double seconds);
  void RecordStep(const StepRecord& step);
  void RecordLoad(const LoadRecord& load);

  // Every metric in Prometheus' text exposition format: what /metrics serves.
  std::string Serialize() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auroraedge::server
