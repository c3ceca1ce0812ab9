#include "inference_service.h"

#include "generate_reactor.h"
#include "model_info.h"
#include "response_mapping.h"
#include "rpc_timer.h"

namespace auroraedge::server::grpc_api {

grpc::ServerWriteReactor<v1::GenerateResponse>* InferenceService::Generate(
    grpc::CallbackServerContext* context, const v1::GenerateRequest* request) {
  return new GenerateReactor(context, *request, gate_, listener_);
}

grpc::ServerUnaryReactor* InferenceService::GetModelInfo(grpc::CallbackServerContext* context,
                                                         const v1::GetModelInfoRequest* request,
                                                         v1::ModelInfo* response) {
  const RpcTimer timer(listener_, "GetModelInfo");
  EngineSnapshot snapshot;
  const grpc::Status status = ToGrpcStatus(gate_->Snapshot(&snapshot));
  if (status.ok()) *response = DescribeModel(snapshot);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  timer.Done(status.error_code());
  return reactor;
}

}  // namespace auroraedge::server::grpc_api
