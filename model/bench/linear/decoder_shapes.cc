#include "decoder_shapes.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <stdexcept>

namespace auroraedge::model::bench {

int64_t LinearShape::out_features() const {
  return std::accumulate(parts.begin(), parts.end(), int64_t{0});
}

int64_t LinearShape::parameters() const { return in_features * out_features(); }

int64_t DecoderShapes::LayerParameters() const {
  int64_t total = 0;
  for (const LinearShape& linear : layer) total += linear.parameters();
  return total;
}

int64_t DecoderShapes::StepParameters() const {
  return num_layers * LayerParameters() + lm_head.parameters();
}

DecoderShapes LoadDecoderShapes(const std::string& config_path) {
  std::ifstream file(config_path);
  if (!file) throw std::invalid_argument("--config: cannot open " + config_path);
  const nlohmann::json config = nlohmann::json::parse(file);
  const nlohmann::json& d = config.at("decoder");
  const int64_t hidden = d.at("hidden_size"), head = d.at("head_dim");
  const int64_t q = d.at("num_attention_heads").get<int64_t>() * head;
  const int64_t kv = d.at("num_key_value_heads").get<int64_t>() * head;
  const int64_t mlp = d.at("intermediate_size"), vocab = d.at("vocab_size");
  if (vocab <= 0)
    throw std::invalid_argument(config_path + ": decoder.vocab_size must be positive, found " +
                                std::to_string(vocab));
  DecoderShapes shapes;
  shapes.name = config.at("name");
  shapes.num_layers = d.at("num_layers");
  shapes.layer = {{"qkv", hidden, {q, kv, kv}, true},
                  {"o", q, {hidden}, false},
                  {"gate_up", hidden, {mlp, mlp}, false},
                  {"down", mlp, {hidden}, false}};
  shapes.lm_head = {"lm_head", hidden, {vocab}, false};
  return shapes;
}

}  // namespace auroraedge::model::bench
