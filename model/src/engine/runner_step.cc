// TorchModelRunner::Step: one batched forward pass over prefill chunks and
// decode rows of several sequences, then sampling on the device. A row that
// cannot run, or that fails inside a batch, ends alone.

#include <exception>
#include <set>
#include <stdexcept>
#include <string>

#include "torch_model_runner.h"

namespace auroraedge::model {

std::vector<PlannedRow> TorchModelRunner::Plan(const std::vector<StepRow>& rows,
                                               std::vector<RowResult>& results) {
  std::vector<PlannedRow> plan;
  std::set<SequenceId> seen;
  for (size_t i = 0; i < rows.size(); ++i) {
    const StepRow& row = rows[i];
    RowResult& result = results[i];
    result.sequence = row.sequence;
    const auto fail = [&](const std::string& message) {
      result.error = "rows[" + std::to_string(i) + "] (sequence " + std::to_string(row.sequence) +
                     "): " + message;
    };
    const auto it = sequences_.find(row.sequence);
    if (it == sequences_.end()) {
      fail("unknown sequence");
      continue;
    }
    if (!seen.insert(row.sequence).second) {
      fail("the sequence appears twice in one step");
      continue;
    }
    SequenceState& s = it->second;
    const auto prompt_length = static_cast<int64_t>(s.prompt.size());
    PlannedRow planned{&s, &row, {}};
    if (row.is_decode) {
      if (s.num_computed < prompt_length) {
        fail("decode before the prompt is computed (" + std::to_string(s.num_computed) + " of " +
             std::to_string(prompt_length) + " prompt tokens)");
        continue;
      }
      if (row.decode_token < 0 || row.decode_token >= config_.decoder.vocab_size) {
        fail("decode_token " + std::to_string(row.decode_token) + " is outside the vocabulary [0, " +
             std::to_string(config_.decoder.vocab_size) + ")");
        continue;
      }
      if (s.num_computed + 1 > prompt_length + s.max_new_tokens) {
        fail("decodes past prompt + max_new_tokens (" +
             std::to_string(prompt_length + s.max_new_tokens) + " tokens)");
        continue;
      }
      planned.tokens = {row.decode_token};
    } else {
      if (row.num_tokens < 1 || s.num_computed + row.num_tokens > prompt_length) {
        fail("num_tokens " + std::to_string(row.num_tokens) + " must be in [1, " +
             std::to_string(prompt_length - s.num_computed) + "] (prompt tokens not yet computed)");
        continue;
      }
      planned.tokens.assign(s.prompt.begin() + s.num_computed,
                            s.prompt.begin() + s.num_computed + row.num_tokens);
    }
    const bool completes_prompt = s.num_computed + row.num_tokens == prompt_length;
    planned.score_labels = !s.labels.empty() && completes_prompt && row.sample && !row.is_decode;
    planned.sample = row.sample && !planned.score_labels;
    if (planned.sample && row.allowed_tokens != nullptr) {
      const std::string problem = CheckAllowedTokens(*row.allowed_tokens);
      if (!problem.empty()) {
        fail("allowed_tokens: " + problem);
        continue;
      }
    }
    plan.push_back(std::move(planned));
  }
  return plan;
}

std::string TorchModelRunner::CheckAllowedTokens(const std::vector<uint64_t>& words) const {
  const size_t expected = (static_cast<size_t>(config_.decoder.vocab_size) + 63) / 64;
  if (words.size() != expected) {
    return std::to_string(words.size()) + " words for a vocabulary of " +
           std::to_string(config_.decoder.vocab_size) + " tokens (expected " +
           std::to_string(expected) + ")";
  }
  for (uint64_t word : words) {
    if (word != 0) return "";
  }
  return "allows no token";
}

// The decoder input: the token embeddings, visual rows at image
// placeholders, and (compressed path) the text rows through the fusion layer.
at::Tensor TorchModelRunner::Embed(const StepInputs& inputs,
                                   const std::vector<PlannedRow>& rows) const {
  auto embedded = decoder_->Embed(inputs.ids);
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t begin = inputs.visual_begin[i];
    const int64_t count = inputs.visual_begin[i + 1] - begin;
    if (count == 0) continue;
    embedded.index_copy_(0, inputs.visual_dest.narrow(0, begin, count),
                         rows[i].state->visual_rows.index_select(
                             0, inputs.visual_source.narrow(0, begin, count)));
  }
  if (!compress_fusion_ || inputs.num_text == 0) return embedded;
  const FusionLayer::Rows text{inputs.text_positions, inputs.fusion_write, inputs.fusion_segments,
                               inputs.cross_segments};
  const auto fused =
      compress_fusion_->fusion().Forward(embedded.index_select(0, inputs.text_rows), text, *kv_);
  embedded.index_copy_(0, inputs.text_rows, fused);
  return embedded;
}

std::vector<RowResult> TorchModelRunner::RunBatch(const std::vector<PlannedRow>& rows,
                                                  at::Tensor* logits_out) {
  c10::InferenceMode inference;
  if (fault_hook_) {
    std::vector<SequenceId> ids;
    for (const PlannedRow& row : rows) ids.push_back(row.row->sequence);
    fault_hook_(ids);
  }
  const StepInputs inputs(rows, compress_fusion_ != nullptr, kv_->cross_rows_per_slot(),
                          config_.decoder.vocab_size, device_);
  last_step_metadata_bytes_ = inputs.upload_bytes();
  const auto hidden = decoder_->Forward(Embed(inputs, rows), inputs.positions, inputs.kv_write,
                                        inputs.segments, *kv_);
  std::vector<RowResult> results(rows.size());
  SampledTokens sampled;
  if (!inputs.sampling.configs.empty()) {
    const auto logits = decoder_->Logits(hidden.index_select(0, inputs.sample_rows));
    sampled = sampler_->Sample(logits, inputs.sampling);
    if (logits_out != nullptr) *logits_out = logits.to(at::kCPU);
    sampler_->Commit(inputs.sampling, sampled.tokens);
  }
  const std::vector<double> label_logprobs = ScoreLabels(hidden, inputs.scoring);
  // The step went through: the sequences advance (an inspection's label
  // rows are not part of its sequence).
  size_t next_sampled = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    SequenceState& s = *rows[i].state;
    s.num_computed += static_cast<int64_t>(rows[i].tokens.size());
    s.num_text_fused += inputs.text_counts[i];
    if (rows[i].sample) {
      results[i] = std::move(sampled.rows[next_sampled++]);
      s.pending_draw.reset();
    }
    results[i].label_logprobs.assign(label_logprobs.begin() + inputs.label_begin[i],
                                     label_logprobs.begin() + inputs.label_begin[i + 1]);
    results[i].sequence = rows[i].row->sequence;
  }
  return results;
}

// Each label's log-probability: log-softmax of the scoring rows' logits
// (the model's own distribution, float32), the scored tokens' entries
// gathered and summed per label on the device; only the sums come back.
std::vector<double> TorchModelRunner::ScoreLabels(const at::Tensor& hidden,
                                                  const LabelScoring& scoring) const {
  if (scoring.num_labels == 0) return {};
  const auto log_probs = at::log_softmax(decoder_->Logits(hidden.index_select(0, scoring.rows)), 1);
  const auto terms = log_probs.reshape({-1}).index_select(0, scoring.terms).to(at::kDouble);
  const auto sums = at::zeros({scoring.num_labels}, terms.options())
                        .index_add_(0, scoring.term_labels, terms)
                        .to(at::kCPU)
                        .contiguous();
  return {sums.data_ptr<double>(), sums.data_ptr<double>() + scoring.num_labels};
}

std::vector<RowResult> TorchModelRunner::Step(const std::vector<StepRow>& rows) {
  return StepWithLogits(rows, nullptr);
}

std::vector<RowResult> TorchModelRunner::StepWithLogits(const std::vector<StepRow>& rows,
                                                        at::Tensor* logits) {
  std::vector<RowResult> results(rows.size());
  const std::vector<PlannedRow> plan = Plan(rows, results);
  if (plan.empty()) return results;
  // Where each planned row's result goes.
  std::vector<size_t> result_index;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (results[i].ok()) result_index.push_back(i);
  }
  const auto place = [&](const std::vector<RowResult>& batch, const std::vector<size_t>& where) {
    for (size_t j = 0; j < batch.size(); ++j) results[where[j]] = batch[j];
  };
  try {
    place(RunBatch(plan, logits), result_index);
    return results;
  } catch (const std::exception& batch_error) {
    if (plan.size() == 1) {
      results[result_index[0]].error = batch_error.what();
      return results;
    }
  }
  // Something in the batch failed and nothing advanced (KV rows written so
  // far are rewritten by the retry): each row again alone, so that only the
  // rows that fail by themselves end.
  if (logits != nullptr) *logits = at::Tensor();
  for (size_t j = 0; j < plan.size(); ++j) {
    try {
      place(RunBatch({plan[j]}, nullptr), {result_index[j]});
    } catch (const std::exception& error) {
      results[result_index[j]].error = error.what();
    }
  }
  return results;
}

}  // namespace auroraedge::model
