#pragma once

// The process's spdlog setup: log lines on standard error, as text or one
// JSON object per line.

#include <string>

#include "server_config.h"

namespace auroraedge::server::app {

// Throws ConfigError for an unknown level.
void ConfigureLogging(LogFormat format, const std::string& level);

}  // namespace auroraedge::server::app
