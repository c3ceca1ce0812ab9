#pragma once

// auroraedge.v1.Admin over the callback API: LoadModel passes the access
// check for administrators (AccessCheck::AdmitAdmin), checks model_dir and
// hands the change to the ModelSwitch, whose thread answers the call when
// the new model serves or is refused. No gRPC thread waits for a load.

#include <grpcpp/grpcpp.h>

#include "access_check.h"
#include "auroraedge/server/grpc_server.h"
#include "auroraedge/v1/admin.grpc.pb.h"
#include "model_switch.h"

namespace auroraedge::server::grpc_api {

class AdminService final : public v1::Admin::CallbackService {
 public:
  // All must outlive the service.
  AdminService(ModelSwitch* models, const RpcListener* listener, const AccessCheck* access)
      : models_(models), listener_(listener), access_(access) {}

  grpc::ServerUnaryReactor* LoadModel(grpc::CallbackServerContext* context,
                                      const v1::LoadModelRequest* request,
                                      v1::LoadModelResponse* response) override;

 private:
  ModelSwitch* const models_;
  const RpcListener* const listener_;
  const AccessCheck* const access_;
};

}  // namespace auroraedge::server::grpc_api
