#include "auroraedge/server/request_log.h"

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace auroraedge::server {
namespace {

const auto kFinishedAt =
    std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));

RequestRecord Answered() {
  RequestRecord record;
  record.request_id = "line3-cam2-000187";
  record.client_address = "ipv4:10.0.0.7:51234";
  record.images = {{640, 480, std::string(64, 'a')}, {1280, 720, std::string(64, 'b')}};
  record.prompt_tokens = 150;
  record.completion_tokens = 6;
  record.finish_reason = FinishReason::kStop;
  record.timings.queued = 0.0015;
  record.timings.total = 0.25;
  record.output_text = "defect: scratch \"left\"\nconfidence=high";
  record.model_version = "0.3.1";
  return record;
}

TEST_CASE("a text request log line carries every traceability field on one line") {
  const std::string line = FormatRequestLogLine(Answered(), kFinishedAt, RequestLogFormat::kText);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.rfind("time=2023-11-14T22:13:20.123Z request_id=line3-cam2-000187 ", 0) == 0);
  for (const std::string& field : std::vector<std::string>{
           "client=ipv4:10.0.0.7:51234", "model_version=0.3.1", "priority=normal", "status=OK",
           "finish_reason=stop", "images=2", "image_sizes=640x480,1280x720",
           "image_sha256=" + std::string(64, 'a') + "," + std::string(64, 'b'), "prompt_tokens=150",
           "completion_tokens=6", "queued_ms=1.500", "total_ms=250.000",
           R"(output="defect: scratch \"left\"\nconfidence=high")"}) {
    INFO(field);
    CHECK(line.find(" " + field) != std::string::npos);
  }
  CHECK(line.find("error=") == std::string::npos);
}

TEST_CASE("a failed request's line names the status and the error") {
  RequestRecord record;
  record.request_id = "r2";
  record.status = {StatusCode::kInvalidArgument, "images[0]: 9000 x 9000 pixels exceeds 4096"};
  const std::string line = FormatRequestLogLine(record, kFinishedAt, RequestLogFormat::kText);
  CHECK(
      line.find(" status=INVALID_ARGUMENT error=\"images[0]: 9000 x 9000 pixels exceeds 4096\"") !=
      std::string::npos);
  CHECK(line.find(" finish_reason=error ") != std::string::npos);
  CHECK(line.find(" images=0 image_sizes=\"\" image_sha256=\"\" ") != std::string::npos);
}

TEST_CASE("control characters in logged text are escaped") {
  RequestRecord record = Answered();
  record.output_text = std::string("a\x01") + "b\tc\\";
  const std::string line = FormatRequestLogLine(record, kFinishedAt, RequestLogFormat::kText);
  CHECK(line.find(R"(output="a\u0001b\tc\\")") != std::string::npos);
}

TEST_CASE("a JSON request log line is one object with the same fields") {
  const std::string line = FormatRequestLogLine(Answered(), kFinishedAt, RequestLogFormat::kJson);
  CHECK(line.find('\n') == std::string::npos);
  const auto json = nlohmann::json::parse(line);
  CHECK(json["time"] == "2023-11-14T22:13:20.123Z");
  CHECK(json["request_id"] == "line3-cam2-000187");
  CHECK(json["client"] == "ipv4:10.0.0.7:51234");
  CHECK(json["model_version"] == "0.3.1");
  CHECK(json["status"] == "OK");
  CHECK_FALSE(json.contains("error"));
  CHECK(json["finish_reason"] == "stop");
  REQUIRE(json["images"].size() == 2);
  CHECK(json["images"][1]["width"] == 1280);
  CHECK(json["images"][1]["height"] == 720);
  CHECK(json["images"][1]["sha256"] == std::string(64, 'b'));
  CHECK(json["prompt_tokens"] == 150);
  CHECK(json["completion_tokens"] == 6);
  CHECK(json["timings"]["queued_ms"] == Approx(1.5));
  CHECK(json["timings"]["total_ms"] == Approx(250));
  CHECK(json["output"] == Answered().output_text);
}

TEST_CASE("JSON timings are rounded to microseconds") {
  RequestRecord record = Answered();
  record.timings.decode = 0.7497025470000001;
  const std::string line = FormatRequestLogLine(record, kFinishedAt, RequestLogFormat::kJson);
  CHECK(line.find("\"decode_ms\":749.703,") != std::string::npos);
}

TEST_CASE("invalid UTF-8 in the answer does not break a JSON line") {
  RequestRecord record = Answered();
  record.output_text = "ok \xff";
  const auto json =
      nlohmann::json::parse(FormatRequestLogLine(record, kFinishedAt, RequestLogFormat::kJson));
  CHECK(json["output"] == "ok \xEF\xBF\xBD");
}

TEST_CASE("the request log format is parsed by name") {
  CHECK(ParseRequestLogFormat("text") == RequestLogFormat::kText);
  CHECK(ParseRequestLogFormat("json") == RequestLogFormat::kJson);
  CHECK_THROWS_WITH(ParseRequestLogFormat("xml"),
                    Catch::Contains("\"text\" or \"json\"") && Catch::Contains("\"xml\""));
}

TEST_CASE("a request log file gets one line per request") {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("request_log_test." + std::to_string(getpid()) + ".log"))
                               .string();
  {
    RequestLog log({RequestLogFormat::kJson, path});
    log.Write(Answered());
    log.Write(Answered());
    // Flushed per line: readable before the log is closed.
    std::ifstream file(path);
    std::stringstream stream;
    stream << file.rdbuf();
    const std::string content = stream.str();
    CHECK(std::count(content.begin(), content.end(), '\n') == 2);
  }
  std::ifstream file(path);
  for (std::string line; std::getline(file, line);) {
    CHECK(nlohmann::json::parse(line)["request_id"] == "line3-cam2-000187");
  }
  std::remove(path.c_str());
}

TEST_CASE("an unwritable request log path is a clear error") {
  CHECK_THROWS_WITH(RequestLog({RequestLogFormat::kText, "/dev/null/requests.log"}),
                    Catch::Contains("/dev/null/requests.log"));
}

RequestRecord Inspected() {
  RequestRecord record;
  record.request_id = "insp-7";
  record.finish_reason = FinishReason::kStop;
  record.output_text = "NG";
  record.inspection =
      InspectionRecord{{{"OK", 0.0271, -3.6, 2}, {"NG", 0.9729, -0.03, 2}}, "NG", Decision::kNg};
  return record;
}

TEST_CASE("an inspection's line carries its scores and decision") {
  const std::string text = FormatRequestLogLine(Inspected(), kFinishedAt, RequestLogFormat::kText);
  CHECK(text.find(" output=NG inspection_scores=OK:0.0271,NG:0.9729 decision=ng") !=
        std::string::npos);
  const auto json = nlohmann::json::parse(
      FormatRequestLogLine(Inspected(), kFinishedAt, RequestLogFormat::kJson));
  CHECK(json["inspection"]["decision"] == "ng");
  REQUIRE(json["inspection"]["scores"].size() == 2);
  CHECK(json["inspection"]["scores"][1]["label"] == "NG");
  CHECK(json["inspection"]["scores"][1]["probability"] == Approx(0.9729));
  CHECK(json["inspection"]["scores"][1]["logprob"] == Approx(-0.03));
  // A Generate's line has neither.
  CHECK(FormatRequestLogLine(Answered(), kFinishedAt, RequestLogFormat::kText).find("decision=") ==
        std::string::npos);
  CHECK_FALSE(
      nlohmann::json::parse(FormatRequestLogLine(Answered(), kFinishedAt, RequestLogFormat::kJson))
          .contains("inspection"));
}

}  // namespace
}  // namespace auroraedge::server
