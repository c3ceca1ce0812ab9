#include "auroraedge/model/chat_template.h"

#include <stdexcept>

namespace auroraedge::model {

ChatTemplate::ChatTemplate(const Tokenizer& tokenizer, int visual_tokens_per_image)
    : tokenizer_(&tokenizer),
      visual_tokens_per_image_(visual_tokens_per_image),
      im_start_(tokenizer.SpecialTokenId("<|im_start|>")),
      im_end_(tokenizer.SpecialTokenId("<|im_end|>")),
      vision_start_(tokenizer.SpecialTokenId("<|vision_start|>")),
      image_pad_(tokenizer.SpecialTokenId("<|image_pad|>")),
      vision_end_(tokenizer.SpecialTokenId("<|vision_end|>")) {
  if (visual_tokens_per_image <= 0) {
    throw std::invalid_argument("visual_tokens_per_image must be positive, got " +
                                std::to_string(visual_tokens_per_image));
  }
}

std::vector<int32_t> ChatTemplate::Build(const ChatPrompt& prompt) const {
  if (prompt.num_images < 0) {
    throw std::invalid_argument("num_images must not be negative, got " +
                                std::to_string(prompt.num_images));
  }
  std::vector<int32_t> ids;
  const auto append_text = [&](std::string_view text, const std::string& field) {
    const std::vector<int32_t> text_ids = tokenizer_->Encode(text, /*allow_special=*/false, field);
    ids.insert(ids.end(), text_ids.begin(), text_ids.end());
  };
  if (!prompt.system.empty()) {
    ids.push_back(im_start_);
    append_text("system\n", "template");
    append_text(prompt.system, "system_prompt");
    ids.push_back(im_end_);
    append_text("\n", "template");
  }
  ids.push_back(im_start_);
  append_text("user\n", "template");
  for (int image = 0; image < prompt.num_images; ++image) {
    ids.push_back(vision_start_);
    ids.insert(ids.end(), visual_tokens_per_image_, image_pad_);
    ids.push_back(vision_end_);
  }
  append_text(prompt.user, "prompt");
  ids.push_back(im_end_);
  append_text("\n", "template");
  ids.push_back(im_start_);
  append_text("assistant\n", "template");
  return ids;
}

}  // namespace auroraedge::model
