#include "cli_options.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace auroraedge::server::app {
namespace {

template <typename T>
T ParseInteger(const std::string& option, const std::string& text) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end) {
    throw UsageError(option + ": '" + text + "' is not a non-negative integer");
  }
  return value;
}

float ParseFloat(const std::string& option, const std::string& text) {
  size_t used = 0;
  float value = 0;
  try {
    value = std::stof(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || !std::isfinite(value)) {
    throw UsageError(option + ": '" + text + "' is not a number");
  }
  return value;
}

RoiArg ParseRoi(const std::string& text) {
  RoiArg roi;
  uint32_t* fields[] = {&roi.x, &roi.y, &roi.width, &roi.height};
  size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    const size_t comma = text.find(',', start);
    if ((i < 3) == (comma == std::string::npos)) {
      throw UsageError("--roi: '" + text + "' is not X,Y,W,H");
    }
    *fields[i] = ParseInteger<uint32_t>("--roi", text.substr(start, comma - start));
    start = comma + 1;
  }
  return roi;
}

// Walks the arguments; Value() takes the one after the current option.
class ArgCursor {
 public:
  explicit ArgCursor(const std::vector<std::string>& args) : args_(args) {}
  bool Done() const { return index_ >= args_.size(); }
  const std::string& Next() { return args_[index_++]; }
  const std::string& Value(const std::string& option) {
    if (Done()) throw UsageError(option + ": needs a value");
    return Next();
  }

 private:
  const std::vector<std::string>& args_;
  size_t index_ = 0;
};

ImageArg& LastRawFrame(GenerateArgs& generate, const std::string& option) {
  if (generate.images.empty() || !generate.images.back().raw) {
    throw UsageError(option + ": belongs after a --raw-frame FILE");
  }
  return generate.images.back();
}

bool ParseGenerateOption(const std::string& option, ArgCursor& cursor, GenerateArgs& out) {
  if (option == "--image") {
    ImageArg image;
    image.path = cursor.Value(option);
    out.images.push_back(image);
  } else if (option == "--raw-frame") {
    ImageArg image;
    image.path = cursor.Value(option);
    image.raw = true;
    out.images.push_back(image);
  } else if (option == "--width") {
    LastRawFrame(out, option).width = ParseInteger<uint32_t>(option, cursor.Value(option));
  } else if (option == "--height") {
    LastRawFrame(out, option).height = ParseInteger<uint32_t>(option, cursor.Value(option));
  } else if (option == "--stride") {
    LastRawFrame(out, option).stride = ParseInteger<uint32_t>(option, cursor.Value(option));
  } else if (option == "--pixel-format") {
    LastRawFrame(out, option).pixel_format = cursor.Value(option);
  } else if (option == "--roi") {
    if (out.images.empty())
      throw UsageError("--roi: belongs after the --image or --raw-frame it crops");
    out.images.back().roi = ParseRoi(cursor.Value(option));
  } else if (option == "--prompt") {
    out.prompt = cursor.Value(option);
  } else if (option == "--system") {
    out.system_prompt = cursor.Value(option);
  } else if (option == "--max-new-tokens") {
    out.max_new_tokens = ParseInteger<uint32_t>(option, cursor.Value(option));
  } else if (option == "--temperature") {
    out.temperature = ParseFloat(option, cursor.Value(option));
  } else if (option == "--top-k") {
    out.top_k = ParseInteger<uint32_t>(option, cursor.Value(option));
  } else if (option == "--top-p") {
    out.top_p = ParseFloat(option, cursor.Value(option));
  } else if (option == "--repetition-penalty") {
    out.repetition_penalty = ParseFloat(option, cursor.Value(option));
  } else if (option == "--seed") {
    out.seed = ParseInteger<uint64_t>(option, cursor.Value(option));
  } else if (option == "--stop") {
    out.stop.push_back(cursor.Value(option));
  } else if (option == "--priority") {
    out.priority = cursor.Value(option);
    if (out.priority != "line-critical" && out.priority != "normal" &&
        out.priority != "background") {
      throw UsageError("--priority: '" + out.priority +
                       "' is not line-critical, normal or background");
    }
  } else if (option == "--request-id") {
    out.request_id = cursor.Value(option);
  } else {
    return false;
  }
  return true;
}

bool ParseTokenizerOption(const std::string& option, ArgCursor& cursor, CliCommand command,
                          TokenizerArgs& out) {
  if (option == "--tokenizer") {
    out.tokenizer_path = cursor.Value(option);
  } else if (option == "--allow-special" && command == CliCommand::kTokenize) {
    out.allow_special = true;
  } else if (option == "--skip-special" && command == CliCommand::kDetokenize) {
    out.skip_special = true;
  } else {
    return false;
  }
  return true;
}

bool ParseCommandOption(const std::string& option, ArgCursor& cursor, CliArgs& out) {
  switch (out.command) {
    case CliCommand::kGenerate:
      return ParseGenerateOption(option, cursor, out.generate);
    case CliCommand::kTokenize:
    case CliCommand::kDetokenize:
      return ParseTokenizerOption(option, cursor, out.command, out.tokenizer);
    default:
      return false;
  }
}

CliCommand ParseCommand(const std::string& name) {
  if (name == "health") return CliCommand::kHealth;
  if (name == "info") return CliCommand::kInfo;
  if (name == "generate") return CliCommand::kGenerate;
  if (name == "tokenize") return CliCommand::kTokenize;
  if (name == "detokenize") return CliCommand::kDetokenize;
  if (name == "help") return CliCommand::kHelp;
  throw UsageError("unknown command '" + name + "' (health, info, generate, tokenize, detokenize)");
}

void CheckComplete(const CliArgs& args) {
  if (args.command == CliCommand::kGenerate) {
    if (args.generate.prompt.empty()) throw UsageError("generate: --prompt is required");
    for (const ImageArg& image : args.generate.images) {
      if (image.raw && (image.width == 0 || image.height == 0 || image.pixel_format.empty())) {
        throw UsageError("--raw-frame " + image.path +
                         ": needs --width, --height and --pixel-format");
      }
    }
  }
  const bool tokenizer_command =
      args.command == CliCommand::kTokenize || args.command == CliCommand::kDetokenize;
  if (tokenizer_command && args.tokenizer.tokenizer_path.empty()) {
    throw UsageError("--tokenizer FILE is required");
  }
}

}  // namespace

CliArgs ParseCliArgs(const std::vector<std::string>& args) {
  CliArgs out;
  bool have_command = false;
  ArgCursor cursor(args);
  while (!cursor.Done()) {
    const std::string& arg = cursor.Next();
    if (arg == "--help" || arg == "-h") {
      out.command = CliCommand::kHelp;
      return out;
    }
    if (arg == "--address") {
      out.address = cursor.Value(arg);
    } else if (arg == "--deadline-ms") {
      out.deadline_ms = ParseInteger<int64_t>(arg, cursor.Value(arg));
    } else if (arg.rfind("--", 0) != 0) {
      if (have_command) throw UsageError("unexpected argument '" + arg + "'");
      out.command = ParseCommand(arg);
      have_command = true;
    } else if (!ParseCommandOption(arg, cursor, out)) {
      throw UsageError("unknown option " + arg + (have_command ? "" : " (before the command)"));
    }
  }
  CheckComplete(out);
  return out;
}

std::string CliUsage() {
  return R"(Usage: auroraedge-cli [--address HOST:PORT] [--deadline-ms N] COMMAND [OPTIONS]

  --address HOST:PORT   the server (default 127.0.0.1:50051)
  --deadline-ms N       deadline of the call; default none for generate, 10000 otherwise

Commands:
  health                exit 0 when the server is SERVING
  info                  print the model info (GetModelInfo) as JSON
  generate              stream an answer to stdout, the timing breakdown to stderr
      --image FILE                  an encoded image (JPEG, PNG, BMP, TIFF); repeatable
      --raw-frame FILE --width W --height H --pixel-format MONO8|RGB8|BGR8|BAYER_RG8 [--stride S]
                                    a raw camera frame; repeatable
      --roi X,Y,W,H                 crop of the image given just before
      --prompt TEXT                 required
      --system TEXT                 system prompt
      --max-new-tokens N  --temperature T  --top-k K  --top-p P  --repetition-penalty R
      --seed S  --stop TEXT (repeatable)
      --priority line-critical|normal|background
      --request-id ID
  tokenize --tokenizer FILE [--allow-special]
                        each line of stdin -> one JSON array of token ids (special-token
                        text is read as special tokens only with --allow-special)
  detokenize --tokenizer FILE [--skip-special]
                        each JSON array of ids on stdin -> one line of text

Exit codes:
  0  success (health: SERVING)
  1  the server answered with an error status (printed to stderr), or health is not SERVING
  2  bad command line or unreadable input file
  3  the server is unreachable, loading or draining (UNAVAILABLE), or the deadline passed
  tokenize/detokenize: 0 success, 1 at the first bad input line, 2 the tokenizer cannot be loaded
)";
}

}  // namespace auroraedge::server::app
