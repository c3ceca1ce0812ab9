#include "prefill_flops.h"

namespace auroraedge::model::bench {

double DecoderPrefillFlops(const ModelConfig& config, int64_t length) {
  const DecoderConfig& d = config.decoder;
  const double h = d.hidden_size;
  const double q = double(d.num_attention_heads) * d.head_dim;
  const double kv = double(d.num_key_value_heads) * d.head_dim;
  const double n = double(length);
  const double projections = 2 * n * (h * q + 2 * h * kv + q * h + 3 * h * d.intermediate_size);
  // Causal: query i reads i + 1 keys; scores and weighted sum, per query head.
  const double attention = 2 * 2 * q * (n * (n + 1) / 2);
  return d.num_layers * (projections + attention) + 2 * h * d.vocab_size;
}

double FusionPrefillFlops(const ModelConfig& config, int64_t text_tokens, int64_t visual_rows) {
  const double h = config.decoder.hidden_size;
  const double a = double(config.fusion.num_heads) * config.fusion.head_dim;
  const double t = double(text_tokens);
  const double v = double(visual_rows);
  const double self_attention = 2 * t * 4 * h * a + 2 * 2 * a * (t * (t + 1) / 2);
  const double cross_attention = 2 * t * 2 * h * a + 2 * v * 2 * h * a + 2 * 2 * a * t * v;
  const double mlp = 2 * t * 3 * h * config.fusion.intermediate_size;
  return self_attention + cross_attention + mlp;
}

}  // namespace auroraedge::model::bench
