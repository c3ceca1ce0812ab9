#pragma once

// The label values and log words for the server's enums, shared by the
// metrics and the request log so that both spell them the same way.

#include <optional>
#include <string_view>

#include "auroraedge/server/generation.h"
#include "auroraedge/server/grpc_code_name.h"
#include "auroraedge/server/inspection.h"

namespace auroraedge::server {

// "stop", "length", "stop_string", "cancelled", "deadline"; "error" when unset.
std::string_view FinishReasonName(const std::optional<FinishReason>& reason);

// "none" (no decision rule), "ok", "ng", "unknown".
std::string_view DecisionName(Decision decision);

}  // namespace auroraedge::server
