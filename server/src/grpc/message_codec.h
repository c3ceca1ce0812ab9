#pragma once

// Requests and responses of the raw (ByteBuffer) methods of
// auroraedge.v1.Inference. gRPC's own decoding answers a request it cannot
// decode with UNIMPLEMENTED and an empty message, and protobuf logs an
// error line for each string field that is not UTF-8; here such a request
// gets INVALID_ARGUMENT naming what could not be decoded, and nothing is
// logged.

#include <google/protobuf/message.h>
#include <grpcpp/support/byte_buffer.h>

#include "auroraedge/server/status.h"

namespace auroraedge::server::grpc_api {

// Fills `out` from `bytes`. INVALID_ARGUMENT when the bytes are not a
// protobuf message ("request: not a valid auroraedge.v1.GenerateRequest
// ...") or when a string field anywhere in it is not UTF-8 (named by its
// path, e.g. "sampling.stop[1]: not valid UTF-8 (byte 3 of 9)").
Status DecodeMessage(const grpc::ByteBuffer& bytes, google::protobuf::Message* out);

grpc::ByteBuffer EncodeMessage(const google::protobuf::Message& message);

}  // namespace auroraedge::server::grpc_api
