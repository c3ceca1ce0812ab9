#pragma once

// The linear layers of one Qwen2 decoder layer and the tied LM head, as the
// packed decoder fuses them (q|k|v, gate|up), from a config JSON of
// model/python/configs.

#include <cstdint>
#include <string>
#include <vector>

namespace auroraedge::model::bench {

struct LinearShape {
  std::string name;  // "qkv", "o", "gate_up", "down", "lm_head"
  int64_t in_features = 0;
  std::vector<int64_t> parts;  // out_features of each fused part
  bool bias = false;

  int64_t out_features() const;
  int64_t parameters() const;  // weights only
};

struct DecoderShapes {
  std::string name;  // the config's name
  int num_layers = 0;
  std::vector<LinearShape> layer;  // one decoder layer's linears, in call order
  LinearShape lm_head;

  int64_t LayerParameters() const;
  // Weights one decode step streams: every layer and the LM head.
  int64_t StepParameters() const;
};

// Reads the "name" and "decoder" sections of a config JSON; vocab_size 0
// (a config whose vocabulary follows its tokenizer) is refused.
DecoderShapes LoadDecoderShapes(const std::string& config_path);

}  // namespace auroraedge::model::bench
