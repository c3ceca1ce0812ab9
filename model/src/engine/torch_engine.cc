#include "torch_engine.h"

#include <filesystem>
#include <stdexcept>
#include <string>

#include "auroraedge/model/runtime_info.h"
#include "engine_options.h"
#include "manifest.h"
#include "visual_features_impl.h"

namespace auroraedge::model {
namespace {

std::string PathIn(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

std::vector<std::string> RequiredFiles(const ModelConfig& config) {
  std::vector<std::string> files{"config.json", "generation_config.json", "tokenizer.json",
                                 "vision.pt", "decoder.safetensors"};
  if (config.path == "compressed") files.push_back("compress_fusion.pt");
  return files;
}

void CheckPatchImage(const preprocessing::PatchImage& image, size_t index,
                     const VisionConfig& vision) {
  const std::string name = "images[" + std::to_string(index) + "]";
  const int patch_dim = 3 * vision.patch_size * vision.patch_size;
  const auto fail = [&](const std::string& what) {
    throw std::invalid_argument(name + "." + what);
  };
  if (image.max_num_patches != vision.max_num_patches) {
    fail("max_num_patches: expected " + std::to_string(vision.max_num_patches) + ", found " +
         std::to_string(image.max_num_patches));
  }
  if (image.patch_dim != patch_dim) {
    fail("patch_dim: expected " + std::to_string(patch_dim) + ", found " +
         std::to_string(image.patch_dim));
  }
  if (image.grid_h < 1 || image.grid_w < 1 || image.num_valid() > vision.max_num_patches) {
    fail("grid: " + std::to_string(image.grid_h) + " x " + std::to_string(image.grid_w) +
         " patches, expected at least 1 x 1 and at most " + std::to_string(vision.max_num_patches) +
         " patches");
  }
  const size_t expected = static_cast<size_t>(image.max_num_patches) * patch_dim;
  if (image.patches.size() != expected) {
    fail("patches: expected " + std::to_string(expected) + " floats, found " +
         std::to_string(image.patches.size()));
  }
}

}  // namespace

VisualFeatures::VisualFeatures() = default;
VisualFeatures::VisualFeatures(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<Engine> Engine::Load(const EngineOptions& options) {
  return std::make_unique<TorchEngine>(options);
}

TorchEngine::TorchEngine(const EngineOptions& options)
    : config_(LoadModelConfig(options.model_dir)),
      device_(ParseDevice(options.device)),
      dtype_(ParseDtype(options.dtype)) {
  if (options.kv_cache_bytes <= 0) {
    throw std::invalid_argument("EngineOptions.kv_cache_bytes: must be positive, found " +
                                std::to_string(options.kv_cache_bytes));
  }
  SetIntraOpThreads(options.intra_op_threads);
  c10::InferenceMode inference;
  const std::string& dir = options.model_dir;
  VerifyModelFiles(dir, LoadManifest(dir), RequiredFiles(config_), options.verify_checksums);

  decoder_file_ = SafetensorsFile::Open(PathIn(dir, "decoder.safetensors"), "decoder.safetensors");
  decoder_ = std::make_unique<Qwen2Decoder>(
      LoadDecoderWeights(*decoder_file_, config_.decoder, dtype_, device_), config_.decoder);
  vision_ = std::make_unique<VisionEncoder>(PathIn(dir, "vision.pt"), config_, device_, dtype_);
  if (config_.path == "compressed") {
    compress_fusion_ = std::make_unique<CompressFusion>(PathIn(dir, "compress_fusion.pt"), config_,
                                                        device_, dtype_);
  }

  const int64_t element = c10::elementSize(dtype_);
  const DecoderConfig& d = config_.decoder;
  kv_bytes_per_token_ = 2LL * d.num_layers * d.num_key_value_heads * d.head_dim * element;
  if (compress_fusion_) {
    kv_bytes_per_token_ += 2LL * config_.fusion.num_heads * config_.fusion.head_dim * element;
  }
  kv_token_capacity_ = options.kv_cache_bytes / kv_bytes_per_token_;
}

int64_t TorchEngine::weight_bytes() const {
  return WeightBytes(decoder_->weights()) + vision_->weight_bytes() +
         (compress_fusion_ ? compress_fusion_->weight_bytes() : 0);
}

int64_t TorchEngine::decode_weight_bytes() const {
  return WeightBytes(decoder_->weights()) +
         (compress_fusion_ ? compress_fusion_->fusion_weight_bytes() : 0);
}

int64_t TorchEngine::cross_kv_bytes_per_row() const {
  if (!compress_fusion_) return 0;
  return 2LL * config_.fusion.num_heads * config_.fusion.head_dim * c10::elementSize(dtype_);
}

std::vector<VisualFeatures> TorchEngine::EncodeImages(
    const std::vector<const preprocessing::PatchImage*>& images) {
  if (images.empty()) return {};
  c10::InferenceMode inference;
  const VisionConfig& vision = config_.vision;
  std::vector<at::Tensor> patches;
  std::vector<int64_t> grid;
  for (size_t i = 0; i < images.size(); ++i) {
    if (images[i] == nullptr)
      throw std::invalid_argument("images[" + std::to_string(i) + "]: null");
    const auto& image = *images[i];
    CheckPatchImage(image, i, vision);
    patches.push_back(at::from_blob(const_cast<float*>(image.patches.data()),
                                    {image.max_num_patches, image.patch_dim}, at::kFloat));
    grid.insert(grid.end(), {image.grid_h, image.grid_w});
  }
  const int64_t batch = static_cast<int64_t>(images.size());
  const auto patch_batch = at::stack(patches).to(device_);
  const auto grid_hw = at::tensor(grid, at::kLong).view({batch, 2}).to(device_);
  const auto visual = vision_->Encode(patch_batch, grid_hw);

  at::Tensor compressed;
  if (compress_fusion_) {
    const auto slots = at::arange(vision.max_num_patches, at::TensorOptions().device(device_));
    const auto valid =
        slots.unsqueeze(0) < (grid_hw.select(1, 0) * grid_hw.select(1, 1)).unsqueeze(1);
    compressed = compress_fusion_->Compress(visual, valid);
  }
  std::vector<VisualFeatures> features;
  for (int64_t b = 0; b < batch; ++b) {
    auto impl = std::make_shared<VisualFeatures::Impl>();
    // Clones: one image's features must not pin the whole batch's memory.
    if (compress_fusion_) {
      impl->splice_rows = compressed[b].clone();
      impl->valid_rows = visual[b].narrow(0, 0, images[b]->num_valid()).clone();
    } else {
      impl->splice_rows = visual[b].clone();
    }
    features.emplace_back(std::move(impl));
  }
  return features;
}

std::vector<int32_t> TorchEngine::MapVisualRows(const std::vector<int32_t>& prompt,
                                                size_t num_images) const {
  const int run = config_.visual_tokens_per_image;
  std::vector<int32_t> rows(prompt.size(), -1);
  int32_t next_row = 0;
  for (size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] != config_.image_pad_token_id) continue;
    const bool run_start = i == 0 || prompt[i - 1] != config_.image_pad_token_id;
    if (run_start && next_row % run != 0) {
      throw std::invalid_argument("prompt_tokens: the image placeholder run before position " +
                                  std::to_string(i) + " is shorter than visual_tokens_per_image (" +
                                  std::to_string(run) + ")");
    }
    if (!run_start && next_row % run == 0) {
      throw std::invalid_argument("prompt_tokens: the image placeholder run at position " +
                                  std::to_string(i) + " is longer than visual_tokens_per_image (" +
                                  std::to_string(run) + ")");
    }
    rows[i] = next_row++;
  }
  const int64_t expected = static_cast<int64_t>(num_images) * run;
  if (next_row != expected) {
    throw std::invalid_argument("prompt_tokens: " + std::to_string(next_row) +
                                " image placeholders for " + std::to_string(num_images) +
                                " images, expected " + std::to_string(expected) + " (" +
                                std::to_string(run) + " per image)");
  }
  return rows;
}

void TorchEngine::AddSequence(SequenceId id, std::vector<int32_t> prompt_tokens,
                              std::vector<VisualFeatures> images, int max_new_tokens) {
  if (sequences_.count(id) != 0) {
    throw std::invalid_argument("sequence " + std::to_string(id) + " is already registered");
  }
  if (prompt_tokens.empty()) throw std::invalid_argument("prompt_tokens: empty");
  if (max_new_tokens < 1) {
    throw std::invalid_argument("max_new_tokens: must be at least 1, found " +
                                std::to_string(max_new_tokens));
  }
  const int64_t reserved = static_cast<int64_t>(prompt_tokens.size()) + max_new_tokens;
  if (reserved > config_.context_length) {
    throw std::invalid_argument("prompt_tokens + max_new_tokens: " + std::to_string(reserved) +
                                " exceeds the model's context_length " +
                                std::to_string(config_.context_length));
  }
  if (static_cast<int>(images.size()) > config_.max_images_per_request) {
    throw std::invalid_argument("images: " + std::to_string(images.size()) +
                                " exceeds max_images_per_request " +
                                std::to_string(config_.max_images_per_request));
  }
  for (size_t i = 0; i < prompt_tokens.size(); ++i) {
    if (prompt_tokens[i] < 0 || prompt_tokens[i] >= config_.decoder.vocab_size) {
      throw std::invalid_argument(
          "prompt_tokens[" + std::to_string(i) + "]: " + std::to_string(prompt_tokens[i]) +
          " is outside the vocabulary [0, " + std::to_string(config_.decoder.vocab_size) + ")");
    }
  }
  for (size_t i = 0; i < images.size(); ++i) {
    if (images[i].impl() == nullptr) {
      throw std::invalid_argument("images[" + std::to_string(i) + "]: empty VisualFeatures");
    }
  }
  auto visual_row = MapVisualRows(prompt_tokens, images.size());
  if (kv_tokens_reserved_ + reserved > kv_token_capacity_) {
    throw std::length_error("KV cache: sequence " + std::to_string(id) + " needs " +
                            std::to_string(reserved) + " tokens, " +
                            std::to_string(kv_token_capacity_ - kv_tokens_reserved_) + " of " +
                            std::to_string(kv_token_capacity_) + " are free");
  }

  c10::InferenceMode inference;
  SequenceState s;
  s.prompt = std::move(prompt_tokens);
  s.visual_row = std::move(visual_row);
  s.reserved_tokens = reserved;
  const auto options = at::TensorOptions().dtype(dtype_).device(device_);
  std::vector<at::Tensor> splice;
  std::vector<at::Tensor> valid;
  for (const auto& image : images) {
    splice.push_back(image.impl()->splice_rows);
    if (compress_fusion_) valid.push_back(image.impl()->valid_rows);
  }
  s.visual_rows =
      splice.empty() ? at::empty({0, config_.decoder.hidden_size}, options) : at::cat(splice);
  if (compress_fusion_) {
    s.cross = compress_fusion_->CrossKv(
        valid.empty() ? at::empty({0, config_.decoder.hidden_size}, options) : at::cat(valid));
    // Text tokens never outnumber the reserved tokens.
    s.fusion_cache = std::make_unique<SequenceKvCache>(1, config_.fusion.num_heads, reserved,
                                                       config_.fusion.head_dim, options);
  }
  const DecoderConfig& d = config_.decoder;
  s.cache = std::make_unique<SequenceKvCache>(d.num_layers, d.num_key_value_heads, reserved,
                                              d.head_dim, options);
  sequences_.emplace(id, std::move(s));
  kv_tokens_reserved_ += reserved;
}

void TorchEngine::Release(SequenceId id) {
  const auto it = sequences_.find(id);
  if (it == sequences_.end()) return;
  kv_tokens_reserved_ -= it->second.reserved_tokens;
  sequences_.erase(it);
}

}  // namespace auroraedge::model
