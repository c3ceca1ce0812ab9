#include "model_switch.h"

#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <utility>

namespace auroraedge::server::grpc_api {
namespace {

std::string Seconds(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", seconds);
  return text;
}

std::string Describe(const model::ModelConfig& config) {
  return config.name + " " + config.version;
}

}  // namespace

ModelSwitch::ModelSwitch(EngineGate* gate, const ModelLoader* loader,
                         const ModelEventListener* events)
    : gate_(gate), loader_(loader), events_(events), retirer_(gate, events) {}

ModelSwitch::~ModelSwitch() { Close(); }

void ModelSwitch::Close() {
  std::thread last;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    last = std::move(thread_);
  }
  if (last.joinable()) last.join();
  retirer_.Stop();
}

void ModelSwitch::StopReleasing() { retirer_.Stop(); }

Status ModelSwitch::Start(const std::string& model_dir, const std::string& requested_by,
                          Done done) {
  if (loader_ == nullptr || !*loader_) {
    return {StatusCode::kFailedPrecondition, "this server cannot load models"};
  }
  // Not before the first model serves: the options of later ones are
  // complete only then.
  const Status serving = gate_->CheckServing();
  if (!serving.ok()) return serving;
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return {StatusCode::kUnavailable, "the server is shutting down"};
  if (changing_) {
    const double running =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
    return {StatusCode::kAborted, "another LoadModel (" + changing_to_ + ", started " +
                                      Seconds(running) +
                                      " ago) is in progress; one at a time: retry when it has "
                                      "answered"};
  }
  // The previous change has answered: its thread is ending, if not gone.
  if (thread_.joinable()) thread_.join();
  changing_ = true;
  changing_to_ = model_dir;
  started_at_ = std::chrono::steady_clock::now();
  thread_ = std::thread([this, model_dir, requested_by, done = std::move(done)] {
    Change(model_dir, requested_by, done);
  });
  return Status::Ok();
}

void ModelSwitch::Change(const std::string& model_dir, const std::string& requested_by,
                         const Done& done) {
  ModelChange change;
  const Status status = LoadAndInstall(model_dir, requested_by, &change);
  {
    // Free before the caller hears back, so that it may start the next
    // change at once.
    std::lock_guard<std::mutex> lock(mutex_);
    changing_ = false;
  }
  done(status, change);
}

Status ModelSwitch::LoadAndInstall(const std::string& model_dir, const std::string& requested_by,
                                   ModelChange* change) {
  Report(false, "LoadModel " + model_dir + " (from " + requested_by +
                    "): loading beside the model in service");
  LoadedModel loaded;
  Status refused;
  try {
    loaded = (*loader_)(model_dir);
  } catch (const std::bad_alloc&) {
    refused = {StatusCode::kResourceExhausted,
               "model_dir: out of memory loading " + model_dir + " beside the model in service"};
  } catch (const std::exception& error) {
    refused = {StatusCode::kInvalidArgument,
               "model_dir: cannot serve " + model_dir + ": " + error.what()};
  }
  if (!refused.ok()) {
    Report(true, "LoadModel refused: " + refused.message + "; the model in service goes on");
    return refused;
  }
  const model::ModelConfig config = loaded.engine->model_config();
  auto model = std::make_shared<ServedModel>(std::move(loaded.engine), std::move(loaded.options));
  std::shared_ptr<ServedModel> replaced;
  Status installed = gate_->Install(model, &replaced);
  if (!installed.ok()) {
    Report(true, "LoadModel " + model_dir + " dropped: " + installed.message);
    return installed;  // `model` is destroyed here, never having served
  }
  change->name = config.name;
  change->version = config.version;
  change->load_seconds = loaded.load_seconds;
  change->warm_up_seconds = loaded.warm_up_seconds;
  std::string message = "switched to model " + Describe(config) + " from " + model_dir + " (load " +
                        Seconds(loaded.load_seconds) + ", warm-up " +
                        Seconds(loaded.warm_up_seconds) + "): every new call gets it";
  if (replaced != nullptr) {
    const model::ModelConfig& previous = replaced->engine->model_config();
    change->previous_name = previous.name;
    change->previous_version = previous.version;
    message += "; " + Describe(previous) + " finishes the requests it has, then is released";
    retirer_.Retire(std::move(replaced));
  }
  Report(false, message);
  return Status::Ok();
}

void ModelSwitch::Report(bool warning, const std::string& message) const {
  if (events_ != nullptr && *events_) (*events_)(warning, message);
}

}  // namespace auroraedge::server::grpc_api
