#pragma once

// The server's gRPC front on one port: auroraedge.v1.Inference,
// grpc.health.v1.Health and server reflection. No gRPC header here.
//
// Life cycle: construct (listening; health NOT_SERVING, calls UNAVAILABLE
// "loading"), Serve(engine) once the engine has started and warmed up
// (health SERVING), Drain on shutdown, then destroy the engine, then the
// server.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "auroraedge/server/inference_engine.h"

namespace auroraedge::server {

// Told about every finished call: the method's short name ("Generate"), the
// numeric gRPC status code and the call's duration in seconds. Called from
// gRPC's threads; must be thread-safe and must not block.
using RpcListener = std::function<void(std::string_view method, int grpc_code, double seconds)>;

struct GrpcServerOptions {
  std::string listen_address = "127.0.0.1:50051";  // host:port; port 0 picks a free one
  // Largest request message; bigger ones get RESOURCE_EXHAUSTED from gRPC.
  int max_request_bytes = 64 << 20;
  RpcListener on_rpc_done;  // may be empty
};

class GrpcServer {
 public:
  // Starts listening. Throws std::runtime_error naming the address when it
  // cannot be bound.
  explicit GrpcServer(GrpcServerOptions options);
  // Shuts gRPC down, cancelling calls still running: Drain first, and destroy
  // the engine before this so that its streams have ended.
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  int port() const;  // the bound port

  // Routes calls to `engine` and reports SERVING. `engine` (not owned) must
  // stay valid until Drain returns. Call once.
  void Serve(InferenceEngine* engine, const ServingOptions& options);

  // Stops accepting (new calls UNAVAILABLE, health NOT_SERVING, the engine
  // admits nothing more), then waits up to `timeout` for the calls in flight
  // to finish their streams. Returns true when they all did. Afterwards the
  // engine is no longer used; streams still running end when it is
  // destroyed.
  bool Drain(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auroraedge::server
