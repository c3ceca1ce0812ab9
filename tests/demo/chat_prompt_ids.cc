// Prints the token ids the server computes, so that the demo training's
// Python prompt ids can be checked against them (test_training_matches_serving.py).
//
//   chat_prompt_ids TOKENIZER_JSON VISUAL_TOKENS_PER_IMAGE < lines
//
// Each input line is a JSON object {"prompt": TEXT} or {"text": TEXT}; each
// output line is the JSON array of ids: for "prompt", the chat template of
// one image and that user prompt (no system prompt), as the server builds it;
// for "text", the plain encoding (special-token text not recognised).

#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "auroraedge/model/chat_template.h"
#include "auroraedge/model/tokenizer.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: chat_prompt_ids TOKENIZER_JSON VISUAL_TOKENS_PER_IMAGE < lines\n";
    return 2;
  }
  try {
    const auto tokenizer = auroraedge::model::Tokenizer::Load(argv[1]);
    const auroraedge::model::ChatTemplate chat(tokenizer, std::stoi(argv[2]));
    std::string line;
    while (std::getline(std::cin, line)) {
      const auto request = nlohmann::json::parse(line);
      const auto ids = request.contains("prompt")
                           ? chat.Build({"", request.at("prompt").get<std::string>(), 1})
                           : tokenizer.Encode(request.at("text").get<std::string>(), false);
      std::cout << nlohmann::json(ids).dump() << '\n';
    }
  } catch (const std::exception& error) {
    std::cerr << "chat_prompt_ids: " << error.what() << '\n';
    return 1;
  }
  return 0;
}
