#pragma once

// gRPC status code names without gRPC headers, for logs, metrics labels and
// the CLI's messages.

#include <array>
#include <string_view>

namespace auroraedge::server {

// The highest gRPC status code (UNAUTHENTICATED).
constexpr int kLastGrpcCode = 16;

// Canonical gRPC code name ("OK", "INVALID_ARGUMENT", ...); "UNKNOWN" for a
// number outside 0..kLastGrpcCode.
constexpr std::string_view GrpcCodeName(int code) {
  constexpr std::array<std::string_view, kLastGrpcCode + 1> kNames = {"OK",
                                                                      "CANCELLED",
                                                                      "UNKNOWN",
                                                                      "INVALID_ARGUMENT",
                                                                      "DEADLINE_EXCEEDED",
                                                                      "NOT_FOUND",
                                                                      "ALREADY_EXISTS",
                                                                      "PERMISSION_DENIED",
                                                                      "RESOURCE_EXHAUSTED",
                                                                      "FAILED_PRECONDITION",
                                                                      "ABORTED",
                                                                      "OUT_OF_RANGE",
                                                                      "UNIMPLEMENTED",
                                                                      "INTERNAL",
                                                                      "UNAVAILABLE",
                                                                      "DATA_LOSS",
                                                                      "UNAUTHENTICATED"};
  if (code < 0 || code > kLastGrpcCode) return "UNKNOWN";
  return kNames[static_cast<size_t>(code)];
}

}  // namespace auroraedge::server
