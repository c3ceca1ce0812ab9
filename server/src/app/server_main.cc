// auroraedge-server: loads the model, serves it over gRPC, drains on
// SIGINT/SIGTERM, reloads its TLS and token files on SIGHUP. Options: see
// server_config.h or --help.
//
// Shutdown: the first SIGINT/SIGTERM stops accepting (health NOT_SERVING,
// new calls UNAVAILABLE) and lets the streams in flight finish, up to
// --drain-timeout-ms. A second one during the drain is the "force" path:
// the drain ends at once and the streams still running end with
// UNAVAILABLE, as when the drain timeout passes.
//
// Exit codes: 0 after a clean shutdown (also after --help); 1 when the
// server cannot start (address in use, metrics endpoint, engine failure);
// 2 for a bad option, config file, TLS or token file; 3 when the model
// directory is missing or broken (the message names the file).

#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "auroraedge/model/model_config.h"
#include "auroraedge/model/runtime_info.h"
#include "auroraedge/server/grpc_server.h"
#include "auroraedge/server/metrics.h"
#include "auroraedge/server/metrics_server.h"
#include "auroraedge/server/request_log.h"
#include "auroraedge/server/serving_front_end.h"
#include "idle_heap_trim.h"
#include "large_allocations.h"
#include "logging.h"
#include "model_loading.h"
#include "reload_signal.h"
#include "security_log.h"
#include "server_config.h"

extern char** environ;

namespace auroraedge::server::app {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitBadConfig = 2;
constexpr int kExitBadModel = 3;

pthread_t main_thread;

// Runs on a thread that does not block the shutdown signals: one that a
// library started before main (OpenBLAS's pool does). Without it such a
// thread would take a signal the main thread is not waiting for at that
// moment (the second one, during the drain) and end the process.
void ForwardToMainThread(int signal_number) { pthread_kill(main_thread, signal_number); }

// Blocked in every thread started from here on (the set is inherited) so
// that the main thread receives them, through sigwait; the few threads
// started earlier hand them on.
sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  main_thread = pthread_self();
  struct sigaction forward {};
  forward.sa_handler = ForwardToMainThread;
  sigemptyset(&forward.sa_mask);
  sigaction(SIGINT, &forward, nullptr);
  sigaction(SIGTERM, &forward, nullptr);
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
  std::shared_ptr<RequestLog> request_log;  // null: none
};

Observability StartObservability(const ServerConfig& config) {
  Observability result;
  if (!MetricsServer::IsDisabled(config.metrics_listen_address)) {
    result.metrics_server = std::make_unique<MetricsServer>(
        *result.metrics, config.metrics_listen_address, config.metrics_limits);
    spdlog::info("metrics on http://{}/metrics (port {})", config.metrics_listen_address,
                 result.metrics_server->port());
  }
  if (config.request_log != "off") {
    RequestLogOptions options;
    options.format =
        config.log_format == LogFormat::kJson ? RequestLogFormat::kJson : RequestLogFormat::kText;
    options.path = config.request_log == "stdout" ? "" : config.request_log;
    result.request_log = std::make_shared<RequestLog>(options);
  }
  return result;
}

enum class DrainEnd { kDrained, kTimedOut, kForced };

// After the first shutdown signal: waits for the streams in flight, the
// drain timeout or a second signal, whichever comes first.
DrainEnd Drain(GrpcServer& server, std::chrono::milliseconds timeout,
               const sigset_t& shutdown_signals) {
  using Clock = std::chrono::steady_clock;
  // How soon a second signal is noticed; the streams' end is noticed at once.
  constexpr std::chrono::milliseconds kSignalCheck{50};
  const Clock::time_point deadline = Clock::now() + timeout;
  server.StopAccepting();
  while (!server.WaitCallsEnded(std::min(deadline, Clock::now() + kSignalCheck))) {
    if (Clock::now() >= deadline) return DrainEnd::kTimedOut;
    const timespec now{0, 0};
    const int received = sigtimedwait(&shutdown_signals, nullptr, &now);
    if (received == SIGINT || received == SIGTERM) return DrainEnd::kForced;
  }
  return DrainEnd::kDrained;
}

int Serve(ServerConfig config, const sigset_t& shutdown_signals) {
  Observability observability = StartObservability(config);
  GrpcServerOptions grpc_options;
  grpc_options.listen_address = config.listen_address;
  grpc_options.max_request_bytes = config.max_request_bytes;
  grpc_options.listen_reuseport = config.listen_reuseport;
  grpc_options.limits = config.client_limits;
  grpc_options.on_rpc_done = [metrics = observability.metrics](std::string_view method, int code,
                                                               double seconds) {
    metrics->RecordRpc(method, code, seconds);
  };
  ConfigureSecurity(config, &grpc_options);
  // Admin.LoadModel: later models load with the options of the first.
  grpc_options.load_model = [&config, &observability](const std::string& model_dir) {
    return LoadServedModel(config.serving, model_dir, observability.metrics,
                           observability.request_log);
  };
  grpc_options.on_model_event = [](bool warning, const std::string& message) {
    spdlog::log(warning ? spdlog::level::warn : spdlog::level::info, "{}", message);
  };
  grpc_options.on_connection_refused = [metrics = observability.metrics](std::string_view limit) {
    metrics->RecordRefusedConnection(limit);
  };
  auto grpc_server = std::make_unique<GrpcServer>(grpc_options);
  spdlog::info("listening on {} (port {}), NOT_SERVING until the model is loaded",
               config.listen_address, grpc_server->port());
  LogSecurity(config, *grpc_server);
  auto reload_on_sighup = std::make_unique<ReloadOnSighup>(grpc_server.get());

  model::EngineOptions& engine_options = config.serving.engine;
  if (engine_options.intra_op_threads == 0)
    engine_options.intra_op_threads = model::DefaultIntraOpThreads();
  spdlog::info("loading model {} on {} ({}, {} weights)", engine_options.model_dir,
               engine_options.device, engine_options.dtype, engine_options.weights);
  LoadedModel first = LoadServedModel(config.serving, engine_options.model_dir,
                                      observability.metrics, observability.request_log);
  const model::RuntimeInfo runtime = model::GetRuntimeInfo();
  spdlog::info("LibTorch {}: BLAS {} ({} own threads), {} intra-op threads, {} cores available",
               runtime.torch_version,
               runtime.blas_library.empty() ? "(none loaded)" : runtime.blas_library,
               runtime.blas_threads, runtime.intra_op_threads, runtime.available_cores);

  const model::ModelConfig model = first.engine->model_config();
  grpc_server->Serve(std::move(first.engine), config.serving);
  auto heap_trim = std::make_unique<IdleHeapTrim>(
      [&grpc_server] { return grpc_server->EndedCallsIfIdle(); }, std::chrono::seconds(2));
  spdlog::info("SERVING model {} {} ({} path) on {}", model.name, model.version, model.path,
               config.listen_address);

  int signal_number = 0;
  sigwait(&shutdown_signals, &signal_number);
  spdlog::info("{}: draining, in-flight streams have {} ms to finish", strsignal(signal_number),
               config.drain_timeout.count());
  switch (Drain(*grpc_server, config.drain_timeout, shutdown_signals)) {
    case DrainEnd::kDrained:
      break;
    case DrainEnd::kTimedOut:
      spdlog::warn("drain timeout passed; ending the streams still running");
      break;
    case DrainEnd::kForced:
      spdlog::warn("second shutdown signal: ending the streams still running now");
      break;
  }
  heap_trim.reset();
  grpc_server->Detach();     // the engines, destroyed here
  reload_on_sighup.reset();  // before the server it reloads
  grpc_server.reset();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
  const sigset_t shutdown_signals = BlockShutdownSignals();
  IgnoreReloadSignal();
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
  if (!MapLargeAllocationsAlone()) {
    spdlog::warn("glibc refused a fixed mmap threshold: a replaced model's memory may stay");
  }
  try {
    return Serve(parsed.config, shutdown_signals);
  } catch (const model::ModelLoadError& error) {
    spdlog::critical("cannot load the model: {}", error.what());
    return kExitBadModel;
  } catch (const SecurityFileError& error) {
    spdlog::critical("cannot serve: {}", error.what());
    return kExitBadConfig;
  } catch (const std::exception& error) {
    spdlog::critical("cannot serve: {}", error.what());
    return kExitFailure;
  }
}

}  // namespace auroraedge::server::app

int main(int argc, char** argv) { return auroraedge::server::app::Main(argc, argv); }
