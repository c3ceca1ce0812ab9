#pragma once

// The ModelRunner of model_runner.h on LibTorch.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "auroraedge/model/model_runner.h"
#include "compress_fusion.h"
#include "device_sampler.h"
#include "kv_storage.h"
#include "pch.h"
#include "qwen2_decoder.h"
#include "safetensors_file.h"
#include "sequence_state.h"
#include "step_inputs.h"
#include "vision_encoder.h"

namespace auroraedge::model {

class TorchModelRunner : public ModelRunner {
 public:
  explicit TorchModelRunner(const EngineOptions& options);

  const ModelConfig& config() const override { return config_; }
  const KvGeometry& kv_geometry() const override { return geometry_; }
  std::vector<VisualFeatures> EncodeImages(
      const std::vector<const preprocessing::PatchImage*>& images) override;
  void StartSequence(const SequenceStart& start, std::vector<VisualFeatures> images) override;
  std::vector<RowResult> Step(const std::vector<StepRow>& rows) override;
  void EndSequence(SequenceId id) override;
  int num_sequences() const override { return static_cast<int>(sequences_.size()); }

  // Step, also handing out the float32 logits [S, vocab] its sampled rows'
  // tokens were chosen from (the equivalence tests hold them to the
  // reference). The sampled rows are those that asked and went through.
  std::vector<RowResult> StepWithLogits(const std::vector<StepRow>& rows, at::Tensor* logits);

  const at::Device& device() const { return device_; }
  // Bytes of all weights as the runner holds them.
  int64_t weight_bytes() const;
  // Weight bytes one decode step reads: the decoder and the fusion layer.
  int64_t decode_weight_bytes() const;
  // Bytes of the KV storage allocated at load.
  int64_t kv_storage_bytes() const { return kv_->bytes(); }
  // Bytes the last step copied besides its own outputs and the KV rows it
  // wrote: its index tensors and settings, sent in one upload. Nothing in a
  // step copies a sequence's KV.
  int64_t last_step_metadata_bytes() const { return last_step_metadata_bytes_; }

  // For the tests of failure isolation: called with the sequences of every
  // batch the runner is about to run; whatever it throws fails that batch
  // as a forward-pass error would.
  void set_fault_hook(std::function<void(const std::vector<SequenceId>&)> hook) {
    fault_hook_ = std::move(hook);
  }

 private:
  std::vector<PlannedRow> Plan(const std::vector<StepRow>& rows, std::vector<RowResult>& results);
  // Runs planned rows in one batch; throws when the forward pass fails.
  std::vector<RowResult> RunBatch(const std::vector<PlannedRow>& rows, at::Tensor* logits);
  at::Tensor Embed(const StepInputs& inputs, const std::vector<PlannedRow>& rows) const;
  std::vector<double> ScoreLabels(const at::Tensor& hidden, const LabelScoring& scoring) const;
  // Empty when `words` is a usable StepRow::allowed_tokens; else the problem.
  std::string CheckAllowedTokens(const std::vector<uint64_t>& words) const;
  std::vector<int32_t> MapVisualRows(const std::vector<int32_t>& prompt, size_t num_images) const;

  ModelConfig config_;
  at::Device device_;
  at::ScalarType dtype_;
  std::shared_ptr<SafetensorsFile> decoder_file_;
  std::unique_ptr<Qwen2Decoder> decoder_;
  std::unique_ptr<VisionEncoder> vision_;
  std::unique_ptr<CompressFusion> compress_fusion_;  // compressed path only
  KvGeometry geometry_;
  std::unique_ptr<KvStorage> kv_;
  std::unique_ptr<DeviceSampler> sampler_;
  std::map<SequenceId, SequenceState> sequences_;
  std::vector<bool> slot_in_use_;
  int64_t last_step_metadata_bytes_ = 0;
  std::function<void(const std::vector<SequenceId>&)> fault_hook_;
};

}  // namespace auroraedge::model
