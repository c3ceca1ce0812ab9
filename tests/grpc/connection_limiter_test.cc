#include "connection_limiter.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <set>

namespace auroraedge::server::grpc_api {
namespace {

// Connections are open until the test closes them.
struct Book {
  std::set<int> closed;
  ConnectionLimiter::IsOpen is_open() {
    return [this](const AcceptedConnection& c) { return closed.count(c.fd) == 0; };
  }
};

AcceptedConnection From(const std::string& peer, int fd) { return {fd, 0, peer}; }

}  // namespace

TEST_CASE("connections are bounded per client address") {
  Book book;
  ConnectionLimiter limiter(0, 2, book.is_open());
  CHECK_FALSE(limiter.Admit(From("10.0.0.1", 1)).has_value());
  CHECK_FALSE(limiter.Admit(From("10.0.0.1", 2)).has_value());
  CHECK(limiter.Admit(From("10.0.0.1", 3)) == "max_connections_per_peer");
  CHECK_FALSE(limiter.Admit(From("10.0.0.2", 4)).has_value());  // another client
  book.closed.insert(1);                                        // gRPC closed one: room again
  CHECK_FALSE(limiter.Admit(From("10.0.0.1", 5)).has_value());
  CHECK(limiter.open() == 3);
}

TEST_CASE("connections are bounded in total") {
  Book book;
  ConnectionLimiter limiter(3, 0, book.is_open());
  for (int fd = 1; fd <= 3; ++fd) REQUIRE_FALSE(limiter.Admit(From("10.0.0.1", fd)).has_value());
  CHECK(limiter.Admit(From("10.0.0.9", 4)) == "max_connections");
  book.closed.insert(2);
  CHECK_FALSE(limiter.Admit(From("10.0.0.9", 4)).has_value());
  CHECK(limiter.open() == 3);
}

TEST_CASE("a descriptor number reused by another socket does not count as the old connection") {
  int first[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, first) == 0);
  struct stat status {};
  REQUIRE(fstat(first[0], &status) == 0);
  const AcceptedConnection accepted{first[0], static_cast<uint64_t>(status.st_ino), "10.0.0.1"};
  CHECK(SocketStillOpen(accepted));
  close(first[0]);
  close(first[1]);
  CHECK_FALSE(SocketStillOpen(accepted));
  int second[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, second) == 0);
  REQUIRE(second[0] == accepted.fd);  // the lowest free number comes back
  CHECK_FALSE(SocketStillOpen(accepted));
  close(second[0]);
  close(second[1]);
}

}  // namespace auroraedge::server::grpc_api
