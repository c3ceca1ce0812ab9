// The model change without downtime, with front ends that only book their
// requests: the gate routes new requests to the new model at once and a
// cancel to the model that took the request, the replaced model is
// destroyed once its last request has ended, a load that fails leaves the
// old model serving, and one change runs at a time.

#include "model_switch.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "auroraedge/model/model_config.h"
#include "engine_gate.h"

namespace auroraedge::server::grpc_api {
namespace {

using std::chrono::milliseconds;

// Only a failure guard: every wait below ends as soon as its event comes.
constexpr auto kPatience = std::chrono::seconds(30);

// Keeps the requests it accepted until the test finishes them; says when
// it is destroyed.
class BookingFrontEnd : public ServingFrontEnd {
 public:
  BookingFrontEnd(const std::string& version, std::shared_ptr<std::promise<void>> destroyed)
      : destroyed_(std::move(destroyed)) {
    config_.name = "auroraedge-v-small";
    config_.version = version;
  }
  ~BookingFrontEnd() override { destroyed_->set_value(); }

  Status Submit(GenerationRequest request, std::shared_ptr<GenerationStream> stream) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!accepting_) return {StatusCode::kUnavailable, "not accepting"};
    streams_[request.request_id] = std::move(stream);
    return Status::Ok();
  }
  Status SubmitInspection(InspectionRequest, std::shared_ptr<InspectionReceiver>) override {
    return {StatusCode::kUnavailable, "inspections are not part of this test"};
  }
  void Cancel(const std::string& request_id) override {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_.push_back(request_id);
  }
  void StopAccepting() override {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = false;
  }
  bool WaitIdle(milliseconds timeout) override {
    std::unique_lock<std::mutex> lock(mutex_);
    return idle_.wait_for(lock, timeout, [this] { return streams_.empty(); });
  }
  const model::ModelConfig& model_config() const override { return config_; }
  int64_t kv_tokens_reserved() const override { return 0; }
  int64_t kv_token_capacity() const override { return 1024; }

  // Ends the request with its final message, as the engine would.
  void Finish(const std::string& request_id) {
    std::shared_ptr<GenerationStream> stream;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stream = streams_.at(request_id);
    }
    GenerationFinal final;
    final.model_version = config_.version;
    stream->OnFinal(final);
    std::lock_guard<std::mutex> lock(mutex_);
    streams_.erase(request_id);
    idle_.notify_all();
  }
  bool accepting() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return accepting_;
  }
  std::vector<std::string> cancelled() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cancelled_;
  }

 private:
  model::ModelConfig config_;
  std::shared_ptr<std::promise<void>> destroyed_;
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  bool accepting_ = true;
  std::map<std::string, std::shared_ptr<GenerationStream>> streams_;
  std::vector<std::string> cancelled_;
};

class FinalStream : public GenerationStream {
 public:
  bool OnChunk(GenerationChunk) override { return true; }
  void OnFinal(const GenerationFinal& final) override { version = final.model_version; }
  void OnError(const Status&) override {}
  std::string version;
};

// One model the test makes: the front end (owned by the gate once
// installed) and a way to see its destruction.
struct TestModel {
  explicit TestModel(const std::string& version)
      : destroyed(std::make_shared<std::promise<void>>()),
        gone(destroyed->get_future()),
        owned(std::make_unique<BookingFrontEnd>(version, destroyed)),
        engine(owned.get()) {}

  bool Destroyed(milliseconds wait = milliseconds(0)) {
    return gone.wait_for(wait) == std::future_status::ready;
  }
  LoadedModel Loaded() {
    LoadedModel loaded;
    loaded.engine = std::move(owned);
    loaded.load_seconds = 0.25;
    loaded.warm_up_seconds = 0.5;
    return loaded;
  }

  std::shared_ptr<std::promise<void>> destroyed;
  std::future<void> gone;
  std::unique_ptr<BookingFrontEnd> owned;
  BookingFrontEnd* engine;  // valid until Destroyed()
};

// The events the switch reports, waited for by their text.
class EventLog {
 public:
  ModelEventListener Listener() {
    return [this](bool warning, const std::string& message) {
      std::lock_guard<std::mutex> lock(mutex_);
      lines_.push_back((warning ? "warning: " : "") + message);
      added_.notify_all();
    };
  }
  bool WaitFor(const std::string& text) {
    std::unique_lock<std::mutex> lock(mutex_);
    return added_.wait_for(lock, kPatience, [&] {
      for (const std::string& line : lines_)
        if (line.find(text) != std::string::npos) return true;
      return false;
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable added_;
  std::vector<std::string> lines_;
};

// The outcome of one Start, once `done` has been called.
struct Outcome {
  std::promise<std::pair<Status, ModelChange>> promise;
  std::future<std::pair<Status, ModelChange>> future = promise.get_future();
  ModelSwitch::Done Done() {
    return [this](const Status& status, const ModelChange& change) {
      promise.set_value({status, change});
    };
  }
  std::pair<Status, ModelChange> Get() {
    REQUIRE(future.wait_for(kPatience) == std::future_status::ready);
    return future.get();
  }
};

GenerationRequest Request(const std::string& id) {
  GenerationRequest request;
  request.request_id = id;
  return request;
}

void Install(EngineGate& gate, TestModel& model) {
  std::shared_ptr<ServedModel> replaced;
  REQUIRE(gate.Install(std::make_shared<ServedModel>(std::move(model.owned), ServingOptions{}),
                       &replaced)
              .ok());
}

}  // namespace

TEST_CASE(
    "a model change: new requests go to the new model at once, the old one finishes its "
    "own and is then destroyed") {
  EngineGate gate;
  TestModel old_model("v1");
  TestModel new_model("v2");
  Install(gate, old_model);
  EventLog events;
  const ModelEventListener listener = events.Listener();
  const ModelLoader loader = [&new_model](const std::string& dir) {
    CHECK(dir == "/models/v2");
    return new_model.Loaded();
  };
  ModelSwitch models(&gate, &loader, &listener);

  std::atomic<uint64_t> old_id{0};
  auto running = std::make_shared<FinalStream>();
  REQUIRE(gate.Submit(Request("running"), running, &old_id).ok());

  Outcome outcome;
  REQUIRE(models.Start("/models/v2", "ipv4:127.0.0.1:1", outcome.Done()).ok());
  const auto [status, change] = outcome.Get();
  REQUIRE(status.ok());
  CHECK(change.name == "auroraedge-v-small");
  CHECK(change.version == "v2");
  CHECK(change.previous_version == "v1");
  CHECK(change.load_seconds == 0.25);
  CHECK(change.warm_up_seconds == 0.5);

  std::atomic<uint64_t> new_id{0};
  auto next = std::make_shared<FinalStream>();
  REQUIRE(gate.Submit(Request("next"), next, &new_id).ok());
  CHECK(new_id != old_id);
  EngineSnapshot snapshot;
  REQUIRE(gate.Snapshot(&snapshot).ok());
  CHECK(snapshot.config.version == "v2");
  CHECK_FALSE(old_model.engine->accepting());

  // A cancel reaches the model that took the request, and no other.
  gate.Cancel(old_id, "running");
  gate.Cancel(new_id, "next");
  CHECK(old_model.engine->cancelled() == std::vector<std::string>{"running"});
  CHECK(new_model.engine->cancelled() == std::vector<std::string>{"next"});

  // Kept while its request runs; a later check finds it still there.
  CHECK_FALSE(old_model.Destroyed(milliseconds(200)));
  old_model.engine->Finish("running");
  CHECK(running->version == "v1");
  REQUIRE(events.WaitFor("model auroraedge-v-small v1 released"));
  CHECK(old_model.Destroyed());
  gate.Cancel(old_id, "running");  // the model is gone: nothing to reach

  new_model.engine->Finish("next");
  CHECK(next->version == "v2");
  CHECK_FALSE(new_model.Destroyed());
  CHECK(events.WaitFor("switched to model auroraedge-v-small v2 from /models/v2"));
  CHECK(events.WaitFor("(from ipv4:127.0.0.1:1)"));
}

TEST_CASE(
    "a directory that cannot be served is refused with the loader's reason; the old model "
    "goes on") {
  EngineGate gate;
  TestModel old_model("v1");
  Install(gate, old_model);
  EventLog events;
  const ModelEventListener listener = events.Listener();
  const ModelLoader broken = [](const std::string&) -> LoadedModel {
    throw model::ModelLoadError("config.json: decoder: missing");
  };
  ModelSwitch models(&gate, &broken, &listener);
  Outcome outcome;
  REQUIRE(models.Start("/models/broken", "test", outcome.Done()).ok());
  const auto [status, change] = outcome.Get();
  CHECK(status.code == StatusCode::kInvalidArgument);
  CHECK(status.message == "model_dir: cannot serve /models/broken: config.json: decoder: missing");
  CHECK(change.version.empty());
  CHECK(events.WaitFor("warning: LoadModel refused: model_dir: cannot serve /models/broken"));

  std::atomic<uint64_t> id{0};
  REQUIRE(gate.Submit(Request("after"), std::make_shared<FinalStream>(), &id).ok());
  CHECK(old_model.engine->accepting());
  old_model.engine->Finish("after");

  const ModelLoader out_of_memory = [](const std::string&) -> LoadedModel {
    throw std::bad_alloc();
  };
  ModelSwitch starved(&gate, &out_of_memory, nullptr);
  Outcome exhausted;
  REQUIRE(starved.Start("/models/huge", "test", exhausted.Done()).ok());
  CHECK(exhausted.Get().first.code == StatusCode::kResourceExhausted);
  CHECK_FALSE(old_model.Destroyed());
}

TEST_CASE("one change at a time: a second is ABORTED while the first loads") {
  EngineGate gate;
  TestModel old_model("v1");
  TestModel new_model("v2");
  Install(gate, old_model);
  std::promise<void> release_load;
  std::shared_future<void> load_may_end = release_load.get_future().share();
  std::promise<void> loading;
  const ModelLoader slow = [&](const std::string&) {
    loading.set_value();
    load_may_end.wait();
    return new_model.Loaded();
  };
  ModelSwitch models(&gate, &slow, nullptr);
  Outcome first;
  REQUIRE(models.Start("/models/v2", "test", first.Done()).ok());
  loading.get_future().wait();

  const Status second = models.Start("/models/v3", "test", [](const Status&, const ModelChange&) {
    FAIL("an aborted change has no outcome");
  });
  CHECK(second.code == StatusCode::kAborted);
  CHECK_THAT(second.message, Catch::Matchers::Contains("another LoadModel (/models/v2, started"));
  // The model in service answers meanwhile.
  std::atomic<uint64_t> id{0};
  REQUIRE(gate.Submit(Request("meanwhile"), std::make_shared<FinalStream>(), &id).ok());
  old_model.engine->Finish("meanwhile");

  release_load.set_value();
  CHECK(first.Get().first.ok());
  // Free again as soon as the first has answered.
  TestModel third("v3");
  const ModelLoader quick = [&third](const std::string&) { return third.Loaded(); };
  ModelSwitch again(&gate, &quick, nullptr);
  Outcome after;
  REQUIRE(again.Start("/models/v3", "test", after.Done()).ok());
  CHECK(after.Get().first.ok());
}

TEST_CASE("no change before the first model serves, while draining, or without a loader") {
  EngineGate gate;
  TestModel spare("v2");
  const ModelLoader loader = [&spare](const std::string&) { return spare.Loaded(); };
  ModelSwitch models(&gate, &loader, nullptr);
  const auto never = [](const Status&, const ModelChange&) { FAIL("no outcome expected"); };
  const Status loading = models.Start("/models/v2", "test", never);
  CHECK(loading.code == StatusCode::kUnavailable);
  CHECK(loading.message == "the model is still loading; retry shortly");

  TestModel first("v1");
  Install(gate, first);
  const ModelLoader none;
  ModelSwitch unable(&gate, &none, nullptr);
  CHECK(unable.Start("/models/v2", "test", never).code == StatusCode::kFailedPrecondition);

  gate.StopAccepting();
  const Status draining = models.Start("/models/v2", "test", never);
  CHECK(draining.code == StatusCode::kUnavailable);
  CHECK_FALSE(first.engine->accepting());
}

TEST_CASE("a drain reaches the replaced models too, and Detach hands every model over") {
  EngineGate gate;
  TestModel old_model("v1");
  TestModel new_model("v2");
  Install(gate, old_model);
  std::atomic<uint64_t> id{0};
  REQUIRE(gate.Submit(Request("long"), std::make_shared<FinalStream>(), &id).ok());
  Install(gate, new_model);  // the replaced one is kept until Release

  gate.StopAccepting();
  CHECK_FALSE(new_model.engine->accepting());
  CHECK(gate.Submit(Request("late"), std::make_shared<FinalStream>(), &id).code ==
        StatusCode::kUnavailable);
  TestModel latecomer("v3");
  std::shared_ptr<ServedModel> replaced;
  CHECK(gate.Install(std::make_shared<ServedModel>(std::move(latecomer.owned), ServingOptions{}),
                     &replaced)
            .code == StatusCode::kUnavailable);
  CHECK(latecomer.Destroyed());  // never served

  old_model.engine->Finish("long");
  std::vector<std::shared_ptr<ServedModel>> models = gate.Detach();
  CHECK(models.size() == 2);
  models.clear();
  CHECK(old_model.Destroyed());
  CHECK(new_model.Destroyed());
}

}  // namespace auroraedge::server::grpc_api
