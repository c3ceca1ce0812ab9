#include "auroraedge/server/request_log.h"

#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "names.h"

namespace auroraedge::server {
namespace {

std::string Utc(std::chrono::system_clock::time_point time) {
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%S", &tm);
  char result[40];
  std::snprintf(result, sizeof(result), "%s.%03dZ", buffer, static_cast<int>(millis % 1000));
  return result;
}

double Millis(double seconds) { return seconds * 1000.0; }

// logfmt value: bare when it is a plain word, otherwise quoted with \" \\ and
// control characters escaped, so that one request is always one line.
std::string LogfmtValue(const std::string& value) {
  bool plain = !value.empty();
  for (unsigned char c : value) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) plain = false;
  }
  if (plain) return value;
  std::string quoted = "\"";
  for (unsigned char c : value) {
    switch (c) {
      case '"':
        quoted += "\\\"";
        break;
      case '\\':
        quoted += "\\\\";
        break;
      case '\n':
        quoted += "\\n";
        break;
      case '\r':
        quoted += "\\r";
        break;
      case '\t':
        quoted += "\\t";
        break;
      default:
        if (c < ' ' || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
          quoted += escaped;
        } else {
          quoted += static_cast<char>(c);
        }
    }
  }
  return quoted + "\"";
}

std::string Join(const std::vector<ImageRecord>& images, std::string (*field)(const ImageRecord&)) {
  std::string joined;
  for (const ImageRecord& image : images) {
    if (!joined.empty()) joined += ',';
    joined += field(image);
  }
  return joined;
}

std::string ImageSize(const ImageRecord& image) {
  return std::to_string(image.width) + "x" + std::to_string(image.height);
}

std::string ImageHash(const ImageRecord& image) { return image.sha256; }

std::string Fixed(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.3f", value);
  return buffer;
}

// An inspection's scores: "OK:0.0271,NG:0.9729" (probabilities, 4 digits).
std::string Scores(const InspectionRecord& inspection) {
  std::string joined;
  for (const LabelScore& score : inspection.scores) {
    char probability[32];
    std::snprintf(probability, sizeof(probability), "%.4f", score.probability);
    if (!joined.empty()) joined += ',';
    joined += score.label + ":" + probability;
  }
  return joined;
}

std::vector<std::pair<const char*, double>> TimingsMs(const StageTimings& t) {
  return {{"queued_ms", Millis(t.queued)}, {"preprocessing_ms", Millis(t.preprocessing)},
          {"vision_ms", Millis(t.vision)}, {"prefill_ms", Millis(t.prefill)},
          {"decode_ms", Millis(t.decode)}, {"ttft_ms", Millis(t.time_to_first_token)},
          {"total_ms", Millis(t.total)}};
}

std::string TextLine(const RequestRecord& r, const std::string& time) {
  std::string line;
  const auto add = [&line](const char* key, const std::string& value) {
    if (!line.empty()) line += ' ';
    line += key;
    line += '=';
    line += LogfmtValue(value);
  };
  add("time", time);
  add("request_id", r.request_id);
  add("client", r.client_address);
  add("model_version", r.model_version);
  add("priority", std::string(PriorityName(r.priority)));
  add("status", std::string(GrpcCodeName(static_cast<int>(r.status.code))));
  if (!r.status.ok()) add("error", r.status.message);
  add("finish_reason", std::string(FinishReasonName(r.finish_reason)));
  add("images", std::to_string(r.images.size()));
  add("image_sizes", Join(r.images, ImageSize));
  add("image_sha256", Join(r.images, ImageHash));
  add("prompt_tokens", std::to_string(r.prompt_tokens));
  add("completion_tokens", std::to_string(r.completion_tokens));
  for (const auto& [key, ms] : TimingsMs(r.timings)) add(key, Fixed(ms));
  add("output", r.output_text);
  if (r.inspection) {
    add("inspection_scores", Scores(*r.inspection));
    add("decision", std::string(DecisionName(r.inspection->decision)));
  }
  return line;
}

std::string JsonLine(const RequestRecord& r, const std::string& time) {
  nlohmann::ordered_json line;
  line["time"] = time;
  line["request_id"] = r.request_id;
  line["client"] = r.client_address;
  line["model_version"] = r.model_version;
  line["priority"] = PriorityName(r.priority);
  line["status"] = GrpcCodeName(static_cast<int>(r.status.code));
  if (!r.status.ok()) line["error"] = r.status.message;
  line["finish_reason"] = FinishReasonName(r.finish_reason);
  line["images"] = nlohmann::ordered_json::array();
  for (const ImageRecord& image : r.images) {
    line["images"].push_back(
        {{"width", image.width}, {"height", image.height}, {"sha256", image.sha256}});
  }
  line["prompt_tokens"] = r.prompt_tokens;
  line["completion_tokens"] = r.completion_tokens;
  // Microsecond resolution, as in the text lines.
  for (const auto& [key, ms] : TimingsMs(r.timings)) {
    line["timings"][key] = std::round(ms * 1000.0) / 1000.0;
  }
  line["output"] = r.output_text;
  if (r.inspection) {
    nlohmann::ordered_json& inspection = line["inspection"];
    inspection["scores"] = nlohmann::ordered_json::array();
    for (const LabelScore& score : r.inspection->scores) {
      inspection["scores"].push_back(
          {{"label", score.label}, {"probability", score.probability}, {"logprob", score.logprob}});
    }
    inspection["decision"] = DecisionName(r.inspection->decision);
  }
  // Output text is whole UTF-8 characters by contract; replace rather than
  // throw should a broken byte ever slip through.
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

RequestLogFormat ParseRequestLogFormat(const std::string& name) {
  if (name == "text") return RequestLogFormat::kText;
  if (name == "json") return RequestLogFormat::kJson;
  throw std::invalid_argument("request log format must be \"text\" or \"json\", got \"" + name +
                              "\"");
}

std::string FormatRequestLogLine(const RequestRecord& request,
                                 std::chrono::system_clock::time_point finished_at,
                                 RequestLogFormat format) {
  const std::string time = Utc(finished_at);
  return format == RequestLogFormat::kJson ? JsonLine(request, time) : TextLine(request, time);
}

struct RequestLog::Impl {
  RequestLogFormat format;
  std::shared_ptr<spdlog::logger> logger;
};

RequestLog::RequestLog(const RequestLogOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->format = options.format;
  spdlog::sink_ptr sink;
  if (options.path.empty()) {
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  } else {
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.path);
    } catch (const std::exception& e) {
      throw std::runtime_error("request log: cannot open \"" + options.path + "\": " + e.what());
    }
  }
  // Not registered with spdlog's global registry: one per RequestLog.
  impl_->logger = std::make_shared<spdlog::logger>("request", std::move(sink));
  impl_->logger->set_pattern("%v");
  impl_->logger->flush_on(spdlog::level::info);
}

RequestLog::~RequestLog() = default;

void RequestLog::Write(const RequestRecord& request) {
  impl_->logger->info(
      FormatRequestLogLine(request, std::chrono::system_clock::now(), impl_->format));
}

}  // namespace auroraedge::server
