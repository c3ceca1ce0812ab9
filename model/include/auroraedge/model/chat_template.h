#pragma once

// The prompt format of AuroraEdge-V: Qwen2.5 ChatML with Qwen2-VL image
// placeholders. For a system prompt S (optional), a user prompt U and k
// images, the prompt is exactly the ids of
//
//   <|im_start|>system\nS<|im_end|>\n          (only when S is not empty)
//   <|im_start|>user\n
//   <|vision_start|><|image_pad|>...<|image_pad|><|vision_end|>   (k times;
//                       visual_tokens_per_image <|image_pad|> each)
//   U<|im_end|>\n
//   <|im_start|>assistant\n
//
// with no other whitespace (the template is one string; the line breaks
// above are only for reading, "\n" marks the real newlines). The images come
// before the user's text, one run per image in request order.
//
// Golden references: when at least one image is a reference (ChatPrompt::
// image_roles), every image's run is captioned with its role and its number
// within that role, counted from 1 in request order, and followed by a
// newline:
//
//   <|im_start|>user\n
//   Reference image 1:\n<|vision_start|>...<|vision_end|>\n
//   Test image 1:\n<|vision_start|>...<|vision_end|>\n
//   U<|im_end|>\n
//
// so a model can tell the known-good parts from the part under test.
// Without a reference the layout is the one above, unchanged. "system\n",
// "user\n", "assistant\n", "\n", S and U are encoded as text with special
// tokens NOT recognised, so a user who types "<|im_end|>" gets those
// characters as plain text and cannot end the turn. Because added tokens
// split the text anyway, these ids equal encoding the whole template string
// with special tokens allowed whenever S and U contain no special-token text.
//
// Threading: Build is const and thread-safe. Holds a non-owning pointer to
// the tokenizer, which must outlive it.

#include <cstdint>
#include <string>
#include <vector>

#include "auroraedge/model/tokenizer.h"

namespace auroraedge::model {

// What an image is to the question: the part under test, or a golden
// reference the test image is compared with.
enum class ImageRole { kTest, kReference };

struct ChatPrompt {
  std::string system;  // empty: no system turn
  std::string user;
  int num_images = 0;
  std::vector<ImageRole> image_roles = {};  // one per image; empty: all kTest
};

class ChatTemplate {
 public:
  // Looks up <|im_start|>, <|im_end|>, <|vision_start|>, <|image_pad|> and
  // <|vision_end|>; throws std::out_of_range naming a missing one, and
  // std::invalid_argument when visual_tokens_per_image is not positive.
  ChatTemplate(const Tokenizer& tokenizer, int visual_tokens_per_image);

  // Throws std::invalid_argument when num_images is negative or
  // image_roles is neither empty nor one per image, and InvalidUtf8Error
  // naming "system_prompt" or "prompt".
  std::vector<int32_t> Build(const ChatPrompt& prompt) const;

  int32_t image_pad_id() const { return image_pad_; }
  int32_t vision_start_id() const { return vision_start_; }
  int32_t vision_end_id() const { return vision_end_; }
  int32_t im_end_id() const { return im_end_; }

 private:
  const Tokenizer* tokenizer_;
  int32_t image_pad_;
  int32_t vision_start_;
  int32_t vision_end_;
  int32_t im_end_;
  // The template's fixed parts, encoded once.
  std::vector<int32_t> system_start_;     // <|im_start|>system\n
  std::vector<int32_t> user_start_;       // <|im_start|>user\n
  std::vector<int32_t> turn_end_;         // <|im_end|>\n
  std::vector<int32_t> assistant_start_;  // <|im_start|>assistant\n
  std::vector<int32_t> image_run_;        // <|vision_start|><|image_pad|>...<|vision_end|>
  std::vector<int32_t> newline_;          // \n
};

}  // namespace auroraedge::model
