#include "qwen2_decoder.h"

#include "attention.h"

namespace auroraedge::model {

Qwen2Decoder::Qwen2Decoder(DecoderWeights weights, const DecoderConfig& config)
    : weights_(std::move(weights)),
      config_(config),
      rope_(config.head_dim, config.rope_theta, weights_.embed_tokens.device()) {}

at::Tensor Qwen2Decoder::Embed(const at::Tensor& ids) const {
  return at::embedding(weights_.embed_tokens, ids);
}

at::Tensor Qwen2Decoder::RmsNorm(const at::Tensor& x, const at::Tensor& weight) const {
  const auto x32 = x.to(at::kFloat);
  const auto normed = x32 * at::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + config_.rms_norm_eps);
  return weight * normed.to(x.scalar_type());
}

at::Tensor Qwen2Decoder::Forward(at::Tensor x, const at::Tensor& positions,
                                 const std::vector<DecoderSegment>& segments) const {
  const auto [cos, sin] = rope_.CosSin(positions, x.scalar_type());
  for (int i = 0; i < config_.num_layers; ++i) x = Layer(i, x, cos, sin, segments);
  return RmsNorm(x, weights_.norm);
}

at::Tensor Qwen2Decoder::Logits(const at::Tensor& hidden) const {
  return at::linear(hidden, weights_.lm_head).to(at::kFloat);
}

at::Tensor Qwen2Decoder::Layer(int index, const at::Tensor& x, const at::Tensor& cos,
                               const at::Tensor& sin,
                               const std::vector<DecoderSegment>& segments) const {
  const DecoderLayerWeights& w = weights_.layers[index];
  const int64_t rows = x.size(0);
  const int64_t d = config_.head_dim;
  const auto h = RmsNorm(x, w.input_norm);
  const auto q = ApplyRotary(at::linear(h, w.q_weight, w.q_bias).view({rows, -1, d}), cos, sin);
  const auto k = ApplyRotary(at::linear(h, w.k_weight, w.k_bias).view({rows, -1, d}), cos, sin);
  const auto v = at::linear(h, w.v_weight, w.v_bias).view({rows, -1, d});

  auto attended = at::empty({rows, q.size(1) * d}, x.options());
  for (const DecoderSegment& s : segments) {
    s.cache->Write(index, s.past, k.narrow(0, s.offset, s.length), v.narrow(0, s.offset, s.length));
    const int64_t length = s.past + s.length;
    attended.narrow(0, s.offset, s.length)
        .copy_(CausalAttention(q.narrow(0, s.offset, s.length), s.cache->Keys(index, length),
                               s.cache->Values(index, length), s.past));
  }
  const auto after_attention = x + at::linear(attended, w.o_weight);
  const auto m = RmsNorm(after_attention, w.post_attention_norm);
  const auto mlp = at::linear(at::silu(at::linear(m, w.gate_weight)) * at::linear(m, w.up_weight),
                              w.down_weight);
  return after_attention + mlp;
}

}  // namespace auroraedge::model
