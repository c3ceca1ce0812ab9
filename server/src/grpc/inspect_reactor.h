#pragma once

// One Inspect call (unary): checks its metadata, the caller's access and
// the call limits, decodes, maps and submits the request in its
// constructor, as GenerateReactor does; the engine's result or error
// finishes the call. A client cancel cancels the request in the engine (its
// deadline the engine enforces itself). Deletes itself when gRPC is done
// with the call. The reply is one small message, so no write watchdog.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>

#include "auroraedge/server/inspection.h"
#include "call_setup.h"

namespace auroraedge::server::grpc_api {

class InspectReactor : public grpc::ServerUnaryReactor {
 public:
  // `response` (gRPC's, valid until OnDone) receives the encoded result.
  InspectReactor(grpc::CallbackServerContext* context, const grpc::ByteBuffer& request,
                 grpc::ByteBuffer* response, const CallShared& shared);

 private:
  class Reply;  // the InspectionReceiver the engine answers

  void OnCancel() override;
  void OnDone() override;
  void End(const grpc::Status& status);

  const CallShared shared_;
  grpc::CallbackServerContext* const context_;  // valid until OnDone
  grpc::ByteBuffer* const response_;
  RpcTimer timer_;
  const std::string peer_;
  bool admitted_ = false;  // counted by the gate: CallEnded in OnDone
  std::string request_id_;
  std::atomic<uint64_t> model_id_{0};  // the model that took the request; 0: none
  int status_code_ = 0;
};

}  // namespace auroraedge::server::grpc_api
