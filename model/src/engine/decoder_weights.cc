#include "decoder_weights.h"

#include <map>
#include <sstream>
#include <string>

namespace auroraedge::model {
namespace {

using Shape = std::vector<int64_t>;

std::string ShapeString(const Shape& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << "]";
  return out.str();
}

std::string LayerName(int layer, const std::string& suffix) {
  return "layers." + std::to_string(layer) + "." + suffix;
}

// Every tensor decoder.safetensors must hold, with its shape.
std::map<std::string, Shape> ExpectedTensors(const DecoderConfig& c) {
  const int64_t h = c.hidden_size;
  const int64_t q = static_cast<int64_t>(c.num_attention_heads) * c.head_dim;
  const int64_t kv = static_cast<int64_t>(c.num_key_value_heads) * c.head_dim;
  const int64_t ffn = c.intermediate_size;
  std::map<std::string, Shape> expected{{"embed_tokens.weight", {c.vocab_size, h}},
                                        {"norm.weight", {h}}};
  if (!c.tie_word_embeddings) expected["lm_head.weight"] = {c.vocab_size, h};
  for (int i = 0; i < c.num_layers; ++i) {
    expected[LayerName(i, "input_layernorm.weight")] = {h};
    expected[LayerName(i, "self_attn.q_proj.weight")] = {q, h};
    expected[LayerName(i, "self_attn.q_proj.bias")] = {q};
    expected[LayerName(i, "self_attn.k_proj.weight")] = {kv, h};
    expected[LayerName(i, "self_attn.k_proj.bias")] = {kv};
    expected[LayerName(i, "self_attn.v_proj.weight")] = {kv, h};
    expected[LayerName(i, "self_attn.v_proj.bias")] = {kv};
    expected[LayerName(i, "self_attn.o_proj.weight")] = {h, q};
    expected[LayerName(i, "post_attention_layernorm.weight")] = {h};
    expected[LayerName(i, "mlp.gate_proj.weight")] = {ffn, h};
    expected[LayerName(i, "mlp.up_proj.weight")] = {ffn, h};
    expected[LayerName(i, "mlp.down_proj.weight")] = {h, ffn};
  }
  return expected;
}

void Validate(const SafetensorsFile& file, const std::map<std::string, Shape>& expected) {
  const auto& entries = file.entries();
  const auto first = entries.find("embed_tokens.weight");
  const std::string file_dtype = first == entries.end() ? "" : first->second.dtype;
  for (const auto& [name, shape] : expected) {
    const auto it = entries.find(name);
    if (it == entries.end()) {
      throw ModelLoadError(file.name() + ": tensor '" + name + "' is missing (expected shape " +
                           ShapeString(shape) + ")");
    }
    if (it->second.shape != shape) {
      throw ModelLoadError(file.name() + ": tensor '" + name + "' has shape " +
                           ShapeString(it->second.shape) + ", expected " + ShapeString(shape));
    }
    const std::string& dtype = it->second.dtype;
    if (dtype != "F32" && dtype != "BF16") {
      throw ModelLoadError(file.name() + ": tensor '" + name + "' has dtype " + dtype +
                           ", expected F32 or BF16");
    }
    if (dtype != file_dtype) {
      throw ModelLoadError(file.name() + ": tensor '" + name + "' has dtype " + dtype +
                           ", expected " + file_dtype + " like embed_tokens.weight");
    }
  }
  for (const auto& [name, entry] : entries) {
    if (expected.count(name) == 0) {
      throw ModelLoadError(file.name() + ": unexpected tensor '" + name +
                           "' (not part of the configured decoder)");
    }
  }
}

}  // namespace

DecoderWeights LoadDecoderWeights(const SafetensorsFile& file, const DecoderConfig& config,
                                  at::ScalarType dtype, const at::Device& device) {
  Validate(file, ExpectedTensors(config));
  const auto get = [&](const std::string& name) {
    // .to() returns the tensor itself when dtype and device already match.
    return file.Get(name).to(device, dtype);
  };
  DecoderWeights w;
  w.embed_tokens = get("embed_tokens.weight");
  w.norm = get("norm.weight");
  w.lm_head = config.tie_word_embeddings ? w.embed_tokens : get("lm_head.weight");
  w.layers.reserve(config.num_layers);
  for (int i = 0; i < config.num_layers; ++i) {
    const auto layer = [&](const std::string& suffix) { return get(LayerName(i, suffix)); };
    DecoderLayerWeights l;
    l.input_norm = layer("input_layernorm.weight");
    l.q_weight = layer("self_attn.q_proj.weight");
    l.q_bias = layer("self_attn.q_proj.bias");
    l.k_weight = layer("self_attn.k_proj.weight");
    l.k_bias = layer("self_attn.k_proj.bias");
    l.v_weight = layer("self_attn.v_proj.weight");
    l.v_bias = layer("self_attn.v_proj.bias");
    l.o_weight = layer("self_attn.o_proj.weight");
    l.post_attention_norm = layer("post_attention_layernorm.weight");
    l.gate_weight = layer("mlp.gate_proj.weight");
    l.up_weight = layer("mlp.up_proj.weight");
    l.down_weight = layer("mlp.down_proj.weight");
    w.layers.push_back(std::move(l));
  }
  return w;
}

}  // namespace auroraedge::model
