#include <future>
#include <memory>
#include <stdexcept>
#include <string>

#include "serving_core.h"

namespace auroraedge::server {
namespace {

// Waits for the warm-up request's end.
class WarmUpStream : public GenerationStream {
 public:
  bool OnChunk(GenerationChunk chunk) override { return true; }
  void OnFinal(const GenerationFinal& final) override { done_.set_value(Status::Ok()); }
  void OnError(const Status& status) override { done_.set_value(status); }
  std::future<Status> done() { return done_.get_future(); }

 private:
  std::promise<Status> done_;
};

}  // namespace

void ServingCore::WarmUp() {
  GenerationRequest request;
  request.request_id = "warm-up";
  request.prompt = "Warm-up: describe the part.";
  if (config_.max_images_per_request > 0) {
    preprocessing::RawFrame frame;
    frame.width = 64;
    frame.height = 48;
    frame.format = preprocessing::PixelFormat::kMono8;
    frame.data.assign(static_cast<size_t>(frame.width) * frame.height, '\x80');
    request.images.push_back({"", frame, std::nullopt});
  }
  request.sampling.max_new_tokens = 2;
  request.sampling.temperature = 0.0f;
  auto stream = std::make_shared<WarmUpStream>();
  std::future<Status> done = stream->done();
  Call call;
  call.generation = std::move(request);
  call.caller.stream = stream;
  Status status = SubmitChecked(std::move(call), /*observed=*/false);
  if (status.ok()) status = done.get();
  if (!status.ok()) throw std::runtime_error("warm-up inference failed: " + status.message);
}

}  // namespace auroraedge::server
