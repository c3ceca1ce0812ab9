#pragma once

// The bodies of auroraedge-cli's commands; each returns the process exit
// code documented in CliUsage().

#include "cli_options.h"

namespace auroraedge::server::app {

inline constexpr int kCliOk = 0;
inline constexpr int kCliServerError = 1;
inline constexpr int kCliUsage = 2;
inline constexpr int kCliUnreachable = 3;

int RunHealth(const CliArgs& args);
int RunInfo(const CliArgs& args);
int RunGenerate(const CliArgs& args);
int RunLoadModel(const CliArgs& args);
int RunInspect(const CliArgs& args);

}  // namespace auroraedge::server::app
