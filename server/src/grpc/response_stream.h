#pragma once

// The GenerationStream of one Generate call. The engine loop pushes chunks
// from its thread; the stream queues them (bounded) and hands them to the
// call one write at a time, the next from the previous write's completion,
// then ends the call with its status. It never blocks the engine.

#include <grpcpp/support/status.h>

#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "auroraedge/server/generation.h"
#include "auroraedge/v1/inference.pb.h"

namespace auroraedge::server::grpc_api {

class ResponseStream : public GenerationStream {
 public:
  // The call the stream writes to (the gRPC reactor). Write is called with
  // at most one write in flight; End once, after the last write completed.
  class Call {
   public:
    virtual ~Call() = default;
    // `response` stays valid until OnWriteDone.
    virtual void Write(const v1::GenerateResponse& response) = 0;
    virtual void End(const grpc::Status& status) = 0;
  };

  // `call` must stay valid until its End has completed. At most
  // `max_buffered_chunks` chunks wait (the one being written included).
  ResponseStream(std::string request_id, int max_buffered_chunks, Call* call);

  // Engine side (any thread).
  bool OnChunk(GenerationChunk chunk) override;
  void OnFinal(const GenerationFinal& final) override;
  void OnError(const Status& status) override;

  // Call side: the write handed to Call::Write completed; `ok` is false when
  // the client is gone, and what is still queued is dropped.
  void OnWriteDone(bool ok);

 private:
  // Starts the next write or the end, if one is due; releases `lock` first.
  void Advance(std::unique_lock<std::mutex> lock);

  const std::string request_id_;
  const size_t max_buffered_chunks_;
  Call* const call_;

  std::mutex mutex_;
  std::deque<v1::GenerateResponse> queue_;  // front is in flight when write_in_flight_
  bool write_in_flight_ = false;
  bool client_gone_ = false;
  std::optional<grpc::Status> end_status_;
  bool ended_ = false;
};

}  // namespace auroraedge::server::grpc_api
