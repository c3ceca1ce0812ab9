// The engine loop over a model runner whose rows of one sequence fail: that
// request ends alone with INTERNAL, its seat and blocks come back, and its
// neighbours in the same batches answer as if it had never been there.

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "auroraedge/model/chat_template.h"
#include "auroraedge/model/tokenizer.h"
#include "engine_loop.h"
#include "engine_test_support.h"

using namespace auroraedge;
using namespace auroraedge::server;
using namespace auroraedge::server::testing;

namespace {

// The real runner, except that the rows of `victim` fail once it has had
// `good_steps` rows go through.
class FailingRunner : public model::ModelRunner {
 public:
  FailingRunner(std::unique_ptr<model::ModelRunner> inner, model::SequenceId victim,
                int good_steps)
      : inner_(std::move(inner)), victim_(victim), good_steps_(good_steps) {}

  const model::ModelConfig& config() const override { return inner_->config(); }
  const model::KvGeometry& kv_geometry() const override { return inner_->kv_geometry(); }
  std::vector<model::VisualFeatures> EncodeImages(
      const std::vector<const preprocessing::PatchImage*>& images) override {
    return inner_->EncodeImages(images);
  }
  void StartSequence(const model::SequenceStart& start,
                     std::vector<model::VisualFeatures> images) override {
    inner_->StartSequence(start, std::move(images));
  }
  std::vector<model::RowResult> Step(const std::vector<model::StepRow>& rows) override {
    std::vector<model::StepRow> others;
    int victim_row = -1;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].sequence == victim_ && good_steps_-- <= 0) {
        victim_row = static_cast<int>(i);
      } else {
        others.push_back(rows[i]);
      }
    }
    std::vector<model::RowResult> results = inner_->Step(others);
    if (victim_row >= 0) {
      model::RowResult failed;
      failed.sequence = victim_;
      failed.error = "injected failure";
      results.insert(results.begin() + victim_row, failed);
    }
    return results;
  }
  void EndSequence(model::SequenceId id) override { inner_->EndSequence(id); }
  int num_sequences() const override { return inner_->num_sequences(); }

 private:
  std::unique_ptr<model::ModelRunner> inner_;
  model::SequenceId victim_;
  int good_steps_;
};

// An engine loop on its own thread, fed directly through its inbox.
struct Loop {
  explicit Loop(std::unique_ptr<model::ModelRunner> runner)
      : config(runner->config()),
        tokenizer(model::Tokenizer::Load(
            (std::filesystem::path(AURORAEDGE_TEST_MODEL_DIR) / "tokenizer.json").string())),
        chat_template(tokenizer, config.visual_tokens_per_image),
        preparer(tokenizer, chat_template, config,
                 {config.max_images_per_request, 1 << 16, runner->kv_geometry()}),
        loop(std::move(runner), inbox, registry, workers, unadmitted, nullptr,
             EngineLoopSettings{}),
        thread([this] { loop.Run(); }) {}
  ~Loop() {
    inbox.Close();
    thread.join();
  }

  std::shared_ptr<RecordingStream> Post(model::SequenceId id, const std::string& prompt,
                                        int max_new_tokens) {
    GenerationRequest request = TextRequest("r" + std::to_string(id), prompt, max_new_tokens);
    auto stream = std::make_shared<RecordingStream>();
    auto control = std::make_shared<RequestControl>();
    REQUIRE(registry.Insert(request.request_id, control));
    ++unadmitted;
    PreparedRequest prepared = preparer.Prepare(request, 0);
    CHECK(inbox.PostRequest(std::make_unique<LiveRequest>(id, std::move(request), stream, control,
                                                          std::move(prepared))) == nullptr);
    return stream;
  }

  model::ModelConfig config;
  model::Tokenizer tokenizer;
  model::ChatTemplate chat_template;
  RequestPreparer preparer;
  EngineInbox inbox;
  RequestRegistry registry;
  WorkerPool workers{1};
  std::atomic<int> unadmitted{0};
  EngineLoop loop;
  std::thread thread;
};

std::unique_ptr<model::ModelRunner> LoadSmallModel() {
  return model::ModelRunner::Load(TestOptions().engine);
}

}  // namespace

TEST_CASE("Engine loop: a request whose rows fail ends alone; the rest of the batch answers") {
  std::vector<Outcome> clean;
  {
    Loop loop(LoadSmallModel());
    const auto a = loop.Post(1, "first part", 12);
    const auto c = loop.Post(3, "third part", 12);
    clean = {a->Wait(), c->Wait()};
  }
  Loop loop(std::make_unique<FailingRunner>(LoadSmallModel(), 2, 3));
  const auto a = loop.Post(1, "first part", 12);
  const auto b = loop.Post(2, "second part", 12);
  const auto c = loop.Post(3, "third part", 12);
  const Outcome failed = b->Wait();
  REQUIRE(failed.error);
  CHECK(failed.error->code == StatusCode::kInternal);
  CHECK_THAT(failed.error->message, Catch::Contains("model step") &&
                                        Catch::Contains("injected failure"));
  CHECK(failed.tokens.size() == 3);  // its prefill and two decode rows went through
  const Outcome first = a->Wait();
  const Outcome third = c->Wait();
  REQUIRE(first.final);
  REQUIRE(third.final);
  CHECK(first.tokens == clean[0].tokens);
  CHECK(third.tokens == clean[1].tokens);
  CHECK(loop.registry.WaitEmpty(std::chrono::seconds(10)));
  CHECK(loop.loop.kv_tokens_reserved() == 0);
}
