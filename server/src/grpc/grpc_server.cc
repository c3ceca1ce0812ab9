#include "auroraedge/server/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <stdexcept>
#include <utility>

#include "engine_gate.h"
#include "inference_service.h"

namespace auroraedge::server {

struct GrpcServer::Impl {
  explicit Impl(GrpcServerOptions options_in)
      : options(std::move(options_in)), service(&gate, &options.on_rpc_done) {}

  GrpcServerOptions options;
  grpc_api::EngineGate gate;
  grpc_api::InferenceService service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

GrpcServer::GrpcServer(GrpcServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(impl_->options.listen_address, grpc::InsecureServerCredentials(),
                           &impl_->port);
  builder.SetMaxReceiveMessageSize(impl_->options.max_request_bytes);
  builder.RegisterService(&impl_->service);
  impl_->server = builder.BuildAndStart();
  if (impl_->server == nullptr || impl_->port == 0) {
    throw std::runtime_error("cannot listen on " + impl_->options.listen_address +
                             " (address in use or not valid host:port)");
  }
  // The default health service starts out SERVING; the model is not loaded yet.
  impl_->server->GetHealthCheckService()->SetServingStatus(false);
}

GrpcServer::~GrpcServer() {
  impl_->gate.Detach();
  impl_->server->Shutdown(std::chrono::system_clock::now());
  impl_->server->Wait();
}

int GrpcServer::port() const { return impl_->port; }

void GrpcServer::Serve(InferenceEngine* engine, const ServingOptions& options) {
  impl_->gate.Attach(engine, options);
  impl_->server->GetHealthCheckService()->SetServingStatus(true);
}

bool GrpcServer::Drain(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  impl_->server->GetHealthCheckService()->SetServingStatus(false);
  impl_->gate.StopAccepting();
  const bool drained = impl_->gate.WaitCallsEnded(deadline);
  impl_->gate.Detach();
  return drained;
}

}  // namespace auroraedge::server
