#include "vision_encoder.h"

#include <algorithm>
#include <filesystem>

#include "script_module.h"

namespace auroraedge::model {

namespace {

torch::jit::Module LoadVision(const std::string& model_dir, const at::Device& device,
                              at::ScalarType dtype, bool int8_weights) {
  if (!int8_weights) {
    return LoadScriptModule((std::filesystem::path(model_dir) / "vision.pt").string(), "vision.pt",
                            {"forward"}, device, dtype);
  }
  const std::string path = (std::filesystem::path(model_dir) / "vision_int8.pt").string();
  if (!std::filesystem::exists(path)) {
    throw ModelLoadError(
        "EngineOptions.weights: \"int8\" needs vision_int8.pt in " + model_dir +
        " (export_model.py writes it for a float32 directory; model/python/quantize_vision.py "
        "adds it to one written before)");
  }
  const auto& engines = at::globalContext().supportedQEngines();
  if (std::find(engines.begin(), engines.end(), at::QEngine::ONEDNN) == engines.end())
    throw ModelLoadError("vision_int8.pt: this LibTorch has no oneDNN quantized engine");
  // The quantized layers' packed weights are made for the engine selected
  // when the file is loaded.
  at::globalContext().setQEngine(at::QEngine::ONEDNN);
  return LoadScriptModule(path, "vision_int8.pt", {"forward"}, device, dtype);
}

}  // namespace

VisionEncoder::VisionEncoder(const std::string& model_dir, const ModelConfig& config,
                             const at::Device& device, at::ScalarType dtype, bool int8_weights)
    : module_(LoadVision(model_dir, device, dtype, int8_weights)),
      hidden_size_(config.decoder.hidden_size),
      dtype_(dtype) {}

at::Tensor VisionEncoder::Encode(const at::Tensor& patches, const at::Tensor& grid_hw) {
  auto out = module_.forward({patches.to(dtype_), grid_hw}).toTensor();
  CheckOutputShape("vision.pt forward", out, {patches.size(0), patches.size(1), hidden_size_});
  return out;
}

int64_t VisionEncoder::weight_bytes() const { return ParameterBytes(module_); }

}  // namespace auroraedge::model
