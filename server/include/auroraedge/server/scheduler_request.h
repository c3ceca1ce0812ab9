#pragma once

// What the scheduler knows of a request: sizes, priority and deadline, and
// the phase it is in. No tokens, no images, no streams: the engine loop keeps
// those.

#include <chrono>
#include <cstdint>

#include "auroraedge/model/step_batch.h"
#include "auroraedge/server/priority.h"

namespace auroraedge::server {

using model::SequenceId;

// A request's life: kWaiting (queued, nothing allocated) -> admission (a
// seat and KV blocks) -> kPreprocessing (only with images) -> kVision
// (patches ready, waiting for a vision batch) -> kPrefill (prompt chunks) ->
// kDecoding -> removed.
enum class RequestPhase { kWaiting, kPreprocessing, kVision, kPrefill, kDecoding };

struct RequestSpec {
  SequenceId id = 0;
  Priority priority = Priority::kNormal;
  int prompt_tokens = 0;  // with the image placeholder runs
  int max_new_tokens = 0;  // 0 only for an inspection
  // An inspection's label rows (model::SequenceStart::labels): they ride in
  // the prefill chunk that completes the prompt, take KV room after it and
  // count against that step's prefill budget; the request ends with that
  // step.
  int scored_tokens = 0;
  int num_images = 0;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

// Why the scheduler ended a request by itself.
enum class EndReason { kCancelled, kDeadline };

struct EndedRequest {
  SequenceId id = 0;
  RequestPhase phase = RequestPhase::kWaiting;  // the phase it was in
  EndReason reason = EndReason::kCancelled;
};

}  // namespace auroraedge::server
