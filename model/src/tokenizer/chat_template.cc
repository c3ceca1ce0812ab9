#include "auroraedge/model/chat_template.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace auroraedge::model {
namespace {

std::vector<int32_t> Join(std::initializer_list<std::vector<int32_t>> parts) {
  std::vector<int32_t> ids;
  for (const auto& part : parts) ids.insert(ids.end(), part.begin(), part.end());
  return ids;
}

}  // namespace

ChatTemplate::ChatTemplate(const Tokenizer& tokenizer, int visual_tokens_per_image)
    : tokenizer_(&tokenizer),
      image_pad_(tokenizer.SpecialTokenId("<|image_pad|>")),
      vision_start_(tokenizer.SpecialTokenId("<|vision_start|>")),
      vision_end_(tokenizer.SpecialTokenId("<|vision_end|>")),
      im_end_(tokenizer.SpecialTokenId("<|im_end|>")) {
  if (visual_tokens_per_image <= 0) {
    throw std::invalid_argument("visual_tokens_per_image must be positive, got " +
                                std::to_string(visual_tokens_per_image));
  }
  const int32_t im_start = tokenizer.SpecialTokenId("<|im_start|>");
  const auto text = [&](const char* words) { return tokenizer.Encode(words, false); };
  system_start_ = Join({{im_start}, text("system\n")});
  user_start_ = Join({{im_start}, text("user\n")});
  newline_ = text("\n");
  turn_end_ = Join({{im_end_}, newline_});
  assistant_start_ = Join({{im_start}, text("assistant\n")});
  image_run_ = Join({{vision_start_},
                     std::vector<int32_t>(static_cast<size_t>(visual_tokens_per_image), image_pad_),
                     {vision_end_}});
}

std::vector<int32_t> ChatTemplate::Build(const ChatPrompt& prompt) const {
  if (prompt.num_images < 0) {
    throw std::invalid_argument("num_images must not be negative, got " +
                                std::to_string(prompt.num_images));
  }
  std::vector<int32_t> ids;
  const auto append = [&ids](const std::vector<int32_t>& part) {
    ids.insert(ids.end(), part.begin(), part.end());
  };
  if (!prompt.system.empty()) {
    append(system_start_);
    append(tokenizer_->Encode(prompt.system, /*allow_special=*/false, "system_prompt"));
    append(turn_end_);
  }
  const std::vector<ImageRole>& roles = prompt.image_roles;
  if (!roles.empty() && static_cast<int>(roles.size()) != prompt.num_images) {
    throw std::invalid_argument("image_roles: " + std::to_string(roles.size()) + " roles for " +
                                std::to_string(prompt.num_images) + " images");
  }
  const bool captioned =
      std::find(roles.begin(), roles.end(), ImageRole::kReference) != roles.end();
  append(user_start_);
  int references = 0;
  int tests = 0;
  for (int image = 0; image < prompt.num_images; ++image) {
    if (captioned) {
      const std::string caption = roles[image] == ImageRole::kReference
                                      ? "Reference image " + std::to_string(++references)
                                      : "Test image " + std::to_string(++tests);
      append(tokenizer_->Encode(caption + ":\n", /*allow_special=*/false));
    }
    append(image_run_);
    if (captioned) append(newline_);
  }
  append(tokenizer_->Encode(prompt.user, /*allow_special=*/false, "prompt"));
  append(turn_end_);
  append(assistant_start_);
  return ids;
}

}  // namespace auroraedge::model
