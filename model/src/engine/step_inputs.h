#pragma once

// Everything a step's forward pass and sampling index by, built on the host
// from the validated rows and sent to the device in one copy: token ids,
// positions, where each row's keys and values are written and which storage
// runs it attends to (decoder, fusion self- and cross-attention), the visual
// rows spliced in, the rows whose hidden state gives logits, and the sampled
// rows' settings and random draws.

#include <cstdint>
#include <vector>

#include "pch.h"
#include "sequence_state.h"

namespace auroraedge::model {

// One validated row: the sequence and the tokens it feeds at positions
// state->num_computed onwards; whether it samples the next token or (the
// chunk that completes an inspection's prompt) scores the labels.
struct PlannedRow {
  SequenceState* state = nullptr;
  const StepRow* row = nullptr;
  std::vector<int32_t> tokens;
  bool sample = false;
  bool score_labels = false;
};

// The sampled rows' settings, one entry per sampled row in row order.
struct SamplingInputs {
  at::Tensor slots;        // int64 [S]
  at::Tensor top_k;        // int64 [S], 0: off
  at::Tensor temperature;  // float64 [S], 0: greedy
  at::Tensor top_p;        // float64 [S]
  at::Tensor penalty;      // float64 [S], 1: off
  at::Tensor uniform;      // float64 [S], the rows' random draws
  // Constrained rows: which sampled rows have an allowed-token mask, and the
  // masks as bits (StepRow::allowed_tokens' words seen as bytes: bit t % 8
  // of byte t / 8 for token t, on a little-endian host).
  int64_t num_masked = 0;
  at::Tensor mask_rows;                 // int64 [C]: indices into the sampled rows
  at::Tensor mask_bits;                 // uint8 [C, words * 8]
  std::vector<SamplingConfig> configs;  // the same on the host, for branching
};

// An inspection's label scoring (SequenceStart::labels): the packed rows
// whose logits score label tokens, and one term per scored token. A label's
// log-probability is the sum of its terms.
struct LabelScoring {
  int64_t num_labels = 0;  // over all scoring rows of the step
  at::Tensor rows;         // int64 [Q]: packed rows whose logits are needed
  at::Tensor terms;        // int64 [T]: (index into rows) * vocab + the scored token
  at::Tensor term_labels;  // int64 [T]: the label (0 .. num_labels) each term adds to
};

struct StepInputs {
  StepInputs(const std::vector<PlannedRow>& rows, bool fusion, int64_t cross_rows_per_slot,
             int64_t vocab_size, const at::Device& device);

  int64_t num_packed = 0;  // N: tokens fed in all
  at::Tensor ids;          // int64 [N]
  at::Tensor positions;    // int64 [N]
  at::Tensor kv_write;     // int64 [N]: decoder storage row of each token
  at::Tensor segments;     // int64 [N, 4]: decoder storage runs each token attends to

  // Visual placeholders: packed rows `visual_dest` take rows `visual_source`
  // of their sequence's visual rows; row i's entries are
  // [visual_begin[i], visual_begin[i + 1]).
  at::Tensor visual_dest;    // int64 [M]
  at::Tensor visual_source;  // int64 [M]
  std::vector<int64_t> visual_begin;

  // Fusion layer (compressed path): the text rows among the packed rows.
  int64_t num_text = 0;
  at::Tensor text_rows;        // int64 [Nt]: packed row of each text token
  at::Tensor text_positions;   // int64 [Nt]: its position among its sequence's text
  at::Tensor fusion_write;     // int64 [Nt]: fusion storage row
  at::Tensor fusion_segments;  // int64 [Nt, 4]
  at::Tensor cross_segments;   // int64 [Nt, 4]: its seat's visual rows
  std::vector<int64_t> text_counts;  // per row

  at::Tensor sample_rows;  // int64 [S]: packed row whose hidden state gives logits
  SamplingInputs sampling;

  LabelScoring scoring;
  // Per planned row: its first label in `scoring` (rows that do not score
  // have none); one more entry at the end.
  std::vector<int64_t> label_begin;

  // Bytes of index and settings data sent to the device for this step.
  int64_t upload_bytes() const { return static_cast<int64_t>(host_.size() * sizeof(int64_t)); }

 private:
  // Host buffer of every int64 section (float64 settings stored by their
  // bits); one device copy, then views.
  std::vector<int64_t> host_;
  at::Tensor device_;
};

}  // namespace auroraedge::model
