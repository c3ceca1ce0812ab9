#include "auroraedge/model/model_config.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace auroraedge::model {
namespace {

using nlohmann::json;

// Reads a config file and names it, and the field, in every error.
class JsonFile {
 public:
  JsonFile(const std::filesystem::path& path, std::string name) : name_(std::move(name)) {
    std::ifstream in(path);
    if (!in) throw ModelLoadError(name_ + ": missing file (expected at " + path.string() + ")");
    try {
      root_ = json::parse(in);
    } catch (const json::exception& e) {
      throw ModelLoadError(name_ + ": not valid JSON: " + e.what());
    }
    if (!root_.is_object()) throw ModelLoadError(name_ + ": expected a JSON object at the top");
  }

  const json& Field(const std::string& dotted_path) const {
    const json* node = &root_;
    std::stringstream parts(dotted_path);
    std::string part;
    while (std::getline(parts, part, '.')) {
      if (!node->is_object() || !node->contains(part)) {
        throw ModelLoadError(name_ + ": field '" + dotted_path + "' is missing");
      }
      node = &(*node)[part];
    }
    return *node;
  }

  template <typename T>
  T Get(const std::string& dotted_path) const {
    const json& node = Field(dotted_path);
    try {
      return node.get<T>();
    } catch (const json::exception&) {
      throw ModelLoadError(name_ + ": field '" + dotted_path + "' has the wrong type (found " +
                           node.dump() + ")");
    }
  }

  int Positive(const std::string& dotted_path) const {
    const int value = Get<int>(dotted_path);
    if (value <= 0) {
      throw ModelLoadError(name_ + ": field '" + dotted_path + "' must be positive, found " +
                           std::to_string(value));
    }
    return value;
  }

  [[noreturn]] void Fail(const std::string& message) const {
    throw ModelLoadError(name_ + ": " + message);
  }

 private:
  std::string name_;
  json root_;
};

VisionConfig ParseVision(const JsonFile& f) {
  VisionConfig v;
  v.hidden_size = f.Positive("vision.hidden_size");
  v.num_layers = f.Positive("vision.num_layers");
  v.num_heads = f.Positive("vision.num_heads");
  v.intermediate_size = f.Positive("vision.intermediate_size");
  v.layer_norm_eps = f.Get<double>("vision.layer_norm_eps");
  v.patch_size = f.Positive("vision.patch_size");
  v.max_num_patches = f.Positive("vision.max_num_patches");
  v.position_grid = f.Positive("vision.position_grid");
  v.image_mean = f.Get<std::vector<float>>("vision.image_mean");
  v.image_std = f.Get<std::vector<float>>("vision.image_std");
  if (v.image_mean.size() != 3 || v.image_std.size() != 3) {
    f.Fail("fields 'vision.image_mean' and 'vision.image_std' must have 3 values each");
  }
  return v;
}

DecoderConfig ParseDecoder(const JsonFile& f) {
  DecoderConfig d;
  d.hidden_size = f.Positive("decoder.hidden_size");
  d.num_layers = f.Positive("decoder.num_layers");
  d.num_attention_heads = f.Positive("decoder.num_attention_heads");
  d.num_key_value_heads = f.Positive("decoder.num_key_value_heads");
  d.head_dim = f.Positive("decoder.head_dim");
  d.intermediate_size = f.Positive("decoder.intermediate_size");
  d.vocab_size = f.Positive("decoder.vocab_size");
  d.rms_norm_eps = f.Get<double>("decoder.rms_norm_eps");
  d.rope_theta = f.Get<double>("decoder.rope_theta");
  d.max_position_embeddings = f.Positive("decoder.max_position_embeddings");
  d.tie_word_embeddings = f.Get<bool>("decoder.tie_word_embeddings");
  if (d.num_attention_heads % d.num_key_value_heads != 0) {
    f.Fail("field 'decoder.num_attention_heads' (" + std::to_string(d.num_attention_heads) +
           ") must be a multiple of 'decoder.num_key_value_heads' (" +
           std::to_string(d.num_key_value_heads) + ")");
  }
  if (d.head_dim % 2 != 0) {
    f.Fail("field 'decoder.head_dim' must be even for RoPE, found " + std::to_string(d.head_dim));
  }
  return d;
}

void CheckTokenId(const JsonFile& f, const std::string& field, int32_t id, int vocab_size) {
  if (id < 0 || id >= vocab_size) {
    f.Fail("field '" + field + "' must be a token id in [0, " + std::to_string(vocab_size) +
           "), found " + std::to_string(id));
  }
}

GenerationDefaults ParseGeneration(const std::filesystem::path& dir) {
  const JsonFile f(dir / "generation_config.json", "generation_config.json");
  GenerationDefaults g;
  g.max_new_tokens = f.Positive("max_new_tokens");
  g.temperature = f.Get<float>("temperature");
  g.top_k = f.Get<int>("top_k");
  g.top_p = f.Get<float>("top_p");
  g.repetition_penalty = f.Get<float>("repetition_penalty");
  return g;
}

}  // namespace

ModelConfig LoadModelConfig(const std::string& model_dir) {
  const std::filesystem::path dir(model_dir);
  if (!std::filesystem::is_directory(dir)) {
    throw ModelLoadError("model directory '" + model_dir + "' does not exist");
  }
  const JsonFile f(dir / "config.json", "config.json");
  ModelConfig c;
  c.format_version = f.Get<int>("format_version");
  if (c.format_version != 1) {
    f.Fail("field 'format_version': expected 1, found " + std::to_string(c.format_version));
  }
  c.name = f.Get<std::string>("name");
  c.version = f.Get<std::string>("version");
  c.path = f.Get<std::string>("path");
  if (c.path != "compressed" && c.path != "baseline") {
    f.Fail("field 'path': expected \"compressed\" or \"baseline\", found \"" + c.path + "\"");
  }
  c.visual_tokens_per_image = f.Positive("visual_tokens_per_image");
  c.max_images_per_request = f.Positive("max_images_per_request");
  c.context_length = f.Positive("context_length");
  c.vision = ParseVision(f);
  c.projector.hidden_size = f.Positive("projector.hidden_size");
  c.decoder = ParseDecoder(f);
  if (c.projector.hidden_size != c.decoder.hidden_size) {
    f.Fail("field 'projector.hidden_size' (" + std::to_string(c.projector.hidden_size) +
           ") must equal 'decoder.hidden_size' (" + std::to_string(c.decoder.hidden_size) + ")");
  }
  int expected_visual_tokens = c.vision.max_num_patches;
  if (c.path == "compressed") {
    c.compressor.num_tokens = f.Positive("compressor.num_tokens");
    c.compressor.hidden_size = f.Positive("compressor.hidden_size");
    c.fusion.num_heads = f.Positive("fusion.num_heads");
    c.fusion.head_dim = f.Positive("fusion.head_dim");
    c.fusion.intermediate_size = f.Positive("fusion.intermediate_size");
    expected_visual_tokens = c.compressor.num_tokens;
  }
  if (c.visual_tokens_per_image != expected_visual_tokens) {
    f.Fail("field 'visual_tokens_per_image': expected " + std::to_string(expected_visual_tokens) +
           " for path \"" + c.path + "\", found " + std::to_string(c.visual_tokens_per_image));
  }
  const int vocab = c.decoder.vocab_size;
  c.image_pad_token_id = f.Get<int32_t>("image_pad_token_id");
  c.vision_start_token_id = f.Get<int32_t>("vision_start_token_id");
  c.vision_end_token_id = f.Get<int32_t>("vision_end_token_id");
  CheckTokenId(f, "image_pad_token_id", c.image_pad_token_id, vocab);
  CheckTokenId(f, "vision_start_token_id", c.vision_start_token_id, vocab);
  CheckTokenId(f, "vision_end_token_id", c.vision_end_token_id, vocab);
  c.eos_token_ids = f.Get<std::vector<int32_t>>("eos_token_ids");
  for (size_t i = 0; i < c.eos_token_ids.size(); ++i) {
    CheckTokenId(f, "eos_token_ids[" + std::to_string(i) + "]", c.eos_token_ids[i], vocab);
  }
  c.generation = ParseGeneration(dir);
  return c;
}

}  // namespace auroraedge::model
