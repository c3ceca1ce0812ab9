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

TEST_CASE("a raw frame's pixel format is any PixelFormat name without its prefix") {
  GenerateArgs args;
  args.prompt = "p";
  ImageArg frame;
  frame.path = "/dev/null";
  frame.raw = true;
  frame.width = 4;
  frame.height = 2;
  for (const auto& [name, format] : {std::pair{"MONO12P", v1::PIXEL_FORMAT_MONO12P},
                                     {"MONO10", v1::PIXEL_FORMAT_MONO10},
                                     {"BAYER_RG16", v1::PIXEL_FORMAT_BAYER_RG16},
                                     {"BAYER_BG8", v1::PIXEL_FORMAT_BAYER_BG8}}) {
    frame.pixel_format = name;
    args.images = {frame};
    CHECK(BuildGenerateRequest(args).images(0).raw().pixel_format() == format);
  }
  frame.pixel_format = "Mono12p";
  args.images = {frame};
  CHECK_THROWS_WITH(BuildGenerateRequest(args),
                    "--pixel-format: 'Mono12p' is not a pixel format (auroraedge-cli --help lists "
                    "them)");
}

TEST_CASE("inspect: images, references, question, labels and threshold") {
  const CliArgs args =
      ParseCliArgs({"inspect", "--reference", "golden.png", "--image", "part.png", "--question",
                    "Is the part OK or NG?", "--labels", "OK,NG", "--label", "scratch, left",
                    "--threshold", "NG=0.5,0.8", "--priority", "line-critical"});
  CHECK(args.command == CliCommand::kInspect);
  const InspectArgs& inspect = args.inspect;
  REQUIRE(inspect.images.size() == 2);
  CHECK(inspect.images[0].reference);
  CHECK_FALSE(inspect.images[1].reference);
  CHECK(inspect.prompt == "Is the part OK or NG?");
  CHECK(inspect.labels == std::vector<std::string>{"OK", "NG", "scratch, left"});
  REQUIRE(inspect.threshold);
  CHECK(inspect.threshold->label == "NG");
  CHECK(inspect.threshold->ok_below == Approx(0.5));
  CHECK(inspect.threshold->ng_from == Approx(0.8));
  CHECK(inspect.priority == "line-critical");

  InspectArgs request_args = inspect;
  request_args.images.clear();
  const v1::InspectRequest request = BuildInspectRequest(request_args);
  CHECK(request.labels_size() == 3);
  CHECK(request.decision_rule().label() == "NG");
  CHECK(request.decision_rule().ng_from() == Approx(0.8));
  CHECK(request.priority() == v1::PRIORITY_LINE_CRITICAL);

  RequireUsageError({"inspect", "--labels", "OK,NG"}, "--question is required");
  RequireUsageError({"inspect", "--question", "q"}, "--labels is required");
  RequireUsageError({"inspect", "--question", "q", "--labels", "OK", "--threshold", "NG=0.5"},
                    "--threshold: 'NG=0.5' is not LABEL=OK_BELOW,NG_FROM");
  RequireUsageError({"inspect", "--question", "q", "--labels", "OK", "--threshold", "NG=a,b"},
                    "--threshold: 'a' is not a number");
}

TEST_CASE("generate: log-probabilities and constraints") {
  const CliArgs args = ParseCliArgs({"generate", "--prompt", "p", "--top-logprobs", "3", "--choice",
                                     "OK", "--choice", "NG", "--reference", "golden.png"});
  CHECK(args.generate.top_logprobs == 3u);
  CHECK(args.generate.choice == std::vector<std::string>{"OK", "NG"});
  REQUIRE(args.generate.images.size() == 1);
  CHECK(args.generate.images[0].reference);
  GenerateArgs generate = args.generate;
  generate.images.clear();
  const v1::GenerateRequest request = BuildGenerateRequest(generate);
  CHECK(request.sampling().top_logprobs() == 3);
  CHECK(request.sampling().choice_size() == 2);
  generate.json_schema_path = "/nonexistent/schema.json";
  CHECK_THROWS_WITH(BuildGenerateRequest(generate), "/nonexistent/schema.json: cannot be read");
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

TEST_CASE("load-model takes the model directory, and connection options around it") {
  const CliArgs args = ParseCliArgs(
      {"--address", "10.0.0.5:6000", "load-model", "/srv/models/line-7", "--token-file", "ops"});
  CHECK(args.command == CliCommand::kLoadModel);
  CHECK(args.model_dir == "/srv/models/line-7");
  CHECK(args.connection.token_file == "ops");
  CHECK(args.deadline_ms == 0);  // none: a large model may take minutes
  RequireUsageError({"load-model"}, "load-model: the model directory DIR is required");
  RequireUsageError({"load-model", "a", "b"}, "unexpected argument 'b'");
  RequireUsageError({"load-model", "a", "--prompt", "p"}, "unknown option --prompt");
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

TEST_CASE("TLS and token options, before or after the command") {
  const CliArgs plain = ParseCliArgs({"health"});
  CHECK(plain.connection.tls_ca.empty());
  CHECK(plain.connection.token.empty());
  const CliArgs args = ParseCliArgs({"--tls-ca", "ca.pem", "info", "--tls-cert", "client.pem",
                                     "--tls-key", "client.key", "--token-file", "token.txt"});
  CHECK(args.command == CliCommand::kInfo);
  CHECK(args.connection.tls_ca == "ca.pem");
  CHECK(args.connection.tls_cert == "client.pem");
  CHECK(args.connection.tls_key == "client.key");
  CHECK(args.connection.token_file == "token.txt");
  CHECK(ParseCliArgs({"--token", "s3cret", "health"}).connection.token == "s3cret");
}

TEST_CASE("TLS and token options that do not fit together are named") {
  RequireUsageError({"--tls-ca", "ca.pem", "--tls-cert", "c.pem", "health"},
                    "--tls-cert: needs --tls-key");
  RequireUsageError({"--tls-ca", "ca.pem", "--tls-key", "c.key", "health"},
                    "--tls-key: needs --tls-cert");
  RequireUsageError({"--tls-cert", "c.pem", "--tls-key", "c.key", "health"},
                    "--tls-cert: needs --tls-ca");
  RequireUsageError({"--token", "a", "--token-file", "t", "health"},
                    "give either --token or --token-file");
  RequireUsageError({"health", "--tls-ca"}, "--tls-ca: needs a value");
}

}  // namespace auroraedge::server::app
