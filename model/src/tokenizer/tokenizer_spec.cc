#include "tokenizer_spec.h"

#include <nlohmann/json.hpp>

#include "auroraedge/model/tokenizer.h"

namespace auroraedge::model {
namespace {

using nlohmann::json;

class SpecParser {
 public:
  explicit SpecParser(const std::string& source) : source_(source) {}

  [[noreturn]] void Fail(const std::string& component, const std::string& message) const {
    throw TokenizerLoadError(source_ + ": " + component + ": " + message);
  }

  // The value of `key` in `object`; absent counts as null.
  static const json& Field(const json& object, const char* key) {
    static const json kNull;
    const auto it = object.find(key);
    return it == object.end() ? kNull : *it;
  }

  void RequireType(const json& component, const std::string& name, const char* type) const {
    if (!component.is_object()) Fail(name, "expected an object");
    const json& actual = Field(component, "type");
    if (actual != type) {
      Fail(name, "type " + actual.dump() + " is not supported (supported: \"" + type + "\")");
    }
  }

  void RequireFlag(const json& component, const std::string& name, const char* key,
                   bool supported) const {
    const json& value = Field(component, key);
    if (!value.is_null() && value != supported) {
      Fail(name, std::string(key) + " = " + value.dump() + " is not supported (only " +
                     (supported ? "true" : "false") + ")");
    }
  }

  void RequireEmpty(const json& component, const std::string& name, const char* key) const {
    const json& value = Field(component, key);
    if (!value.is_null() && value != "") {
      Fail(name, std::string(key) + " = " + value.dump() + " is not supported");
    }
  }

  void ParseTopLevel(const json& root) const {
    for (const char* key : {"truncation", "padding"}) {
      if (!Field(root, key).is_null()) Fail(key, "must be null (not supported)");
    }
    const json& post = Field(root, "post_processor");
    // A ByteLevel post-processor only adjusts offsets, which Encode does not return.
    if (!post.is_null()) {
      RequireType(post, "post_processor", "ByteLevel");
    }
    const json& decoder = Field(root, "decoder");
    RequireType(decoder, "decoder", "ByteLevel");
  }

  bool ParseNormalizer(const json& normalizer) const {
    if (normalizer.is_null()) return false;
    RequireType(normalizer, "normalizer", "NFC");
    return true;
  }

  void ParseByteLevel(const json& byte_level, const std::string& name) const {
    RequireType(byte_level, name, "ByteLevel");
    RequireFlag(byte_level, name, "add_prefix_space", false);
    RequireFlag(byte_level, name, "use_regex", false);
  }

  std::string ParsePreTokenizer(const json& pre) const {
    const std::string name = "pre_tokenizer";
    RequireType(pre, name, "Sequence");
    const json& steps = Field(pre, "pretokenizers");
    if (!steps.is_array() || steps.size() != 2) {
      Fail(name, "expected a Sequence of [Split, ByteLevel]");
    }
    const std::string split_name = name + ".pretokenizers[0]";
    const json& split = steps[0];
    RequireType(split, split_name, "Split");
    const json& behavior = Field(split, "behavior");
    if (behavior != "Isolated") {
      Fail(split_name, "behavior " + behavior.dump() + " is not supported (only \"Isolated\")");
    }
    RequireFlag(split, split_name, "invert", false);
    const json& pattern = Field(Field(split, "pattern"), "Regex");
    if (!pattern.is_string()) Fail(split_name, "pattern must be {\"Regex\": \"...\"}");
    ParseByteLevel(steps[1], name + ".pretokenizers[1]");
    return pattern.get<std::string>();
  }

  void ParseModel(const json& model, TokenizerSpec* spec) const {
    RequireType(model, "model", "BPE");
    if (!Field(model, "dropout").is_null()) Fail("model", "dropout is not supported");
    RequireFlag(model, "model", "byte_fallback", false);
    RequireEmpty(model, "model", "continuing_subword_prefix");
    RequireEmpty(model, "model", "end_of_word_suffix");
    const json& ignore_merges = Field(model, "ignore_merges");
    spec->ignore_merges = ignore_merges.is_boolean() && ignore_merges.get<bool>();

    const json& vocab = Field(model, "vocab");
    if (!vocab.is_object() || vocab.empty()) Fail("model.vocab", "expected a non-empty object");
    spec->vocab.reserve(vocab.size());
    for (const auto& [token, id] : vocab.items()) {
      spec->vocab.emplace_back(token, ParseId(id, "model.vocab", "the id of \"" + token + "\""));
    }

    const json& merges = Field(model, "merges");
    if (!merges.is_array()) Fail("model.merges", "expected an array");
    spec->merges.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      spec->merges.push_back(ParseMerge(merges[i], i));
    }
  }

  // Token ids index tables, so they are kept to a size real vocabularies
  // stay far below (Qwen: 151,669 ids).
  int32_t ParseId(const json& id, const std::string& component, const std::string& what) const {
    constexpr int64_t kMaxId = (1 << 24) - 1;
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > kMaxId) {
      Fail(component,
           what + " must be an integer in [0, " + std::to_string(kMaxId) + "], got " + id.dump());
    }
    return id.get<int32_t>();
  }

  // "left right" (tokenizers < 0.20) or ["left", "right"].
  std::pair<std::string, std::string> ParseMerge(const json& merge, size_t index) const {
    const std::string name = "model.merges[" + std::to_string(index) + "]";
    if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string()) {
      return {merge[0].get<std::string>(), merge[1].get<std::string>()};
    }
    if (merge.is_string()) {
      const std::string text = merge.get<std::string>();
      const size_t space = text.find(' ');
      if (space != std::string::npos && text.find(' ', space + 1) == std::string::npos) {
        return {text.substr(0, space), text.substr(space + 1)};
      }
    }
    Fail(name, "expected \"left right\" or [\"left\", \"right\"], got " + merge.dump());
  }

  void ParseAddedTokens(const json& added, bool normalizer_set, TokenizerSpec* spec) const {
    if (added.is_null()) return;
    if (!added.is_array()) Fail("added_tokens", "expected an array");
    for (size_t i = 0; i < added.size(); ++i) {
      const json& token = added[i];
      const std::string name = "added_tokens[" + std::to_string(i) + "]";
      const int32_t id = ParseId(Field(token, "id"), name, "id");
      const json& content = Field(token, "content");
      if (!content.is_string() || content.get<std::string>().empty()) {
        Fail(name, "content must be a non-empty string");
      }
      const std::string label = name + " " + content.dump();
      for (const char* flag : {"single_word", "lstrip", "rstrip"}) {
        RequireFlag(token, label, flag, false);
      }
      if (normalizer_set && Field(token, "normalized") == true) {
        Fail(label, "normalized = true is not supported with a normalizer");
      }
      spec->added_tokens.push_back(
          AddedToken{id, content.get<std::string>(), Field(token, "special") == true});
    }
  }

 private:
  const std::string& source_;
};

}  // namespace

TokenizerSpec ParseTokenizerSpec(std::string_view json_text, const std::string& source) {
  SpecParser parser(source);
  json root;
  try {
    root = json::parse(json_text.begin(), json_text.end());
  } catch (const json::parse_error& error) {
    parser.Fail("JSON", error.what());
  }
  if (!root.is_object()) parser.Fail("JSON", "expected an object at the top level");
  TokenizerSpec spec;
  parser.ParseTopLevel(root);
  spec.nfc = parser.ParseNormalizer(SpecParser::Field(root, "normalizer"));
  spec.split_pattern = parser.ParsePreTokenizer(SpecParser::Field(root, "pre_tokenizer"));
  parser.ParseModel(SpecParser::Field(root, "model"), &spec);
  parser.ParseAddedTokens(SpecParser::Field(root, "added_tokens"), spec.nfc, &spec);
  return spec;
}

}  // namespace auroraedge::model
