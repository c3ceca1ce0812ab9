#include "inference_service.h"

#include "inspect_reactor.h"
#include "message_codec.h"
#include "metadata_limit.h"
#include "model_info.h"
#include "response_mapping.h"
#include "rpc_timer.h"

namespace auroraedge::server::grpc_api {

grpc::ServerWriteReactor<grpc::ByteBuffer>* InferenceService::Generate(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  return new GenerateReactor(context, *request, shared_);
}

grpc::ServerUnaryReactor* InferenceService::Inspect(grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request,
                                                    grpc::ByteBuffer* response) {
  return new InspectReactor(context, *request, response, shared_);
}

grpc::ServerUnaryReactor* InferenceService::GetModelInfo(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  const RpcTimer timer(shared_.listener, "GetModelInfo");
  v1::GetModelInfoRequest decoded;
  Status status = CheckMetadataSize(context->client_metadata(), shared_.max_metadata_bytes);
  auth::Caller caller;
  if (status.ok()) status = shared_.access->Authenticate("GetModelInfo", *context, &caller);
  if (status.ok()) {
    status = shared_.access->Admit("GetModelInfo", *context, caller, std::nullopt);
  }
  if (status.ok()) status = DecodeMessage(*request, &decoded);
  EngineSnapshot snapshot;
  if (status.ok()) status = shared_.gate->Snapshot(&snapshot);
  if (status.ok()) *response = EncodeMessage(DescribeModel(snapshot));
  const grpc::Status result = ToGrpcStatus(status);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(result);
  timer.Done(result.error_code());
  return reactor;
}

}  // namespace auroraedge::server::grpc_api
