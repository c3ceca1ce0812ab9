#include "compress_fusion.h"

#include "script_module.h"

namespace auroraedge::model {
namespace {

FusionKv ToFusionKv(const c10::IValue& value) {
  const auto& elements = value.toTupleRef().elements();
  return {elements.at(0).toTensor(), elements.at(1).toTensor()};
}

}  // namespace

CompressFusion::CompressFusion(const std::string& path, const ModelConfig& config,
                               const at::Device& device, at::ScalarType dtype)
    : module_(LoadScriptModule(path, "compress_fusion.pt", {"compress", "cross_kv", "fuse"}, device,
                               dtype)),
      config_(config) {}

at::Tensor CompressFusion::Compress(const at::Tensor& visual, const at::Tensor& valid) {
  auto out = module_.get_method("compress")({visual, valid}).toTensor();
  CheckOutputShape("compress_fusion.pt compress", out,
                   {visual.size(0), config_.compressor.num_tokens, config_.decoder.hidden_size});
  return out;
}

FusionKv CompressFusion::CrossKv(const at::Tensor& visual_rows) {
  auto kv = ToFusionKv(module_.get_method("cross_kv")({visual_rows.unsqueeze(0)}));
  CheckOutputShape("compress_fusion.pt cross_kv", kv.k,
                   {1, config_.fusion.num_heads, visual_rows.size(0), config_.fusion.head_dim});
  return kv;
}

std::pair<at::Tensor, FusionKv> CompressFusion::Fuse(const at::Tensor& text,
                                                     const at::Tensor& positions,
                                                     const FusionKv& past, const FusionKv& cross) {
  const auto result =
      module_.get_method("fuse")({text.unsqueeze(0), positions, past.k, past.v, cross.k, cross.v});
  const auto& elements = result.toTupleRef().elements();
  auto out = elements.at(0).toTensor();
  CheckOutputShape("compress_fusion.pt fuse", out, {1, text.size(0), config_.decoder.hidden_size});
  FusionKv grown{elements.at(1).toTensor(), elements.at(2).toTensor()};
  CheckOutputShape(
      "compress_fusion.pt fuse cache", grown.k,
      {1, config_.fusion.num_heads, past.k.size(2) + text.size(0), config_.fusion.head_dim});
  return {out.squeeze(0), std::move(grown)};
}

int64_t CompressFusion::weight_bytes() const { return ParameterBytes(module_); }

int64_t CompressFusion::fusion_weight_bytes() const { return ParameterBytes(module_, "fusion."); }

FusionKv CompressFusion::EmptyCache(const at::TensorOptions& options) const {
  const auto empty = at::empty({1, config_.fusion.num_heads, 0, config_.fusion.head_dim}, options);
  return {empty, empty};
}

}  // namespace auroraedge::model
