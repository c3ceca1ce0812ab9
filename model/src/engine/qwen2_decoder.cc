#include "qwen2_decoder.h"

#include "layer_ops.h"

namespace auroraedge::model {

Qwen2Decoder::Qwen2Decoder(DecoderWeights weights, const DecoderConfig& config)
    : weights_(std::move(weights)),
      config_(config),
      rope_(config.head_dim, config.rope_theta, weights_.embed_tokens.device()) {}

at::Tensor Qwen2Decoder::Embed(const at::Tensor& ids) const {
  return at::embedding(weights_.embed_tokens, ids);
}

at::Tensor Qwen2Decoder::Forward(at::Tensor x, const at::Tensor& positions,
                                 const std::vector<CacheSegment>& segments) const {
  const auto [cos, sin] = rope_.CosSin(positions, x.scalar_type());
  SegmentAttention attention(segments);
  for (int i = 0; i < config_.num_layers; ++i) x = Layer(i, x, cos, sin, attention);
  attention.Commit();
  return RmsNorm(x, weights_.norm, config_.rms_norm_eps);
}

at::Tensor Qwen2Decoder::Logits(const at::Tensor& hidden) const {
  return at::linear(hidden, weights_.lm_head).to(at::kFloat);
}

at::Tensor Qwen2Decoder::Layer(int index, const at::Tensor& x, const at::Tensor& cos,
                               const at::Tensor& sin, SegmentAttention& attention) const {
  const DecoderLayerWeights& w = weights_.layers[index];
  const int64_t rows = x.size(0);
  const int64_t d = config_.head_dim;
  const auto h = RmsNorm(x, w.input_norm, config_.rms_norm_eps);
  const auto q = ApplyRotary(at::linear(h, w.q_weight, w.q_bias).view({rows, -1, d}), cos, sin);
  const auto k = ApplyRotary(at::linear(h, w.k_weight, w.k_bias).view({rows, -1, d}), cos, sin);
  const auto v = at::linear(h, w.v_weight, w.v_bias).view({rows, -1, d});
  const auto after_attention = x + at::linear(attention.Attend(index, q, k, v), w.o_weight);
  const auto mlp = SwiGlu(RmsNorm(after_attention, w.post_attention_norm, config_.rms_norm_eps),
                          w.gate_weight, w.up_weight, w.down_weight);
  return after_attention + mlp;
}

}  // namespace auroraedge::model
