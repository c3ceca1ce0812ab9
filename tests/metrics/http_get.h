#pragma once

#include <string>

namespace auroraedge::server::testing {

// GET http://127.0.0.1:<port><path>; returns the whole response (status
// line, headers and body), or "" when the connection fails.
std::string HttpGet(int port, const std::string& path);

}  // namespace auroraedge::server::testing
