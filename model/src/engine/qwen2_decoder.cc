#include "qwen2_decoder.h"

#include "layer_ops.h"
#include "segment_attention.h"

namespace auroraedge::model {
Qwen2Decoder::Qwen2Decoder(DecoderWeights weights, const DecoderConfig& config,
                           const LinearPlan& plan)
    : weights_(std::move(weights)),
      config_(config),
      lm_head_({weights_.lm_head}, {}, plan),
      rope_(config.head_dim, config.rope_theta, weights_.embed_tokens.device()) {
  weights_.lm_head.reset();
  linears_.reserve(weights_.layers.size());
  for (DecoderLayerWeights& layer : weights_.layers) linears_.push_back(TakeLinears(layer, plan));
}

Qwen2Decoder::LayerLinears Qwen2Decoder::TakeLinears(DecoderLayerWeights& l,
                                                     const LinearPlan& plan) {
  LayerLinears linears{
      FusedLinear({l.q_weight, l.k_weight, l.v_weight}, {l.q_bias, l.k_bias, l.v_bias}, plan),
      FusedLinear({l.o_weight}, {}, plan), FusedLinear({l.gate_weight, l.up_weight}, {}, plan),
      FusedLinear({l.down_weight}, {}, plan)};
  for (at::Tensor* t : {&l.q_weight, &l.q_bias, &l.k_weight, &l.k_bias, &l.v_weight, &l.v_bias,
                        &l.o_weight, &l.gate_weight, &l.up_weight, &l.down_weight})
    t->reset();
  return linears;
}

at::Tensor Qwen2Decoder::Embed(const at::Tensor& ids) const {
  return at::embedding(weights_.embed_tokens, ids);
}

at::Tensor Qwen2Decoder::Forward(at::Tensor x, const at::Tensor& positions,
                                 const at::Tensor& kv_write, const at::Tensor& segments,
                                 const KvStorage& kv) const {
  const auto [cos, sin] = rope_.CosSin(positions, x.scalar_type());
  for (int i = 0; i < config_.num_layers; ++i) x = Layer(i, x, cos, sin, kv_write, segments, kv);
  return x;
}

at::Tensor Qwen2Decoder::Logits(const at::Tensor& hidden) const {
  return lm_head_(RmsNorm(hidden, weights_.norm, config_.rms_norm_eps)).to(at::kFloat);
}

int64_t Qwen2Decoder::decode_weight_bytes() const {
  const auto bytes = [](const at::Tensor& t) { return static_cast<int64_t>(t.nbytes()); };
  int64_t total = bytes(weights_.norm) + lm_head_.weight_bytes();
  for (size_t i = 0; i < linears_.size(); ++i) {
    const LayerLinears& l = linears_[i];
    total += bytes(weights_.layers[i].input_norm) + bytes(weights_.layers[i].post_attention_norm) +
             l.qkv.weight_bytes() + l.o.weight_bytes() + l.gate_up.weight_bytes() +
             l.down.weight_bytes();
  }
  return total;
}

int64_t Qwen2Decoder::weight_bytes() const {
  const int64_t embedding =
      lm_head_.Aliases(weights_.embed_tokens) ? 0 : weights_.embed_tokens.nbytes();
  return decode_weight_bytes() + embedding;
}

at::Tensor Qwen2Decoder::Layer(int index, const at::Tensor& x, const at::Tensor& cos,
                               const at::Tensor& sin, const at::Tensor& kv_write,
                               const at::Tensor& segments, const KvStorage& kv) const {
  const DecoderLayerWeights& w = weights_.layers[index];
  const LayerLinears& linear = linears_[index];
  const int64_t rows = x.size(0);
  const int64_t d = config_.head_dim;
  const auto qkv = linear.qkv.Split(linear.qkv(RmsNorm(x, w.input_norm, config_.rms_norm_eps)));
  // The parts are column slices of the fused output; [rows, heads, d] views
  // of them need no copy.
  const auto heads = [&](const at::Tensor& t) { return t.view({rows, -1, d}); };
  const auto q = ApplyRotary(heads(qkv[0]), cos, sin);
  const auto k = ApplyRotary(heads(qkv[1]), cos, sin);
  const auto v = heads(qkv[2]);
  auto keys = kv.DecoderKeys(index);
  auto values = kv.DecoderValues(index);
  keys.index_copy_(0, kv_write, k);
  values.index_copy_(0, kv_write, v);
  const auto after_attention = x + linear.o(AttendSegments(q, keys, values, segments));
  const auto gate_up = linear.gate_up.Split(
      linear.gate_up(RmsNorm(after_attention, w.post_attention_norm, config_.rms_norm_eps)));
  return after_attention + linear.down(SiluProduct(gate_up[0], gate_up[1]));
}

}  // namespace auroraedge::model
