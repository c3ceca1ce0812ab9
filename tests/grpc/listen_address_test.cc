#include "listen_address.h"

#include <catch2/catch.hpp>

namespace auroraedge::server::app {

TEST_CASE("loopback addresses: no other machine can reach them") {
  CHECK(IsLoopbackAddress("127.0.0.1:50051"));
  CHECK(IsLoopbackAddress("127.8.9.10:0"));
  CHECK(IsLoopbackAddress("localhost:50051"));
  CHECK(IsLoopbackAddress("[::1]:50051"));
  CHECK(IsLoopbackAddress("unix:/run/auroraedge.sock"));
  CHECK_FALSE(IsLoopbackAddress("0.0.0.0:50051"));
  CHECK_FALSE(IsLoopbackAddress("[::]:50051"));
  CHECK_FALSE(IsLoopbackAddress("10.0.0.5:50051"));
  CHECK_FALSE(IsLoopbackAddress("128.0.0.1:50051"));
  CHECK_FALSE(IsLoopbackAddress("inspection.local:50051"));
  CHECK_FALSE(IsLoopbackAddress(":50051"));
}

}  // namespace auroraedge::server::app
