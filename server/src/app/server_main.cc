// auroraedge-server: loads the model, serves it over gRPC, drains on
// SIGINT/SIGTERM. Options: see server_config.h or --help.
//
// Exit codes: 0 after a clean shutdown (also after --help); 1 when the
// server cannot start (address in use, metrics endpoint, engine failure);
// 2 for a bad option or config file; 3 when the model directory is missing
// or broken (the message names the file).

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "auroraedge/model/model_config.h"
#include "auroraedge/model/runtime_info.h"
#include "auroraedge/server/grpc_server.h"
#include "auroraedge/server/inference_engine.h"
#include "auroraedge/server/metrics.h"
#include "auroraedge/server/metrics_observer.h"
#include "auroraedge/server/metrics_server.h"
#include "auroraedge/server/request_log.h"
#include "logging.h"
#include "server_config.h"

extern char** environ;

namespace auroraedge::server::app {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitBadConfig = 2;
constexpr int kExitBadModel = 3;

// Blocked in every thread (the set is inherited by the threads started
// later) so that the main thread alone receives them, through sigwait.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const size_t equals = text.find('=');
    if (equals != std::string::npos) environment[text.substr(0, equals)] = text.substr(equals + 1);
  }
  return environment;
}

struct Observability {
  std::shared_ptr<Metrics> metrics = std::make_shared<Metrics>();
  std::unique_ptr<MetricsServer> metrics_server;
  std::shared_ptr<MetricsObserver> observer;
};

Observability StartObservability(const ServerConfig& config) {
  Observability result;
  if (!MetricsServer::IsDisabled(config.metrics_listen_address)) {
    result.metrics_server =
        std::make_unique<MetricsServer>(*result.metrics, config.metrics_listen_address);
    spdlog::info("metrics on http://{}/metrics (port {})", config.metrics_listen_address,
                 result.metrics_server->port());
  }
  std::shared_ptr<RequestLog> request_log;
  if (config.request_log != "off") {
    RequestLogOptions options;
    options.format =
        config.log_format == LogFormat::kJson ? RequestLogFormat::kJson : RequestLogFormat::kText;
    options.path = config.request_log == "stdout" ? "" : config.request_log;
    request_log = std::make_shared<RequestLog>(options);
  }
  result.observer = std::make_shared<MetricsObserver>(result.metrics, request_log);
  return result;
}

int Serve(ServerConfig config, const sigset_t& shutdown_signals) {
  Observability observability = StartObservability(config);
  GrpcServerOptions grpc_options;
  grpc_options.listen_address = config.listen_address;
  grpc_options.max_request_bytes = config.max_request_bytes;
  grpc_options.on_rpc_done = [metrics = observability.metrics](std::string_view method, int code,
                                                               double seconds) {
    metrics->RecordRpc(method, code, seconds);
  };
  auto grpc_server = std::make_unique<GrpcServer>(grpc_options);
  spdlog::info("listening on {} (port {}), NOT_SERVING until the model is loaded",
               config.listen_address, grpc_server->port());

  model::EngineOptions& engine_options = config.serving.engine;
  if (engine_options.intra_op_threads == 0)
    engine_options.intra_op_threads = model::DefaultIntraOpThreads();
  spdlog::info("loading model {} on {} ({})", engine_options.model_dir, engine_options.device,
               engine_options.dtype);
  std::unique_ptr<InferenceEngine> engine =
      InferenceEngine::Start(config.serving, observability.observer);
  const model::RuntimeInfo runtime = model::GetRuntimeInfo();
  spdlog::info("LibTorch {}: BLAS {} ({} own threads), {} intra-op threads, {} cores available",
               runtime.torch_version,
               runtime.blas_library.empty() ? "(none loaded)" : runtime.blas_library,
               runtime.blas_threads, runtime.intra_op_threads, runtime.available_cores);

  grpc_server->Serve(engine.get(), config.serving);
  const model::ModelConfig& model = engine->model_config();
  spdlog::info("SERVING model {} {} ({} path) on {}", model.name, model.version, model.path,
               config.listen_address);

  int signal_number = 0;
  sigwait(&shutdown_signals, &signal_number);
  spdlog::info("{}: draining, in-flight streams have {} ms to finish", strsignal(signal_number),
               config.drain_timeout.count());
  if (!grpc_server->Drain(config.drain_timeout)) {
    spdlog::warn("drain timeout passed; ending the streams still running");
  }
  engine.reset();
  grpc_server.reset();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
  const sigset_t shutdown_signals = BlockShutdownSignals();
  ParsedCommandLine parsed;
  try {
    parsed = ParseServerConfig(std::vector<std::string>(argv + 1, argv + argc), Environment());
    if (parsed.help) {
      std::cout << ServerHelp();
      return 0;
    }
    ConfigureLogging(parsed.config.log_format, parsed.config.log_level);
  } catch (const ConfigError& error) {
    std::cerr << "auroraedge-server: " << error.what() << "\n";
    return kExitBadConfig;
  }
  try {
    return Serve(parsed.config, shutdown_signals);
  } catch (const model::ModelLoadError& error) {
    spdlog::critical("cannot load the model: {}", error.what());
    return kExitBadModel;
  } catch (const std::exception& error) {
    spdlog::critical("cannot serve: {}", error.what());
    return kExitFailure;
  }
}

}  // namespace auroraedge::server::app

int main(int argc, char** argv) { return auroraedge::server::app::Main(argc, argv); }
