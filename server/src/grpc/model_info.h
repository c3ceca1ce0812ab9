#pragma once

// GetModelInfo's answer, from the engine's model config, the serving options
// and the server build.

#include "auroraedge/v1/inference.pb.h"
#include "engine_gate.h"

namespace auroraedge::server::grpc_api {

v1::ModelInfo DescribeModel(const EngineSnapshot& snapshot);

}  // namespace auroraedge::server::grpc_api
