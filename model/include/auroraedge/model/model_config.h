#pragma once

// The model directory's config.json as plain C++ (no LibTorch). The file
// format is documented in model/FORMAT.md.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace auroraedge::model {

// A model directory that is missing, broken or inconsistent. The message
// names the file or tensor, what was expected and what was found.
class ModelLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct VisionConfig {
  int hidden_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int intermediate_size = 0;
  double layer_norm_eps = 1e-6;
  int patch_size = 16;
  int max_num_patches = 256;
  int position_grid = 16;  // learned position embeddings are a grid x grid table
  std::vector<float> image_mean{0.5f, 0.5f, 0.5f};
  std::vector<float> image_std{0.5f, 0.5f, 0.5f};
};

struct DecoderConfig {
  int hidden_size = 0;
  int num_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;
  int head_dim = 0;
  int intermediate_size = 0;
  int vocab_size = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 1e6;
  int max_position_embeddings = 0;
  bool tie_word_embeddings = true;
};

struct ProjectorConfig {
  int hidden_size = 0;
};

// Token compressor: an MLP along the token axis, max_num_patches -> num_tokens.
struct CompressorConfig {
  int num_tokens = 0;
  int hidden_size = 0;
};

// Fusion layer over the text tokens; its self-attention KV cache counts
// against the engine's KV budget.
struct FusionConfig {
  int num_heads = 0;
  int head_dim = 0;
  int intermediate_size = 0;
};

struct GenerationDefaults {
  int max_new_tokens = 64;
  float temperature = 0.0f;  // 0: greedy
  int top_k = 0;
  float top_p = 1.0f;
  float repetition_penalty = 1.0f;
};

struct ModelConfig {
  int format_version = 0;
  std::string name;
  std::string version;
  // "compressed": [C ; T'] with the compressor and fusion layer (the
  // AuroraEdge-V method); "baseline": LLaVA path [V ; T].
  std::string path = "compressed";
  int visual_tokens_per_image = 0;  // placeholder run length per image
  int max_images_per_request = 4;
  int context_length = 0;           // prompt + generated tokens, at most
  VisionConfig vision;
  ProjectorConfig projector;
  CompressorConfig compressor;  // meaningful when path is "compressed"
  FusionConfig fusion;          // meaningful when path is "compressed"
  DecoderConfig decoder;
  int32_t image_pad_token_id = -1;
  int32_t vision_start_token_id = -1;
  int32_t vision_end_token_id = -1;
  std::vector<int32_t> eos_token_ids;
  GenerationDefaults generation;
};

// Parses config.json of a model directory. Throws ModelLoadError.
ModelConfig LoadModelConfig(const std::string& model_dir);

}  // namespace auroraedge::model
