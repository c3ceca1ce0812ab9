#include "model_loading.h"

#include <chrono>
#include <utility>

#include "auroraedge/server/metrics_observer.h"

namespace auroraedge::server::app {

LoadedModel LoadServedModel(ServingOptions options, const std::string& model_dir,
                            std::shared_ptr<Metrics> metrics, std::shared_ptr<RequestLog> log) {
  options.engine.model_dir = model_dir;
  auto observer = std::make_shared<MetricsObserver>(std::move(metrics), std::move(log));
  const auto start = std::chrono::steady_clock::now();
  LoadedModel loaded;
  loaded.engine = ServingFrontEnd::Start(options, observer);
  const double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Start reports the load alone to the observer before it warms up.
  loaded.load_seconds = observer->model() ? observer->model()->load_seconds : total;
  loaded.warm_up_seconds = total - loaded.load_seconds;
  loaded.options = std::move(options);
  return loaded;
}

}  // namespace auroraedge::server::app
