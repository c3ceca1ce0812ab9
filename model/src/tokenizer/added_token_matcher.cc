#include "added_token_matcher.h"

#include <algorithm>

namespace auroraedge::model {

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (tokens_[i].content.empty()) continue;
    by_first_byte_[static_cast<uint8_t>(tokens_[i].content[0])].push_back(static_cast<int>(i));
  }
  for (auto& candidates : by_first_byte_) {
    std::stable_sort(candidates.begin(), candidates.end(), [this](int a, int b) {
      return tokens_[a].content.size() > tokens_[b].content.size();
    });
  }
}

int AddedTokenMatcher::LongestMatchAt(std::string_view text, size_t pos) const {
  for (const int index : by_first_byte_[static_cast<uint8_t>(text[pos])]) {
    const std::string& content = tokens_[index].content;
    if (text.compare(pos, content.size(), content) == 0) return index;
  }
  return -1;
}

void AddedTokenMatcher::Split(std::string_view text, bool allow_special,
                              const std::function<void(std::string_view)>& on_text,
                              const std::function<void(int32_t)>& on_token) const {
  size_t plain_start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const int index =
        by_first_byte_[static_cast<uint8_t>(text[pos])].empty() ? -1 : LongestMatchAt(text, pos);
    if (index < 0) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[index];
    if (token.special && !allow_special) {
      pos += token.content.size();
      continue;
    }
    if (pos > plain_start) on_text(text.substr(plain_start, pos - plain_start));
    on_token(token.id);
    pos += token.content.size();
    plain_start = pos;
  }
  if (plain_start < text.size()) on_text(text.substr(plain_start));
}

}  // namespace auroraedge::model
