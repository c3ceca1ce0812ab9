#include "message_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <map>
#include <string>

namespace auroraedge::server::grpc_api {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// Deeper than any auroraedge.v1 message; deeper input is not one of ours.
constexpr int kMaxDepth = 16;

enum class Walk { kOk, kMalformed, kNotUtf8 };

// Reads one message of `type` from `in` without building it, checking that
// every string field (at any depth) is UTF-8, as the parser will demand.
// On kNotUtf8, `problem` names the field by its path.
Walk CheckStrings(CodedInputStream* in, const Descriptor& type, const std::string& prefix,
                  int depth, std::string* problem) {
  std::map<int, int> occurrences;  // of each repeated field, for its index in the path
  while (true) {
    const uint32_t tag = in->ReadTag();
    if (tag == 0) return in->ConsumedEntireMessage() ? Walk::kOk : Walk::kMalformed;
    const FieldDescriptor* field = type.FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
    const bool text_or_message =
        field != nullptr &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED &&
        (field->type() == FieldDescriptor::TYPE_STRING ||
         field->type() == FieldDescriptor::TYPE_MESSAGE);
    if (!text_or_message) {
      if (!WireFormatLite::SkipField(in, tag)) return Walk::kMalformed;
      continue;
    }
    std::string path = prefix + field->name();
    if (field->is_repeated()) path += "[" + std::to_string(occurrences[field->number()]++) + "]";
    uint32_t length = 0;
    if (!in->ReadVarint32(&length)) return Walk::kMalformed;
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      std::string text;
      if (!in->ReadString(&text, static_cast<int>(length))) return Walk::kMalformed;
      const int valid = google::protobuf::internal::UTF8SpnStructurallyValid(text);
      if (valid != static_cast<int>(text.size())) {
        *problem = path + ": not valid UTF-8 (byte " + std::to_string(valid) + " of " +
                   std::to_string(text.size()) + "); text fields must be UTF-8";
        return Walk::kNotUtf8;
      }
      continue;
    }
    if (depth >= kMaxDepth) return Walk::kMalformed;
    const CodedInputStream::Limit limit = in->PushLimit(static_cast<int>(length));
    const Walk nested = CheckStrings(in, *field->message_type(), path + ".", depth + 1, problem);
    if (nested != Walk::kOk) return nested;
    // A sub-message cut short by the end of the input also ends "cleanly".
    if (in->BytesUntilLimit() != 0) return Walk::kMalformed;
    in->PopLimit(limit);
  }
}

}  // namespace

Status DecodeMessage(const grpc::ByteBuffer& bytes, google::protobuf::Message* out) {
  const Descriptor& type = *out->GetDescriptor();
  std::string problem;
  Walk walk;
  {
    grpc::ByteBuffer view(bytes);  // shares the slices
    grpc::ProtoBufferReader reader(&view);
    CodedInputStream in(&reader);
    walk = CheckStrings(&in, type, "", 0, &problem);
  }
  if (walk == Walk::kNotUtf8) return {StatusCode::kInvalidArgument, problem};
  grpc::ByteBuffer view(bytes);
  grpc::ProtoBufferReader reader(&view);
  if (walk == Walk::kMalformed || !out->ParseFromZeroCopyStream(&reader)) {
    return {StatusCode::kInvalidArgument,
            "request: not a valid " + type.full_name() + " (the bytes are not protobuf)"};
  }
  return Status::Ok();
}

grpc::ByteBuffer EncodeMessage(const google::protobuf::Message& message) {
  grpc::ByteBuffer bytes;
  bool own_buffer = false;
  // Fails only for messages over 2 GiB, which no response comes near.
  static_cast<void>(grpc::SerializationTraits<google::protobuf::Message>::Serialize(message, &bytes,
                                                                                    &own_buffer));
  return bytes;
}

}  // namespace auroraedge::server::grpc_api
