#include "cli_commands.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "auroraedge/server/grpc_code_name.h"
#include "auroraedge/v1/inference.grpc.pb.h"
#include "cli_request.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace auroraedge::server::app {
namespace {

constexpr int64_t kDefaultUnaryDeadlineMs = 10000;

std::shared_ptr<grpc::Channel> Connect(const CliArgs& args) {
  grpc::ChannelArguments channel_args;
  channel_args.SetMaxReceiveMessageSize(-1);
  channel_args.SetMaxSendMessageSize(-1);
  return grpc::CreateCustomChannel(args.address, grpc::InsecureChannelCredentials(), channel_args);
}

void SetDeadline(grpc::ClientContext* context, int64_t deadline_ms) {
  if (deadline_ms > 0) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(deadline_ms));
  }
}

int64_t UnaryDeadline(const CliArgs& args) {
  return args.deadline_ms > 0 ? args.deadline_ms : kDefaultUnaryDeadlineMs;
}

int ReportError(const grpc::Status& status) {
  std::cerr << "auroraedge-cli: " << GrpcCodeName(static_cast<int>(status.error_code())) << ": "
            << status.error_message() << "\n";
  const bool unreachable = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                           status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
  return unreachable ? kCliUnreachable : kCliServerError;
}

const char* FinishReasonName(v1::FinishReason reason) {
  switch (reason) {
    case v1::FINISH_REASON_STOP:
      return "stop";
    case v1::FINISH_REASON_LENGTH:
      return "length";
    case v1::FINISH_REASON_STOP_STRING:
      return "stop_string";
    case v1::FINISH_REASON_CANCELLED:
      return "cancelled";
    case v1::FINISH_REASON_DEADLINE:
      return "deadline";
    default:
      return "unspecified";
  }
}

void PrintSummary(const v1::GenerateResponse& response) {
  const v1::GenerateFinal& final = response.final();
  const v1::Timings& t = final.timings();
  std::fprintf(stderr,
               "request %s: finish=%s prompt_tokens=%u completion_tokens=%u images=%u\n"
               "timings (s): queued=%.4f preprocessing=%.4f vision=%.4f prefill=%.4f "
               "decode=%.4f ttft=%.4f total=%.4f\n",
               response.request_id().c_str(), FinishReasonName(final.finish_reason()),
               final.prompt_tokens(), final.completion_tokens(), final.images(), t.queued_seconds(),
               t.preprocessing_seconds(), t.vision_seconds(), t.prefill_seconds(),
               t.decode_seconds(), t.time_to_first_token_seconds(), t.total_seconds());
}

}  // namespace

int RunHealth(const CliArgs& args) {
  auto stub = grpc::health::v1::Health::NewStub(Connect(args));
  grpc::ClientContext context;
  SetDeadline(&context, UnaryDeadline(args));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, {}, &response);
  if (!status.ok()) return ReportError(status);
  std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status()) << "\n";
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kCliOk
                                                                             : kCliServerError;
}

int RunInfo(const CliArgs& args) {
  auto stub = v1::Inference::NewStub(Connect(args));
  grpc::ClientContext context;
  SetDeadline(&context, UnaryDeadline(args));
  v1::ModelInfo info;
  const grpc::Status status = stub->GetModelInfo(&context, {}, &info);
  if (!status.ok()) return ReportError(status);
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(info, &json, options);
  std::cout << json;
  return kCliOk;
}

int RunGenerate(const CliArgs& args) {
  const v1::GenerateRequest request = BuildGenerateRequest(args.generate);
  auto stub = v1::Inference::NewStub(Connect(args));
  grpc::ClientContext context;
  SetDeadline(&context, args.deadline_ms);
  auto reader = stub->Generate(&context, request);
  v1::GenerateResponse response;
  while (reader->Read(&response)) {
    if (response.has_chunk()) {
      std::cout << response.chunk().text() << std::flush;
    } else if (response.has_final()) {
      std::cout << "\n" << std::flush;
      PrintSummary(response);
    }
  }
  const grpc::Status status = reader->Finish();
  return status.ok() ? kCliOk : ReportError(status);
}

}  // namespace auroraedge::server::app
