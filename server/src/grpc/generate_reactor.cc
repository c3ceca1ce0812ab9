#include "generate_reactor.h"

#include <grpc/grpc.h>

#include <chrono>
#include <utility>

#include "call_setup.h"
#include "message_codec.h"
#include "request_mapping.h"
#include "response_mapping.h"

namespace auroraedge::server::grpc_api {
GenerateReactor::GenerateReactor(grpc::CallbackServerContext* context,
                                 const grpc::ByteBuffer& request, const CallShared& shared)
    : shared_(shared),
      context_(context),
      timer_(shared.listener, "Generate"),
      peer_(context->peer()) {
  GenerationRequest mapped;
  Status status = AdmitCall("Generate", *context, request, shared_, peer_, &MapGenerateRequest,
                            &admitted_, &mapped);
  if (!status.ok()) {
    End(ToGrpcStatus(status));
    return;
  }
  request_id_ = mapped.request_id;
  WatchWrites(context);
  ResponseStream::Call* call = this;
  stream_ =
      std::make_shared<ResponseStream>(request_id_, shared_.gate->stream_buffer_chunks(), call);
  // Once Submit succeeds the engine may end the call (and delete this) on
  // its own thread at any moment: nothing may touch members after it.
  status = shared_.gate->Submit(std::move(mapped), stream_, &model_id_);
  if (!status.ok()) {
    model_id_ = 0;  // a Cancel must not reach another request of the same id
    End(ToGrpcStatus(status));
  }
}

void GenerateReactor::WatchWrites(grpc::CallbackServerContext* context) {
  // The watchdog may cut the call until it lets go of it, possibly just
  // after OnDone: its own reference keeps gRPC's call valid until then.
  grpc_call* call = context->c_call();
  grpc_call_ref(call);
  std::shared_ptr<grpc_call> held(call, grpc_call_unref);
  const std::string why = "the client took none of its stream for " +
                          std::to_string(shared_.watchdog->timeout().count()) +
                          " ms (stream_write_timeout_ms); cut off";
  watch_ = shared_.watchdog->Add([held, why] {
    grpc_call_cancel_with_status(held.get(), GRPC_STATUS_RESOURCE_EXHAUSTED, why.c_str(), nullptr);
  });
}

void GenerateReactor::OnWriteDone(bool ok) {
  watch_->WriteDone();
  stream_->OnWriteDone(ok);
}

void GenerateReactor::OnCancel() {
  // gRPC also cancels the call when its deadline passes; the engine ends
  // such a request itself, for that reason (FINISH_REASON_DEADLINE in its
  // request log and metrics), not as one the client cancelled.
  if (context_->deadline() <= std::chrono::system_clock::now()) return;
  const uint64_t model_id = model_id_.load();
  if (model_id != 0) shared_.gate->Cancel(model_id, request_id_);
}

void GenerateReactor::OnDone() {
  if (watch_ != nullptr) watch_->Release();
  timer_.Done(status_code_);
  if (admitted_) shared_.gate->CallEnded(peer_);
  delete this;
}

void GenerateReactor::Write(const v1::GenerateResponse& response) {
  write_buffer_ = EncodeMessage(response);
  watch_->WriteStarted();
  StartWrite(&write_buffer_);
}

void GenerateReactor::End(const grpc::Status& status) {
  status_code_ = status.error_code();
  Finish(status);
}

}  // namespace auroraedge::server::grpc_api
