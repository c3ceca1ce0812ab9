#pragma once

// vision.pt: SigLIP2-naflex encoder + projector (model/FORMAT.md).

#include <string>

#include "auroraedge/model/model_config.h"
#include "pch.h"

namespace auroraedge::model {

class VisionEncoder {
 public:
  // Loads `model_dir`'s vision.pt, or with `int8_weights` its
  // vision_int8.pt (the encoder's and projector's linear layers
  // dynamically quantized, run by LibTorch's oneDNN quantized engine,
  // which this selects). Throws ModelLoadError naming the file when it is
  // missing or unloadable.
  VisionEncoder(const std::string& model_dir, const ModelConfig& config, const at::Device& device,
                at::ScalarType dtype, bool int8_weights);

  // patches [B, max_num_patches, 3*p*p] float32, grid_hw [B, 2] int64 ->
  // projected tokens [B, max_num_patches, hidden] in the engine dtype,
  // padded rows zero.
  at::Tensor Encode(const at::Tensor& patches, const at::Tensor& grid_hw);

  int64_t weight_bytes() const;

 private:
  torch::jit::Module module_;
  int64_t hidden_size_;
  at::ScalarType dtype_;
};

}  // namespace auroraedge::model
