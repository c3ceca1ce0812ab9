#include "auroraedge/model/tokenizer.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "bpe_model.h"
#include "byte_level.h"
#include "nfc.h"
#include "regex_splitter.h"
#include "tokenizer_spec.h"
#include "utf8.h"

namespace auroraedge::model {
namespace {

enum class TokenKind : uint8_t { kNone, kBpe, kAdded, kSpecial };

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

}  // namespace

InvalidUtf8Error::InvalidUtf8Error(const std::string& field, size_t byte_offset)
    : std::invalid_argument(field + ": invalid UTF-8 at byte " + std::to_string(byte_offset) +
                            " (the text must be UTF-8)"),
      byte_offset_(byte_offset) {}

struct Tokenizer::Impl {
  std::vector<std::string> token_strings;  // by id, as written in tokenizer.json
  std::vector<std::string> token_bytes;    // by id, what the token decodes to
  std::vector<TokenKind> kinds;            // by id
  std::unordered_map<std::string, int32_t> id_of_string;
  std::unordered_map<std::string, int32_t> id_of_added;
  bool nfc = false;
  std::unique_ptr<AddedTokenMatcher> added_matcher;
  std::unique_ptr<RegexSplitter> splitter;
  std::unique_ptr<BpeModel> bpe;

  Impl(TokenizerSpec spec, const std::string& source);
  void AddToken(int32_t id, const std::string& text, std::string bytes, TokenKind kind,
                const std::string& source);
  std::unique_ptr<BpeModel> BuildBpe(const TokenizerSpec& spec, const std::string& source) const;
  void EncodePlain(std::string_view text, std::vector<int32_t>* ids) const;
  bool Has(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < kinds.size() && kinds[id] != TokenKind::kNone;
  }
};

Tokenizer::Impl::Impl(TokenizerSpec spec, const std::string& source) : nfc(spec.nfc) {
  for (auto& [text, id] : spec.vocab) {
    auto bytes = byte_level::BytesOfToken(text);
    // HF's ByteLevel decoder writes a token outside the byte alphabet as is.
    AddToken(id, text, bytes ? std::move(*bytes) : text, TokenKind::kBpe, source);
  }
  for (const AddedToken& token : spec.added_tokens) {
    const TokenKind kind = token.special ? TokenKind::kSpecial : TokenKind::kAdded;
    AddToken(token.id, token.content, token.content, kind, source);
    id_of_added[token.content] = token.id;
  }
  bpe = BuildBpe(spec, source);
  try {
    splitter = std::make_unique<RegexSplitter>(spec.split_pattern);
  } catch (const std::invalid_argument& error) {
    throw TokenizerLoadError(source + ": pre_tokenizer.pretokenizers[0].pattern: " + error.what());
  }
  added_matcher = std::make_unique<AddedTokenMatcher>(std::move(spec.added_tokens));
}

void Tokenizer::Impl::AddToken(int32_t id, const std::string& text, std::string bytes,
                               TokenKind kind, const std::string& source) {
  if (static_cast<size_t>(id) >= kinds.size()) {
    kinds.resize(id + 1, TokenKind::kNone);
    token_strings.resize(id + 1);
    token_bytes.resize(id + 1);
  }
  if (kinds[id] != TokenKind::kNone) {
    // An added token may repeat its own vocabulary entry (GPT-2 does).
    if (kind == TokenKind::kBpe || kinds[id] != TokenKind::kBpe || token_strings[id] != text) {
      throw TokenizerLoadError(source + ": " +
                               (kind == TokenKind::kBpe ? "model.vocab" : "added_tokens") +
                               ": id " + std::to_string(id) + " is given to both " +
                               Quoted(token_strings[id]) + " and " + Quoted(text));
    }
  }
  kinds[id] = kind;
  token_strings[id] = text;
  token_bytes[id] = std::move(bytes);
  id_of_string[text] = id;
}

std::unique_ptr<BpeModel> Tokenizer::Impl::BuildBpe(const TokenizerSpec& spec,
                                                    const std::string& source) const {
  std::unordered_map<std::string, int32_t> vocab(spec.vocab.begin(), spec.vocab.end());
  std::array<int32_t, 256> byte_ids{};
  for (int b = 0; b < 256; ++b) {
    const auto it = vocab.find(byte_level::CharOfByte(static_cast<uint8_t>(b)));
    if (it == vocab.end()) {
      throw TokenizerLoadError(source + ": model.vocab: no token for byte " + std::to_string(b) +
                               " (" + Quoted(byte_level::CharOfByte(static_cast<uint8_t>(b))) +
                               "); a byte-level vocabulary needs all 256");
    }
    byte_ids[b] = it->second;
  }
  std::unordered_map<uint64_t, BpeModel::Merge> merges;
  merges.reserve(spec.merges.size());
  for (size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [left, right] = spec.merges[rank];
    const auto left_it = vocab.find(left);
    const auto right_it = vocab.find(right);
    const auto merged_it = vocab.find(left + right);
    for (const auto& [it, text] : {std::pair{left_it, &left}, std::pair{right_it, &right}}) {
      if (it == vocab.end()) {
        throw TokenizerLoadError(source + ": model.merges[" + std::to_string(rank) +
                                 "]: " + Quoted(*text) + " is not in model.vocab");
      }
    }
    if (merged_it == vocab.end()) {
      throw TokenizerLoadError(source + ": model.merges[" + std::to_string(rank) +
                               "]: the merged token " + Quoted(left + right) +
                               " is not in model.vocab");
    }
    // A repeated merge takes its last rank, as HF tokenizers builds its map.
    merges[BpeModel::PairKey(left_it->second, right_it->second)] =
        BpeModel::Merge{static_cast<int32_t>(rank), merged_it->second};
  }
  std::unordered_map<std::string, int32_t> whole_piece_ids;
  if (spec.ignore_merges) {
    for (const auto& [text, id] : spec.vocab) {
      if (auto bytes = byte_level::BytesOfToken(text)) whole_piece_ids.emplace(*bytes, id);
    }
  }
  return std::make_unique<BpeModel>(byte_ids, std::move(merges), std::move(whole_piece_ids));
}

void Tokenizer::Impl::EncodePlain(std::string_view text, std::vector<int32_t>* ids) const {
  std::string normalized_storage;
  const std::string_view normalized = nfc ? NormalizeNfc(text, &normalized_storage) : text;
  splitter->Split(normalized, [&](std::string_view piece) { bpe->Encode(piece, ids); });
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::Load(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw TokenizerLoadError(path + ": cannot be read: " + std::strerror(errno));
  }
  std::ostringstream text;
  text << file.rdbuf();
  return FromJson(text.str(), path);
}

Tokenizer Tokenizer::FromJson(std::string_view json_text, const std::string& source_name) {
  return Tokenizer(std::make_unique<Impl>(ParseTokenizerSpec(json_text, source_name), source_name));
}

std::vector<int32_t> Tokenizer::Encode(std::string_view text, bool allow_special,
                                       const std::string& field) const {
  const size_t invalid = utf8::FindInvalid(text);
  if (invalid != std::string_view::npos) throw InvalidUtf8Error(field, invalid);
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 1);
  impl_->added_matcher->Split(
      text, allow_special, [&](std::string_view plain) { impl_->EncodePlain(plain, &ids); },
      [&](int32_t id) { ids.push_back(id); });
  return ids;
}

std::string Tokenizer::Decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string bytes;
  for (const int32_t id : ids) {
    if (!impl_->Has(id) || (skip_special && impl_->kinds[id] == TokenKind::kSpecial)) continue;
    bytes += impl_->token_bytes[id];
  }
  std::string text;
  text.reserve(bytes.size());
  utf8::AppendLossy(bytes, &text);
  return text;
}

std::string_view Tokenizer::TokenBytes(int32_t id) const {
  return impl_->Has(id) ? std::string_view(impl_->token_bytes[id]) : std::string_view();
}

bool Tokenizer::IsSpecial(int32_t id) const {
  return impl_->Has(id) && impl_->kinds[id] == TokenKind::kSpecial;
}

bool Tokenizer::HasToken(int32_t id) const { return impl_->Has(id); }

std::optional<int32_t> Tokenizer::TokenToId(std::string_view token) const {
  const auto it = impl_->id_of_string.find(std::string(token));
  if (it == impl_->id_of_string.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Tokenizer::IdToToken(int32_t id) const {
  if (!impl_->Has(id)) return std::nullopt;
  return impl_->token_strings[id];
}

int32_t Tokenizer::SpecialTokenId(std::string_view content) const {
  const auto it = impl_->id_of_added.find(std::string(content));
  if (it == impl_->id_of_added.end()) {
    throw std::out_of_range("the tokenizer has no added token " + Quoted(content));
  }
  return it->second;
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(impl_->kinds.size()); }

}  // namespace auroraedge::model
