#include "model_retirer.h"

#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <utility>

namespace auroraedge::server::grpc_api {
namespace {

// How often a model that still has requests is looked at. Releasing it a
// little late costs nothing but its memory for that long.
constexpr std::chrono::milliseconds kIdleCheckInterval{50};

std::string Seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", seconds);
  return text;
}

}  // namespace

ModelRetirer::ModelRetirer(EngineGate* gate, const ModelEventListener* events)
    : gate_(gate), events_(events), thread_([this] { Run(); }) {}

ModelRetirer::~ModelRetirer() { Stop(); }

void ModelRetirer::Retire(std::shared_ptr<ServedModel> model) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_) return;  // the gate holds it until Detach
  retiring_.push_back(std::move(model));
  wake_.notify_all();
}

void ModelRetirer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  retiring_.clear();  // still in the gate
}

void ModelRetirer::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (retiring_.empty()) {
      wake_.wait(lock, [this] { return stopping_ || !retiring_.empty(); });
      continue;
    }
    if (!ReleaseIdle(lock)) wake_.wait_for(lock, kIdleCheckInterval);
  }
}

bool ModelRetirer::ReleaseIdle(std::unique_lock<std::mutex>& lock) {
  for (auto it = retiring_.begin(); it != retiring_.end(); ++it) {
    // Idle for good: it stopped accepting when it was replaced.
    if (!(*it)->engine->WaitIdle(std::chrono::milliseconds(0))) continue;
    std::shared_ptr<ServedModel> model = std::move(*it);
    retiring_.erase(it);
    lock.unlock();
    gate_->Release(model.get());
    const model::ModelConfig config = model->engine->model_config();
    const double drained =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - model->replaced_at)
            .count();
    model.reset();  // the last reference: the engine stops, its memory is freed
    // glibc keeps freed heap pages mapped for reuse; the weights and the
    // KV cache of a model are worth giving back.
    malloc_trim(0);
    if (events_ != nullptr && *events_) {
      (*events_)(false, "model " + config.name + " " + config.version +
                            " released: its last request ended " + Seconds(drained) +
                            " after the switch");
    }
    lock.lock();
    return true;
  }
  return false;
}

}  // namespace auroraedge::server::grpc_api
