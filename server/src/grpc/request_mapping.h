#pragma once

// Turns an auroraedge.v1.GenerateRequest into the engine's GenerationRequest.
// It checks what only the protocol knows: which oneof is set, enum values,
// numbers that do not fit the engine's types, and the request id. Every
// other field is validated once, by the request's preparation
// (engine_loop/request_preparation.h) and the image preprocessing.

#include "auroraedge/server/generation.h"
#include "auroraedge/server/inspection.h"
#include "auroraedge/server/status.h"
#include "auroraedge/v1/inference.pb.h"

namespace auroraedge::server::grpc_api {

// The longest request id; documented in inference.proto.
inline constexpr int kMaxRequestIdBytes = 128;

// Fills `out` (images, prompts, sampling, priority, request id) from
// `request`; leaves its other fields alone. Returns INVALID_ARGUMENT with a
// message naming the field and the limit when the request breaks one.
Status MapGenerateRequest(const v1::GenerateRequest& request, GenerationRequest* out);

// The same for an Inspect call (images, prompt, labels, decision rule,
// priority, request id). The labels and the rule are validated by the
// preparation.
Status MapInspectRequest(const v1::InspectRequest& request, InspectionRequest* out);

}  // namespace auroraedge::server::grpc_api
