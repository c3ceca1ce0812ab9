#include "engine_options.h"

#include <stdexcept>

#ifdef AURORAEDGE_CUDA
#include <torch/cuda.h>
#endif

namespace auroraedge::model {

at::Device ParseDevice(const std::string& device) {
  if (device == "cpu") return at::Device(at::kCPU);
  if (device.rfind("cuda", 0) != 0) {
    throw std::invalid_argument("EngineOptions.device: expected \"cpu\" or \"cuda[:N]\", found \"" +
                                device + "\"");
  }
#ifdef AURORAEDGE_CUDA
  if (!torch::cuda::is_available()) {
    throw std::invalid_argument("EngineOptions.device: \"" + device +
                                "\" but LibTorch sees no CUDA device");
  }
  try {
    return at::Device(device);
  } catch (const c10::Error&) {
    throw std::invalid_argument("EngineOptions.device: \"" + device + "\" is not a device name");
  }
#else
  throw std::invalid_argument("EngineOptions.device: \"" + device +
                              "\" needs a build with -DAURORAEDGE_CUDA=ON");
#endif
}

at::ScalarType ParseDtype(const std::string& dtype) {
  if (dtype == "float32") return at::kFloat;
  if (dtype == "bfloat16") return at::kBFloat16;
  throw std::invalid_argument(
      "EngineOptions.dtype: expected \"float32\" or \"bfloat16\", found \"" + dtype + "\"");
}

}  // namespace auroraedge::model
