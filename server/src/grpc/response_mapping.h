#pragma once

// The engine's results and statuses in auroraedge.v1 and gRPC terms.

#include <grpcpp/support/status.h>

#include <string>

#include "auroraedge/server/generation.h"
#include "auroraedge/server/inspection.h"
#include "auroraedge/server/status.h"
#include "auroraedge/v1/inference.pb.h"

namespace auroraedge::server::grpc_api {

// server::StatusCode uses gRPC's numbers: the mapping is one to one.
grpc::Status ToGrpcStatus(const Status& status);

v1::FinishReason ToProtoFinishReason(FinishReason reason);

v1::GenerateResponse ChunkResponse(const std::string& request_id, const GenerationChunk& chunk);
v1::GenerateResponse FinalResponse(const std::string& request_id, const GenerationFinal& final);
v1::InspectResponse InspectResponse(const std::string& request_id, const InspectionResult& result);

// The status a stream ends with after its final message: OK, or CANCELLED /
// DEADLINE_EXCEEDED when the generation was cut short by them.
grpc::Status FinalStatus(const GenerationFinal& final);

}  // namespace auroraedge::server::grpc_api
