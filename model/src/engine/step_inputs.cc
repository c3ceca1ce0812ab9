#include "step_inputs.h"

#include <cstring>

namespace auroraedge::model {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "mask words are sent as bytes: bit t % 8 of byte t / 8 needs a little-endian host");

int64_t DoubleBits(double value) {
  int64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

// Host sections appended one after another; each remembers where it starts.
class Sections {
 public:
  explicit Sections(std::vector<int64_t>& buffer) : buffer_(buffer) {}

  struct Section {
    int64_t offset = 0;
    int64_t length = 0;
  };

  Section Add(const std::vector<int64_t>& values) {
    const Section section{static_cast<int64_t>(buffer_.size()),
                          static_cast<int64_t>(values.size())};
    buffer_.insert(buffer_.end(), values.begin(), values.end());
    return section;
  }

 private:
  std::vector<int64_t>& buffer_;
};

at::Tensor View(const at::Tensor& all, const Sections::Section& section) {
  return all.narrow(0, section.offset, section.length);
}

// Every section's values on the host, filled row by row.
struct Host {
  std::vector<int64_t> ids, positions, kv_write, segments;
  std::vector<int64_t> visual_dest, visual_source;
  std::vector<int64_t> text_rows, text_positions, fusion_write, fusion_segments, cross_segments;
  std::vector<int64_t> sample_rows, slots, top_k, temperature, top_p, penalty, uniform;
  std::vector<int64_t> mask_rows, mask_words;
  std::vector<int64_t> score_rows, terms, term_labels;

  // One text row's fusion-layer entries: its text position, and the
  // fusion storage runs it attends to.
  void AddFusionRow(const SequenceState& s, int64_t row, int64_t text_position,
                    int64_t write_offset, const int64_t (&segment)[4],
                    int64_t cross_rows_per_slot) {
    text_rows.push_back(row);
    text_positions.push_back(text_position);
    fusion_write.push_back(s.kv_start + write_offset);
    fusion_segments.insert(fusion_segments.end(), std::begin(segment), std::end(segment));
    cross_segments.insert(cross_segments.end(),
                          {s.placement.slot * cross_rows_per_slot, s.cross_rows, 0, 0});
  }
};

}  // namespace

StepInputs::StepInputs(const std::vector<PlannedRow>& rows, bool fusion,
                       int64_t cross_rows_per_slot, int64_t vocab_size, const at::Device& device) {
  Host h;
  for (const PlannedRow& planned : rows) {
    SequenceState& s = *planned.state;
    const int64_t first_row = static_cast<int64_t>(h.ids.size());
    visual_begin.push_back(static_cast<int64_t>(h.visual_dest.size()));
    label_begin.push_back(scoring.num_labels);
    int64_t text = 0;
    for (size_t j = 0; j < planned.tokens.size(); ++j) {
      const int64_t row = first_row + static_cast<int64_t>(j);
      const int64_t position = s.num_computed + static_cast<int64_t>(j);
      h.ids.push_back(planned.tokens[j]);
      h.positions.push_back(position);
      h.kv_write.push_back(s.kv_start + position);
      h.segments.insert(h.segments.end(), {s.kv_start, position + 1, 0, 0});
      const int32_t source =
          position < static_cast<int64_t>(s.visual_row.size()) ? s.visual_row[position] : -1;
      if (source >= 0) {
        h.visual_dest.push_back(row);
        h.visual_source.push_back(source);
        continue;
      }
      if (!fusion) continue;
      const int64_t text_position = s.num_text_fused + text++;
      h.AddFusionRow(s, row, text_position, text_position, {s.kv_start, text_position + 1, 0, 0},
                     cross_rows_per_slot);
    }
    text_counts.push_back(text);
    const int64_t last_row = static_cast<int64_t>(h.ids.size()) - 1;

    if (planned.score_labels) {
      // The labels' rows after the prompt (SequenceStart::labels): label k's
      // j-th row sits at position prompt + j, writes its keys at the
      // storage offset prompt + (rows of the labels before it) + j, and
      // attends to the whole prompt and its own rows up to itself. The
      // fusion layer does the same over the prompt's text positions.
      const auto prompt = static_cast<int64_t>(s.prompt.size());
      const int64_t prompt_text = s.num_text_fused + text;
      const auto score_row = [&h](int64_t packed_row) {
        h.score_rows.push_back(packed_row);
        return static_cast<int64_t>(h.score_rows.size()) - 1;
      };
      const int64_t last_prompt_score = score_row(last_row);
      int64_t offset = 0;
      for (const std::vector<int32_t>& label : s.labels) {
        const int64_t label_index = scoring.num_labels++;
        int64_t scored_by = last_prompt_score;
        for (size_t j = 0; j < label.size(); ++j) {
          h.terms.push_back(scored_by * vocab_size + label[j]);
          h.term_labels.push_back(label_index);
          if (j + 1 == label.size()) break;
          const int64_t row = static_cast<int64_t>(h.ids.size());
          const auto step = static_cast<int64_t>(j);
          h.ids.push_back(label[j]);
          h.positions.push_back(prompt + step);
          h.kv_write.push_back(s.kv_start + prompt + offset + step);
          h.segments.insert(h.segments.end(),
                            {s.kv_start, prompt, s.kv_start + prompt + offset, step + 1});
          if (fusion) {
            h.AddFusionRow(s, row, prompt_text + step, prompt_text + offset + step,
                           {s.kv_start, prompt_text, s.kv_start + prompt_text + offset, step + 1},
                           cross_rows_per_slot);
          }
          scored_by = score_row(row);
        }
        offset += static_cast<int64_t>(label.size()) - 1;
      }
    }

    if (!planned.sample) continue;
    const SamplingConfig& config = s.sampling;
    if (config.temperature > 0.0f && !s.pending_draw) s.pending_draw = s.random.Next();
    if (planned.row->allowed_tokens != nullptr) {
      h.mask_rows.push_back(static_cast<int64_t>(h.sample_rows.size()));
      const std::vector<uint64_t>& words = *planned.row->allowed_tokens;
      h.mask_words.insert(h.mask_words.end(), words.begin(), words.end());
    }
    h.sample_rows.push_back(last_row);
    h.slots.push_back(s.placement.slot);
    h.top_k.push_back(config.top_k);
    h.temperature.push_back(DoubleBits(config.temperature));
    h.top_p.push_back(DoubleBits(config.top_p));
    h.penalty.push_back(DoubleBits(config.repetition_penalty));
    h.uniform.push_back(DoubleBits(s.pending_draw.value_or(0.0)));
    sampling.configs.push_back(config);
  }
  visual_begin.push_back(static_cast<int64_t>(h.visual_dest.size()));
  label_begin.push_back(scoring.num_labels);
  num_packed = static_cast<int64_t>(h.ids.size());
  num_text = static_cast<int64_t>(h.text_rows.size());
  sampling.num_masked = static_cast<int64_t>(h.mask_rows.size());

  Sections sections(host_);
  const auto s_ids = sections.Add(h.ids);
  const auto s_positions = sections.Add(h.positions);
  const auto s_kv_write = sections.Add(h.kv_write);
  const auto s_segments = sections.Add(h.segments);
  const auto s_visual_dest = sections.Add(h.visual_dest);
  const auto s_visual_source = sections.Add(h.visual_source);
  const auto s_text_rows = sections.Add(h.text_rows);
  const auto s_text_positions = sections.Add(h.text_positions);
  const auto s_fusion_write = sections.Add(h.fusion_write);
  const auto s_fusion_segments = sections.Add(h.fusion_segments);
  const auto s_cross_segments = sections.Add(h.cross_segments);
  const auto s_sample_rows = sections.Add(h.sample_rows);
  const auto s_slots = sections.Add(h.slots);
  const auto s_top_k = sections.Add(h.top_k);
  const auto s_temperature = sections.Add(h.temperature);
  const auto s_top_p = sections.Add(h.top_p);
  const auto s_penalty = sections.Add(h.penalty);
  const auto s_uniform = sections.Add(h.uniform);
  const auto s_mask_rows = sections.Add(h.mask_rows);
  const auto s_mask_words = sections.Add(h.mask_words);
  const auto s_score_rows = sections.Add(h.score_rows);
  const auto s_terms = sections.Add(h.terms);
  const auto s_term_labels = sections.Add(h.term_labels);

  const auto host = at::from_blob(host_.data(), {static_cast<int64_t>(host_.size())}, at::kLong);
  if (device.is_cpu()) {
    device_ = host;  // host_ outlives every view
  } else {
    // Staged through pinned memory (LibTorch caches it) so the copy is
    // asynchronous with the host work that follows.
    auto pinned = at::empty_like(host, at::TensorOptions().pinned_memory(true));
    pinned.copy_(host);
    device_ = pinned.to(device, /*non_blocking=*/true);
  }
  ids = View(device_, s_ids);
  positions = View(device_, s_positions);
  kv_write = View(device_, s_kv_write);
  segments = View(device_, s_segments).view({-1, 4});
  visual_dest = View(device_, s_visual_dest);
  visual_source = View(device_, s_visual_source);
  text_rows = View(device_, s_text_rows);
  text_positions = View(device_, s_text_positions);
  fusion_write = View(device_, s_fusion_write);
  fusion_segments = View(device_, s_fusion_segments).view({-1, 4});
  cross_segments = View(device_, s_cross_segments).view({-1, 4});
  sample_rows = View(device_, s_sample_rows);
  sampling.slots = View(device_, s_slots);
  sampling.top_k = View(device_, s_top_k);
  sampling.temperature = View(device_, s_temperature).view(at::kDouble);
  sampling.top_p = View(device_, s_top_p).view(at::kDouble);
  sampling.penalty = View(device_, s_penalty).view(at::kDouble);
  sampling.uniform = View(device_, s_uniform).view(at::kDouble);
  sampling.mask_rows = View(device_, s_mask_rows);
  const int64_t mask_bytes =
      sampling.num_masked == 0 ? 0 : s_mask_words.length / sampling.num_masked * 8;
  sampling.mask_bits =
      View(device_, s_mask_words).view(at::kByte).view({sampling.num_masked, mask_bytes});
  scoring.rows = View(device_, s_score_rows);
  scoring.terms = View(device_, s_terms);
  scoring.term_labels = View(device_, s_term_labels);
}

}  // namespace auroraedge::model
