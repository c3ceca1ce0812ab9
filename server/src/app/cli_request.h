#pragma once

// The Generate request an `auroraedge-cli generate` command line asks for.

#include "auroraedge/v1/inference.pb.h"
#include "cli_options.h"

namespace auroraedge::server::app {

// Reads the image files; throws UsageError naming a file that cannot be
// read or a pixel format that does not exist.
v1::GenerateRequest BuildGenerateRequest(const GenerateArgs& args);

}  // namespace auroraedge::server::app
