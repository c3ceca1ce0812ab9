#pragma once

// What the engine thread hands the model runner and gets back: plain types,
// no LibTorch. The scheduler decides who runs and where its KV lives; the
// runner executes rows and returns token ids, never vocabulary-sized logits.

#include <cstdint>
#include <string>
#include <vector>

#include "auroraedge/model/sampling_config.h"

namespace auroraedge::model {

using SequenceId = int64_t;

// Where a running sequence lives in the runner's preallocated state: a seat
// (per-sequence buffers such as the fusion layer's cross-attention keys and
// the repetition-penalty table) and a contiguous run of KV blocks. Both are
// handed out by the scheduler's KV manager, the only book of them.
struct KvPlacement {
  int32_t slot = 0;
  int64_t first_block = 0;
  int64_t num_blocks = 0;
};

// The runner's preallocated KV storage, as the scheduler books it.
struct KvGeometry {
  int64_t num_blocks = 0;
  int block_size = 16;        // tokens per block
  int num_slots = 0;          // sequences that can run at once
  int64_t bytes_per_token = 0;  // decoder KV of every layer plus the fusion layer's
};

// A sequence as the runner registers it. `prompt` holds the image
// placeholder runs; `images` one VisualFeatures per run, in order.
//
// A sequence with `labels` is an inspection: it generates nothing
// (max_new_tokens 0); the prefill chunk that completes its prompt scores
// every label instead of sampling. Label k's tokens are teacher-forced
// after the prompt in the same step, sharing the prompt's KV: the last
// prompt row's logits give each label's first token, and label k's rows
// (all its tokens but the last) are written to the sequence's own blocks
// after the prompt, each label at its own offset, at positions prompt
// length + j, attending to the prompt and to the label's own earlier rows.
// The placement must hold the prompt plus every label's rows.
struct SequenceStart {
  SequenceId id = 0;
  KvPlacement placement;
  std::vector<int32_t> prompt;
  int max_new_tokens = 0;
  SamplingConfig sampling;
  std::vector<std::vector<int32_t>> labels;  // each at least one token
};

// One row of a batched step. A prefill chunk feeds the next `num_tokens`
// prompt tokens; a decode row feeds the one token sampled last. `sample`
// asks for the next token after the row (the chunk that completes the
// prompt, or a decode row); for an inspection (SequenceStart::labels) the
// chunk that completes the prompt scores the labels instead.
struct StepRow {
  SequenceId sequence = 0;
  int num_tokens = 1;
  bool is_decode = false;
  int32_t decode_token = -1;
  bool sample = true;
  // Constrained decoding: the tokens the sampled token may be, a bitset of
  // (vocab_size + 63) / 64 words, bit t % 64 of word t / 64 for token t
  // (constrained::TokenMask's layout). The others are masked to -inf on the
  // device before the repetition penalty; null: any token. Not owned; must
  // stay valid during Step.
  const std::vector<uint64_t>* allowed_tokens = nullptr;

  static StepRow Prefill(SequenceId sequence, int num_tokens, bool sample = true) {
    StepRow row;
    row.sequence = sequence;
    row.num_tokens = num_tokens;
    row.sample = sample;
    return row;
  }
  static StepRow Decode(SequenceId sequence, int32_t token) {
    StepRow row;
    row.sequence = sequence;
    row.is_decode = true;
    row.decode_token = token;
    return row;
  }
};

struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0;
};

// The outcome of one row, in the order of the rows. A failed row changed
// nothing in its sequence; its request must end (error names the cause).
struct RowResult {
  SequenceId sequence = 0;
  std::string error;  // empty: the row went through
  int32_t token = -1;  // the sampled token, when the row asked for one
  // Log-probability of `token` under the model's distribution and the
  // SamplingConfig::top_logprobs best alternatives, when asked for.
  float logprob = 0;
  std::vector<TokenLogprob> top_logprobs;
  // An inspection's scoring row: each label's sequence log-probability
  // (the sum of its tokens' log-probabilities under the model's own
  // distribution), in the order of SequenceStart::labels.
  std::vector<double> label_logprobs;

  bool ok() const { return error.empty(); }
};

}  // namespace auroraedge::model
