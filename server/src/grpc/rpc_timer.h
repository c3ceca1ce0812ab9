#pragma once

// Reports one finished call (method, status, duration) to whoever listens,
// the metrics in the server process.

#include <chrono>
#include <functional>
#include <string_view>

#include "auroraedge/server/grpc_server.h"

namespace auroraedge::server::grpc_api {

class RpcTimer {
 public:
  RpcTimer(const RpcListener* listener, std::string_view method)
      : listener_(listener), method_(method), start_(std::chrono::steady_clock::now()) {}

  void Done(int grpc_code) const {
    if (listener_ == nullptr || !*listener_) return;
    (*listener_)(method_, grpc_code,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }

 private:
  const RpcListener* listener_;
  std::string_view method_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace auroraedge::server::grpc_api
