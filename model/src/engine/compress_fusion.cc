#include "compress_fusion.h"

#include "script_module.h"

namespace auroraedge::model {

CompressFusion::CompressFusion(const std::string& path, const ModelConfig& config,
                               const at::Device& device, at::ScalarType dtype)
    : module_(
          LoadScriptModule(path, "compress_fusion.pt", {"compress", "cross_kv"}, device, dtype)),
      config_(config),
      fusion_(module_, config, device) {}

at::Tensor CompressFusion::Compress(const at::Tensor& visual, const at::Tensor& valid) {
  auto out = module_.get_method("compress")({visual, valid}).toTensor();
  CheckOutputShape("compress_fusion.pt compress", out,
                   {visual.size(0), config_.compressor.num_tokens, config_.decoder.hidden_size});
  return out;
}

at::Tensor CompressFusion::CrossKv(const at::Tensor& visual_rows) {
  const auto result = module_.get_method("cross_kv")({visual_rows.unsqueeze(0)});
  const auto& elements = result.toTupleRef().elements();
  const auto k = elements.at(0).toTensor();
  CheckOutputShape("compress_fusion.pt cross_kv", k,
                   {1, config_.fusion.num_heads, visual_rows.size(0), config_.fusion.head_dim});
  return at::stack({k, elements.at(1).toTensor()}, 1);
}

int64_t CompressFusion::weight_bytes() const { return ParameterBytes(module_); }

int64_t CompressFusion::fusion_weight_bytes() const { return ParameterBytes(module_, "fusion."); }

}  // namespace auroraedge::model
