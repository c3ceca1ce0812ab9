#pragma once

// auroraedge-server's settings and where they come from. Every option has one
// name, used three ways: the flag `--max-waiting-requests`, the environment
// variable `AURORAEDGE_MAX_WAITING_REQUESTS` and the JSON config file key
// `max_waiting_requests`. Precedence, highest first:
//   command-line flags > environment variables > config file > defaults.
// The config file is named by --config or AURORAEDGE_CONFIG.

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "auroraedge/server/grpc_server.h"
#include "auroraedge/server/metrics_server.h"
#include "auroraedge/server/security_options.h"
#include "auroraedge/server/serving_front_end.h"

namespace auroraedge::server::app {

enum class LogFormat { kText, kJson };

struct ServerConfig {
  std::string listen_address = "127.0.0.1:50051";
  std::string metrics_listen_address = "127.0.0.1:9464";  // "off": no /metrics endpoint
  std::string config_file;
  LogFormat log_format = LogFormat::kText;
  std::string log_level = "info";
  std::string request_log = "stdout";  // "off", "stdout" or a file to append to
  int max_request_bytes = 64 << 20;
  std::chrono::milliseconds drain_timeout{30000};
  ServingOptions serving;  // serving.engine.model_dir is the model directory
  SecurityOptions security;
  // What one client can hold, and the metrics endpoint's bounds (README,
  // "Limits under misbehaving clients").
  bool listen_reuseport = false;
  ClientLimits client_limits;
  MetricsEndpointLimits metrics_limits;
};

// A bad option value or source. The message names the source (flag,
// environment variable or config file key) and the allowed values.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ParsedCommandLine {
  ServerConfig config;
  bool help = false;
};

// Defaults, then the config file, then the environment (`environment` maps
// names to values, e.g. from `environ`), then the flags. Throws ConfigError.
ParsedCommandLine ParseServerConfig(const std::vector<std::string>& args,
                                    const std::map<std::string, std::string>& environment);

// The --help text: every option with its argument, meaning, default and
// environment variable.
std::string ServerHelp();

}  // namespace auroraedge::server::app
