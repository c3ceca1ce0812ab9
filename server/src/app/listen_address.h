#pragma once

#include <string>

namespace auroraedge::server::app {

// True for 127.0.0.0/8, ::1, "localhost" and unix sockets: addresses no
// other machine can reach. `listen_address` is HOST:PORT or unix:PATH.
bool IsLoopbackAddress(const std::string& listen_address);

}  // namespace auroraedge::server::app
