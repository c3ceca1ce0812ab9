#include "cli_commands.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "auroraedge/server/grpc_code_name.h"
#include "auroraedge/v1/admin.grpc.pb.h"
#include "auroraedge/v1/inference.grpc.pb.h"
#include "cli_connection.h"
#include "cli_request.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace auroraedge::server::app {
namespace {

constexpr int64_t kDefaultUnaryDeadlineMs = 10000;

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

void PrintJson(const google::protobuf::Message& message) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::cout << json;
}

void PrintTimings(const v1::Timings& t) {
  std::fprintf(stderr,
               "timings (s): queued=%.4f preprocessing=%.4f vision=%.4f prefill=%.4f "
               "decode=%.4f ttft=%.4f total=%.4f\n",
               t.queued_seconds(), t.preprocessing_seconds(), t.vision_seconds(),
               t.prefill_seconds(), t.decode_seconds(), t.time_to_first_token_seconds(),
               t.total_seconds());
}

void PrintSummary(const v1::GenerateResponse& response) {
  const v1::GenerateFinal& final = response.final();
  std::fprintf(stderr, "request %s: finish=%s prompt_tokens=%u completion_tokens=%u images=%u\n",
               response.request_id().c_str(), FinishReasonName(final.finish_reason()),
               final.prompt_tokens(), final.completion_tokens(), final.images());
  PrintTimings(final.timings());
}

// One line per token on stderr: its id and log-probability, then the
// alternatives asked for.
void PrintLogprobs(const v1::GenerateChunk& chunk) {
  for (const v1::TokenLogprob& token : chunk.logprobs()) {
    std::fprintf(stderr, "token %d logprob %.4f", token.token_id(), token.logprob());
    for (const v1::TopLogprob& top : token.top_logprobs()) {
      std::fprintf(stderr, " | %d %.4f", top.token_id(), top.logprob());
    }
    std::fprintf(stderr, "\n");
  }
}

const char* DecisionName(v1::Decision decision) {
  switch (decision) {
    case v1::DECISION_OK:
      return "OK";
    case v1::DECISION_NG:
      return "NG";
    case v1::DECISION_UNKNOWN:
      return "UNKNOWN";
    default:
      return "none";
  }
}

}  // namespace

int RunHealth(const CliArgs& args) {
  const CliConnection connection(args);
  auto stub = grpc::health::v1::Health::NewStub(connection.channel());
  grpc::ClientContext context;
  connection.Authorize(&context);
  SetDeadline(&context, UnaryDeadline(args));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, {}, &response);
  if (!status.ok()) return ReportError(status);
  std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status()) << "\n";
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kCliOk
                                                                             : kCliServerError;
}

int RunInfo(const CliArgs& args) {
  const CliConnection connection(args);
  auto stub = v1::Inference::NewStub(connection.channel());
  grpc::ClientContext context;
  connection.Authorize(&context);
  SetDeadline(&context, UnaryDeadline(args));
  v1::ModelInfo info;
  const grpc::Status status = stub->GetModelInfo(&context, {}, &info);
  if (!status.ok()) return ReportError(status);
  PrintJson(info);
  return kCliOk;
}

int RunLoadModel(const CliArgs& args) {
  const CliConnection connection(args);
  auto stub = v1::Admin::NewStub(connection.channel());
  grpc::ClientContext context;
  connection.Authorize(&context);
  // A large model may take minutes to load: no deadline unless asked for.
  SetDeadline(&context, args.deadline_ms);
  v1::LoadModelRequest request;
  request.set_model_dir(args.model_dir);
  v1::LoadModelResponse response;
  const grpc::Status status = stub->LoadModel(&context, request, &response);
  if (!status.ok()) return ReportError(status);
  PrintJson(response);
  return kCliOk;
}

int RunGenerate(const CliArgs& args) {
  const v1::GenerateRequest request = BuildGenerateRequest(args.generate);
  const CliConnection connection(args);
  auto stub = v1::Inference::NewStub(connection.channel());
  grpc::ClientContext context;
  connection.Authorize(&context);
  SetDeadline(&context, args.deadline_ms);
  auto reader = stub->Generate(&context, request);
  v1::GenerateResponse response;
  while (reader->Read(&response)) {
    if (response.has_chunk()) {
      PrintLogprobs(response.chunk());
      std::cout << response.chunk().text() << std::flush;
    } else if (response.has_final()) {
      std::cout << "\n" << std::flush;
      PrintSummary(response);
    }
  }
  const grpc::Status status = reader->Finish();
  return status.ok() ? kCliOk : ReportError(status);
}

int RunInspect(const CliArgs& args) {
  const v1::InspectRequest request = BuildInspectRequest(args.inspect);
  const CliConnection connection(args);
  auto stub = v1::Inference::NewStub(connection.channel());
  grpc::ClientContext context;
  connection.Authorize(&context);
  SetDeadline(&context, args.deadline_ms);
  v1::InspectResponse response;
  const grpc::Status status = stub->Inspect(&context, request, &response);
  if (!status.ok()) return ReportError(status);
  for (const v1::LabelScore& score : response.scores()) {
    std::printf("%s %.4f\n", score.label().c_str(), score.probability());
  }
  std::printf("label: %s\n", response.label().c_str());
  if (request.has_decision_rule()) std::printf("decision: %s\n", DecisionName(response.decision()));
  std::fprintf(stderr, "request %s: model_version=%s prompt_tokens=%u images=%u\n",
               response.request_id().c_str(), response.model_version().c_str(),
               response.prompt_tokens(), response.images());
  PrintTimings(response.timings());
  return kCliOk;
}

}  // namespace auroraedge::server::app
