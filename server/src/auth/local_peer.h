#pragma once

// Whether a call comes from the server's own machine, from gRPC's peer
// string: "ipv4:127.0.0.1:51234", "ipv6:[::1]:51234" (gRPC may write the
// brackets as %5B and %5D), an IPv4-mapped "ipv6:[::ffff:127.0.0.1]:51234",
// or a Unix socket ("unix:/run/aurora.sock", "unix-abstract:aurora"). Any
// other peer, or one that does not parse, is not local.

#include <string_view>

namespace auroraedge::server::auth {

bool IsLocalPeer(std::string_view peer);

}  // namespace auroraedge::server::auth
