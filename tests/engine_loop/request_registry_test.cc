// The registry of requests in flight by their client-facing id.

#include "request_registry.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

using namespace auroraedge::server;
using namespace std::chrono_literals;

TEST_CASE("Request registry: an id in flight is refused until released, and found meanwhile") {
  RequestRegistry registry;
  auto control = std::make_shared<RequestControl>();
  CHECK(registry.Insert("a", control));
  CHECK_FALSE(registry.Insert("a", std::make_shared<RequestControl>()));
  CHECK(registry.Find("a") == control);
  CHECK(registry.Find("b") == nullptr);
  registry.ReleaseId("a");
  CHECK(registry.Find("a") == nullptr);
  CHECK(registry.Insert("a", std::make_shared<RequestControl>()));  // free again
}

TEST_CASE("Request registry: idle only once every request has Finished, ids released or not") {
  RequestRegistry registry;
  CHECK(registry.WaitEmpty(0ms));
  registry.Insert("a", std::make_shared<RequestControl>());
  registry.Insert("b", std::make_shared<RequestControl>());
  registry.ReleaseId("a");
  CHECK_FALSE(registry.WaitEmpty(20ms));  // a released id still counts
  registry.Finished();
  CHECK_FALSE(registry.WaitEmpty(20ms));
  std::thread finisher([&registry] { registry.Finished(); });
  CHECK(registry.WaitEmpty(10s));
  finisher.join();
}
