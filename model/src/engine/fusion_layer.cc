#include "fusion_layer.h"

#include <map>
#include <sstream>
#include <string>

#include "layer_ops.h"

namespace auroraedge::model {

FusionLayer::FusionLayer(const torch::jit::Module& module, const ModelConfig& config,
                         const at::Device& device)
    : head_dim_(config.fusion.head_dim),
      eps_(config.decoder.rms_norm_eps),
      rope_(config.fusion.head_dim, config.decoder.rope_theta, device) {
  std::map<std::string, at::Tensor> parameters;
  for (const auto& p : module.named_parameters()) parameters.emplace(p.name, p.value);
  const int64_t hidden = config.decoder.hidden_size;
  const int64_t inner = int64_t{config.fusion.num_heads} * config.fusion.head_dim;
  const int64_t mlp = config.fusion.intermediate_size;
  const auto take = [&](const std::string& name, std::vector<int64_t> shape) {
    const std::string full = "fusion." + name;
    const auto it = parameters.find(full);
    if (it == parameters.end()) {
      throw ModelLoadError("compress_fusion.pt: parameter '" + full + "' is missing");
    }
    if (it->second.sizes() != at::IntArrayRef(shape)) {
      std::ostringstream message;
      message << "compress_fusion.pt: parameter '" << full << "': expected shape "
              << at::IntArrayRef(shape) << ", found " << it->second.sizes();
      throw ModelLoadError(message.str());
    }
    return it->second;
  };
  Weights& w = weights_;
  w.input_norm = take("input_layernorm.weight", {hidden});
  w.q_weight = take("self_attn.q_proj.weight", {inner, hidden});
  w.q_bias = take("self_attn.q_proj.bias", {inner});
  w.k_weight = take("self_attn.k_proj.weight", {inner, hidden});
  w.k_bias = take("self_attn.k_proj.bias", {inner});
  w.v_weight = take("self_attn.v_proj.weight", {inner, hidden});
  w.v_bias = take("self_attn.v_proj.bias", {inner});
  w.o_weight = take("self_attn.o_proj.weight", {hidden, inner});
  w.cross_norm = take("cross_attn_layernorm.weight", {hidden});
  w.cross_q_weight = take("cross_attn.q_proj.weight", {inner, hidden});
  w.cross_q_bias = take("cross_attn.q_proj.bias", {inner});
  w.cross_o_weight = take("cross_attn.o_proj.weight", {hidden, inner});
  w.post_attention_norm = take("post_attention_layernorm.weight", {hidden});
  w.gate_weight = take("mlp.gate_proj.weight", {mlp, hidden});
  w.up_weight = take("mlp.up_proj.weight", {mlp, hidden});
  w.down_weight = take("mlp.down_proj.weight", {hidden, mlp});
}

at::Tensor FusionLayer::Forward(const at::Tensor& text, const at::Tensor& positions,
                                const std::vector<CacheSegment>& segments,
                                const std::vector<at::Tensor>& crosses) const {
  const Weights& w = weights_;
  const int64_t rows = text.size(0);
  const auto heads = [&](const at::Tensor& t) { return t.view({rows, -1, head_dim_}); };
  const auto [cos, sin] = rope_.CosSin(positions, text.scalar_type());

  auto h = RmsNorm(text, w.input_norm, eps_);
  const auto q = ApplyRotary(heads(at::linear(h, w.q_weight, w.q_bias)), cos, sin);
  const auto k = ApplyRotary(heads(at::linear(h, w.k_weight, w.k_bias)), cos, sin);
  const auto v = heads(at::linear(h, w.v_weight, w.v_bias));
  SegmentAttention self_attention(segments);
  auto x = text + at::linear(self_attention.Attend(0, q, k, v), w.o_weight);
  self_attention.Commit();

  h = RmsNorm(x, w.cross_norm, eps_);
  const auto cross_q = heads(at::linear(h, w.cross_q_weight, w.cross_q_bias));
  x = x + at::linear(SegmentCrossAttention(cross_q, segments, crosses), w.cross_o_weight);
  return x +
         SwiGlu(RmsNorm(x, w.post_attention_norm, eps_), w.gate_weight, w.up_weight, w.down_weight);
}

}  // namespace auroraedge::model
