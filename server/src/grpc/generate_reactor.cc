#include "generate_reactor.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <utility>

#include "request_mapping.h"
#include "response_mapping.h"

namespace auroraedge::server::grpc_api {
namespace {

// Unique within the process and unlikely to repeat across restarts.
std::string NewRequestId() {
  static const uint32_t process_tag = std::random_device{}();
  static std::atomic<uint64_t> counter{0};
  char id[40];
  std::snprintf(id, sizeof id, "ae-%08x-%llu", process_tag,
                static_cast<unsigned long long>(++counter));
  return id;
}

// The call's gRPC deadline on the engine's clock; none stays "never".
std::chrono::steady_clock::time_point EngineDeadline(const grpc::CallbackServerContext& context) {
  const auto remaining = context.deadline() - std::chrono::system_clock::now();
  if (remaining > std::chrono::hours(24 * 365)) return std::chrono::steady_clock::time_point::max();
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(remaining);
}

}  // namespace

GenerateReactor::GenerateReactor(grpc::CallbackServerContext* context,
                                 const v1::GenerateRequest& request, EngineGate* gate,
                                 const RpcListener* listener)
    : gate_(gate), timer_(listener, "Generate") {
  gate_->CallStarted();
  GenerationRequest mapped;
  RequestBounds bounds;
  bounds.vocab_size = gate_->vocab_size();
  Status status = MapGenerateRequest(request, bounds, &mapped);
  if (!status.ok()) {
    End(ToGrpcStatus(status));
    return;
  }
  if (mapped.request_id.empty()) mapped.request_id = NewRequestId();
  request_id_ = mapped.request_id;
  mapped.client_address = context->peer();
  mapped.deadline = EngineDeadline(*context);
  ResponseStream::Call* call = this;
  stream_ = std::make_shared<ResponseStream>(request_id_, gate_->stream_buffer_chunks(), call);
  // Once Submit succeeds the engine may end the call (and delete this) on
  // its own thread at any moment: nothing may touch members after it.
  submitted_ = true;
  status = gate_->Submit(std::move(mapped), stream_);
  if (!status.ok()) {
    submitted_ = false;
    End(ToGrpcStatus(status));
  }
}

void GenerateReactor::OnWriteDone(bool ok) { stream_->OnWriteDone(ok); }

void GenerateReactor::OnCancel() {
  if (submitted_) gate_->Cancel(request_id_);
}

void GenerateReactor::OnDone() {
  timer_.Done(status_code_);
  gate_->CallEnded();
  delete this;
}

void GenerateReactor::Write(const v1::GenerateResponse& response) { StartWrite(&response); }

void GenerateReactor::End(const grpc::Status& status) {
  status_code_ = status.error_code();
  Finish(status);
}

}  // namespace auroraedge::server::grpc_api
