#pragma once

// Releases the models a model change replaced, once the requests they had
// accepted have all ended: forgets each in the gate, destroys it (its
// engine thread stops, its weights and KV cache are freed) and gives the
// freed heap back to the system, so that the process's resident memory
// comes back down. One thread of its own, asleep while no replaced model
// is left. Plain C++.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "auroraedge/server/grpc_server.h"
#include "engine_gate.h"

namespace auroraedge::server::grpc_api {

class ModelRetirer {
 public:
  // Both (not owned) must outlive this; `events` may hold an empty function.
  ModelRetirer(EngineGate* gate, const ModelEventListener* events);
  ~ModelRetirer();  // Stop()
  ModelRetirer(const ModelRetirer&) = delete;
  ModelRetirer& operator=(const ModelRetirer&) = delete;

  // `model` was replaced (EngineGate::Install); it is released once idle.
  void Retire(std::shared_ptr<ServedModel> model);
  // Ends the thread; the models not released yet stay in the gate, whose
  // Detach hands them over. Idempotent.
  void Stop();

 private:
  void Run();
  // Releases the idle ones among `retiring_`; true when one was.
  bool ReleaseIdle(std::unique_lock<std::mutex>& lock);

  EngineGate* const gate_;
  const ModelEventListener* const events_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::shared_ptr<ServedModel>> retiring_;  // guarded by mutex_
  bool stopping_ = false;                               // guarded by mutex_
  std::thread thread_;
};

}  // namespace auroraedge::server::grpc_api
