#pragma once

// What the Generate and Inspect reactors both do to a call before they hand
// its request to the engine: an id when the client gave none, and the
// call's deadline on the engine's clock.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>

namespace auroraedge::server::grpc_api {

// Unique within the process and unlikely to repeat across restarts.
std::string NewRequestId();

// The call's gRPC deadline on the engine's clock; none stays "never".
std::chrono::steady_clock::time_point EngineDeadline(const grpc::CallbackServerContext& context);

}  // namespace auroraedge::server::grpc_api
