#include "listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace auroraedge::server::app {

bool IsLoopbackAddress(const std::string& listen_address) {
  if (listen_address.rfind("unix:", 0) == 0) return true;
  const size_t colon = listen_address.rfind(':');
  std::string host = listen_address.substr(0, colon == std::string::npos ? 0 : colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") return true;
  in_addr ipv4{};
  if (inet_pton(AF_INET, host.c_str(), &ipv4) == 1) return (ntohl(ipv4.s_addr) >> 24) == 127;
  in6_addr ipv6{};
  return inet_pton(AF_INET6, host.c_str(), &ipv6) == 1 && IN6_IS_ADDR_LOOPBACK(&ipv6);
}

}  // namespace auroraedge::server::app
