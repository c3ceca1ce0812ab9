#include "cli_options.h"

#include <catch2/catch.hpp>

#include "cli_request.h"

namespace auroraedge::server::app {
namespace {

void RequireUsageError(const std::vector<std::string>& args, const std::string& message) {
  try {
    ParseCliArgs(args);
    FAIL("no UsageError");
  } catch (const UsageError& error) {
    CHECK_THAT(error.what(), Catch::Matchers::Contains(message));
  }
}

}  // namespace

TEST_CASE("global options and the command") {
  const CliArgs args =
      ParseCliArgs({"--address", "10.0.0.5:6000", "--deadline-ms", "250", "health"});
  CHECK(args.command == CliCommand::kHealth);
  CHECK(args.address == "10.0.0.5:6000");
  CHECK(args.deadline_ms == 250);
  CHECK(ParseCliArgs({"info"}).address == "127.0.0.1:50051");
}

TEST_CASE("generate: images, raw frames with geometry, ROIs and sampling") {
  const CliArgs args = ParseCliArgs({"generate",
                                     "--image",
                                     "a.png",
                                     "--roi",
                                     "1,2,30,40",
                                     "--raw-frame",
                                     "f.raw",
                                     "--width",
                                     "640",
                                     "--height",
                                     "480",
                                     "--pixel-format",
                                     "BAYER_RG8",
                                     "--stride",
                                     "704",
                                     "--prompt",
                                     "Defect?",
                                     "--system",
                                     "Be brief.",
                                     "--max-new-tokens",
                                     "16",
                                     "--temperature",
                                     "0.5",
                                     "--top-k",
                                     "20",
                                     "--top-p",
                                     "0.8",
                                     "--seed",
                                     "9",
                                     "--stop",
                                     "END",
                                     "--priority",
                                     "line-critical",
                                     "--deadline-ms",
                                     "3000"});
  CHECK(args.command == CliCommand::kGenerate);
  CHECK(args.deadline_ms == 3000);
  const GenerateArgs& g = args.generate;
  REQUIRE(g.images.size() == 2);
  CHECK(g.images[0].path == "a.png");
  CHECK_FALSE(g.images[0].raw);
  REQUIRE(g.images[0].roi.has_value());
  CHECK(g.images[0].roi->y == 2);
  CHECK(g.images[0].roi->height == 40);
  CHECK(g.images[1].raw);
  CHECK(g.images[1].width == 640);
  CHECK(g.images[1].stride == 704);
  CHECK(g.images[1].pixel_format == "BAYER_RG8");
  CHECK_FALSE(g.images[1].roi.has_value());
  CHECK(g.prompt == "Defect?");
  CHECK(g.max_new_tokens == 16u);
  CHECK(g.temperature == Approx(0.5f));
  CHECK(g.top_k == 20u);
  CHECK(g.seed == 9u);
  CHECK(g.stop == std::vector<std::string>{"END"});
  CHECK(g.priority == "line-critical");
}

TEST_CASE("the request carries what the command line asked for") {
  GenerateArgs args;
  args.prompt = "p";
  args.priority = "background";
  args.max_new_tokens = 3;
  args.stop = {"x", "y"};
  const v1::GenerateRequest request = BuildGenerateRequest(args);
  CHECK(request.prompt() == "p");
  CHECK(request.priority() == v1::PRIORITY_BACKGROUND);
  CHECK(request.sampling().max_new_tokens() == 3);
  CHECK_FALSE(request.sampling().has_temperature());
  CHECK(request.sampling().stop_size() == 2);
}

TEST_CASE("tokenize and detokenize take the tokenizer file and their own switch") {
  const CliArgs tokenize = ParseCliArgs({"tokenize", "--tokenizer", "tok.json", "--allow-special"});
  CHECK(tokenize.command == CliCommand::kTokenize);
  CHECK(tokenize.tokenizer.tokenizer_path == "tok.json");
  CHECK(tokenize.tokenizer.allow_special);
  const CliArgs detokenize =
      ParseCliArgs({"detokenize", "--tokenizer", "tok.json", "--skip-special"});
  CHECK(detokenize.command == CliCommand::kDetokenize);
  CHECK(detokenize.tokenizer.skip_special);
}

TEST_CASE("bad command lines name the option") {
  RequireUsageError({"generate", "--image", "a.png"}, "--prompt is required");
  RequireUsageError({"generate", "--width", "3", "--prompt", "p"},
                    "--width: belongs after a --raw-frame");
  RequireUsageError({"generate", "--raw-frame", "f", "--width", "3", "--prompt", "p"},
                    "needs --width, --height and --pixel-format");
  RequireUsageError({"generate", "--roi", "1,2,3", "--prompt", "p"}, "--roi: belongs after");
  RequireUsageError({"generate", "--image", "a", "--roi", "1,2,3", "--prompt", "p"},
                    "is not X,Y,W,H");
  RequireUsageError({"generate", "--prompt", "p", "--temperature", "hot"},
                    "--temperature: 'hot' is not a number");
  RequireUsageError({"generate", "--prompt", "p", "--priority", "urgent"}, "--priority: 'urgent'");
  RequireUsageError({"launch"}, "unknown command 'launch'");
  RequireUsageError({"tokenize"}, "--tokenizer FILE is required");
  RequireUsageError({"detokenize", "--tokenizer", "t.json", "--allow-special"},
                    "unknown option --allow-special");
  RequireUsageError({"health", "--prompt", "p"}, "unknown option --prompt");
  GenerateArgs missing;
  missing.prompt = "p";
  ImageArg image;
  image.path = "/nonexistent/part.png";
  missing.images.push_back(image);
  CHECK_THROWS_WITH(BuildGenerateRequest(missing), "/nonexistent/part.png: cannot be read");
}

}  // namespace auroraedge::server::app
