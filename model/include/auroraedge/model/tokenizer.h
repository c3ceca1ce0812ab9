#pragma once

// Byte-level BPE tokenizer read from a Hugging Face tokenizer.json in the
// Qwen2 / Qwen2.5 layout: NFC normalizer, Split(regex, Isolated) + ByteLevel
// pre-tokenizer, BPE model (vocab + merges by rank), ByteLevel decoder, and
// added tokens matched before BPE. Encode and Decode give exactly the ids and
// text of the reference implementation (HF tokenizers).
//
// Supported: normalizer NFC or none; pre_tokenizer Sequence[Split(Regex,
// Isolated), ByteLevel(add_prefix_space false, use_regex false)]; model BPE
// (merges as "a b" or ["a", "b"], ignore_merges); decoder ByteLevel;
// post_processor ByteLevel or none; added tokens without lstrip, rstrip or
// single_word. Anything else is refused at load. The Split regex runs on
// PCRE2 with \s read as Unicode White_Space, as Oniguruma (HF's engine)
// reads it. Tested against the JavaScript port of HF tokenizers on the Qwen
// vocabulary (tests/tokenizer); the port itself departs from HF on U+0085,
// U+FEFF and "'ſ", where this class follows HF.
//
// Threading: a loaded Tokenizer is immutable apart from an internal word
// cache that is guarded; every const method is thread-safe, so one Tokenizer
// can be shared by all threads of the server.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace auroraedge::model {

// The tokenizer file is missing, is not valid JSON, or uses a component this
// implementation does not support. The message names the file and the
// component, e.g. "tokenizer.json: normalizer type 'NFKC' is not supported".
class TokenizerLoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Text handed to Encode that is not valid UTF-8 (bad lead or continuation
// byte, overlong form, surrogate, code point above U+10FFFF, truncated
// sequence). The reference tokenizers only take Unicode strings, so such
// input is refused rather than guessed at.
class InvalidUtf8Error : public std::invalid_argument {
 public:
  InvalidUtf8Error(const std::string& field, size_t byte_offset);
  size_t byte_offset() const { return byte_offset_; }

 private:
  size_t byte_offset_;
};

class Tokenizer {
 public:
  // Reads and validates a tokenizer.json. Throws TokenizerLoadError.
  static Tokenizer Load(const std::string& path);
  // Same, from the file's text; `source_name` is used in error messages.
  static Tokenizer FromJson(std::string_view json_text, const std::string& source_name);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Token ids of `text`. With allow_special, the text of every added token
  // (e.g. "<|im_end|>") becomes that token, as HF tokenizers encode. Without
  // it, the text of special added tokens is encoded as plain text (HF's
  // split_special_tokens), so user text cannot inject control tokens; added
  // tokens marked non-special (e.g. "<tool_call>") are still matched.
  // Throws InvalidUtf8Error naming `field` (e.g. "prompt") and the offset.
  std::vector<int32_t> Encode(std::string_view text, bool allow_special,
                              const std::string& field = "text") const;

  // Text of `ids`. Bytes that do not form valid UTF-8 become U+FFFD, one per
  // maximal invalid subpart (as HF's from_utf8_lossy and the WHATWG decoder).
  // With skip_special, special added tokens are left out. Ids that have no
  // token (negative, or the padding rows of a model whose embedding table is
  // larger than the vocabulary) are left out, as HF tokenizers does.
  std::string Decode(const std::vector<int32_t>& ids, bool skip_special) const;

  // The raw bytes token `id` contributes to decoded text (not necessarily
  // whole UTF-8 characters); empty for an id with no token.
  std::string_view TokenBytes(int32_t id) const;
  bool IsSpecial(int32_t id) const;
  bool HasToken(int32_t id) const;

  // Lookup by the token's string as written in tokenizer.json (byte-level
  // form for BPE tokens, e.g. "Ġthe"; the content for added tokens).
  std::optional<int32_t> TokenToId(std::string_view token) const;
  std::optional<std::string> IdToToken(int32_t id) const;

  // Id of an added token by its content, e.g. "<|im_end|>". Throws
  // std::out_of_range naming the token when the tokenizer lacks it.
  int32_t SpecialTokenId(std::string_view content) const;

  // Highest token id + 1 (BPE vocabulary and added tokens together).
  int32_t vocab_size() const;

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace auroraedge::model
