#pragma once

// The Engine of engine.h on LibTorch.

#include <map>
#include <memory>

#include "auroraedge/model/engine.h"
#include "compress_fusion.h"
#include "pch.h"
#include "qwen2_decoder.h"
#include "safetensors_file.h"
#include "sequence_state.h"
#include "vision_encoder.h"

namespace auroraedge::model {

class TorchEngine : public Engine {
 public:
  explicit TorchEngine(const EngineOptions& options);

  const ModelConfig& config() const override { return config_; }
  std::vector<VisualFeatures> EncodeImages(
      const std::vector<const preprocessing::PatchImage*>& images) override;
  void AddSequence(SequenceId id, std::vector<int32_t> prompt_tokens,
                   std::vector<VisualFeatures> images, int max_new_tokens) override;
  std::vector<StepOutput> Step(const std::vector<StepItem>& items) override;
  void Release(SequenceId id) override;
  int64_t kv_tokens_reserved() const override { return kv_tokens_reserved_; }
  int64_t kv_token_capacity() const override { return kv_token_capacity_; }
  int num_sequences() const override { return static_cast<int>(sequences_.size()); }

  // Decoder KV plus fusion self-attention KV bytes per token.
  int64_t kv_bytes_per_token() const { return kv_bytes_per_token_; }
  // Bytes of all weights as the engine holds them.
  int64_t weight_bytes() const;
  // Weight bytes one decode step reads: the decoder and the fusion layer.
  int64_t decode_weight_bytes() const;
  // Bytes of one sequence's fusion cross-attention K/V per visual row.
  int64_t cross_kv_bytes_per_row() const;

 private:
  struct PlannedItem;
  std::vector<PlannedItem> Plan(const std::vector<StepItem>& items);
  void Splice(const std::vector<PlannedItem>& plan, at::Tensor& embedded,
              std::vector<int64_t>* text_counts);
  std::vector<int32_t> MapVisualRows(const std::vector<int32_t>& prompt, size_t num_images) const;

  ModelConfig config_;
  at::Device device_;
  at::ScalarType dtype_;
  std::shared_ptr<SafetensorsFile> decoder_file_;
  std::unique_ptr<Qwen2Decoder> decoder_;
  std::unique_ptr<VisionEncoder> vision_;
  std::unique_ptr<CompressFusion> compress_fusion_;  // compressed path only
  std::map<SequenceId, SequenceState> sequences_;
  int64_t kv_bytes_per_token_ = 0;
  int64_t kv_token_capacity_ = 0;
  int64_t kv_tokens_reserved_ = 0;
};

}  // namespace auroraedge::model
