#pragma once

// One structured line per finished request, so that a factory can trace any
// answer back to its input: request id, client address, the images' sizes and
// SHA-256 of the bytes sent, token counts, finish reason, status, the timing
// breakdown, the version of the model that ran it (RequestRecord's, so a
// stream that finishes on the old model after a model change says so) and
// the answer. Never image bytes, the prompt
// or anything the client authenticated with.
//
// Text lines are logfmt (key=value, values with spaces or quotes quoted and
// escaped); JSON lines are one object per line with the same keys.

#include <chrono>
#include <memory>
#include <string>

#include "auroraedge/server/serving_observer.h"

namespace auroraedge::server {

enum class RequestLogFormat { kText, kJson };

// Parses "text" or "json"; throws std::invalid_argument naming the value.
RequestLogFormat ParseRequestLogFormat(const std::string& name);

struct RequestLogOptions {
  RequestLogFormat format = RequestLogFormat::kText;
  std::string path;  // "" : standard output; otherwise appended to this file
};

// The line (without newline) for one request that finished at `finished_at`.
std::string FormatRequestLogLine(const RequestRecord& request,
                                 std::chrono::system_clock::time_point finished_at,
                                 RequestLogFormat format);

// Thread-safe writer; lines are flushed as they are written so that a crash
// loses none.
class RequestLog {
 public:
  // Throws std::runtime_error naming the path when the file cannot be opened.
  explicit RequestLog(const RequestLogOptions& options);
  ~RequestLog();
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  void Write(const RequestRecord& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace auroraedge::server
