#pragma once

// The Qwen2 decoder's weights from decoder.safetensors (names in
// model/FORMAT.md), validated against the config.

#include <cstdint>
#include <vector>

#include "auroraedge/model/model_config.h"
#include "pch.h"
#include "safetensors_file.h"

namespace auroraedge::model {

struct DecoderLayerWeights {
  at::Tensor input_norm;
  at::Tensor q_weight, q_bias, k_weight, k_bias, v_weight, v_bias, o_weight;
  at::Tensor post_attention_norm;
  at::Tensor gate_weight, up_weight, down_weight;
};

struct DecoderWeights {
  at::Tensor embed_tokens;  // [vocab, hidden]
  std::vector<DecoderLayerWeights> layers;
  at::Tensor norm;
  at::Tensor lm_head;  // the same tensor as embed_tokens when tied
};

// Checks that `file` holds exactly the tensors the config expects, each with
// the expected shape and one floating dtype (F32 or BF16, the same for all).
// Throws ModelLoadError naming the tensor, the expected and the found value.
// Returns the tensors in `dtype` on `device`; on CPU with the file's own
// dtype they alias the mapping (no copy).
DecoderWeights LoadDecoderWeights(const SafetensorsFile& file, const DecoderConfig& config,
                                  at::ScalarType dtype, const at::Device& device);

}  // namespace auroraedge::model
