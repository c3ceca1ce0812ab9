#pragma once

// What the Generate and Inspect reactors share and do to a call before they
// hand its request to the engine.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>
#include <string_view>

#include "access_check.h"
#include "auroraedge/server/status.h"
#include "engine_gate.h"
#include "message_codec.h"
#include "metadata_limit.h"
#include "rpc_timer.h"
#include "write_watchdog.h"

namespace auroraedge::server::grpc_api {

// What every Generate and Inspect call shares; all of it outlives the calls.
struct CallShared {
  EngineGate* gate = nullptr;
  const RpcListener* listener = nullptr;  // may be null
  WriteWatchdog* watchdog = nullptr;      // Generate's streams only
  const AccessCheck* access = nullptr;    // who may call, at which priority
  int max_metadata_bytes = 8192;
};

// Unique within the process and unlikely to repeat across restarts.
std::string NewRequestId();

// How long before a call's gRPC deadline the engine ends it. At the
// deadline itself gRPC's own cancel and the engine's DEADLINE_EXCEEDED
// raced: the call then sent trailers, RST_STREAM and trailers again, which
// a proxy such as nginx refuses as a frame for a closed stream, answering
// its client INTERNAL (about one call in five). Ending first, the engine's
// status (and its request log line) is the only ending.
inline constexpr std::chrono::milliseconds kEngineDeadlineLead{10};

// The call's gRPC deadline on the engine's clock, kEngineDeadlineLead
// early (not before now); none stays "never".
std::chrono::steady_clock::time_point EngineDeadline(const grpc::CallbackServerContext& context);
// The same from the deadline and both clocks' readings now.
std::chrono::steady_clock::time_point EngineDeadline(
    std::chrono::system_clock::time_point deadline,
    std::chrono::system_clock::time_point system_now,
    std::chrono::steady_clock::time_point steady_now);

// Everything a call goes through before its request reaches the engine, in
// this order: the metadata size; who calls (before any other work); the
// gate's call limits, after which *admitted is true and the reactor owes
// the gate a CallEnded; the decoded and mapped request (`map`, e.g.
// MapGenerateRequest); the caller's right to the request's priority. Then
// the request gets an id when the client gave none, the client's
// description and the deadline. The first failure is the call's status.
template <typename Decoded, typename Mapped>
Status AdmitCall(std::string_view method, const grpc::CallbackServerContext& context,
                 const grpc::ByteBuffer& request, const CallShared& shared, const std::string& peer,
                 Status (*map)(const Decoded&, Mapped*), bool* admitted, Mapped* mapped) {
  Status status = CheckMetadataSize(context.client_metadata(), shared.max_metadata_bytes);
  if (!status.ok()) return status;
  auth::Caller caller;
  status = shared.access->Authenticate(method, context, &caller);
  if (!status.ok()) return status;
  status = shared.gate->CallStarted(peer);
  if (!status.ok()) return status;
  *admitted = true;
  Decoded decoded;
  status = DecodeMessage(request, &decoded);
  if (!status.ok()) return status;
  status = map(decoded, mapped);
  if (!status.ok()) return status;
  status = shared.access->Admit(method, context, caller, mapped->priority);
  if (!status.ok()) return status;
  if (mapped->request_id.empty()) mapped->request_id = NewRequestId();
  mapped->client_address = AccessCheck::ClientDescription(context, caller);
  mapped->deadline = EngineDeadline(context);
  return Status::Ok();
}

}  // namespace auroraedge::server::grpc_api
