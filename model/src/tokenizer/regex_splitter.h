#pragma once

// The Split pre-tokenizer with behavior "Isolated": every regex match is a
// piece, and so is every stretch of text between matches. PCRE2 with UTF and
// UCP (Unicode \p{L}, \p{N}, \s) and JIT compilation.

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace auroraedge::model {

class RegexSplitter {
 public:
  // Throws std::invalid_argument with PCRE2's message and offset when the
  // pattern does not compile.
  explicit RegexSplitter(const std::string& pattern);
  ~RegexSplitter();
  RegexSplitter(const RegexSplitter&) = delete;
  RegexSplitter& operator=(const RegexSplitter&) = delete;

  // Calls on_piece for each piece of `text` (valid UTF-8), in order. Thread-safe.
  void Split(std::string_view text, const std::function<void(std::string_view)>& on_piece) const;

 private:
  struct Code;
  std::unique_ptr<Code> code_;
};

}  // namespace auroraedge::model
