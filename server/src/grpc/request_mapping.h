#pragma once

// Turns an auroraedge.v1.GenerateRequest into the engine's GenerationRequest.
// It checks what only the protocol knows: which oneof is set, enum values,
// numbers that do not fit the engine's types, ranges of the sampling
// parameters, stop strings and the request id. The engine and preprocessing
// check the model's limits (images, prompt length, image contents).

#include "auroraedge/server/generation.h"
#include "auroraedge/server/status.h"
#include "auroraedge/v1/inference.pb.h"

namespace auroraedge::server::grpc_api {

// Bounds of the sampling parameters and the request id; documented in
// inference.proto.
struct RequestBounds {
  int vocab_size = 0;  // top_k at most this; 0: unchecked
  static constexpr float kMaxTemperature = 100.0f;
  static constexpr float kMaxRepetitionPenalty = 10.0f;
  static constexpr int kMaxStopStrings = 16;
  static constexpr int kMaxStopStringBytes = 256;
  static constexpr int kMaxRequestIdBytes = 128;
};

// Fills `out` (images, prompts, sampling, priority, request id) from
// `request`; leaves its other fields alone. Returns INVALID_ARGUMENT with a
// message naming the field and the limit when the request breaks one.
Status MapGenerateRequest(const v1::GenerateRequest& request, const RequestBounds& bounds,
                          GenerationRequest* out);

}  // namespace auroraedge::server::grpc_api
