// auroraedge-engine-loop-bench: the serving engine without gRPC. Runs
// 1, 4, 16 and 64 concurrent text requests through ServingFrontEnd and prints
// (and writes as JSON) the mean model-step time by decode batch size and the
// aggregate tokens/s, so that the cost of batching in the model engine can be
// told apart from the network and the clients.
//
// Usage: auroraedge-engine-loop-bench MODEL_DIR [OUT.json] [THREADS]

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "auroraedge/server/serving_front_end.h"

namespace {

using namespace auroraedge::server;
using Clock = std::chrono::steady_clock;

class StepTimes : public ServingObserver {
 public:
  void OnRequestFinished(const RequestRecord&) override {}
  void OnVisionBatch(int, double) override {}
  void OnLoad(const LoadRecord&) override {}
  void OnStep(const StepRecord& step) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto& [count, seconds] = by_batch_[step.decode_batch_size];
    ++count;
    seconds += step.seconds;
  }
  std::map<int, std::pair<int, double>> TakeAll() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(by_batch_, {});
  }

 private:
  std::mutex mu_;
  std::map<int, std::pair<int, double>> by_batch_;
};

class CountingStream : public GenerationStream {
 public:
  bool OnChunk(GenerationChunk) override { return true; }
  void OnFinal(const GenerationFinal& final) override { End(final.completion_tokens); }
  void OnError(const Status&) override { End(0); }
  int Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return ended_; });
    return tokens_;
  }

 private:
  void End(int tokens) {
    std::lock_guard<std::mutex> lock(mu_);
    tokens_ = tokens;
    ended_ = true;
    done_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable done_;
  bool ended_ = false;
  int tokens_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR [OUT.json] [THREADS]\n", argv[0]);
    return 2;
  }
  ServingOptions options;
  options.engine.model_dir = argv[1];
  options.engine.intra_op_threads = argc > 3 ? std::stoi(argv[3]) : 1;
  options.engine.max_sequences = 64;
  auto observer = std::make_shared<StepTimes>();
  auto engine = ServingFrontEnd::Start(options, observer);

  std::string json = "{\"levels\": [";
  for (int streams : {1, 4, 16, 64}) {
    observer->TakeAll();
    std::vector<std::shared_ptr<CountingStream>> counters;
    const Clock::time_point start = Clock::now();
    for (int i = 0; i < streams; ++i) {
      GenerationRequest request;
      request.request_id = "bench-" + std::to_string(streams) + "-" + std::to_string(i);
      request.prompt = "Inspect the part and describe any defect.";
      request.sampling.max_new_tokens = 32;
      counters.push_back(std::make_shared<CountingStream>());
      const Status status = engine->Submit(request, counters.back());
      if (!status.ok()) {
        std::fprintf(stderr, "submit: %s\n", status.message.c_str());
        return 1;
      }
    }
    int tokens = 0;
    for (const auto& counter : counters) tokens += counter->Wait();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("streams %2d: %7.1f tokens/s;", streams, tokens / seconds);
    std::string steps;
    for (const auto& [batch, entry] : observer->TakeAll()) {
      std::printf(" batch %d: %.2f ms/step (%d);", batch, 1000 * entry.second / entry.first,
                  entry.first);
      steps += (steps.empty() ? "" : ", ") + std::string("\"") + std::to_string(batch) +
               "\": " + std::to_string(1000 * entry.second / entry.first);
    }
    std::printf("\n");
    json += std::string(streams == 1 ? "" : ", ") + "{\"streams\": " + std::to_string(streams) +
            ", \"tokens_per_second\": " + std::to_string(tokens / seconds) +
            ", \"ms_per_step_by_decode_batch\": {" + steps + "}}";
  }
  json += "]}\n";
  if (argc > 2) std::ofstream(argv[2]) << json;
  return 0;
}
