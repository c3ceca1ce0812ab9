#include "engine_gate.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "fake_engine.h"

namespace auroraedge::server::grpc_api {
namespace {

using Catch::Matchers::Contains;
using testing::FakeEngine;

GenerationRequest Request(const std::string& id) {
  GenerationRequest request;
  request.request_id = id;
  request.prompt = "p";
  return request;
}

class NullStream : public GenerationStream {
 public:
  bool OnChunk(GenerationChunk) override { return true; }
  void OnFinal(const GenerationFinal&) override {}
  void OnError(const Status&) override {}
};

// `*model_id`: the model that took the request.
Status Submit(EngineGate& gate, const std::string& id, uint64_t* model_id = nullptr) {
  std::atomic<uint64_t> took{0};
  const Status status = gate.Submit(Request(id), std::make_shared<NullStream>(), &took);
  if (model_id != nullptr) *model_id = took;
  return status;
}

// Installs a FakeEngine as the model in service; the gate owns it.
FakeEngine* InstallFake(EngineGate& gate, const ServingOptions& options = {}) {
  auto engine = std::make_unique<FakeEngine>();
  FakeEngine* fake = engine.get();
  std::shared_ptr<ServedModel> replaced;
  REQUIRE(gate.Install(std::make_shared<ServedModel>(std::move(engine), options), &replaced).ok());
  REQUIRE(replaced == nullptr);
  return fake;
}

}  // namespace

TEST_CASE("while the model loads, calls are UNAVAILABLE and nothing reaches an engine") {
  EngineGate gate;
  const Status submitted = Submit(gate, "r1");
  CHECK(submitted.code == StatusCode::kUnavailable);
  CHECK_THAT(submitted.message, Contains("loading"));
  EngineSnapshot snapshot;
  const Status info = gate.Snapshot(&snapshot);
  CHECK(info.code == StatusCode::kUnavailable);
  CHECK_THAT(info.message, Contains("loading"));
  gate.Cancel(1, "r1");  // no engine: nothing to do, and no crash
}

TEST_CASE("once installed, calls reach the engine with the serving options") {
  EngineGate gate;
  ServingOptions options;
  options.stream_buffer_chunks = 7;
  FakeEngine& engine = *InstallFake(gate, options);
  uint64_t model_id = 0;
  CHECK(Submit(gate, "r1", &model_id).ok());
  CHECK(model_id == 1);
  REQUIRE(engine.requests().size() == 1);
  CHECK(engine.requests()[0].request_id == "r1");
  CHECK(gate.stream_buffer_chunks() == 7);
  EngineSnapshot snapshot;
  REQUIRE(gate.Snapshot(&snapshot).ok());
  CHECK(snapshot.config.name == "fake");
  CHECK(snapshot.kv_tokens_total == 4096);
  gate.Cancel(model_id, "r1");
  CHECK(engine.WaitCancelled("r1"));
}

TEST_CASE("the engine's own refusal is passed on") {
  EngineGate gate;
  InstallFake(gate)->answer = {StatusCode::kResourceExhausted, "queue full"};
  CHECK(Submit(gate, "r1").code == StatusCode::kResourceExhausted);
}

TEST_CASE("after StopAccepting calls are UNAVAILABLE (shutting down) and the engine stops too") {
  EngineGate gate;
  FakeEngine& engine = *InstallFake(gate);
  gate.StopAccepting();
  CHECK(engine.stopped_accepting());
  const Status submitted = Submit(gate, "r1");
  CHECK(submitted.code == StatusCode::kUnavailable);
  CHECK_THAT(submitted.message, Contains("shutting down"));
  EngineSnapshot snapshot;
  CHECK(gate.Snapshot(&snapshot).code == StatusCode::kUnavailable);
  CHECK(engine.requests().empty());
}

TEST_CASE("after Detach the engine is never touched") {
  EngineGate gate;
  InstallFake(gate);
  std::vector<std::shared_ptr<ServedModel>> detached = gate.Detach();
  CHECK(detached.size() == 1);
  detached.clear();  // destroyed: any use below would be a use after free (ASan)
  CHECK(Submit(gate, "r1").code == StatusCode::kUnavailable);
  gate.Cancel(1, "r1");
  EngineSnapshot snapshot;
  CHECK(gate.Snapshot(&snapshot).code == StatusCode::kUnavailable);
}

TEST_CASE("calls in flight are bounded per client address and in total") {
  EngineGate gate({3, 2});
  CHECK(gate.CallStarted("ipv4:10.0.0.1:5000").ok());
  CHECK(gate.CallStarted("ipv4:10.0.0.1:5001").ok());  // another port, the same client
  const Status third = gate.CallStarted("ipv4:10.0.0.1:5002");
  CHECK(third.code == StatusCode::kResourceExhausted);
  CHECK_THAT(third.message,
             Contains("ipv4:10.0.0.1 has 2 calls in flight") && Contains("max_calls_per_peer 2"));
  CHECK(gate.CallStarted("ipv6:[::1]:5000").ok());
  const Status over = gate.CallStarted("ipv4:10.0.0.2:5000");
  CHECK(over.code == StatusCode::kResourceExhausted);
  CHECK_THAT(over.message, Contains("max_calls 3"));

  gate.CallEnded("ipv4:10.0.0.1:5000");
  CHECK(gate.CallStarted("ipv4:10.0.0.1:5003").ok());
}

TEST_CASE("no limit when the limits are 0") {
  EngineGate gate;
  for (int i = 0; i < 1000; ++i) REQUIRE(gate.CallStarted("ipv4:10.0.0.1:1").ok());
}

TEST_CASE("WaitCallsEnded returns when the last call in flight ends, or at its deadline") {
  EngineGate gate;
  CHECK(gate.WaitCallsEnded(std::chrono::steady_clock::now()));
  REQUIRE(gate.CallStarted("ipv4:10.0.0.1:1").ok());
  CHECK_FALSE(
      gate.WaitCallsEnded(std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
  std::thread ender([&] { gate.CallEnded("ipv4:10.0.0.1:1"); });
  CHECK(gate.WaitCallsEnded(std::chrono::steady_clock::now() + std::chrono::seconds(60)));
  ender.join();
}

}  // namespace auroraedge::server::grpc_api
