#include "security_log.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "auroraedge/server/grpc_code_name.h"
#include "listen_address.h"

namespace auroraedge::server::app {
namespace {

// Turned-away calls are logged at most this often per second and kind (code
// and caller): a flood of bad tokens or an over-rate client cannot flood the
// log, and one such client does not hide the others' refusals.
constexpr int kDenialLinesPerSecond = 5;
// Callers are token names and certificate subjects, a bounded set; the map is
// cleared should it grow past this all the same.
constexpr size_t kMaxDenialKinds = 4096;

class DenialLog {
 public:
  void Write(std::string_view method, const std::string& peer, const std::string& caller, int code,
             const std::string& message) {
    int64_t left_out = 0;
    {
      std::lock_guard lock(mu_);
      if (windows_.size() > kMaxDenialKinds) windows_.clear();
      Window& window = windows_[std::to_string(code) + " " + caller];
      const auto now = std::chrono::steady_clock::now();
      if (now - window.start >= std::chrono::seconds(1)) {
        window.start = now;
        window.lines = 0;
      }
      if (window.lines == kDenialLinesPerSecond) {
        ++window.left_out;
        return;
      }
      ++window.lines;
      left_out = window.left_out;
      window.left_out = 0;
    }
    spdlog::warn(
        "{} refused with {}: {} (peer {}{}){}", method, GrpcCodeName(code), message, peer,
        caller.empty() ? "" : ", " + caller,
        left_out == 0 ? "" : "; " + std::to_string(left_out) + " more like it not logged before");
  }

 private:
  struct Window {
    std::chrono::steady_clock::time_point start;
    int lines = 0;
    int64_t left_out = 0;
  };
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;  // by code and caller; guarded by mu_
};

}  // namespace

void ConfigureSecurity(const ServerConfig& config, GrpcServerOptions* options) {
  options->security = config.security;
  auto log = std::make_shared<DenialLog>();
  options->on_access_denied =
      [log](std::string_view method, const std::string& peer, const std::string& caller, int code,
            const std::string& message) { log->Write(method, peer, caller, code, message); };
}

void LogSecurity(const ServerConfig& config, const GrpcServer& server) {
  spdlog::info("gRPC port security: {}", server.DescribeSecurity());
  if (!config.security.tls() && !IsLoopbackAddress(config.listen_address)) {
    spdlog::warn(
        "{} is reachable from other machines and the port is plaintext{}: anyone on the network "
        "can read and send requests; give --tls-cert and --tls-key (and --tls-client-ca for "
        "client certificates)",
        config.listen_address,
        config.security.token_file.empty() ? "" : " (bearer tokens travel in clear text)");
  }
}

}  // namespace auroraedge::server::app
