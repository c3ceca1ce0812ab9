#include "auroraedge/model/tokenize_command.h"

#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>

#include "auroraedge/model/tokenizer.h"

namespace auroraedge::model {
namespace {

constexpr int kBadInput = 1;
constexpr int kBadTokenizer = 2;

std::optional<Tokenizer> LoadOrReport(const std::string& path, std::ostream& err) {
  try {
    return Tokenizer::Load(path);
  } catch (const TokenizerLoadError& error) {
    err << "error: " << error.what() << "\n";
    return std::nullopt;
  }
}

// The ids of one detokenize line, or an error message naming what is wrong.
std::optional<std::vector<int32_t>> ParseIds(const std::string& line, int32_t vocab_size,
                                             std::string* problem) {
  const nlohmann::json ids = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!ids.is_array()) {
    *problem = "expected a JSON array of token ids, e.g. [9707,11,1879]";
    return std::nullopt;
  }
  std::vector<int32_t> result;
  result.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const nlohmann::json& id = ids[i];
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= vocab_size) {
      *problem = "element " + std::to_string(i) + " (" + id.dump() + ") is not a token id in [0, " +
                 std::to_string(vocab_size) + ")";
      return std::nullopt;
    }
    result.push_back(id.get<int32_t>());
  }
  return result;
}

}  // namespace

int RunTokenizeCommand(const std::string& tokenizer_path, bool allow_special, std::istream& in,
                       std::ostream& out, std::ostream& err) {
  const std::optional<Tokenizer> tokenizer = LoadOrReport(tokenizer_path, err);
  if (!tokenizer) return kBadTokenizer;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    try {
      out << nlohmann::json(
                 tokenizer->Encode(line, allow_special, "line " + std::to_string(number)))
                 .dump()
          << "\n";
    } catch (const InvalidUtf8Error& error) {
      err << "error: " << error.what() << "\n";
      return kBadInput;
    }
  }
  return 0;
}

int RunDetokenizeCommand(const std::string& tokenizer_path, bool skip_special, std::istream& in,
                         std::ostream& out, std::ostream& err) {
  const std::optional<Tokenizer> tokenizer = LoadOrReport(tokenizer_path, err);
  if (!tokenizer) return kBadTokenizer;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::string problem;
    const auto ids = ParseIds(line, tokenizer->vocab_size(), &problem);
    if (!ids) {
      err << "error: line " << number << ": " << problem << "\n";
      return kBadInput;
    }
    out << tokenizer->Decode(*ids, skip_special) << "\n";
  }
  return 0;
}

}  // namespace auroraedge::model
