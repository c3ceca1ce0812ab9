// GenerateReactor and the server around it, over real gRPC on loopback,
// with a FakeEngine behind the gate: the test plays the engine's part of
// each stream.

#include "generate_reactor.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "auroraedge/server/grpc_server.h"
#include "auroraedge/v1/inference.grpc.pb.h"
#include "fake_engine.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace auroraedge::server::grpc_api {
namespace {

using Catch::Matchers::Contains;
using std::chrono::milliseconds;
using testing::FakeEngine;

using HealthStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

struct Harness {
  explicit Harness(GrpcServerOptions options = {}) {
    options.listen_address = "127.0.0.1:0";
    options.on_connection_refused = [this](std::string_view) { ++refused; };
    server = std::make_unique<GrpcServer>(options);
    channel = grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
    stub = v1::Inference::NewStub(channel);
  }
  ~Harness() {
    server->Detach();
    server.reset();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(server->port()); }

  HealthStatus Health(const std::string& service) {
    auto health = grpc::health::v1::Health::NewStub(channel);
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    const grpc::Status status = health->Check(&context, request, &response);
    REQUIRE(status.ok());
    return response.status();
  }

  // Hands the engine to the server, which owns it from then on.
  void Serve(const ServingOptions& options = {}) { server->Serve(std::move(owned), options); }

  std::atomic<int> refused{0};
  std::unique_ptr<FakeEngine> owned = std::make_unique<FakeEngine>();
  FakeEngine& engine = *owned;  // valid until server->Detach()
  std::unique_ptr<GrpcServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Inference::Stub> stub;
};

v1::GenerateRequest Request(const std::string& id = "") {
  v1::GenerateRequest request;
  request.set_prompt("Is the part OK?");
  request.set_request_id(id);
  return request;
}

// One Generate call read to its end on a thread of its own.
struct Call {
  Call(v1::Inference::Stub& stub, const v1::GenerateRequest& request,
       const std::multimap<std::string, std::string>& metadata = {}) {
    for (const auto& [name, value] : metadata) context.AddMetadata(name, value);
    reader_thread = std::thread([this, &stub, request] {
      auto reader = stub.Generate(&context, request);
      v1::GenerateResponse response;
      while (reader->Read(&response)) responses.push_back(response);
      status = reader->Finish();
    });
  }
  grpc::Status Wait() {
    reader_thread.join();
    return status;
  }

  grpc::ClientContext context;
  std::vector<v1::GenerateResponse> responses;
  grpc::Status status;
  std::thread reader_thread;
};

GenerationFinal LengthFinal(int tokens) {
  GenerationFinal final;
  final.reason = FinishReason::kLength;
  final.completion_tokens = tokens;
  return final;
}

// Open TCP connections to `port`, as a client that never speaks.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  }
  ~RawConnection() { close(fd_); }
  // True when the server closed the connection within `wait`.
  bool ClosedWithin(milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
    char byte;
    return recv(fd_, &byte, 1, MSG_DONTWAIT) <= 0;
  }

 private:
  int fd_;
};

}  // namespace

TEST_CASE("while the model loads, Generate is UNAVAILABLE and health is NOT_SERVING by name") {
  Harness harness;
  Call call(*harness.stub, Request());
  const grpc::Status status = call.Wait();
  CHECK(status.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK_THAT(status.error_message(), Contains("loading"));
  CHECK(harness.Health("") == grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  CHECK(harness.Health("auroraedge.v1.Inference") ==
        grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  CHECK(harness.engine.requests().empty());
}

TEST_CASE("health answers SERVING per service once serving, NOT_SERVING when draining") {
  Harness harness;
  harness.Serve();
  CHECK(harness.Health("") == grpc::health::v1::HealthCheckResponse::SERVING);
  CHECK(harness.Health("auroraedge.v1.Inference") ==
        grpc::health::v1::HealthCheckResponse::SERVING);
  harness.server->StopAccepting();
  CHECK(harness.Health("") == grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  CHECK(harness.Health("auroraedge.v1.Inference") ==
        grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  Call late(*harness.stub, Request());
  CHECK(late.Wait().error_code() == grpc::StatusCode::UNAVAILABLE);

  // A new connection is refused: a load balancer moves the call elsewhere.
  // Its own connection: the process's channels would share one.
  grpc::ChannelArguments own_connection;
  own_connection.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  const auto fresh = grpc::CreateCustomChannel(harness.address(),
                                               grpc::InsecureChannelCredentials(), own_connection);
  CHECK_FALSE(fresh->WaitForConnected(std::chrono::system_clock::now() + milliseconds(500)));
}

TEST_CASE("a call relays the engine's chunks and final message, then ends OK") {
  Harness harness;
  harness.Serve();
  Call call(*harness.stub, Request("req-1"));
  const auto stream = harness.engine.WaitSubmitted(1);
  REQUIRE(stream != nullptr);
  REQUIRE(stream->OnChunk({"N", {5}}));
  REQUIRE(stream->OnChunk({"G", {6}}));
  stream->OnFinal(LengthFinal(2));
  REQUIRE(call.Wait().ok());
  REQUIRE(call.responses.size() == 3);
  CHECK(call.responses[0].chunk().text() == "N");
  CHECK(call.responses[1].chunk().token_ids(0) == 6);
  CHECK(call.responses[2].final().completion_tokens() == 2);
  for (const auto& response : call.responses) CHECK(response.request_id() == "req-1");
  const std::vector<GenerationRequest> submitted_requests = harness.engine.requests();
  const GenerationRequest& submitted = submitted_requests.at(0);
  CHECK(submitted.prompt == "Is the part OK?");
  CHECK_THAT(submitted.client_address, Contains("127.0.0.1"));
}

TEST_CASE("the engine's error ends the call with its status") {
  Harness harness;
  harness.Serve();
  Call call(*harness.stub, Request());
  const auto stream = harness.engine.WaitSubmitted(1);
  REQUIRE(stream != nullptr);
  stream->OnChunk({"a", {1}});
  stream->OnError({StatusCode::kResourceExhausted, "the KV cache is full"});
  const grpc::Status status = call.Wait();
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(status.error_message() == "the KV cache is full");
}

TEST_CASE("a client's cancel cancels the request in the engine") {
  Harness harness;
  harness.Serve();
  Call call(*harness.stub, Request("to-cancel"));
  const auto stream = harness.engine.WaitSubmitted(1);
  REQUIRE(stream != nullptr);
  call.context.TryCancel();
  CHECK(harness.engine.WaitCancelled("to-cancel"));
  GenerationFinal cancelled;
  cancelled.reason = FinishReason::kCancelled;
  stream->OnFinal(cancelled);
  CHECK(call.Wait().error_code() == grpc::StatusCode::CANCELLED);
}

TEST_CASE("a request the mapping refuses never reaches the engine") {
  Harness harness;
  harness.Serve();
  v1::GenerateRequest request = Request();
  request.set_request_id("two words");
  Call call(*harness.stub, request);
  const grpc::Status status = call.Wait();
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Contains("request_id"));
  CHECK(harness.engine.requests().empty());
}

TEST_CASE("a call over the metadata limit is refused alone on its shared connection") {
  GrpcServerOptions options;
  options.limits.max_metadata_bytes = 8 << 10;
  Harness harness(options);
  harness.Serve();
  Call neighbour(*harness.stub, Request("neighbour"));
  const auto stream = harness.engine.WaitSubmitted(1);
  REQUIRE(stream != nullptr);

  Call big(*harness.stub, Request("big"), {{"x-big", std::string(16 << 10, 'a')}});
  const grpc::Status refused = big.Wait();
  CHECK(refused.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(refused.error_message(), Contains("request metadata") && Contains("8192"));

  // The neighbour on the same channel (one HTTP/2 connection) lives on.
  REQUIRE(stream->OnChunk({"x", {1}}));
  stream->OnFinal(LengthFinal(1));
  CHECK(neighbour.Wait().ok());
  CHECK(neighbour.responses.size() == 2);
  CHECK(harness.engine.requests().size() == 1);
}

TEST_CASE("calls in flight from one client are bounded") {
  GrpcServerOptions options;
  options.limits.max_calls_per_peer = 1;
  Harness harness(options);
  harness.Serve();
  Call first(*harness.stub, Request("first"));
  const auto stream = harness.engine.WaitSubmitted(1);
  REQUIRE(stream != nullptr);
  Call second(*harness.stub, Request("second"));
  const grpc::Status status = second.Wait();
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(status.error_message(), Contains("max_calls_per_peer 1"));
  stream->OnFinal(LengthFinal(0));
  CHECK(first.Wait().ok());
  // gRPC is done with the first call (and the gate counts it out) a moment
  // after its client saw the status.
  REQUIRE(
      harness.server->WaitCallsEnded(std::chrono::steady_clock::now() + std::chrono::seconds(30)));
  Call third(*harness.stub, Request("third"));  // the first's place is free again
  const auto third_stream = harness.engine.WaitSubmitted(2);
  REQUIRE(third_stream != nullptr);
  third_stream->OnFinal(LengthFinal(0));
  CHECK(third.Wait().ok());
}

TEST_CASE("a stream whose client takes nothing is cut with RESOURCE_EXHAUSTED") {
  GrpcServerOptions options;
  options.limits.stream_write_timeout = milliseconds(300);
  Harness harness(options);
  ServingOptions serving;
  serving.stream_buffer_chunks = 1 << 20;
  harness.Serve(serving);

  grpc::ClientContext context;
  auto reader = harness.stub->Generate(&context, Request("never-reads"));
  const auto stream = harness.engine.WaitSubmitted(1);
  REQUIRE(stream != nullptr);
  // 64 MiB of chunks: far more than the flow-control windows let through
  // to a client that does not read.
  const std::string text(64 << 10, 'a');
  for (int i = 0; i < 1024; ++i) REQUIRE(stream->OnChunk({text, {1}}));
  // The engine has nothing more to say for now: the stalled write alone ends
  // the call, which cancels the request in the engine.
  REQUIRE(harness.engine.WaitCancelled("never-reads"));
  stream->OnFinal(LengthFinal(0));  // the engine's answer to the cancel
  // Only now the client reads what reached it, and the call's status.
  v1::GenerateResponse response;
  int read = 0;
  while (reader->Read(&response)) ++read;
  const grpc::Status status = reader->Finish();
  CHECK(read < 1024);
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(status.error_message(), Contains("stream_write_timeout_ms"));
}

TEST_CASE("connections from one client address are bounded; a closed one makes room") {
  GrpcServerOptions options;
  options.limits.max_connections_per_peer = 2;
  Harness harness(options);
  const int port = harness.server->port();
  auto first = std::make_unique<RawConnection>(port);
  RawConnection second(port);
  RawConnection third(port);
  CHECK(third.ClosedWithin(milliseconds(10'000)));
  CHECK(harness.refused == 1);
  CHECK_FALSE(second.ClosedWithin(milliseconds(0)));
  first.reset();
  // gRPC closes its side when it reads the end of the connection, some time
  // later; until then a new connection may still be refused.
  bool admitted = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!admitted && std::chrono::steady_clock::now() < until) {
    RawConnection fourth(port);
    admitted = !fourth.ClosedWithin(milliseconds(300));
  }
  CHECK(admitted);
}

TEST_CASE("a second server on a taken address fails at start naming it, unless both share") {
  Harness first;
  GrpcServerOptions options;
  options.listen_address = first.address();
  try {
    GrpcServer second(options);
    FAIL("the second server started on a taken address");
  } catch (const std::runtime_error& error) {
    CHECK_THAT(error.what(), Contains("cannot listen on " + first.address()) &&
                                 Contains("Address already in use"));
  }

  GrpcServerOptions sharing;
  sharing.listen_address = "127.0.0.1:0";
  sharing.listen_reuseport = true;
  GrpcServer one(sharing);
  sharing.listen_address = "127.0.0.1:" + std::to_string(one.port());
  GrpcServer two(sharing);
  CHECK(two.port() == one.port());
}

// The Inspect calls go through the same door: InspectReactor.

namespace {

// One Inspect call on a thread of its own.
struct InspectCall {
  InspectCall(v1::Inference::Stub& stub, const std::string& id,
              const std::multimap<std::string, std::string>& metadata = {}) {
    for (const auto& [name, value] : metadata) context.AddMetadata(name, value);
    // So that a call the server wrongly lets through to the fake engine,
    // which never answers it, fails the test instead of hanging it.
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    v1::InspectRequest request;
    request.set_prompt("Is the part OK?");
    request.add_labels("OK");
    request.add_labels("NG");
    request.set_request_id(id);
    caller_thread = std::thread(
        [this, &stub, request] { status = stub.Inspect(&context, request, &response); });
  }
  grpc::Status Wait() {
    caller_thread.join();
    return status;
  }

  grpc::ClientContext context;
  v1::InspectResponse response;
  grpc::Status status;
  std::thread caller_thread;
};

InspectionResult TwoLabelResult() {
  InspectionResult result;
  result.scores = {{"OK", 0.25, -1.5, 2}, {"NG", 0.75, -0.4, 2}};
  result.chosen = 1;
  result.decision = Decision::kNg;
  return result;
}

}  // namespace

TEST_CASE("an Inspect call answers the engine's result, or its error") {
  Harness harness;
  harness.Serve();
  InspectCall call(*harness.stub, "insp-1");
  const auto receiver = harness.engine.WaitInspections(1);
  REQUIRE(receiver != nullptr);
  CHECK(harness.engine.inspections().at(0).labels == std::vector<std::string>{"OK", "NG"});
  receiver->OnResult(TwoLabelResult());
  REQUIRE(call.Wait().ok());
  CHECK(call.response.request_id() == "insp-1");
  CHECK(call.response.label() == "NG");
  CHECK(call.response.decision() == v1::DECISION_NG);
  REQUIRE(call.response.scores_size() == 2);
  CHECK(call.response.scores(1).probability() == 0.75);

  InspectCall failing(*harness.stub, "insp-2");
  const auto second = harness.engine.WaitInspections(2);
  REQUIRE(second != nullptr);
  second->OnError({StatusCode::kResourceExhausted, "the KV cache is full"});
  const grpc::Status status = failing.Wait();
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(status.error_message() == "the KV cache is full");
}

TEST_CASE("Inspect calls share Generate's call and metadata limits, and cancel in the engine") {
  GrpcServerOptions options;
  options.limits.max_calls_per_peer = 1;
  options.limits.max_metadata_bytes = 8 << 10;
  Harness harness(options);
  harness.Serve();
  Call generate(*harness.stub, Request("generate"));
  const auto stream = harness.engine.WaitSubmitted(1);
  REQUIRE(stream != nullptr);
  InspectCall over_limit(*harness.stub, "over-limit");
  const grpc::Status refused = over_limit.Wait();
  CHECK(refused.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(refused.error_message(), Contains("max_calls_per_peer 1"));
  stream->OnFinal(LengthFinal(0));
  CHECK(generate.Wait().ok());
  REQUIRE(
      harness.server->WaitCallsEnded(std::chrono::steady_clock::now() + std::chrono::seconds(30)));

  InspectCall big(*harness.stub, "big", {{"x-big", std::string(16 << 10, 'a')}});
  CHECK(big.Wait().error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(harness.engine.inspections().empty());
  REQUIRE(
      harness.server->WaitCallsEnded(std::chrono::steady_clock::now() + std::chrono::seconds(30)));

  InspectCall cancelled(*harness.stub, "to-cancel");
  const auto receiver = harness.engine.WaitInspections(1);
  REQUIRE(receiver != nullptr);
  cancelled.context.TryCancel();
  CHECK(harness.engine.WaitCancelled("to-cancel"));
  receiver->OnError({StatusCode::kCancelled, "cancelled by the client"});
  CHECK(cancelled.Wait().error_code() == grpc::StatusCode::CANCELLED);
}

}  // namespace auroraedge::server::grpc_api
