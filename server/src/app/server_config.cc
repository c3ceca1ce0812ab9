#include "server_config.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

namespace auroraedge::server::app {
namespace {

// Parses and stores one option's value; throws std::invalid_argument with
// what is wrong and what is allowed (the caller adds where it came from).
using Setter = std::function<void(ServerConfig&, const std::string&)>;
// The option's current value, as --help shows it.
using Getter = std::function<std::string(const ServerConfig&)>;

struct Option {
  std::string name;      // flag name without "--"
  std::string argument;  // placeholder in --help, e.g. "N"
  std::string help;
  Getter get;
  Setter set;
};

template <typename T>
T ParseNumber(const std::string& text, T min, T max) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc() || stop != end || value < min || value > max) {
    throw std::invalid_argument("'" + text + "' is not an integer from " + std::to_string(min) +
                                " to " + std::to_string(max));
  }
  return value;
}

template <typename T>
Option Number(std::string name, std::string help, T min, T max, T& (*field)(ServerConfig&)) {
  return {std::move(name), "N", std::move(help),
          [field](const ServerConfig& config) {
            ServerConfig copy = config;
            return std::to_string(field(copy));
          },
          [field, min, max](ServerConfig& config, const std::string& text) {
            field(config) = ParseNumber<T>(text, min, max);
          }};
}

Option Text(std::string name, std::string argument, std::string help,
            std::string& (*field)(ServerConfig&)) {
  return {std::move(name), std::move(argument), std::move(help),
          [field](const ServerConfig& config) {
            ServerConfig copy = config;
            return field(copy).empty() ? std::string("(none)") : field(copy);
          },
          [field](ServerConfig& config, const std::string& text) { field(config) = text; }};
}

Option Choice(std::string name, std::vector<std::string> choices, std::string help,
              std::string& (*field)(ServerConfig&)) {
  std::string argument;
  for (const std::string& choice : choices) argument += (argument.empty() ? "" : "|") + choice;
  return {std::move(name), argument, std::move(help),
          [field](const ServerConfig& config) {
            ServerConfig copy = config;
            return field(copy);
          },
          [field, choices, argument](ServerConfig& config, const std::string& text) {
            if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
              throw std::invalid_argument("'" + text + "' is not one of " + argument);
            }
            field(config) = text;
          }};
}

bool ParseBool(const std::string& text) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  throw std::invalid_argument("'" + text + "' is not true or false");
}

std::string HostPortOrOff(const std::string& text, bool off_allowed) {
  if (off_allowed && text == "off") return text;
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    throw std::invalid_argument("'" + text + "' is not HOST:PORT" + (off_allowed ? " or off" : ""));
  }
  ParseNumber<int>(text.substr(colon + 1), 0, 65535);
  return text;
}

std::string LogFormatName(LogFormat format) { return format == LogFormat::kJson ? "json" : "text"; }

const std::vector<Option>& Options() {
  static const std::vector<Option> options = {
      {"listen", "HOST:PORT", "gRPC listen address (port 0: any free port)",
       [](const ServerConfig& c) { return c.listen_address; },
       [](ServerConfig& c, const std::string& v) { c.listen_address = HostPortOrOff(v, false); }},
      Text("model", "DIR", "model directory (config.json, weights, tokenizer.json)",
           [](ServerConfig& c) -> std::string& { return c.serving.engine.model_dir; }),
      Text("config", "FILE", "JSON config file; its keys are the option names with '_' for '-'",
           [](ServerConfig& c) -> std::string& { return c.config_file; }),
      {"metrics-listen", "HOST:PORT|off", "Prometheus /metrics address; off: no endpoint",
       [](const ServerConfig& c) { return c.metrics_listen_address; },
       [](ServerConfig& c, const std::string& v) {
         c.metrics_listen_address = HostPortOrOff(v, true);
       }},
      {"log-format", "text|json", "format of the server's log lines (standard error)",
       [](const ServerConfig& c) { return LogFormatName(c.log_format); },
       [](ServerConfig& c, const std::string& v) {
         if (v != "text" && v != "json")
           throw std::invalid_argument("'" + v + "' is not text or json");
         c.log_format = v == "json" ? LogFormat::kJson : LogFormat::kText;
       }},
      Choice("log-level", {"trace", "debug", "info", "warn", "error"}, "least severe level logged",
             [](ServerConfig& c) -> std::string& { return c.log_level; }),
      Text(
          "request-log", "off|stdout|FILE",
          "one line per finished request (in --log-format), to standard output or appended to FILE",
          [](ServerConfig& c) -> std::string& { return c.request_log; }),
      Number<int>("threads",
                  "LibTorch intra-op threads; 0: the available cores less one (at least 1), which "
                  "leaves a core to gRPC and preprocessing",
                  0, 1024,
                  [](ServerConfig& c) -> int& { return c.serving.engine.intra_op_threads; }),
      Text("device", "cpu|cuda[:N]", "where the model runs",
           [](ServerConfig& c) -> std::string& { return c.serving.engine.device; }),
      Choice("dtype", {"float32", "bfloat16"}, "weight and activation type",
             [](ServerConfig& c) -> std::string& { return c.serving.engine.dtype; }),
      Choice("weights", {"float32", "int8"},
             "decoder and fusion-layer linear weights; int8: quantized at load per output "
             "channel (CPU, --dtype float32)",
             [](ServerConfig& c) -> std::string& { return c.serving.engine.weights; }),
      Number<int64_t>("kv-cache-bytes", "upper bound of the KV-cache memory", 1 << 20,
                      std::numeric_limits<int64_t>::max(),
                      [](ServerConfig& c) -> int64_t& { return c.serving.engine.kv_cache_bytes; }),
      {"verify-checksums", "true|false", "check the model files against manifest.json at load",
       [](const ServerConfig& c) {
         return std::string(c.serving.engine.verify_checksums ? "true" : "false");
       },
       [](ServerConfig& c, const std::string& v) {
         c.serving.engine.verify_checksums = ParseBool(v);
       }},
      Number<int>(
          "max-waiting-requests", "requests waiting for admission; beyond: RESOURCE_EXHAUSTED", 1,
          1'000'000,
          [](ServerConfig& c) -> int& { return c.serving.scheduling.max_waiting_requests; }),
      Number<int>(
          "max-running-sequences", "decode batch size, at most", 1, 4096,
          [](ServerConfig& c) -> int& { return c.serving.engine.max_sequences; }),
      Number<int>(
          "max-prefill-tokens-per-step", "prompt tokens processed in one engine step", 1, 1'000'000,
          [](ServerConfig& c) -> int& { return c.serving.scheduling.max_prefill_tokens_per_step; }),
      Number<int>("max-vision-batch", "images encoded together, at most", 1, 1024,
                  [](ServerConfig& c) -> int& { return c.serving.scheduling.max_vision_batch; }),
      {"max-vision-wait-us", "N", "how long a vision batch waits for more images (microseconds)",
       [](const ServerConfig& c) {
         return std::to_string(c.serving.scheduling.max_vision_wait.count());
       },
       [](ServerConfig& c, const std::string& v) {
         c.serving.scheduling.max_vision_wait =
             std::chrono::microseconds(ParseNumber<int64_t>(v, 0, 10'000'000));
       }},
      Number<int>(
          "preprocessing-threads", "workers that prepare requests (tokenizing) and decode images", 1, 256,
          [](ServerConfig& c) -> int& { return c.serving.preprocessing_threads; }),
      Number<int>(
          "stream-buffer-chunks",
          "chunks buffered per stream for a slow reader; beyond: RESOURCE_EXHAUSTED", 1, 1'000'000,
          [](ServerConfig& c) -> int& { return c.serving.stream_buffer_chunks; }),
      Number<int>("max-images-per-request", "images per request (0: the model's limit)", 0, 1024,
                  [](ServerConfig& c) -> int& { return c.serving.max_images_per_request; }),
      Number<int>("max-prompt-bytes", "bytes of the prompt, and of the system prompt", 1, 64 << 20,
                  [](ServerConfig& c) -> int& { return c.serving.max_prompt_bytes; }),
      Number<int64_t>(
          "image-feature-cache-bytes",
          "encoded images' features kept by the content hash of their patches, so that a golden "
          "reference sent with every request is encoded once (0: no cache)",
          0, std::numeric_limits<int64_t>::max(),
          [](ServerConfig& c) -> int64_t& { return c.serving.image_feature_cache_bytes; }),
      Number<int>("constraint-cache-entries",
                  "compiled choice/json_schema constraints kept for reuse", 0, 1'000'000,
                  [](ServerConfig& c) -> int& { return c.serving.constraint_cache_entries; }),
      Number<int64_t>(
          "max-encoded-image-bytes", "bytes of one encoded image", 1, int64_t{1} << 32,
          [](ServerConfig& c) -> int64_t& { return c.serving.limits.max_encoded_bytes; }),
      Number<int64_t>("max-image-pixels", "width x height of one decoded image or raw frame", 1,
                      int64_t{1} << 32,
                      [](ServerConfig& c) -> int64_t& { return c.serving.limits.max_pixels; }),
      Number<int>("max-request-bytes", "bytes of one gRPC request message (all images)", 1024,
                  std::numeric_limits<int>::max(),
                  [](ServerConfig& c) -> int& { return c.max_request_bytes; }),
      {"listen-reuseport", "true|false",
       "let other servers listen on the same gRPC address (SO_REUSEPORT) on purpose; false: a "
       "second server on a taken address fails to start",
       [](const ServerConfig& c) { return std::string(c.listen_reuseport ? "true" : "false"); },
       [](ServerConfig& c, const std::string& v) { c.listen_reuseport = ParseBool(v); }},
      Number<int>("max-metadata-bytes",
                  "request metadata of one call (name + value + 32 per entry); beyond: "
                  "RESOURCE_EXHAUSTED for that call alone",
                  512, 1 << 20,
                  [](ServerConfig& c) -> int& { return c.client_limits.max_metadata_bytes; }),
      Number<int>(
          "max-streams-per-connection",
          "HTTP/2 streams open at once on one connection; a client queues more", 1, 1'000'000,
          [](ServerConfig& c) -> int& { return c.client_limits.max_streams_per_connection; }),
      Number<int>("max-connections",
                  "gRPC connections open at once; a new one beyond is closed (0: no limit)", 0,
                  1'000'000,
                  [](ServerConfig& c) -> int& { return c.client_limits.max_connections; }),
      Number<int>("max-connections-per-peer",
                  "gRPC connections open at once from one client IP address; a new one beyond is "
                  "closed (0: no limit; behind a proxy its clients share its address)",
                  0, 1'000'000,
                  [](ServerConfig& c) -> int& { return c.client_limits.max_connections_per_peer; }),
      Number<int>("max-calls", "Generate calls in flight; beyond: RESOURCE_EXHAUSTED (0: no limit)",
                  0, 1'000'000, [](ServerConfig& c) -> int& { return c.client_limits.max_calls; }),
      Number<int>("max-calls-per-peer",
                  "Generate calls in flight from one client IP address; beyond: "
                  "RESOURCE_EXHAUSTED (0: no limit)",
                  0, 1'000'000,
                  [](ServerConfig& c) -> int& { return c.client_limits.max_calls_per_peer; }),
      {"stream-write-timeout-ms", "N",
       "a Generate response the client has not taken for this long ends the call with "
       "RESOURCE_EXHAUSTED (0: never)",
       [](const ServerConfig& c) {
         return std::to_string(c.client_limits.stream_write_timeout.count());
       },
       [](ServerConfig& c, const std::string& v) {
         c.client_limits.stream_write_timeout =
             std::chrono::milliseconds(ParseNumber<int64_t>(v, 0, 3'600'000));
       }},
      Number<int64_t>(
          "grpc-memory-bytes",
          "gRPC's buffers (connections, requests being received) all together; beyond, gRPC "
          "cancels calls (RESOURCE_EXHAUSTED) to get back under it (0: no quota)",
          0, std::numeric_limits<int64_t>::max(),
          [](ServerConfig& c) -> int64_t& { return c.client_limits.grpc_memory_bytes; }),
      Number<int>("metrics-max-connections",
                  "connections to the metrics endpoint at once; a new one beyond closes the oldest "
                  "that has not sent its whole request",
                  1, 65'536,
                  [](ServerConfig& c) -> int& { return c.metrics_limits.max_connections; }),
      {"metrics-request-timeout-ms", "N",
       "a metrics connection's whole request and response, however slowly the client sends",
       [](const ServerConfig& c) {
         return std::to_string(c.metrics_limits.request_timeout.count());
       },
       [](ServerConfig& c, const std::string& v) {
         c.metrics_limits.request_timeout =
             std::chrono::milliseconds(ParseNumber<int64_t>(v, 1, 600'000));
       }},
      {"drain-timeout-ms", "N", "on SIGTERM/SIGINT, how long in-flight streams may run on",
       [](const ServerConfig& c) { return std::to_string(c.drain_timeout.count()); },
       [](ServerConfig& c, const std::string& v) {
         c.drain_timeout = std::chrono::milliseconds(ParseNumber<int64_t>(v, 0, 3'600'000));
       }},
      // Transport security and client identity; each file is reloaded on SIGHUP.
      Text("tls-cert", "FILE",
           "PEM certificate (then its chain) of the gRPC port; with --tls-key: TLS instead of "
           "plaintext",
           [](ServerConfig& c) -> std::string& { return c.security.tls_certificate_file; }),
      Text("tls-key", "FILE", "PEM private key of --tls-cert, unencrypted",
           [](ServerConfig& c) -> std::string& { return c.security.tls_private_key_file; }),
      Text("tls-client-ca", "FILE",
           "PEM CA certificates: clients must present a certificate one of them signed (mTLS); "
           "its subject is the client's identity in the logs",
           [](ServerConfig& c) -> std::string& { return c.security.tls_client_ca_file; }),
      Text("token-file", "FILE",
           "JSON list of bearer tokens (name, sha256, priorities, requests_per_second, burst; see "
           "README 'Security'): every Inference call must carry one",
           [](ServerConfig& c) -> std::string& { return c.security.token_file; }),
  };
  return options;
}

// Settings that only make sense together, named by their flags.
void CheckSecurity(const SecurityOptions& security) {
  if (security.tls_certificate_file.empty() != security.tls_private_key_file.empty()) {
    throw ConfigError(security.tls_certificate_file.empty()
                          ? "--tls-key: needs --tls-cert, the certificate of that key"
                          : "--tls-cert: needs --tls-key, the certificate's private key");
  }
  if (!security.tls_client_ca_file.empty() && !security.tls()) {
    throw ConfigError("--tls-client-ca: needs --tls-cert and --tls-key (mTLS runs over TLS)");
  }
}

const Option* FindOption(const std::string& name) {
  for (const Option& option : Options()) {
    if (option.name == name) return &option;
  }
  return nullptr;
}

std::string EnvName(const std::string& name) {
  std::string env = "AURORAEDGE_";
  for (char c : name)
    env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return env;
}

std::string FileKey(const std::string& name) {
  std::string key = name;
  std::replace(key.begin(), key.end(), '-', '_');
  return key;
}

void Apply(const Option& option, const std::string& value, const std::string& source,
           ServerConfig* config) {
  try {
    option.set(*config, value);
  } catch (const std::invalid_argument& error) {
    throw ConfigError(source + ": " + error.what());
  }
}

ServerConfig Defaults() {
  ServerConfig config;
#ifdef AURORAEDGE_DEFAULT_MODEL_DIR
  config.serving.engine.model_dir = AURORAEDGE_DEFAULT_MODEL_DIR;
#endif
  return config;
}

void ApplyFile(const std::string& path, ServerConfig* config) {
  std::ifstream file(path);
  if (!file) throw ConfigError("config file " + path + ": cannot be opened");
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(file);
  } catch (const nlohmann::json::exception& error) {
    throw ConfigError("config file " + path + ": not valid JSON (" + error.what() + ")");
  }
  if (!json.is_object()) throw ConfigError("config file " + path + ": must hold one JSON object");
  for (const auto& [key, value] : json.items()) {
    const std::string source = "config file " + path + ": key \"" + key + "\"";
    const Option* option = nullptr;
    for (const Option& candidate : Options()) {
      if (FileKey(candidate.name) == key) option = &candidate;
    }
    if (option == nullptr || option->name == "config")
      throw ConfigError(source + ": not an option");
    if (value.is_object() || value.is_array() || value.is_null()) {
      throw ConfigError(source + ": must be a string, number or boolean");
    }
    Apply(*option, value.is_string() ? value.get<std::string>() : value.dump(), source, config);
  }
}

// "--name=value" or "--name value"; "--help" / "-h".
std::vector<std::pair<const Option*, std::string>> SplitFlags(const std::vector<std::string>& args,
                                                              bool* help) {
  std::vector<std::pair<const Option*, std::string>> flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0)
      throw ConfigError("unexpected argument '" + arg + "' (see --help)");
    const size_t equals = arg.find('=');
    const std::string name =
        arg.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
    const Option* option = FindOption(name);
    if (option == nullptr) throw ConfigError("unknown option --" + name + " (see --help)");
    if (equals != std::string::npos) {
      flags.emplace_back(option, arg.substr(equals + 1));
    } else if (i + 1 < args.size()) {
      flags.emplace_back(option, args[++i]);
    } else {
      throw ConfigError("--" + name + ": needs a value " + option->argument);
    }
  }
  return flags;
}

}  // namespace

ParsedCommandLine ParseServerConfig(const std::vector<std::string>& args,
                                    const std::map<std::string, std::string>& environment) {
  ParsedCommandLine parsed;
  const auto flags = SplitFlags(args, &parsed.help);
  ServerConfig& config = parsed.config;
  config = Defaults();

  // The config file's own name comes from the flag, else the environment.
  const auto config_env = environment.find(EnvName("config"));
  if (config_env != environment.end()) config.config_file = config_env->second;
  for (const auto& [option, value] : flags) {
    if (option->name == "config") config.config_file = value;
  }
  if (!config.config_file.empty()) ApplyFile(config.config_file, &config);

  for (const Option& option : Options()) {
    const auto env = environment.find(EnvName(option.name));
    if (env != environment.end() && option.name != "config") {
      Apply(option, env->second, "environment variable " + env->first, &config);
    }
  }
  for (const auto& [option, value] : flags) Apply(*option, value, "--" + option->name, &config);
  if (!parsed.help) CheckSecurity(config.security);

  if (!parsed.help && config.serving.engine.model_dir.empty()) {
    throw ConfigError(
        "--model: no model directory given, and this build has no embedded default model");
  }
  return parsed;
}

std::string ServerHelp() {
  const ServerConfig defaults = Defaults();
  std::ostringstream out;
  out << "Usage: auroraedge-server [OPTION VALUE]...\n\n"
         "Serves the AuroraEdge-V vision-language model over gRPC (auroraedge.v1.Inference,\n"
         "grpc.health.v1.Health, server reflection). Every option can also be set by the\n"
         "environment variable shown, or by its key (the name with '_' for '-') in the JSON\n"
         "config file given by --config. Precedence: flags > environment > config file > "
         "defaults.\n"
         "SIGINT/SIGTERM: stop accepting, let in-flight streams finish (--drain-timeout-ms), exit "
         "0;\na second SIGINT/SIGTERM during the drain ends the streams still running at once.\n"
         "SIGHUP: reload the TLS files and the token file (a file that fails keeps the one in "
         "use).\n\n";
  for (const Option& option : Options()) {
    out << "  --" << option.name << " " << option.argument << "\n      " << option.help
        << "\n      default: " << option.get(defaults) << "; env " << EnvName(option.name) << "\n";
  }
  out << "  --help\n      this text\n";
  return out.str();
}

}  // namespace auroraedge::server::app
