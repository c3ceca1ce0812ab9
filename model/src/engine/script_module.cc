#include "script_module.h"

#include <sstream>

#include "auroraedge/model/model_config.h"

namespace auroraedge::model {

torch::jit::Module LoadScriptModule(const std::string& path, const std::string& display_name,
                                    const std::vector<std::string>& methods,
                                    const at::Device& device, at::ScalarType dtype) {
  // TorchScript's default (profiling) executor specializes a method's graph
  // to the input shapes it has seen and profiles and re-optimizes it when
  // they change; every request brings its own image grid and batch, so the
  // server paid 40-300 ms per image encode. The legacy executor optimizes
  // once per input rank and dtype. Process-wide, and the same for every load.
  torch::jit::getProfilingMode() = false;
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, device);
  } catch (const c10::Error& e) {
    throw ModelLoadError(display_name +
                         ": not a loadable TorchScript module: " + e.what_without_backtrace());
  }
  for (const auto& method : methods) {
    if (!module.find_method(method)) {
      throw ModelLoadError(display_name + ": TorchScript method '" + method + "' is missing");
    }
  }
  module.to(dtype);
  module.eval();
  return module;
}

int64_t ParameterBytes(const torch::jit::Module& module, const std::string& prefix) {
  int64_t bytes = 0;
  for (const auto& parameter : module.named_parameters()) {
    if (parameter.name.rfind(prefix, 0) == 0) bytes += parameter.value.nbytes();
  }
  return bytes;
}

void CheckOutputShape(const std::string& what, const at::Tensor& t,
                      const std::vector<int64_t>& expected) {
  if (t.sizes() == at::IntArrayRef(expected)) return;
  std::ostringstream message;
  message << what << ": expected shape " << at::IntArrayRef(expected) << ", found " << t.sizes();
  throw std::runtime_error(message.str());
}

}  // namespace auroraedge::model
