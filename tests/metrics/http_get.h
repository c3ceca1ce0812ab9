#pragma once

#include <string>

namespace auroraedge::server::testing {

// Sends "<method> <target> HTTP/1.1" to 127.0.0.1:<port>; returns the whole
// response (status line, headers and body), or "" when the connection fails.
std::string HttpRequest(int port, const std::string& method, const std::string& target);

inline std::string HttpGet(int port, const std::string& target) {
  return HttpRequest(port, "GET", target);
}

}  // namespace auroraedge::server::testing
