#pragma once

// A model change (auroraedge.v1.Admin.LoadModel) without downtime: loads
// and warms up the new model directory on a thread of its own while the
// current model goes on serving, installs it in the gate (every new call
// gets it from then on) and hands the replaced model to the retirer, which
// releases it once its streams have finished. One change at a time. Plain
// C++: the gRPC service maps the outcome.

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "auroraedge/server/grpc_server.h"
#include "engine_gate.h"
#include "model_retirer.h"

namespace auroraedge::server::grpc_api {

// What a change did, for the LoadModel response.
struct ModelChange {
  std::string name;  // the model now serving
  std::string version;
  double load_seconds = 0;
  double warm_up_seconds = 0;
  std::string previous_name;  // the model it replaced
  std::string previous_version;
};

class ModelSwitch {
 public:
  using Done = std::function<void(const Status& status, const ModelChange& change)>;

  // All (not owned) must outlive this; `loader` and `events` may hold empty
  // functions.
  ModelSwitch(EngineGate* gate, const ModelLoader* loader, const ModelEventListener* events);
  ~ModelSwitch();  // Close()
  ModelSwitch(const ModelSwitch&) = delete;
  ModelSwitch& operator=(const ModelSwitch&) = delete;

  // Starts changing to `model_dir`. OK: `done` is called once, on the
  // switch's thread, with OK and the change, or with why the model in
  // service stays: INVALID_ARGUMENT (the directory cannot be served; the
  // loader's message names the file), RESOURCE_EXHAUSTED (out of memory),
  // UNAVAILABLE (a drain began meanwhile). Otherwise `done` is never
  // called: ABORTED while another change is under way, UNAVAILABLE before
  // the first model serves or while draining, FAILED_PRECONDITION when the
  // server has no loader. Thread-safe.
  // `requested_by` names the caller in the log.
  Status Start(const std::string& model_dir, const std::string& requested_by, Done done);

  // Stops releasing replaced models: a drain ends, and the gate's Detach
  // hands them over. Idempotent.
  void StopReleasing();
  // Waits for a change under way to end (a load cannot be cut short), then
  // refuses new ones with UNAVAILABLE and stops releasing. Idempotent.
  void Close();

 private:
  void Change(const std::string& model_dir, const std::string& requested_by, const Done& done);
  // Loads, installs and retires; fills `change` or returns why not.
  Status LoadAndInstall(const std::string& model_dir, const std::string& requested_by,
                        ModelChange* change);
  void Report(bool warning, const std::string& message) const;

  EngineGate* const gate_;
  const ModelLoader* const loader_;
  const ModelEventListener* const events_;
  ModelRetirer retirer_;

  std::mutex mutex_;
  bool closed_ = false;                               // guarded by mutex_
  bool changing_ = false;                             // guarded by mutex_
  std::string changing_to_;                           // guarded by mutex_
  std::chrono::steady_clock::time_point started_at_;  // guarded by mutex_
  std::thread thread_;                                // the last change's; guarded by mutex_
};

}  // namespace auroraedge::server::grpc_api
