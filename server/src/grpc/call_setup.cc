#include "call_setup.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>

namespace auroraedge::server::grpc_api {

std::string NewRequestId() {
  static const uint32_t process_tag = std::random_device{}();
  static std::atomic<uint64_t> counter{0};
  char id[40];
  std::snprintf(id, sizeof id, "ae-%08x-%llu", process_tag,
                static_cast<unsigned long long>(++counter));
  return id;
}

std::chrono::steady_clock::time_point EngineDeadline(const grpc::CallbackServerContext& context) {
  return EngineDeadline(context.deadline(), std::chrono::system_clock::now(),
                        std::chrono::steady_clock::now());
}

std::chrono::steady_clock::time_point EngineDeadline(
    std::chrono::system_clock::time_point deadline,
    std::chrono::system_clock::time_point system_now,
    std::chrono::steady_clock::time_point steady_now) {
  const auto remaining = deadline - system_now;
  if (remaining > std::chrono::hours(24 * 365)) return std::chrono::steady_clock::time_point::max();
  const auto lead = std::min<std::chrono::system_clock::duration>(
      std::max<std::chrono::system_clock::duration>(remaining, {}), kEngineDeadlineLead);
  return steady_now +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(remaining - lead);
}

}  // namespace auroraedge::server::grpc_api
