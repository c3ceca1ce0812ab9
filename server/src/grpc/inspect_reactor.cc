#include "inspect_reactor.h"

#include <chrono>
#include <utility>

#include "call_setup.h"
#include "message_codec.h"
#include "request_mapping.h"
#include "response_mapping.h"

namespace auroraedge::server::grpc_api {

// The engine calls exactly one of these, once, from a worker or the engine
// thread; the reactor lives until the Finish it triggers is done.
class InspectReactor::Reply : public InspectionReceiver {
 public:
  explicit Reply(InspectReactor* reactor) : reactor_(reactor) {}

  void OnResult(const InspectionResult& result) override {
    *reactor_->response_ = EncodeMessage(InspectResponse(reactor_->request_id_, result));
    reactor_->End(grpc::Status::OK);
  }
  void OnError(const Status& status) override { reactor_->End(ToGrpcStatus(status)); }

 private:
  InspectReactor* const reactor_;
};

InspectReactor::InspectReactor(grpc::CallbackServerContext* context,
                               const grpc::ByteBuffer& request, grpc::ByteBuffer* response,
                               const CallShared& shared)
    : shared_(shared),
      context_(context),
      response_(response),
      timer_(shared.listener, "Inspect"),
      peer_(context->peer()) {
  InspectionRequest mapped;
  Status status = AdmitCall("Inspect", *context, request, shared_, peer_, &MapInspectRequest,
                            &admitted_, &mapped);
  if (!status.ok()) {
    End(ToGrpcStatus(status));
    return;
  }
  request_id_ = mapped.request_id;
  // Once submitted the engine may finish the call (and so delete this) on
  // its own thread at any moment: nothing may touch members after it.
  status =
      shared_.gate->SubmitInspection(std::move(mapped), std::make_shared<Reply>(this), &model_id_);
  if (!status.ok()) {
    model_id_ = 0;  // a Cancel must not reach another request of the same id
    End(ToGrpcStatus(status));
  }
}

void InspectReactor::OnCancel() {
  // As in GenerateReactor: a passed deadline the engine reports itself
  // (DEADLINE_EXCEEDED in its request log and metrics), not as a cancel.
  if (context_->deadline() <= std::chrono::system_clock::now()) return;
  const uint64_t model_id = model_id_.load();
  if (model_id != 0) shared_.gate->Cancel(model_id, request_id_);
}

void InspectReactor::OnDone() {
  timer_.Done(status_code_);
  if (admitted_) shared_.gate->CallEnded(peer_);
  delete this;
}

void InspectReactor::End(const grpc::Status& status) {
  status_code_ = status.error_code();
  Finish(status);
}

}  // namespace auroraedge::server::grpc_api
