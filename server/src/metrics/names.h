#pragma once

// The label values and log words for the server's enums, shared by the
// metrics and the request log so that both spell them the same way.

#include <optional>
#include <string_view>

#include "auroraedge/server/generation.h"

namespace auroraedge::server {

// The highest gRPC status code (UNAUTHENTICATED).
constexpr int kLastGrpcCode = 16;

// Canonical gRPC code name ("OK", "INVALID_ARGUMENT", ...); "UNKNOWN" for a
// number outside 0..kLastGrpcCode.
std::string_view GrpcCodeName(int code);

std::string_view PriorityName(Priority priority);  // "line_critical", "normal", "background"

// "stop", "length", "stop_string", "cancelled", "deadline"; "error" when unset.
std::string_view FinishReasonName(const std::optional<FinishReason>& reason);

}  // namespace auroraedge::server
