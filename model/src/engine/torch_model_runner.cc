#include "torch_model_runner.h"

#include <filesystem>
#include <stdexcept>
#include <string>

#include "auroraedge/model/runtime_info.h"
#include "auroraedge/model/sampling_config.h"
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

// The storage tokens a sequence needs: its prompt, max_new_tokens, and an
// inspection's label rows (each label's tokens but the last). Throws
// std::invalid_argument naming the field when the lengths do not fit the
// model's context.
int64_t KvTokensNeeded(const SequenceStart& start, const ModelConfig& config) {
  const auto fail = [](const std::string& message) { throw std::invalid_argument(message); };
  const auto prompt = static_cast<int64_t>(start.prompt.size());
  const std::string context =
      " exceeds the model's context_length " + std::to_string(config.context_length);
  if (start.labels.empty()) {
    if (start.max_new_tokens < 1) {
      fail("max_new_tokens: must be at least 1, found " + std::to_string(start.max_new_tokens));
    }
    if (prompt + start.max_new_tokens > config.context_length) {
      fail("prompt + max_new_tokens: " + std::to_string(prompt + start.max_new_tokens) + context);
    }
    return prompt + start.max_new_tokens;
  }
  if (start.max_new_tokens != 0) {
    fail("max_new_tokens: an inspection (labels) generates nothing; must be 0, found " +
         std::to_string(start.max_new_tokens));
  }
  int64_t rows = 0;
  for (size_t k = 0; k < start.labels.size(); ++k) {
    const auto& label = start.labels[k];
    const std::string name = "labels[" + std::to_string(k) + "]";
    if (label.empty()) fail(name + ": empty");
    for (int32_t token : label) {
      if (token < 0 || token >= config.decoder.vocab_size) {
        fail(name + ": token " + std::to_string(token) + " is outside the vocabulary [0, " +
             std::to_string(config.decoder.vocab_size) + ")");
      }
    }
    const auto length = static_cast<int64_t>(label.size());
    if (prompt + length > config.context_length) {
      fail("prompt + " + name + ": " + std::to_string(prompt + length) + " tokens" + context);
    }
    rows += length - 1;
  }
  return prompt + rows;
}

}  // namespace

VisualFeatures::VisualFeatures() = default;
VisualFeatures::VisualFeatures(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

int64_t VisualFeatures::bytes() const {
  if (!impl_) return 0;
  const auto bytes_of = [](const at::Tensor& t) {
    return t.defined() ? static_cast<int64_t>(t.nbytes()) : int64_t{0};
  };
  return bytes_of(impl_->splice_rows) + bytes_of(impl_->valid_rows);
}

std::unique_ptr<ModelRunner> ModelRunner::Load(const EngineOptions& options) {
  return std::make_unique<TorchModelRunner>(options);
}

TorchModelRunner::TorchModelRunner(const EngineOptions& options)
    : config_(LoadModelConfig(options.model_dir)),
      device_(ParseDevice(options.device)),
      dtype_(ParseDtype(options.dtype)) {
  const LinearPlan linears = PlanLinears(options.weights, device_, dtype_);
  if (options.kv_block_size < 1) {
    throw std::invalid_argument("EngineOptions.kv_block_size: must be at least 1, found " +
                                std::to_string(options.kv_block_size));
  }
  if (options.max_sequences < 1) {
    throw std::invalid_argument("EngineOptions.max_sequences: must be at least 1, found " +
                                std::to_string(options.max_sequences));
  }
  SetIntraOpThreads(options.intra_op_threads);
  c10::InferenceMode inference;
  const std::string& dir = options.model_dir;
  VerifyModelFiles(dir, LoadManifest(dir), RequiredFiles(config_), options.verify_checksums);

  decoder_file_ = SafetensorsFile::Open(PathIn(dir, "decoder.safetensors"), "decoder.safetensors");
  decoder_ = std::make_unique<Qwen2Decoder>(
      LoadDecoderWeights(*decoder_file_, config_.decoder, dtype_, device_), config_.decoder,
      linears);
  decoder_file_->ReleaseResidentPages();
  vision_ = std::make_unique<VisionEncoder>(
      dir, config_, device_, dtype_, linears.packed && linears.weights == LinearWeights::kInt8);
  if (config_.path == "compressed") {
    compress_fusion_ = std::make_unique<CompressFusion>(PathIn(dir, "compress_fusion.pt"), config_,
                                                        device_, dtype_, linears);
  }

  const bool fusion = compress_fusion_ != nullptr;
  geometry_.block_size = options.kv_block_size;
  geometry_.num_slots = options.max_sequences;
  geometry_.bytes_per_token = KvBytesPerToken(config_, fusion, dtype_);
  geometry_.num_blocks = options.kv_cache_bytes / geometry_.bytes_per_token / options.kv_block_size;
  if (geometry_.num_blocks < 1) {
    throw std::invalid_argument(
        "EngineOptions.kv_cache_bytes: " + std::to_string(options.kv_cache_bytes) +
        " bytes hold less than one block of " + std::to_string(options.kv_block_size) +
        " tokens at " + std::to_string(geometry_.bytes_per_token) + " bytes per token");
  }
  const int64_t cross_rows =
      int64_t{config_.max_images_per_request} * config_.vision.max_num_patches;
  kv_ = std::make_unique<KvStorage>(config_, geometry_, fusion, cross_rows,
                                    at::TensorOptions().dtype(dtype_).device(device_));
  sampler_ = std::make_unique<DeviceSampler>(geometry_.num_slots, config_.decoder.vocab_size, device_);
  slot_in_use_.assign(geometry_.num_slots, false);
}

int64_t TorchModelRunner::weight_bytes() const {
  return decoder_->weight_bytes() + vision_->weight_bytes() +
         (compress_fusion_ ? compress_fusion_->weight_bytes() : 0);
}

int64_t TorchModelRunner::decode_weight_bytes() const {
  return decoder_->decode_weight_bytes() +
         (compress_fusion_ ? compress_fusion_->fusion_weight_bytes() : 0);
}

std::vector<VisualFeatures> TorchModelRunner::EncodeImages(
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

std::vector<int32_t> TorchModelRunner::MapVisualRows(const std::vector<int32_t>& prompt,
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

void TorchModelRunner::StartSequence(const SequenceStart& start,
                                     std::vector<VisualFeatures> images) {
  const auto fail = [](const std::string& message) { throw std::invalid_argument(message); };
  const SequenceId id = start.id;
  const std::vector<int32_t>& prompt = start.prompt;
  if (sequences_.count(id) != 0) fail("sequence " + std::to_string(id) + " is already registered");
  const KvPlacement& place = start.placement;
  if (place.slot < 0 || place.slot >= geometry_.num_slots) {
    fail("placement.slot: " + std::to_string(place.slot) + " is outside [0, " +
         std::to_string(geometry_.num_slots) + ")");
  }
  if (slot_in_use_[place.slot]) fail("placement.slot: " + std::to_string(place.slot) + " is in use");
  if (place.num_blocks < 1 || place.first_block < 0 ||
      place.first_block + place.num_blocks > geometry_.num_blocks) {
    fail("placement: blocks [" + std::to_string(place.first_block) + ", " +
         std::to_string(place.first_block + place.num_blocks) + ") are not inside the " +
         std::to_string(geometry_.num_blocks) + " blocks of the KV storage");
  }
  if (prompt.empty()) fail("prompt: empty");
  const int64_t needed = KvTokensNeeded(start, config_);
  if (needed > place.num_blocks * geometry_.block_size) {
    fail("placement.num_blocks: " + std::to_string(place.num_blocks) + " blocks of " +
         std::to_string(geometry_.block_size) + " tokens cannot hold the prompt, max_new_tokens " +
         "and the labels' rows (" + std::to_string(needed) + " tokens)");
  }
  if (static_cast<int>(images.size()) > config_.max_images_per_request) {
    fail("images: " + std::to_string(images.size()) + " exceeds max_images_per_request " +
         std::to_string(config_.max_images_per_request));
  }
  for (size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] < 0 || prompt[i] >= config_.decoder.vocab_size) {
      fail("prompt[" + std::to_string(i) + "]: " + std::to_string(prompt[i]) +
           " is outside the vocabulary [0, " + std::to_string(config_.decoder.vocab_size) + ")");
    }
  }
  for (size_t i = 0; i < images.size(); ++i) {
    if (images[i].impl() == nullptr) fail("images[" + std::to_string(i) + "]: empty VisualFeatures");
  }
  ValidateSamplingConfig(start.sampling, config_.decoder.vocab_size);
  auto visual_row = MapVisualRows(prompt, images.size());

  c10::InferenceMode inference;
  SequenceState s(start, geometry_.block_size);
  s.visual_row = std::move(visual_row);
  const auto options = at::TensorOptions().dtype(dtype_).device(device_);
  std::vector<at::Tensor> splice;
  std::vector<at::Tensor> valid;
  for (const auto& image : images) {
    splice.push_back(image.impl()->splice_rows);
    if (compress_fusion_) valid.push_back(image.impl()->valid_rows);
  }
  s.visual_rows =
      splice.empty() ? at::empty({0, config_.decoder.hidden_size}, options) : at::cat(splice);
  if (compress_fusion_ && !valid.empty()) {
    const auto rows = at::cat(valid);
    s.cross_rows = rows.size(0);
    compress_fusion_->WriteCrossKv(rows, place.slot * kv_->cross_rows_per_slot(), *kv_);
  }
  sampler_->StartSequence(place.slot, prompt);
  slot_in_use_[place.slot] = true;
  sequences_.emplace(id, std::move(s));
}

void TorchModelRunner::EndSequence(SequenceId id) {
  const auto it = sequences_.find(id);
  if (it == sequences_.end()) return;
  slot_in_use_[it->second.placement.slot] = false;
  sequences_.erase(it);
}

}  // namespace auroraedge::model
