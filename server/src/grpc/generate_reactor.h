#pragma once

// One Generate call: checks its metadata and the call limits, decodes,
// maps and submits the request in its constructor, then relays the
// engine's stream (see ResponseStream). A client cancel (or the call's
// deadline) cancels the request in the engine; a client that takes none of
// its writes for the write timeout is cut off with RESOURCE_EXHAUSTED (see
// WriteWatchdog). Deletes itself when gRPC is done with the call.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "auroraedge/v1/inference.pb.h"
#include "call_setup.h"
#include "response_stream.h"

namespace auroraedge::server::grpc_api {

class GenerateReactor : public grpc::ServerWriteReactor<grpc::ByteBuffer>,
                        private ResponseStream::Call {
 public:
  GenerateReactor(grpc::CallbackServerContext* context, const grpc::ByteBuffer& request,
                  const CallShared& shared);

 private:
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  void Write(const v1::GenerateResponse& response) override;
  void End(const grpc::Status& status) override;

  void WatchWrites(grpc::CallbackServerContext* context);

  const CallShared shared_;
  grpc::CallbackServerContext* const context_;  // valid until OnDone
  RpcTimer timer_;
  const std::string peer_;
  bool admitted_ = false;  // counted by the gate: CallEnded in OnDone
  std::string request_id_;
  // The model that took the request (EngineGate::Submit); 0 before and
  // when it refused it.
  std::atomic<uint64_t> model_id_{0};
  int status_code_ = 0;
  std::shared_ptr<ResponseStream> stream_;
  std::shared_ptr<WriteWatchdog::Watch> watch_;
  grpc::ByteBuffer write_buffer_;  // the write in flight
};

}  // namespace auroraedge::server::grpc_api
