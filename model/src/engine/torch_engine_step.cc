// TorchEngine::Step: one batched forward pass over prefill chunks and decode
// rows of several sequences.

#include <set>
#include <stdexcept>
#include <string>

#include "torch_engine.h"

namespace auroraedge::model {

// One validated StepItem and where its rows sit in the packed batch.
struct TorchEngine::PlannedItem {
  SequenceId id = 0;
  SequenceState* state = nullptr;
  int64_t offset = 0;           // first packed row
  std::vector<int32_t> tokens;  // fed at positions num_computed ..
  bool want_logits = true;
};

std::vector<TorchEngine::PlannedItem> TorchEngine::Plan(const std::vector<StepItem>& items) {
  std::vector<PlannedItem> plan;
  std::set<SequenceId> seen;
  int64_t offset = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const StepItem& item = items[i];
    const std::string name =
        "items[" + std::to_string(i) + "] (sequence " + std::to_string(item.sequence) + ")";
    const auto it = sequences_.find(item.sequence);
    if (it == sequences_.end()) throw std::invalid_argument(name + ": unknown sequence");
    if (!seen.insert(item.sequence).second) {
      throw std::invalid_argument(name + ": the sequence appears twice in one step");
    }
    SequenceState& s = it->second;
    const auto prompt_length = static_cast<int64_t>(s.prompt.size());
    PlannedItem planned{item.sequence, &s, offset, {}, item.want_logits};
    if (item.is_decode) {
      if (s.num_computed < prompt_length) {
        throw std::invalid_argument(name + ": decode before the prompt is computed (" +
                                    std::to_string(s.num_computed) + " of " +
                                    std::to_string(prompt_length) + " prompt tokens)");
      }
      if (item.decode_token < 0 || item.decode_token >= config_.decoder.vocab_size) {
        throw std::invalid_argument(name + ": decode_token " + std::to_string(item.decode_token) +
                                    " is outside the vocabulary [0, " +
                                    std::to_string(config_.decoder.vocab_size) + ")");
      }
      if (s.num_computed + 1 > s.reserved_tokens) {
        throw std::length_error(name + ": exceeds its reserved " +
                                std::to_string(s.reserved_tokens) +
                                " tokens (prompt + max_new_tokens)");
      }
      planned.tokens = {item.decode_token};
    } else {
      if (item.num_tokens < 1 || s.num_computed + item.num_tokens > prompt_length) {
        throw std::invalid_argument(
            name + ": num_tokens " + std::to_string(item.num_tokens) + " must be in [1, " +
            std::to_string(prompt_length - s.num_computed) + "] (prompt tokens not yet computed)");
      }
      planned.tokens.assign(s.prompt.begin() + s.num_computed,
                            s.prompt.begin() + s.num_computed + item.num_tokens);
    }
    offset += static_cast<int64_t>(planned.tokens.size());
    plan.push_back(std::move(planned));
  }
  return plan;
}

// Turns `embedded`, the plain embeddings of the packed rows, into the
// decoder input: visual rows at image placeholders, the fused text rows of
// all items in one fusion pass (compressed) or the plain embeddings
// (baseline). Fills the sequences' fusion caches (their counts advance in
// Step, once the step has gone through).
void TorchEngine::Splice(const std::vector<PlannedItem>& plan, at::Tensor& embedded,
                         std::vector<int64_t>* text_counts) {
  const auto index = [&](const std::vector<int64_t>& values) {
    return at::tensor(values, at::kLong).to(device_);
  };
  std::vector<int64_t> text_rows;
  std::vector<int64_t> text_positions;
  std::vector<CacheSegment> segments;
  std::vector<at::Tensor> crosses;
  for (const PlannedItem& item : plan) {
    const SequenceState& s = *item.state;
    std::vector<int64_t> visual_rows;
    std::vector<int64_t> visual_sources;
    const auto first_text = static_cast<int64_t>(text_rows.size());
    for (size_t j = 0; j < item.tokens.size(); ++j) {
      const int64_t position = s.num_computed + static_cast<int64_t>(j);
      const int32_t source =
          position < static_cast<int64_t>(s.visual_row.size()) ? s.visual_row[position] : -1;
      if (source < 0) {
        text_positions.push_back(s.num_text_fused + static_cast<int64_t>(text_rows.size()) -
                                 first_text);
        text_rows.push_back(item.offset + static_cast<int64_t>(j));
      } else {
        visual_rows.push_back(item.offset + static_cast<int64_t>(j));
        visual_sources.push_back(source);
      }
    }
    const int64_t num_text = static_cast<int64_t>(text_rows.size()) - first_text;
    text_counts->push_back(num_text);
    if (num_text > 0 && compress_fusion_) {
      segments.push_back({first_text, num_text, s.num_text_fused, s.fusion_cache.get()});
      crosses.push_back(s.cross);
    }
    if (!visual_rows.empty()) {
      embedded.index_copy_(0, index(visual_rows),
                           s.visual_rows.index_select(0, index(visual_sources)));
    }
  }
  if (!compress_fusion_ || text_rows.empty()) return;
  const auto text_index = index(text_rows);
  const auto fused = compress_fusion_->Fuse(embedded.index_select(0, text_index),
                                            index(text_positions), segments, crosses);
  embedded.index_copy_(0, text_index, fused);
}

std::vector<StepOutput> TorchEngine::Step(const std::vector<StepItem>& items) {
  if (items.empty()) return {};
  std::vector<PlannedItem> plan = Plan(items);
  c10::InferenceMode inference;

  std::vector<int64_t> ids;
  std::vector<int64_t> positions;
  std::vector<CacheSegment> segments;
  for (const PlannedItem& item : plan) {
    const auto length = static_cast<int64_t>(item.tokens.size());
    for (int64_t j = 0; j < length; ++j) {
      ids.push_back(item.tokens[j]);
      positions.push_back(item.state->num_computed + j);
    }
    segments.push_back({item.offset, length, item.state->num_computed, item.state->cache.get()});
  }
  const auto long_options = at::TensorOptions().dtype(at::kLong);
  auto embedded = decoder_->Embed(at::tensor(ids, long_options).to(device_));
  std::vector<int64_t> text_counts;
  Splice(plan, embedded, &text_counts);
  const auto hidden =
      decoder_->Forward(embedded, at::tensor(positions, long_options).to(device_), segments);

  std::vector<int64_t> logit_rows;
  for (const PlannedItem& item : plan) {
    if (item.want_logits)
      logit_rows.push_back(item.offset + static_cast<int64_t>(item.tokens.size()) - 1);
  }
  at::Tensor logits;
  if (!logit_rows.empty()) {
    logits =
        decoder_->Logits(hidden.index_select(0, at::tensor(logit_rows, long_options).to(device_)))
            .to(at::kCPU)
            .contiguous();
  }

  std::vector<StepOutput> outputs;
  int64_t logit_index = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    PlannedItem& item = plan[i];
    SequenceState& s = *item.state;
    const auto length = static_cast<int64_t>(item.tokens.size());
    s.num_text_fused += text_counts[i];
    s.num_computed += length;
    if (item.want_logits) {
      const float* row = logits[logit_index++].data_ptr<float>();
      outputs.push_back({item.id, std::vector<float>(row, row + logits.size(1))});
    }
  }
  return outputs;
}

}  // namespace auroraedge::model
