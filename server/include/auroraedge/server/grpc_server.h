#pragma once

// The server's gRPC front on one port: auroraedge.v1.Inference,
// auroraedge.v1.Admin (model changes without downtime),
// grpc.health.v1.Health (per service: "" and "auroraedge.v1.Inference") and
// server reflection (v1alpha: Debian's gRPC 1.51 has no v1). No gRPC header
// here.
//
// Life cycle: construct (listening; health NOT_SERVING, calls UNAVAILABLE
// "loading"), Serve(engine) once the engine has started and warmed up
// (health SERVING); Admin.LoadModel replaces the engine meanwhile, health
// stays SERVING through it. On shutdown: StopAccepting, WaitCallsEnded for
// as long as the drain may take, Detach (it destroys the engines), then
// destroy the server.
//
// What one client can hold is bounded (see GrpcServerOptions): connections
// and Generate calls per client IP address and in total, streams per
// connection, request and metadata size, and the time a stream may wait on
// a client that does not read it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auroraedge/server/security_options.h"
#include "auroraedge/server/serving_front_end.h"

namespace auroraedge::server {

// Told about every finished call: the method's short name ("Generate"), the
// numeric gRPC status code and the call's duration in seconds. Called from
// gRPC's threads; must be thread-safe and must not block.
using RpcListener = std::function<void(std::string_view method, int grpc_code, double seconds)>;

// A model loaded and warmed up, ready to serve (a ModelLoader's result).
struct LoadedModel {
  std::unique_ptr<ServingFrontEnd> engine;  // never null
  ServingOptions options;                   // what it was started with
  double load_seconds = 0;     // reading and checking the directory, allocating the KV cache
  double warm_up_seconds = 0;  // the warm-up inference
};

// Loads and warms up a model directory with the server's options, for
// Admin.LoadModel; runs on a thread of its own while the current model
// serves. Throws what ServingFrontEnd::Start throws (model::ModelLoadError
// naming the file, ...): the call then fails with that message and the
// model in service stays.
using ModelLoader = std::function<LoadedModel(const std::string& model_dir)>;

// Told what model changes do, for the server's log: a load started,
// refused (`warning`) or switched to, and a replaced model released once
// its last request ended. Called from the server's own threads; must be
// thread-safe.
using ModelEventListener = std::function<void(bool warning, const std::string& message)>;

// What one client, and all of them together, can hold of the server.
struct ClientLimits {
  // Request metadata of one call (name + value + 32 per entry); a call over
  // it gets RESOURCE_EXHAUSTED alone. gRPC's own, connection-wide limit is
  // set 8 times higher, at least 64 KiB (see metadata_limit.h).
  int max_metadata_bytes = 8 << 10;
  // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: a client queues more on its side.
  int max_streams_per_connection = 100;
  // Open connections, in total and from one client IP address; beyond, a new
  // connection is closed at once. 0: no limit.
  int max_connections = 1024;
  int max_connections_per_peer = 64;
  // Generate calls in flight, in total and from one client IP address;
  // beyond, RESOURCE_EXHAUSTED. 0: no limit.
  int max_calls = 512;
  int max_calls_per_peer = 128;
  // A Generate write the client has not taken for this long ends the call
  // with RESOURCE_EXHAUSTED (the client stopped reading). 0: never.
  std::chrono::milliseconds stream_write_timeout{30000};
  // gRPC's ResourceQuota: memory of its buffers (connections, requests being
  // received) all together; beyond, gRPC cancels calls (RST_STREAM
  // ENHANCE_YOUR_CALM: RESOURCE_EXHAUSTED at the client) to get back under
  // it. 0: no quota.
  int64_t grpc_memory_bytes = int64_t{2} << 30;
};

struct GrpcServerOptions {
  std::string listen_address = "127.0.0.1:50051";  // host:port; port 0 picks a free one
  // SO_REUSEPORT on the listening socket: several servers share the address
  // on purpose. Without it a second server on a taken address fails to start.
  bool listen_reuseport = false;
  // Largest request message; bigger ones get RESOURCE_EXHAUSTED from gRPC.
  int max_request_bytes = 64 << 20;
  ClientLimits limits;
  RpcListener on_rpc_done;  // may be empty

  // TLS, mTLS and bearer tokens; the default is plaintext without tokens.
  SecurityOptions security;
  AccessDeniedListener on_access_denied;  // may be empty

  // Admin.LoadModel; empty: it answers FAILED_PRECONDITION.
  ModelLoader load_model;
  ModelEventListener on_model_event;  // may be empty
  // Told the limit ("max_connections" or "max_connections_per_peer") that
  // refused a connection, on the accepting thread; must not block. May be
  // empty.
  std::function<void(std::string_view limit)> on_connection_refused;
};

class GrpcServer {
 public:
  // Starts listening. Throws SecurityFileError naming a TLS or token file
  // that cannot be used, std::runtime_error naming the address when it
  // cannot be bound.
  explicit GrpcServer(GrpcServerOptions options);
  // Waits for a model load under way (a load cannot be cut short), destroys
  // the engines (streams still running end UNAVAILABLE), then shuts gRPC
  // down: Drain first.
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  int port() const;  // the bound port

  // What protects the port (TLS certificate, client certificates, tokens),
  // for the start log.
  std::string DescribeSecurity() const;

  // Re-reads the TLS and token files (SIGHUP): new connections and calls
  // see what loaded, streams in flight go on; a file that fails leaves the
  // one in use. Thread-safe.
  std::vector<ReloadOutcome> ReloadSecurity();

  // Routes calls to `engine` and reports SERVING. Call once; later models
  // come through Admin.LoadModel.
  void Serve(std::unique_ptr<ServingFrontEnd> engine, const ServingOptions& options);

  // Stops accepting: the listening sockets close (new connections are
  // refused), health NOT_SERVING and new calls UNAVAILABLE on the
  // connections already open, no engine admits anything more, a model load
  // that ends now is dropped. Streams in flight go on, on the current model
  // and on those a change replaced.
  void StopAccepting();
  // Waits until the calls in flight have finished their streams; false when
  // some are still running at `deadline`.
  bool WaitCallsEnded(std::chrono::steady_clock::time_point deadline);
  // Destroys the engines (the current one and those a change replaced):
  // streams still running end UNAVAILABLE.
  void Detach();

  // The number of Generate calls ended so far when none is in flight;
  // nullopt while some are. Thread-safe.
  std::optional<uint64_t> EndedCallsIfIdle() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auroraedge::server
