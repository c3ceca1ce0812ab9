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

// Replaces the item's rows of `embedded` (its plain token embeddings) by the
// decoder input: visual rows at image placeholders, fused (compressed) or
// plain (baseline) embeddings elsewhere. Sets *fusion_cache to the grown
// fusion cache; the sequence's own state is left untouched.
at::Tensor TorchEngine::Splice(const PlannedItem& item, at::Tensor embedded,
                               FusionKv* fusion_cache) {
  const SequenceState& s = *item.state;
  std::vector<int64_t> text_rows;
  std::vector<int64_t> visual_rows;
  std::vector<int64_t> visual_sources;
  for (size_t j = 0; j < item.tokens.size(); ++j) {
    const int64_t position = s.num_computed + static_cast<int64_t>(j);
    const int32_t source =
        position < static_cast<int64_t>(s.visual_row.size()) ? s.visual_row[position] : -1;
    if (source < 0) {
      text_rows.push_back(static_cast<int64_t>(j));
    } else {
      visual_rows.push_back(static_cast<int64_t>(j));
      visual_sources.push_back(source);
    }
  }
  const auto index = [&](const std::vector<int64_t>& values) {
    return at::tensor(values, at::kLong).to(device_);
  };
  *fusion_cache = s.fusion_cache;
  if (compress_fusion_ && !text_rows.empty()) {
    const auto text_index = index(text_rows);
    const auto num_text = static_cast<int64_t>(text_rows.size());
    const auto positions = at::arange(s.num_text_fused, s.num_text_fused + num_text,
                                      at::TensorOptions().dtype(at::kLong).device(device_));
    auto [fused, grown] = compress_fusion_->Fuse(embedded.index_select(0, text_index), positions,
                                                 s.fusion_cache, s.cross);
    embedded.index_copy_(0, text_index, fused.to(embedded.scalar_type()));
    *fusion_cache = std::move(grown);
  }
  if (!visual_rows.empty()) {
    embedded.index_copy_(0, index(visual_rows),
                         s.visual_rows.index_select(0, index(visual_sources)));
  }
  return embedded;
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
  const auto embedded = decoder_->Embed(at::tensor(ids, long_options).to(device_));

  std::vector<at::Tensor> inputs;
  std::vector<FusionKv> fusion_caches(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) {
    const auto length = static_cast<int64_t>(plan[i].tokens.size());
    inputs.push_back(
        Splice(plan[i], embedded.narrow(0, plan[i].offset, length), &fusion_caches[i]));
  }
  const auto hidden =
      decoder_->Forward(at::cat(inputs), at::tensor(positions, long_options).to(device_), segments);

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
    if (compress_fusion_) {
      s.num_text_fused = fusion_caches[i].k.size(2);
      s.fusion_cache = std::move(fusion_caches[i]);
    }
    s.num_computed += length;
    if (item.want_logits) {
      const float* row = logits[logit_index++].data_ptr<float>();
      outputs.push_back({item.id, std::vector<float>(row, row + logits.size(1))});
    }
  }
  return outputs;
}

}  // namespace auroraedge::model
