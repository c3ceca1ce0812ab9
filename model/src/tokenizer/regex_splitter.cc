#include "regex_splitter.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstdint>
#include <stdexcept>

namespace auroraedge::model {
namespace {

std::string Pcre2Message(int error_code) {
  PCRE2_UCHAR buffer[256];
  pcre2_get_error_message(error_code, buffer, sizeof(buffer));
  return reinterpret_cast<const char*>(buffer);
}

// Unicode White_Space, which is what \s means to Oniguruma, the regex engine
// of HF tokenizers. PCRE2's own \s also takes U+180E (a format character).
constexpr const char* kWhiteSpace =
    "\\t\\n\\x0B\\f\\r\\x20\\x85\\xA0\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
    "\\x{202F}\\x{205F}\\x{3000}";

// The pattern with \s and \S spelled out as kWhiteSpace.
std::string TranslateWhiteSpace(const std::string& pattern) {
  std::string out;
  bool in_class = false;
  size_t class_start = 0;  // where a leading ']' would still be a literal
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char next = pattern[++i];
      if (next == 's') {
        out += in_class ? std::string(kWhiteSpace) : "[" + std::string(kWhiteSpace) + "]";
      } else if (next == 'S') {
        if (in_class) throw std::invalid_argument("\\S inside a character class is not supported");
        out += "[^" + std::string(kWhiteSpace) + "]";
      } else {
        out += c;
        out += next;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      class_start = i + 1 < pattern.size() && pattern[i + 1] == '^' ? i + 2 : i + 1;
    } else if (in_class && c == ']' && i != class_start) {
      in_class = false;
    }
    out += c;
  }
  return out;
}

size_t Utf8CharLength(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

}  // namespace

struct RegexSplitter::Code {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~Code() { pcre2_code_free(code); }
};

RegexSplitter::RegexSplitter(const std::string& pattern) : code_(std::make_unique<Code>()) {
  const std::string translated = TranslateWhiteSpace(pattern);
  int error_code = 0;
  PCRE2_SIZE error_offset = 0;
  code_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                              PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
  if (code_->code == nullptr) {
    // PCRE2's offset would point into the translated pattern, so only its message.
    throw std::invalid_argument("regex does not compile: " + Pcre2Message(error_code));
  }
  // Without JIT support PCRE2's interpreter gives the same matches, slower.
  code_->jit = pcre2_jit_compile(code_->code, PCRE2_JIT_COMPLETE) == 0;
}

RegexSplitter::~RegexSplitter() = default;

void RegexSplitter::Split(std::string_view text,
                          const std::function<void(std::string_view)>& on_piece) const {
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> match(
      pcre2_match_data_create_from_pattern(code_->code, nullptr), &pcre2_match_data_free);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t gap_start = 0;
  size_t offset = 0;
  while (offset < text.size()) {
    // The caller checked the UTF-8 once for the whole text.
    int rc = code_->jit ? pcre2_jit_match(code_->code, subject, text.size(), offset, 0, match.get(),
                                          nullptr)
                        : -1;
    if (!code_->jit || rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      rc = pcre2_match(code_->code, subject, text.size(), offset, PCRE2_NO_UTF_CHECK, match.get(),
                       nullptr);
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      throw std::runtime_error("pre-tokenizer regex failed at byte " + std::to_string(offset) +
                               ": " + Pcre2Message(rc));
    }
    const PCRE2_SIZE* span = pcre2_get_ovector_pointer(match.get());
    const size_t start = span[0];
    const size_t end = span[1];
    if (start > gap_start) on_piece(text.substr(gap_start, start - gap_start));
    if (end > start) {
      on_piece(text.substr(start, end - start));
      gap_start = end;
      offset = end;
    } else {
      // An empty match yields no piece; go on from the next character.
      if (start == text.size()) break;
      gap_start = start;
      offset = start + Utf8CharLength(static_cast<uint8_t>(text[start]));
    }
  }
  if (gap_start < text.size()) on_piece(text.substr(gap_start));
}

}  // namespace auroraedge::model
