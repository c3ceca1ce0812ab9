#include "local_peer.h"

#include <catch2/catch.hpp>

namespace auroraedge::server::auth {
namespace {

TEST_CASE("loopback addresses and Unix sockets are local, as gRPC writes their peers") {
  for (const char* peer :
       {"ipv4:127.0.0.1:51234", "ipv4:127.8.9.10:1", "ipv6:[::1]:51234", "ipv6:%5B::1%5D:51234",
        "ipv6:[::ffff:127.0.0.1]:80", "unix:/run/auroraedge.sock", "unix-abstract:auroraedge"}) {
    INFO(peer);
    CHECK(IsLocalPeer(peer));
  }
}

TEST_CASE("other machines and peers that do not parse are not local") {
  for (const char* peer :
       {"ipv4:10.0.0.7:51234", "ipv4:128.0.0.1:1", "ipv4:1.127.0.1:1", "ipv6:[::2]:51234",
        "ipv6:[fe80::1%25eth0]:5", "ipv6:[::ffff:10.0.0.1]:80", "ipv6:%5B2001:db8::1%5D:443",
        "ipv4:127.0.0.1", "ipv4:localhost:80", "ipv6:::1:80", "", "127.0.0.1:80",
        "ipv4:127.0.0.1.5:80"}) {
    INFO(peer);
    CHECK_FALSE(IsLocalPeer(peer));
  }
}

}  // namespace
}  // namespace auroraedge::server::auth
