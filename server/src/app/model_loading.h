#pragma once

// How auroraedge-server loads a model, the first one at start and every
// later one for Admin.LoadModel: with the server's options, its own
// metrics observer (the model's labels, the shared request log), and the
// load and warm-up times apart.

#include <memory>
#include <string>

#include "auroraedge/server/grpc_server.h"
#include "auroraedge/server/metrics.h"
#include "auroraedge/server/request_log.h"
#include "auroraedge/server/serving_front_end.h"

namespace auroraedge::server::app {

// `options` with `model_dir` as the model; `log` may be null. Throws what
// ServingFrontEnd::Start throws.
LoadedModel LoadServedModel(ServingOptions options, const std::string& model_dir,
                            std::shared_ptr<Metrics> metrics, std::shared_ptr<RequestLog> log);

}  // namespace auroraedge::server::app
