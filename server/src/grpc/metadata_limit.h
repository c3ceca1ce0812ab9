#pragma once

// The per-call bound on request metadata. gRPC 1.51 has only one limit,
// GRPC_ARG_MAX_METADATA_SIZE, and a call over it ends its whole HTTP/2
// connection: every other stream on it fails too (1.55 added a per-call
// soft limit). So the server sets gRPC's limit well above the one it means
// (kTransportFactor times) and refuses a call over its own limit alone,
// here, with RESOURCE_EXHAUSTED.

#include <grpcpp/support/string_ref.h>

#include <map>

#include "auroraedge/server/status.h"

namespace auroraedge::server::grpc_api {

// gRPC's connection-wide limit is this many times the per-call one, and at
// least kMinTransportBytes (Envoy's default header limit is 60 KiB: behind
// it, nothing reaches gRPC's).
constexpr int kTransportFactor = 8;
constexpr int kMinTransportBytes = 64 * 1024;
int TransportMetadataLimit(int max_metadata_bytes);

// Metadata counted as HTTP/2 counts a header list: name + value + 32 bytes
// per entry, over the entries the application sees. RESOURCE_EXHAUSTED
// naming the size and the limit when it is over `max_metadata_bytes`.
Status CheckMetadataSize(const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
                         int max_metadata_bytes);

}  // namespace auroraedge::server::grpc_api
