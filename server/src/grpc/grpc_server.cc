#include "auroraedge/server/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>

#include <utility>

#include "admin_service.h"
#include "connection_acceptor.h"
#include "engine_gate.h"
#include "inference_service.h"
#include "metadata_limit.h"
#include "model_switch.h"
#include "server_security.h"
#include "write_watchdog.h"

namespace auroraedge::server {

struct GrpcServer::Impl {
  explicit Impl(GrpcServerOptions options_in)
      : options(std::move(options_in)),
        security(options.security),
        access(security.access(), &options.on_access_denied),
        gate({options.limits.max_calls, options.limits.max_calls_per_peer}),
        watchdog(std::make_unique<grpc_api::WriteWatchdog>(options.limits.stream_write_timeout)),
        service({&gate, &options.on_rpc_done, watchdog.get(), &access,
                 options.limits.max_metadata_bytes}),
        models(&gate, &options.load_model, &options.on_model_event),
        admin(&models, &options.on_rpc_done, &access),
        acceptor(options.listen_address, options.listen_reuseport,
                 {options.limits.max_connections, options.limits.max_connections_per_peer,
                  [this](std::string_view limit) {
                    if (options.on_connection_refused) options.on_connection_refused(limit);
                  }}) {}

  // Health per service, as gRPC's health checking protocol expects: the
  // whole server ("") and the inference service by name.
  void SetHealth(bool serving) {
    grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
    health->SetServingStatus(v1::Inference::service_full_name(), serving);
    health->SetServingStatus(serving);
  }

  GrpcServerOptions options;
  grpc_api::ServerSecurity security;  // outlives the server built with its credentials
  grpc_api::AccessCheck access;
  grpc_api::EngineGate gate;
  std::unique_ptr<grpc_api::WriteWatchdog> watchdog;
  grpc_api::InferenceService service;
  grpc_api::ModelSwitch models;
  grpc_api::AdminService admin;
  grpc_api::ConnectionAcceptor acceptor;
  std::unique_ptr<grpc::Server> server;
};

GrpcServer::GrpcServer(GrpcServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // The acceptor owns the listening socket; gRPC gets each admitted
  // connection from it.
  auto sink = builder.experimental().AddExternalConnectionAcceptor(
      grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD,
      impl_->security.credentials());
  builder.SetMaxReceiveMessageSize(impl_->options.max_request_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                             impl_->options.limits.max_streams_per_connection);
  builder.AddChannelArgument(
      GRPC_ARG_MAX_METADATA_SIZE,
      grpc_api::TransportMetadataLimit(impl_->options.limits.max_metadata_bytes));
  if (impl_->options.limits.grpc_memory_bytes > 0) {
    // The quota's thread limit is left alone: it bounds the synchronous API's
    // threads, and this server uses the callback API only.
    grpc::ResourceQuota quota("auroraedge-grpc");
    quota.Resize(static_cast<size_t>(impl_->options.limits.grpc_memory_bytes));
    builder.SetResourceQuota(quota);
  }
  builder.RegisterService(&impl_->service);
  builder.RegisterService(&impl_->admin);
  impl_->server = builder.BuildAndStart();
  if (impl_->server == nullptr) {
    throw std::runtime_error("cannot start the gRPC server on " + impl_->options.listen_address);
  }
  // The default health service starts out SERVING; the model is not loaded yet.
  impl_->SetHealth(false);
  impl_->acceptor.Start(std::move(sink));
}

GrpcServer::~GrpcServer() {
  impl_->acceptor.Stop();
  impl_->models.Close();
  impl_->gate.Detach();  // the engines, destroyed here
  impl_->server->Shutdown(std::chrono::system_clock::now());
  impl_->server->Wait();
  // Drops its references to gRPC's calls while gRPC is still there.
  impl_->watchdog.reset();
}

int GrpcServer::port() const { return impl_->acceptor.port(); }

std::string GrpcServer::DescribeSecurity() const { return impl_->security.Describe(); }

std::vector<ReloadOutcome> GrpcServer::ReloadSecurity() { return impl_->security.Reload(); }

void GrpcServer::Serve(std::unique_ptr<ServingFrontEnd> engine, const ServingOptions& options) {
  std::shared_ptr<grpc_api::ServedModel> none;
  const Status installed = impl_->gate.Install(
      std::make_shared<grpc_api::ServedModel>(std::move(engine), options), &none);
  if (installed.ok()) impl_->SetHealth(true);
}

void GrpcServer::StopAccepting() {
  impl_->SetHealth(false);
  impl_->gate.StopAccepting();
  // A load balancer that connects now is refused and moves the call to
  // another replica; connections already open keep their streams and are
  // answered NOT_SERVING and UNAVAILABLE.
  impl_->acceptor.Stop();
}

bool GrpcServer::WaitCallsEnded(std::chrono::steady_clock::time_point deadline) {
  return impl_->gate.WaitCallsEnded(deadline);
}

void GrpcServer::Detach() {
  impl_->models.StopReleasing();
  impl_->gate.Detach();  // the engines, destroyed here
}

std::optional<uint64_t> GrpcServer::EndedCallsIfIdle() const {
  return impl_->gate.EndedCallsIfIdle();
}

}  // namespace auroraedge::server
