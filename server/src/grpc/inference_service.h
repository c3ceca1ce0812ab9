#pragma once

// auroraedge.v1.Inference over the callback API, with raw (ByteBuffer)
// methods so that the server decodes requests itself (see message_codec.h):
// one GenerateReactor per Generate call, one InspectReactor per Inspect
// call; GetModelInfo answers at once. All pass the access check first (see
// access_check.h).

#include <grpcpp/grpcpp.h>

#include "auroraedge/v1/inference.grpc.pb.h"
#include "generate_reactor.h"

namespace auroraedge::server::grpc_api {

using RawInferenceService =
    v1::Inference::WithRawCallbackMethod_Generate<v1::Inference::WithRawCallbackMethod_Inspect<
        v1::Inference::WithRawCallbackMethod_GetModelInfo<v1::Inference::Service>>>;

class InferenceService final : public RawInferenceService {
 public:
  // Everything `shared` points to must outlive the service.
  explicit InferenceService(const CallShared& shared) : shared_(shared) {}

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Generate(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request) override;

  grpc::ServerUnaryReactor* Inspect(grpc::CallbackServerContext* context,
                                    const grpc::ByteBuffer* request,
                                    grpc::ByteBuffer* response) override;

  grpc::ServerUnaryReactor* GetModelInfo(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;

 private:
  const CallShared shared_;
};

}  // namespace auroraedge::server::grpc_api
