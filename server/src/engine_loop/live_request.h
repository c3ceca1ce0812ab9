#pragma once

// Everything the engine thread keeps for one request from its arrival to its
// end. Prepared on a worker, then owned by the engine thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auroraedge/model/model_runner.h"
#include "auroraedge/preprocessing/patches.h"
#include "auroraedge/server/generation.h"
#include "auroraedge/server/inspection.h"
#include "auroraedge/server/scheduler_request.h"
#include "auroraedge/server/serving_observer.h"
#include "request_preparation.h"
#include "stage_clock.h"

namespace auroraedge::server {

// What Cancel may touch of a request on any thread. A cancel that comes
// before the request reaches the engine thread is found here on arrival.
struct RequestControl {
  std::atomic<bool> cancelled{false};
};

// Who hears of a request: the stream of a Generate call, or the receiver
// of an Inspect call; exactly one is set.
struct RequestCaller {
  std::shared_ptr<GenerationStream> stream;
  std::shared_ptr<InspectionReceiver> receiver;

  void OnError(const Status& status) const {
    if (stream) {
      stream->OnError(status);
    } else {
      receiver->OnError(status);
    }
  }
};

// An Inspect call travels as a GenerationRequest too: its images, prompt,
// system prompt, priority, deadline and ids in the same fields (no
// sampling), its labels in `prepared.inspection`.
struct LiveRequest {
  LiveRequest(SequenceId id, GenerationRequest request, RequestCaller caller,
              std::shared_ptr<RequestControl> control, PreparedRequest prepared)
      : id(id),
        request(std::move(request)),
        stream(std::move(caller.stream)),
        receiver(std::move(caller.receiver)),
        control(std::move(control)),
        prepared(std::move(prepared)) {}
  LiveRequest(SequenceId id, GenerationRequest request, std::shared_ptr<GenerationStream> stream,
              std::shared_ptr<RequestControl> control, PreparedRequest prepared)
      : LiveRequest(id, std::move(request), RequestCaller{std::move(stream), nullptr},
                    std::move(control), std::move(prepared)) {}

  SequenceId id;
  GenerationRequest request;                     // its images move to the preprocessing job
  std::shared_ptr<GenerationStream> stream;      // a Generate call
  std::shared_ptr<InspectionReceiver> receiver;  // an Inspect call
  std::shared_ptr<RequestControl> control;
  PreparedRequest prepared;
  int num_images = 0;
  bool observed = true;   // false for the warm-up: kept out of metrics and logs
  bool admitted = false;  // the scheduler gave it a seat and blocks

  std::vector<preprocessing::PatchImage> patches;
  std::vector<std::string> feature_keys;  // per image, ImageFeatureCache's key
  std::vector<ImageRecord> image_records;
  std::vector<model::VisualFeatures> features;
  bool in_runner = false;  // registered with ModelRunner::StartSequence
  int32_t last_token = -1;
  StageStarts stages;
  TimePoint last_token_at;
  std::vector<double> inter_token_seconds;
  std::optional<InspectionResult> inspection_result;  // an Inspect call's scores
};

// The result of one request's preprocessing job.
struct PreprocessedImages {
  SequenceId id = 0;
  std::vector<preprocessing::PatchImage> patches;
  std::vector<std::string> feature_keys;  // content hash of each image's patches
  std::vector<ImageRecord> records;
  Status status;
};

}  // namespace auroraedge::server
