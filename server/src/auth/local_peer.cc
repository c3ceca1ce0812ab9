#include "local_peer.h"

#include <arpa/inet.h>

#include <string>

namespace auroraedge::server::auth {
namespace {

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// "HOST:PORT" -> HOST, for an IPv4 address.
bool IsLoopbackIpv4(std::string_view host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos) return false;
  const std::string host(host_port.substr(0, colon));
  in_addr address{};
  if (inet_pton(AF_INET, host.c_str(), &address) != 1) return false;
  return (ntohl(address.s_addr) >> 24) == 127;  // 127.0.0.0/8
}

// "[ADDRESS]:PORT", the brackets possibly written %5B / %5D.
bool IsLoopbackIpv6(std::string_view bracketed) {
  std::string_view open = "[";
  std::string_view close = "]";
  if (StartsWith(bracketed, "%5B") || StartsWith(bracketed, "%5b")) {
    open = "%5B";
    close = bracketed.find("%5D") != std::string_view::npos ? "%5D" : "%5d";
  }
  if (!StartsWith(bracketed, open)) return false;
  const size_t end = bracketed.find(close);
  if (end == std::string_view::npos) return false;
  std::string host(bracketed.substr(open.size(), end - open.size()));
  const size_t zone = host.find('%');  // fe80::1%eth0
  if (zone != std::string::npos) host.resize(zone);
  in6_addr address{};
  if (inet_pton(AF_INET6, host.c_str(), &address) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&address)) return true;
  // ::ffff:127.x.x.x
  return IN6_IS_ADDR_V4MAPPED(&address) && address.s6_addr[12] == 127;
}

}  // namespace

bool IsLocalPeer(std::string_view peer) {
  if (StartsWith(peer, "unix:") || StartsWith(peer, "unix-abstract:")) return true;
  if (StartsWith(peer, "ipv4:")) return IsLoopbackIpv4(peer.substr(5));
  if (StartsWith(peer, "ipv6:")) return IsLoopbackIpv6(peer.substr(5));
  return false;
}

}  // namespace auroraedge::server::auth
