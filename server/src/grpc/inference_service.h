#pragma once

// auroraedge.v1.Inference over the callback API: one GenerateReactor per
// Generate call; GetModelInfo answers at once.

#include <grpcpp/grpcpp.h>

#include "auroraedge/server/grpc_server.h"
#include "auroraedge/v1/inference.grpc.pb.h"
#include "engine_gate.h"

namespace auroraedge::server::grpc_api {

class InferenceService final : public v1::Inference::CallbackService {
 public:
  // Both must outlive the service.
  InferenceService(EngineGate* gate, const RpcListener* listener)
      : gate_(gate), listener_(listener) {}

  grpc::ServerWriteReactor<v1::GenerateResponse>* Generate(
      grpc::CallbackServerContext* context, const v1::GenerateRequest* request) override;

  grpc::ServerUnaryReactor* GetModelInfo(grpc::CallbackServerContext* context,
                                         const v1::GetModelInfoRequest* request,
                                         v1::ModelInfo* response) override;

 private:
  EngineGate* const gate_;
  const RpcListener* const listener_;
};

}  // namespace auroraedge::server::grpc_api
