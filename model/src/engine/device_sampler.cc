#include "device_sampler.h"

#include <algorithm>
#include <cstdint>
#include <limits>

namespace auroraedge::model {
namespace {

// Index of the first true entry of each row of `mask` [S, K] (0 where none).
at::Tensor FirstTrue(const at::Tensor& mask) { return mask.to(at::kLong).argmax(1); }

// Index of the last true entry of each row (0 where none).
at::Tensor LastTrue(const at::Tensor& mask) { return mask.size(1) - 1 - FirstTrue(mask.flip({1})); }

// The draw among candidates in order: the first whose running weight
// `cumulative` passes `target`, or (rounding left the target at or past the
// sum) the last with any weight; only the first `keep` [S] count.
at::Tensor PickByWeight(const at::Tensor& weights, const at::Tensor& cumulative,
                        const at::Tensor& target, const at::Tensor& keep) {
  const auto column = at::arange(weights.size(1), keep.options()).unsqueeze(0);
  const auto kept = column < keep.unsqueeze(1);
  const auto passes = (cumulative > target.unsqueeze(1)) & kept;
  return at::where(passes.any(1), FirstTrue(passes), LastTrue((weights > 0) & kept));
}

// Ids of the k best candidates of every row, best first, ties by lower id:
// topk does not order ties, so its picks are sorted by id and then stably
// by value.
at::Tensor Candidates(const at::Tensor& logits, int64_t k) {
  const auto ids = std::get<0>(std::get<1>(logits.topk(k, 1)).sort(1));
  const auto by_value = std::get<1>(at::sort(logits.gather(1, ids), /*stable=*/true, 1,
                                             /*descending=*/true));
  return ids.gather(1, by_value);
}

// Bool [C, vocab] from mask bytes [C, B]: bit t % 8 of byte t / 8 is token t.
at::Tensor UnpackMask(const at::Tensor& bits, int64_t vocab) {
  const auto bit_values =
      at::tensor(std::vector<int64_t>{1, 2, 4, 8, 16, 32, 64, 128}).to(bits.device(), at::kByte);
  return bits.unsqueeze(2)
      .bitwise_and(bit_values)
      .ne(0)
      .view({bits.size(0), -1})
      .narrow(1, 0, vocab);
}

// Sets the logits of the tokens outside each constrained row's mask to
// -inf, in place, reading the mask bits as they are: on a CPU, unpacking
// them into a [C, vocab] tensor and selecting through it cost six times the
// whole unconstrained sampling (16 rows of the 151,936-token Qwen vocabulary:
// 33 vs 5 ms).
void MaskRowsOnCpu(at::Tensor& logits, const at::Tensor& rows, const at::Tensor& bits,
                   int64_t vocab) {
  const auto row_ids = rows.accessor<int64_t, 1>();
  const int64_t row_bytes = bits.size(1);
  const float minus_infinity = -std::numeric_limits<float>::infinity();
  for (int64_t c = 0; c < row_ids.size(0); ++c) {
    float* row = logits.data_ptr<float>() + row_ids[c] * logits.stride(0);
    const uint8_t* mask = bits.data_ptr<uint8_t>() + c * row_bytes;
    for (int64_t byte = 0; byte < row_bytes; ++byte) {
      const uint8_t allowed = mask[byte];
      if (allowed == 0xFF) continue;
      const int64_t first = byte * 8;
      const int64_t last = std::min<int64_t>(first + 8, vocab);
      for (int64_t t = first; t < last; ++t) {
        if (!(allowed >> (t - first) & 1)) row[t] = minus_infinity;
      }
    }
  }
}

}  // namespace

DeviceSampler::DeviceSampler(int num_slots, int vocab_size, const at::Device& device)
    : vocab_size_(vocab_size),
      seen_(at::zeros({num_slots, vocab_size},
                      at::TensorOptions().dtype(at::kBool).device(device))) {}

void DeviceSampler::StartSequence(int slot, const std::vector<int32_t>& prompt) {
  auto row = seen_.select(0, slot);
  row.zero_();
  std::vector<int64_t> ids(prompt.begin(), prompt.end());
  row.index_fill_(0, at::tensor(ids, at::kLong).to(seen_.device()), true);
}

SampledTokens DeviceSampler::Sample(const at::Tensor& raw_logits,
                                    const SamplingInputs& inputs) const {
  const auto& configs = inputs.configs;
  const auto any = [&](auto predicate) {
    return std::any_of(configs.begin(), configs.end(), predicate);
  };
  const auto minus_infinity =
      at::full({}, -std::numeric_limits<float>::infinity(), raw_logits.options());
  auto logits = at::where(raw_logits.isnan(), minus_infinity, raw_logits);
  if (inputs.num_masked > 0) {
    // Constrained rows: tokens outside their masks can never be chosen.
    if (logits.is_cpu() && logits.scalar_type() == at::kFloat && logits.is_contiguous()) {
      MaskRowsOnCpu(logits, inputs.mask_rows, inputs.mask_bits, vocab_size_);  // `logits` is ours
    } else {
      const auto allowed = UnpackMask(inputs.mask_bits, vocab_size_);
      const auto constrained = logits.index_select(0, inputs.mask_rows);
      logits =
          logits.index_copy(0, inputs.mask_rows, at::where(allowed, constrained, minus_infinity));
    }
  }
  if (any([](const SamplingConfig& c) { return c.repetition_penalty != 1.0f; })) {
    const auto penalty = inputs.penalty.to(at::kFloat).unsqueeze(1);
    const auto penalized = at::where(logits > 0, logits / penalty, logits * penalty);
    logits = at::where(seen_.index_select(0, inputs.slots), penalized, logits);
  }
  at::Tensor tokens = logits.argmax(1);
  if (any([](const SamplingConfig& c) { return c.temperature > 0.0f; })) {
    const bool filtered =
        any([](const SamplingConfig& c) { return c.top_k > 0 || c.top_p < 1.0f; });
    const auto drawn = Draw(logits, inputs, filtered);
    // Greedy rows, and rows where every token is -inf, take the argmax.
    const auto greedy = (inputs.temperature == 0) | std::get<0>(logits.max(1)).isinf();
    tokens = at::where(greedy, tokens, drawn);
  }

  SampledTokens out;
  out.tokens = tokens;
  const int requested = std::max_element(configs.begin(), configs.end(),
                                         [](const SamplingConfig& a, const SamplingConfig& b) {
                                           return a.top_logprobs < b.top_logprobs;
                                         })
                            ->top_logprobs;
  // One copy back: tokens, and when asked the log-probabilities of the
  // model's own distribution (before penalty and temperature).
  std::vector<at::Tensor> parts{tokens.to(at::kDouble).unsqueeze(1)};
  if (requested >= 0) {
    const auto log_probs = at::log_softmax(raw_logits, 1);
    parts.push_back(log_probs.gather(1, tokens.unsqueeze(1)).to(at::kDouble));
    if (requested > 0) {
      const auto top = log_probs.topk(std::min(requested, vocab_size_), 1);
      parts.push_back(std::get<1>(top).to(at::kDouble));
      parts.push_back(std::get<0>(top).to(at::kDouble));
    }
  }
  const auto host = at::cat(parts, 1).to(at::kCPU).contiguous();
  const auto* values = host.data_ptr<double>();
  const int64_t width = host.size(1);
  for (size_t r = 0; r < configs.size(); ++r) {
    const double* row = values + r * width;
    RowResult result;
    result.token = static_cast<int32_t>(row[0]);
    const int k = configs[r].top_logprobs;
    if (k >= 0) result.logprob = static_cast<float>(row[1]);
    for (int i = 0; i < k; ++i) {
      result.top_logprobs.push_back(
          {static_cast<int32_t>(row[2 + i]), static_cast<float>(row[2 + requested + i])});
    }
    out.rows.push_back(std::move(result));
  }
  return out;
}

at::Tensor DeviceSampler::Draw(const at::Tensor& logits, const SamplingInputs& inputs,
                               bool filtered) const {
  // Weights exp((logit - max) / T) in double, as the reference; greedy rows
  // get T = 1 (their draw is not used).
  const auto temperature =
      at::where(inputs.temperature > 0, inputs.temperature, at::ones_like(inputs.temperature));
  const auto scaled = logits.to(at::kDouble);
  const auto max = std::get<0>(scaled.max(1, /*keepdim=*/true));
  const auto weights = at::exp((scaled - max) / temperature.unsqueeze(1));
  // Sums in id order, one row at a time: the reference's order of addition.
  const auto cumulative = weights.cumsum(1);
  const auto total = cumulative.select(1, vocab_size_ - 1);
  const auto full = at::full({logits.size(0)}, vocab_size_, inputs.top_k.options());
  at::Tensor drawn = PickByWeight(weights, cumulative, inputs.uniform * total, full);
  if (!filtered) return drawn;

  // Top-k / top-p rows: candidates ordered by logit, widened until each
  // row's kept set lies inside them (most of the mass sits in a few tokens).
  const auto plain = (inputs.top_k == 0) & (inputs.top_p >= 1.0);
  const auto limit = at::where(inputs.top_k > 0, inputs.top_k, full);
  auto resolved = plain;
  for (int64_t k = 64;; k *= 8) {
    const int64_t width = std::min<int64_t>(k, vocab_size_);
    const auto ids = Candidates(scaled, width);
    const auto candidate_weights = weights.gather(1, ids);
    const auto running = candidate_weights.cumsum(1);
    const auto column = at::arange(width, limit.options()).unsqueeze(0);
    const auto inside = column < limit.unsqueeze(1);
    const auto limit_fits = limit <= width;
    // The reference's total: the whole vocabulary without top-k, else the
    // top-k set's weight.
    const auto top_k_total =
        running.gather(1, (at::clamp_max(limit, width) - 1).unsqueeze(1)).squeeze(1);
    const auto row_total = at::where(inputs.top_k > 0, top_k_total, total);
    const auto reaches = (running >= (inputs.top_p * row_total).unsqueeze(1)) & inside;
    const auto nucleus = inputs.top_p < 1.0;
    // A top-k row's total is known only once its whole top-k set is inside.
    const auto found = nucleus & reaches.any(1) & ((inputs.top_k == 0) | limit_fits);
    const auto keep = at::where(found, FirstTrue(reaches) + 1, at::clamp_max(limit, width));
    const auto done = limit_fits | found;
    const auto kept_weight = running.gather(1, (keep - 1).unsqueeze(1)).squeeze(1);
    const auto choice =
        ids.gather(1, PickByWeight(candidate_weights, running, inputs.uniform * kept_weight, keep)
                          .unsqueeze(1))
            .squeeze(1);
    const auto newly = done & resolved.logical_not();
    drawn = at::where(newly, choice, drawn);
    resolved = resolved | done;
    if (width == vocab_size_ || resolved.all().item<bool>()) break;
  }
  return drawn;
}

void DeviceSampler::Commit(const SamplingInputs& inputs, const at::Tensor& tokens) {
  seen_.index_put_(c10::List<c10::optional<at::Tensor>>{inputs.slots, tokens},
                   at::ones({}, seen_.options()));
}

}  // namespace auroraedge::model
