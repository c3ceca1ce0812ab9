#pragma once

// auroraedge-cli's command line: `auroraedge-cli [--address HOST:PORT]
// [--deadline-ms N] COMMAND [OPTIONS]`. See CliUsage() for every option.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace auroraedge::server::app {

// A bad command line; the message names the option.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RoiArg {
  uint32_t x = 0, y = 0, width = 0, height = 0;
};

// One --image FILE (encoded) or --raw-frame FILE with its geometry.
struct ImageArg {
  std::string path;
  bool raw = false;
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t stride = 0;
  std::string pixel_format;  // a PixelFormat name without PIXEL_FORMAT_, e.g. MONO12P
  std::optional<RoiArg> roi;
  bool reference = false;  // --reference: a golden reference image
};

struct GenerateArgs {
  std::vector<ImageArg> images;
  std::string prompt;
  std::string system_prompt;
  std::optional<uint32_t> max_new_tokens;
  std::optional<float> temperature;
  std::optional<uint32_t> top_k;
  std::optional<float> top_p;
  std::optional<float> repetition_penalty;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  std::optional<uint32_t> top_logprobs;
  std::vector<std::string> choice;
  std::string json_schema_path;     // --json-schema FILE
  std::string priority = "normal";  // line-critical, normal or background
  std::string request_id;
};

// --threshold LABEL=OK_BELOW,NG_FROM
struct ThresholdArg {
  std::string label;
  double ok_below = 0;
  double ng_from = 0;
};

struct InspectArgs {
  std::vector<ImageArg> images;
  std::string prompt;  // --question (or --prompt)
  std::string system_prompt;
  std::vector<std::string> labels;
  std::optional<ThresholdArg> threshold;
  std::string priority = "normal";
  std::string request_id;
};

struct TokenizerArgs {
  std::string tokenizer_path;
  bool allow_special = false;  // tokenize: special-token text becomes special tokens
  bool skip_special = false;   // detokenize: special tokens are left out of the text
};

// How to reach and identify to the server; all empty: plaintext, no token.
struct ConnectionArgs {
  std::string tls_ca;      // PEM CA that signed the server's certificate; set: TLS
  std::string tls_cert;    // PEM client certificate for mTLS, with tls_key
  std::string tls_key;     // PEM private key of tls_cert
  std::string token_file;  // a file holding the bearer token
  std::string token;       // the bearer token itself
};

enum class CliCommand {
  kHelp,
  kHealth,
  kInfo,
  kGenerate,
  kInspect,
  kLoadModel,
  kTokenize,
  kDetokenize
};

struct CliArgs {
  CliCommand command = CliCommand::kHelp;
  std::string address = "127.0.0.1:50051";
  int64_t deadline_ms = 0;  // 0: none for generate and load-model, 10 s for health and info
  ConnectionArgs connection;
  GenerateArgs generate;
  std::string model_dir;  // load-model DIR: a path on the server's machine
  InspectArgs inspect;
  TokenizerArgs tokenizer;
};

// Throws UsageError.
CliArgs ParseCliArgs(const std::vector<std::string>& args);

std::string CliUsage();

}  // namespace auroraedge::server::app
