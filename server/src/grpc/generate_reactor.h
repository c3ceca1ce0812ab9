#pragma once

// One Generate call: maps and submits the request in its constructor, then
// relays the engine's stream (see ResponseStream). A client cancel (or the
// call's deadline) cancels the request in the engine. Deletes itself when
// gRPC is done with the call.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>

#include "auroraedge/v1/inference.pb.h"
#include "engine_gate.h"
#include "response_stream.h"
#include "rpc_timer.h"

namespace auroraedge::server::grpc_api {

class GenerateReactor : public grpc::ServerWriteReactor<v1::GenerateResponse>,
                        private ResponseStream::Call {
 public:
  GenerateReactor(grpc::CallbackServerContext* context, const v1::GenerateRequest& request,
                  EngineGate* gate, const RpcListener* listener);

 private:
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  void Write(const v1::GenerateResponse& response) override;
  void End(const grpc::Status& status) override;

  EngineGate* const gate_;
  RpcTimer timer_;
  std::string request_id_;
  std::atomic<bool> submitted_{false};
  int status_code_ = 0;
  std::shared_ptr<ResponseStream> stream_;
};

}  // namespace auroraedge::server::grpc_api
