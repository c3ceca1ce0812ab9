#include "fusion_layer.h"

#include <map>
#include <sstream>
#include <string>

#include "layer_ops.h"
#include "segment_attention.h"

namespace auroraedge::model {

FusionLayer::FusionLayer(const torch::jit::Module& module, const ModelConfig& config,
                         const at::Device& device, const LinearPlan& plan)
    : weights_(TakeWeights(module, config, plan)),
      head_dim_(config.fusion.head_dim),
      eps_(config.decoder.rms_norm_eps),
      rope_(config.fusion.head_dim, config.decoder.rope_theta, device) {}

FusionLayer::Weights FusionLayer::TakeWeights(const torch::jit::Module& module,
                                              const ModelConfig& config, const LinearPlan& plan) {
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
  return {
      take("input_layernorm.weight", {hidden}),
      take("cross_attn_layernorm.weight", {hidden}),
      take("post_attention_layernorm.weight", {hidden}),
      FusedLinear({take("self_attn.q_proj.weight", {inner, hidden}),
                   take("self_attn.k_proj.weight", {inner, hidden}),
                   take("self_attn.v_proj.weight", {inner, hidden})},
                  {take("self_attn.q_proj.bias", {inner}), take("self_attn.k_proj.bias", {inner}),
                   take("self_attn.v_proj.bias", {inner})},
                  plan),
      FusedLinear({take("self_attn.o_proj.weight", {hidden, inner})}, {}, plan),
      FusedLinear({take("cross_attn.q_proj.weight", {inner, hidden})},
                  {take("cross_attn.q_proj.bias", {inner})}, plan),
      FusedLinear({take("cross_attn.o_proj.weight", {hidden, inner})}, {}, plan),
      FusedLinear(
          {take("mlp.gate_proj.weight", {mlp, hidden}), take("mlp.up_proj.weight", {mlp, hidden})},
          {}, plan),
      FusedLinear({take("mlp.down_proj.weight", {hidden, mlp})}, {}, plan)};
}

at::Tensor FusionLayer::Forward(const at::Tensor& text, const Rows& rows,
                                const KvStorage& kv) const {
  const Weights& w = weights_;
  const int64_t n = text.size(0);
  // Column slices of a fused output: [n, heads, head_dim] views, no copy.
  const auto heads = [&](const at::Tensor& t) { return t.view({n, -1, head_dim_}); };
  const auto [cos, sin] = rope_.CosSin(rows.positions, text.scalar_type());

  const auto qkv = w.qkv.Split(w.qkv(RmsNorm(text, w.input_norm, eps_)));
  const auto q = ApplyRotary(heads(qkv[0]), cos, sin);
  const auto k = ApplyRotary(heads(qkv[1]), cos, sin);
  const auto v = heads(qkv[2]);
  auto keys = kv.FusionKeys();
  auto values = kv.FusionValues();
  keys.index_copy_(0, rows.write, k);
  values.index_copy_(0, rows.write, v);
  auto x = text + w.o(AttendSegments(q, keys, values, rows.segments));

  const auto cross_q = heads(w.cross_q(RmsNorm(x, w.cross_norm, eps_)));
  x = x + w.cross_o(AttendSegments(cross_q, kv.CrossKeys(), kv.CrossValues(), rows.cross_segments));
  const auto gate_up = w.gate_up.Split(w.gate_up(RmsNorm(x, w.post_attention_norm, eps_)));
  return x + w.down(SiluProduct(gate_up[0], gate_up[1]));
}

int64_t FusionLayer::weight_bytes() const {
  const Weights& w = weights_;
  int64_t bytes = w.input_norm.nbytes() + w.cross_norm.nbytes() + w.post_attention_norm.nbytes();
  for (const FusedLinear* l : {&w.qkv, &w.o, &w.cross_q, &w.cross_o, &w.gate_up, &w.down})
    bytes += l->weight_bytes();
  return bytes;
}

}  // namespace auroraedge::model
