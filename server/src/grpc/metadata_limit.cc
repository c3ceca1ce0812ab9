#include "metadata_limit.h"

#include <algorithm>
#include <limits>
#include <string>

namespace auroraedge::server::grpc_api {

int TransportMetadataLimit(int max_metadata_bytes) {
  const int64_t scaled = int64_t{max_metadata_bytes} * kTransportFactor;
  return static_cast<int>(
      std::clamp<int64_t>(scaled, kMinTransportBytes, std::numeric_limits<int>::max()));
}

Status CheckMetadataSize(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                         int max_metadata_bytes) {
  size_t bytes = 0;
  for (const auto& [name, value] : metadata) bytes += name.size() + value.size() + 32;
  if (bytes <= static_cast<size_t>(max_metadata_bytes)) return Status::Ok();
  return {StatusCode::kResourceExhausted, "request metadata: " + std::to_string(bytes) +
                                              " bytes (name + value + 32 per entry); "
                                              "at most " +
                                              std::to_string(max_metadata_bytes) +
                                              " (max_metadata_bytes)"};
}

}  // namespace auroraedge::server::grpc_api
