#include "response_stream.h"

#include <utility>

#include "response_mapping.h"

namespace auroraedge::server::grpc_api {

ResponseStream::ResponseStream(std::string request_id, int max_buffered_chunks, Call* call)
    : request_id_(std::move(request_id)),
      max_buffered_chunks_(static_cast<size_t>(std::max(1, max_buffered_chunks))),
      call_(call) {}

bool ResponseStream::OnChunk(GenerationChunk chunk) {
  std::unique_lock<std::mutex> lock(mutex_);
  // The client is gone and its cancellation is on the way to the engine.
  if (client_gone_) return true;
  if (queue_.size() >= max_buffered_chunks_) return false;
  queue_.push_back(ChunkResponse(request_id_, chunk));
  Advance(std::move(lock));
  return true;
}

void ResponseStream::OnFinal(const GenerationFinal& final) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!client_gone_) queue_.push_back(FinalResponse(request_id_, final));
  end_status_ = FinalStatus(final);
  Advance(std::move(lock));
}

void ResponseStream::OnError(const Status& status) {
  std::unique_lock<std::mutex> lock(mutex_);
  end_status_ = ToGrpcStatus(status);
  Advance(std::move(lock));
}

void ResponseStream::OnWriteDone(bool ok) {
  std::unique_lock<std::mutex> lock(mutex_);
  write_in_flight_ = false;
  queue_.pop_front();
  if (!ok) {
    client_gone_ = true;
    queue_.clear();
  }
  Advance(std::move(lock));
}

void ResponseStream::Advance(std::unique_lock<std::mutex> lock) {
  if (write_in_flight_ || ended_) return;
  if (!queue_.empty()) {
    write_in_flight_ = true;
    const v1::GenerateResponse& next = queue_.front();  // deque keeps it in place
    lock.unlock();
    call_->Write(next);
    return;
  }
  if (end_status_) {
    ended_ = true;
    grpc::Status status = *end_status_;
    lock.unlock();
    call_->End(status);
  }
}

}  // namespace auroraedge::server::grpc_api
