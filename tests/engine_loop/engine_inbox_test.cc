// The engine thread's inbox: what it hands over, when it wakes the engine
// thread, and that a closed inbox refuses requests.

#include "engine_inbox.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

using namespace auroraedge::server;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::unique_ptr<LiveRequest> Live(SequenceId id) {
  return std::make_unique<LiveRequest>(id, GenerationRequest{}, nullptr,
                                       std::make_shared<RequestControl>(), PreparedRequest{});
}

}  // namespace

TEST_CASE("Engine inbox: Take hands over everything posted, once, in order") {
  EngineInbox inbox;
  CHECK(inbox.PostRequest(Live(1)) == nullptr);
  CHECK(inbox.PostRequest(Live(2)) == nullptr);
  PreprocessedImages images;
  images.id = 7;
  inbox.PostPreprocessed(images);
  EngineInbox::Mail mail = inbox.Take();
  REQUIRE(mail.requests.size() == 2);
  CHECK(mail.requests[0]->id == 1);
  CHECK(mail.requests[1]->id == 2);
  REQUIRE(mail.preprocessed.size() == 1);
  CHECK(mail.preprocessed[0].id == 7);
  mail = inbox.Take();
  CHECK(mail.requests.empty());
  CHECK(mail.preprocessed.empty());
}

TEST_CASE("Engine inbox: a post or a wake ends the wait; without one it lasts until the time") {
  EngineInbox inbox;
  const Clock::time_point start = Clock::now();
  inbox.WaitUntil(start + 50ms);
  CHECK(Clock::now() - start >= 50ms);

  std::thread poster([&inbox] { inbox.Wake(); });
  inbox.WaitUntil(std::nullopt);  // returns: woken (a test that hangs here fails by timeout)
  poster.join();
  inbox.Take();

  // A post before the wait counts: the wait returns at once.
  inbox.PostRequest(Live(3));
  inbox.WaitUntil(std::nullopt);
  CHECK(inbox.Take().requests.size() == 1);
}

TEST_CASE("Engine inbox: once closed it hands requests back and every wait returns") {
  EngineInbox inbox;
  CHECK_FALSE(inbox.closed());
  inbox.Close();
  CHECK(inbox.closed());
  std::unique_ptr<LiveRequest> refused = inbox.PostRequest(Live(4));
  REQUIRE(refused != nullptr);
  CHECK(refused->id == 4);
  inbox.WaitUntil(std::nullopt);
  CHECK(inbox.Take().requests.empty());
}
