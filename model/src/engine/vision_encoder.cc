#include "vision_encoder.h"

#include "script_module.h"

namespace auroraedge::model {

VisionEncoder::VisionEncoder(const std::string& path, const ModelConfig& config,
                             const at::Device& device, at::ScalarType dtype)
    : module_(LoadScriptModule(path, "vision.pt", {"forward"}, device, dtype)),
      hidden_size_(config.decoder.hidden_size),
      dtype_(dtype) {}

at::Tensor VisionEncoder::Encode(const at::Tensor& patches, const at::Tensor& grid_hw) {
  auto out = module_.forward({patches.to(dtype_), grid_hw}).toTensor();
  CheckOutputShape("vision.pt forward", out, {patches.size(0), patches.size(1), hidden_size_});
  return out;
}

int64_t VisionEncoder::weight_bytes() const { return ParameterBytes(module_); }

}  // namespace auroraedge::model
