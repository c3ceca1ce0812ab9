#pragma once

// What the runner keeps per registered sequence between steps. Where its KV
// lies is the scheduler's placement; the counts say how far it has run.

#include <cstdint>
#include <optional>
#include <vector>

#include "auroraedge/model/sampling_config.h"
#include "auroraedge/model/sequence_random.h"
#include "auroraedge/model/step_batch.h"
#include "pch.h"

namespace auroraedge::model {

struct SequenceState {
  SequenceState(const SequenceStart& start, int block_size)
      : placement(start.placement),
        kv_start(start.placement.first_block * block_size),
        kv_tokens(start.placement.num_blocks * block_size),
        prompt(start.prompt),
        max_new_tokens(start.max_new_tokens),
        labels(start.labels),
        sampling(start.sampling),
        random(start.sampling.seed) {}

  KvPlacement placement;
  int64_t kv_start = 0;   // first storage token of its blocks
  int64_t kv_tokens = 0;  // tokens its blocks hold
  std::vector<int32_t> prompt;
  int max_new_tokens = 0;
  // An inspection's labels (SequenceStart::labels); empty for generation.
  std::vector<std::vector<int32_t>> labels;
  // Per prompt position: the row of `visual_rows` spliced there, or -1 for
  // a text token.
  std::vector<int32_t> visual_row;
  at::Tensor visual_rows;  // [images * visual_tokens_per_image, hidden]
  int64_t cross_rows = 0;  // valid visual rows in its seat's cross-attention KV
  int64_t num_computed = 0;    // positions held by its decoder KV
  int64_t num_text_fused = 0;  // text positions held by its fusion KV
  SamplingConfig sampling;
  SequenceRandom random;
  // The draw of a step that has not gone through yet: a failed step and its
  // retry use the same number, so a sequence's tokens never depend on
  // whether a neighbour failed.
  std::optional<double> pending_draw;
};

}  // namespace auroraedge::model
