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

ImageArg& LastRawFrame(std::vector<ImageArg>& images, const std::string& option) {
  if (images.empty() || !images.back().raw) {
    throw UsageError(option + ": belongs after a --raw-frame FILE");
  }
  return images.back();
}

// The image options generate and inspect share.
bool ParseImageOption(const std::string& option, ArgCursor& cursor, std::vector<ImageArg>& out) {
  if (option == "--image" || option == "--reference") {
    ImageArg image;
    image.path = cursor.Value(option);
    image.reference = option == "--reference";
    out.push_back(image);
  } else if (option == "--raw-frame") {
    ImageArg image;
    image.path = cursor.Value(option);
    image.raw = true;
    out.push_back(image);
  } else if (option == "--width") {
    LastRawFrame(out, option).width = ParseInteger<uint32_t>(option, cursor.Value(option));
  } else if (option == "--height") {
    LastRawFrame(out, option).height = ParseInteger<uint32_t>(option, cursor.Value(option));
  } else if (option == "--stride") {
    LastRawFrame(out, option).stride = ParseInteger<uint32_t>(option, cursor.Value(option));
  } else if (option == "--pixel-format") {
    LastRawFrame(out, option).pixel_format = cursor.Value(option);
  } else if (option == "--roi") {
    if (out.empty()) throw UsageError("--roi: belongs after the --image or --raw-frame it crops");
    out.back().roi = ParseRoi(cursor.Value(option));
  } else {
    return false;
  }
  return true;
}

std::string ParsePriority(const std::string& option, const std::string& text) {
  if (text != "line-critical" && text != "normal" && text != "background") {
    throw UsageError(option + ": '" + text + "' is not line-critical, normal or background");
  }
  return text;
}

// A comma-separated list; empty items are kept (the server names them).
std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> items;
  size_t start = 0;
  for (size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1) {
    items.push_back(text.substr(start, comma - start));
  }
  items.push_back(text.substr(start));
  return items;
}

ThresholdArg ParseThreshold(const std::string& option, const std::string& text) {
  const size_t equals = text.rfind('=');
  const std::vector<std::string> bounds = equals == std::string::npos
                                              ? std::vector<std::string>{}
                                              : SplitCommas(text.substr(equals + 1));
  if (equals == std::string::npos || equals == 0 || bounds.size() != 2) {
    throw UsageError(option + ": '" + text + "' is not LABEL=OK_BELOW,NG_FROM (e.g. NG=0.5,0.8)");
  }
  return {text.substr(0, equals), ParseFloat(option, bounds[0]), ParseFloat(option, bounds[1])};
}

bool ParseInspectOption(const std::string& option, ArgCursor& cursor, InspectArgs& out) {
  if (ParseImageOption(option, cursor, out.images)) return true;
  if (option == "--question" || option == "--prompt") {
    out.prompt = cursor.Value(option);
  } else if (option == "--system") {
    out.system_prompt = cursor.Value(option);
  } else if (option == "--labels") {
    for (std::string& label : SplitCommas(cursor.Value(option))) out.labels.push_back(label);
  } else if (option == "--label") {
    out.labels.push_back(cursor.Value(option));
  } else if (option == "--threshold") {
    out.threshold = ParseThreshold(option, cursor.Value(option));
  } else if (option == "--priority") {
    out.priority = ParsePriority(option, cursor.Value(option));
  } else if (option == "--request-id") {
    out.request_id = cursor.Value(option);
  } else {
    return false;
  }
  return true;
}

bool ParseGenerateOption(const std::string& option, ArgCursor& cursor, GenerateArgs& out) {
  if (ParseImageOption(option, cursor, out.images)) return true;
  if (option == "--prompt") {
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
  } else if (option == "--top-logprobs") {
    out.top_logprobs = ParseInteger<uint32_t>(option, cursor.Value(option));
  } else if (option == "--choice") {
    out.choice.push_back(cursor.Value(option));
  } else if (option == "--json-schema") {
    out.json_schema_path = cursor.Value(option);
  } else if (option == "--priority") {
    out.priority = ParsePriority(option, cursor.Value(option));
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

// Allowed before or after the command, like --address.
bool ParseConnectionOption(const std::string& option, ArgCursor& cursor, ConnectionArgs& out) {
  if (option == "--tls-ca") {
    out.tls_ca = cursor.Value(option);
  } else if (option == "--tls-cert") {
    out.tls_cert = cursor.Value(option);
  } else if (option == "--tls-key") {
    out.tls_key = cursor.Value(option);
  } else if (option == "--token-file") {
    out.token_file = cursor.Value(option);
  } else if (option == "--token") {
    out.token = cursor.Value(option);
  } else {
    return false;
  }
  return true;
}

void CheckConnection(const ConnectionArgs& connection) {
  if (connection.tls_cert.empty() != connection.tls_key.empty()) {
    throw UsageError(connection.tls_cert.empty() ? "--tls-key: needs --tls-cert"
                                                 : "--tls-cert: needs --tls-key");
  }
  if (!connection.tls_cert.empty() && connection.tls_ca.empty()) {
    throw UsageError("--tls-cert: needs --tls-ca (a client certificate is sent over TLS)");
  }
  if (!connection.token.empty() && !connection.token_file.empty()) {
    throw UsageError("--token: give either --token or --token-file, not both");
  }
}

bool ParseCommandOption(const std::string& option, ArgCursor& cursor, CliArgs& out) {
  switch (out.command) {
    case CliCommand::kGenerate:
      return ParseGenerateOption(option, cursor, out.generate);
    case CliCommand::kInspect:
      return ParseInspectOption(option, cursor, out.inspect);
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
  if (name == "load-model") return CliCommand::kLoadModel;
  if (name == "inspect") return CliCommand::kInspect;
  if (name == "tokenize") return CliCommand::kTokenize;
  if (name == "detokenize") return CliCommand::kDetokenize;
  if (name == "help") return CliCommand::kHelp;
  throw UsageError("unknown command '" + name +
                   "' (health, info, generate, inspect, load-model, tokenize, detokenize)");
}

void CheckRawFrames(const std::vector<ImageArg>& images) {
  for (const ImageArg& image : images) {
    if (image.raw && (image.width == 0 || image.height == 0 || image.pixel_format.empty())) {
      throw UsageError("--raw-frame " + image.path +
                       ": needs --width, --height and --pixel-format");
    }
  }
}

void CheckComplete(const CliArgs& args) {
  if (args.command == CliCommand::kGenerate) {
    if (args.generate.prompt.empty()) throw UsageError("generate: --prompt is required");
    CheckRawFrames(args.generate.images);
  }
  if (args.command == CliCommand::kInspect) {
    if (args.inspect.prompt.empty()) throw UsageError("inspect: --question is required");
    if (args.inspect.labels.empty()) throw UsageError("inspect: --labels is required");
    CheckRawFrames(args.inspect.images);
  }
  if (args.command == CliCommand::kLoadModel && args.model_dir.empty()) {
    throw UsageError("load-model: the model directory DIR is required");
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
      if (have_command && out.command == CliCommand::kLoadModel && out.model_dir.empty()) {
        out.model_dir = arg;
        continue;
      }
      if (have_command) throw UsageError("unexpected argument '" + arg + "'");
      out.command = ParseCommand(arg);
      have_command = true;
    } else if (!ParseConnectionOption(arg, cursor, out.connection) &&
               !ParseCommandOption(arg, cursor, out)) {
      throw UsageError("unknown option " + arg + (have_command ? "" : " (before the command)"));
    }
  }
  CheckComplete(out);
  CheckConnection(out.connection);
  return out;
}

std::string CliUsage() {
  return R"(Usage: auroraedge-cli [--address HOST:PORT] [--deadline-ms N] [TLS AND TOKEN] COMMAND [OPTIONS]

  --address HOST:PORT   the server (default 127.0.0.1:50051)
  --deadline-ms N       deadline of the call; default none for generate and load-model,
                        10000 otherwise
  --tls-ca FILE         TLS: verify the server's certificate with this PEM CA (the address's
                        host must be in the certificate)
  --tls-cert FILE --tls-key FILE
                        mTLS: this PEM client certificate and its key (needs --tls-ca)
  --token-file FILE     send the bearer token in FILE (its first line)
  --token TOKEN         send TOKEN as the bearer token (other users may see it in the
                        process list: prefer --token-file)

Commands:
  health                exit 0 when the server is SERVING
  info                  print the model info (GetModelInfo) as JSON
  generate              stream an answer to stdout, the timing breakdown to stderr
      --image FILE                  an encoded image (JPEG, PNG, BMP, TIFF); repeatable
      --raw-frame FILE --width W --height H --pixel-format FORMAT [--stride S]
                                    a raw camera frame; repeatable. FORMAT: MONO8, RGB8,
                                    BGR8, BAYER_RG8, BAYER_GR8, BAYER_GB8, BAYER_BG8,
                                    MONO10, MONO12, MONO16 (16-bit little-endian words),
                                    MONO10P, MONO12P (GenICam packing), BAYER_RG12, BAYER_RG16
      --roi X,Y,W,H                 crop of the image given just before
      --reference FILE              a golden reference image (encoded); repeatable
      --prompt TEXT                 required
      --system TEXT                 system prompt
      --max-new-tokens N  --temperature T  --top-k K  --top-p P  --repetition-penalty R
      --seed S  --stop TEXT (repeatable)
      --top-logprobs K              print each token's log-probability (and the K best) to
                                    stderr; 0: the token's only
      --choice TEXT                 the answer is one of these; repeatable
      --json-schema FILE            the answer is JSON that this schema validates
      --priority line-critical|normal|background
      --request-id ID
  inspect               score each label as the answer: each label's probability, the
                        most probable label and the decision to stdout, timings to stderr
      --image, --raw-frame, --roi, --reference, --system, --priority, --request-id
                                    as for generate
      --question TEXT               required
      --labels A,B,...              required (or --label TEXT, repeatable, for labels
                                    with commas)
      --threshold LABEL=OK_BELOW,NG_FROM
                                    decide: OK below the first threshold, NG from the
                                    second on, UNKNOWN between (e.g. NG=0.5,0.8)
  load-model DIR        change the model without downtime (Admin.LoadModel): the server
                        loads and warms up DIR, a model directory on its own machine,
                        beside the model in service, then every new request gets it;
                        streams already running finish on the old model. Prints the
                        new model, its load and warm-up times and the model it
                        replaced as JSON. Needs a token with "admin": true when the
                        server has a token file, otherwise a call from the server's
                        machine. One load at a time (ABORTED while another runs)
  tokenize --tokenizer FILE [--allow-special]
                        each line of stdin -> one JSON array of token ids (special-token
                        text is read as special tokens only with --allow-special)
  detokenize --tokenizer FILE [--skip-special]
                        each JSON array of ids on stdin -> one line of text

Exit codes:
  0  success (health: SERVING)
  1  the server answered with an error status (printed to stderr; UNAUTHENTICATED,
     PERMISSION_DENIED and RESOURCE_EXHAUSTED among them), or health is not SERVING
  2  bad command line or unreadable input, TLS or token file
  3  the server is unreachable, loading or draining (UNAVAILABLE), or the deadline passed
  tokenize/detokenize: 0 success, 1 at the first bad input line, 2 the tokenizer cannot be loaded
)";
}

}  // namespace auroraedge::server::app
