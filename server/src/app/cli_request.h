#pragma once

// The Generate and Inspect requests `auroraedge-cli generate` and
// `auroraedge-cli inspect` command lines ask for.

#include "auroraedge/v1/inference.pb.h"
#include "cli_options.h"

namespace auroraedge::server::app {

// Reads the image files; throws UsageError naming a file that cannot be
// read or a pixel format that does not exist.
v1::GenerateRequest BuildGenerateRequest(const GenerateArgs& args);
v1::InspectRequest BuildInspectRequest(const InspectArgs& args);

}  // namespace auroraedge::server::app
