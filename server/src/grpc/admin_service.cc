#include "admin_service.h"

#include <string>

#include "response_mapping.h"
#include "rpc_timer.h"

namespace auroraedge::server::grpc_api {
namespace {

constexpr size_t kMaxModelDirBytes = 4096;  // PATH_MAX on Linux

Status CheckModelDir(const std::string& model_dir) {
  if (model_dir.empty()) {
    return {StatusCode::kInvalidArgument,
            "model_dir: empty; the path of a model directory on the server is required"};
  }
  if (model_dir.size() > kMaxModelDirBytes) {
    return {StatusCode::kInvalidArgument, "model_dir: " + std::to_string(model_dir.size()) +
                                              " bytes; at most " +
                                              std::to_string(kMaxModelDirBytes)};
  }
  if (model_dir.find('\0') != std::string::npos) {
    return {StatusCode::kInvalidArgument, "model_dir: contains a NUL byte"};
  }
  return Status::Ok();
}

void FillResponse(const ModelChange& change, v1::LoadModelResponse* response) {
  response->set_name(change.name);
  response->set_version(change.version);
  response->set_load_seconds(change.load_seconds);
  response->set_warm_up_seconds(change.warm_up_seconds);
  response->set_previous_name(change.previous_name);
  response->set_previous_version(change.previous_version);
}

}  // namespace

grpc::ServerUnaryReactor* AdminService::LoadModel(grpc::CallbackServerContext* context,
                                                  const v1::LoadModelRequest* request,
                                                  v1::LoadModelResponse* response) {
  const RpcTimer timer(listener_, "LoadModel");
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auth::Caller caller;
  Status status = access_->Authenticate("LoadModel", *context, &caller);
  if (status.ok()) status = access_->AdmitAdmin("LoadModel", *context, caller);
  if (status.ok()) status = CheckModelDir(request->model_dir());
  if (status.ok()) {
    // The reactor and the response stay valid until Finish, whatever the
    // client does meanwhile.
    status = models_->Start(
        request->model_dir(), AccessCheck::ClientDescription(*context, caller),
        [reactor, response, timer](const Status& outcome, const ModelChange& change) {
          if (outcome.ok()) FillResponse(change, response);
          const grpc::Status answer = ToGrpcStatus(outcome);
          timer.Done(answer.error_code());
          reactor->Finish(answer);
        });
  }
  if (!status.ok()) {
    const grpc::Status answer = ToGrpcStatus(status);
    timer.Done(answer.error_code());
    reactor->Finish(answer);
  }
  return reactor;
}

}  // namespace auroraedge::server::grpc_api
