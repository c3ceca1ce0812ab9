#include "server_config.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

namespace auroraedge::server::app {
namespace {

using Env = std::map<std::string, std::string>;

// A config file in the test's temporary directory, removed at the end.
class TempConfigFile {
 public:
  explicit TempConfigFile(const std::string& json) {
    char path[] = "/tmp/auroraedge-config-XXXXXX";
    close(mkstemp(path));
    path_ = path;
    std::ofstream(path_) << json;
  }
  ~TempConfigFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

ServerConfig Parse(const std::vector<std::string>& args, const Env& env = {}) {
  std::vector<std::string> with_model = {"--model", "/models/m"};
  with_model.insert(with_model.end(), args.begin(), args.end());
  return ParseServerConfig(with_model, env).config;
}

void RequireError(const std::vector<std::string>& args, const Env& env,
                  const std::string& message) {
  try {
    ParseServerConfig(args, env);
    FAIL("no ConfigError");
  } catch (const ConfigError& error) {
    CHECK_THAT(error.what(), Catch::Matchers::Contains(message));
  }
}

}  // namespace

TEST_CASE("defaults: loopback port 50051, text logs, the documented serving options") {
  const ServerConfig config = Parse({});
  CHECK(config.listen_address == "127.0.0.1:50051");
  CHECK(config.log_format == LogFormat::kText);
  CHECK(config.serving.engine.model_dir == "/models/m");
  CHECK(config.serving.engine.intra_op_threads == 0);
  CHECK(config.serving.scheduling.max_waiting_requests ==
        ServingOptions().scheduling.max_waiting_requests);
}

TEST_CASE("flags set every kind of option, as --name value or --name=value") {
  const ServerConfig config = Parse(
      {"--listen", "0.0.0.0:6000", "--threads=3", "--log-format", "json", "--max-waiting-requests",
       "5", "--max-vision-wait-us", "750", "--verify-checksums", "false", "--dtype", "bfloat16",
       "--weights", "int8", "--drain-timeout-ms", "1500", "--metrics-listen", "off",
       "--kv-cache-bytes", "2097152"});
  CHECK(config.listen_address == "0.0.0.0:6000");
  CHECK(config.serving.engine.intra_op_threads == 3);
  CHECK(config.log_format == LogFormat::kJson);
  CHECK(config.serving.scheduling.max_waiting_requests == 5);
  CHECK(config.serving.scheduling.max_vision_wait == std::chrono::microseconds(750));
  CHECK_FALSE(config.serving.engine.verify_checksums);
  CHECK(config.serving.engine.dtype == "bfloat16");
  CHECK(config.serving.engine.weights == "int8");
  CHECK(config.drain_timeout == std::chrono::milliseconds(1500));
  CHECK(config.metrics_listen_address == "off");
  CHECK(config.serving.engine.kv_cache_bytes == 2097152);
}

TEST_CASE("precedence: flags over environment over config file over defaults") {
  TempConfigFile file(R"({"threads": 2, "max_running_sequences": 7, "listen": "127.0.0.1:7000",
                          "log_format": "json"})");
  const Env env = {{"AURORAEDGE_THREADS", "4"}, {"AURORAEDGE_LISTEN", "127.0.0.1:7100"}};
  const ServerConfig config = Parse({"--config", file.path(), "--listen", "127.0.0.1:7200"}, env);
  CHECK(config.listen_address == "127.0.0.1:7200");             // flag
  CHECK(config.serving.engine.intra_op_threads == 4);           // environment
  CHECK(config.serving.engine.max_sequences == 7);  // file
  CHECK(config.log_format == LogFormat::kJson);                 // file
  CHECK(config.serving.scheduling.max_prefill_tokens_per_step ==
        ServingOptions().scheduling.max_prefill_tokens_per_step);  // default
}

TEST_CASE("the config file can be named by the environment") {
  TempConfigFile file(R"({"model": "/from/file"})");
  const ParsedCommandLine parsed = ParseServerConfig({}, {{"AURORAEDGE_CONFIG", file.path()}});
  CHECK(parsed.config.serving.engine.model_dir == "/from/file");
}

TEST_CASE("bad values name their source and the allowed range") {
  RequireError({"--model", "m", "--threads", "many"}, {},
               "--threads: 'many' is not an integer from 0 to 1024");
  RequireError(
      {"--model", "m"}, {{"AURORAEDGE_MAX_WAITING_REQUESTS", "0"}},
      "environment variable AURORAEDGE_MAX_WAITING_REQUESTS: '0' is not an integer from 1");
  RequireError({"--model", "m", "--log-format", "xml"}, {},
               "--log-format: 'xml' is not text or json");
  RequireError({"--model", "m", "--listen", "localhost"}, {},
               "--listen: 'localhost' is not HOST:PORT");
  RequireError({"--model", "m", "--listen", "localhost:70000"}, {},
               "is not an integer from 0 to 65535");
  RequireError({"--model", "m", "--dtype", "int8"}, {},
               "--dtype: 'int8' is not one of float32|bfloat16");
  RequireError({"--model", "m", "--weights", "int4"}, {},
               "--weights: 'int4' is not one of float32|int8");
  RequireError({"--model", "m", "--bogus", "1"}, {}, "unknown option --bogus");
  RequireError({"--model", "m", "--threads"}, {}, "--threads: needs a value");
  RequireError({"--model", "m", "stray"}, {}, "unexpected argument 'stray'");
}

TEST_CASE("config file problems name the file and the key") {
  TempConfigFile unknown(R"({"threads": 2, "colour": "blue"})");
  RequireError({"--model", "m", "--config", unknown.path()}, {}, "key \"colour\": not an option");
  TempConfigFile bad_value(R"({"max_prompt_bytes": -3})");
  RequireError({"--model", "m", "--config", bad_value.path()}, {},
               "key \"max_prompt_bytes\": '-3' is not an integer");
  TempConfigFile broken("{not json");
  RequireError({"--model", "m", "--config", broken.path()}, {}, "not valid JSON");
  RequireError({"--model", "m", "--config", "/nonexistent/aurora.json"}, {},
               "config file /nonexistent/aurora.json: cannot be opened");
}

TEST_CASE(
    "the client limits and the metrics endpoint's bounds come from flags, environment and file") {
  TempConfigFile file(R"({"max_connections_per_peer": 9, "grpc_memory_bytes": 1048576,
                          "metrics_request_timeout_ms": 2500})");
  const Env env = {{"AURORAEDGE_MAX_CALLS_PER_PEER", "7"},
                   {"AURORAEDGE_STREAM_WRITE_TIMEOUT_MS", "1500"}};
  const ServerConfig config =
      Parse({"--config", file.path(), "--max-metadata-bytes", "4096", "--listen-reuseport", "true",
             "--max-streams-per-connection=10", "--max-connections", "99", "--max-calls", "33",
             "--metrics-max-connections", "5"},
            env);
  const ClientLimits& limits = config.client_limits;
  CHECK(config.listen_reuseport);
  CHECK(limits.max_metadata_bytes == 4096);
  CHECK(limits.max_streams_per_connection == 10);
  CHECK(limits.max_connections == 99);
  CHECK(limits.max_connections_per_peer == 9);
  CHECK(limits.max_calls == 33);
  CHECK(limits.max_calls_per_peer == 7);
  CHECK(limits.stream_write_timeout == std::chrono::milliseconds(1500));
  CHECK(limits.grpc_memory_bytes == 1048576);
  CHECK(config.metrics_limits.max_connections == 5);
  CHECK(config.metrics_limits.request_timeout == std::chrono::milliseconds(2500));

  const ServerConfig defaults = Parse({});
  CHECK_FALSE(defaults.listen_reuseport);
  CHECK(defaults.client_limits.max_metadata_bytes == ClientLimits().max_metadata_bytes);
  CHECK(defaults.metrics_limits.max_connections == MetricsEndpointLimits().max_connections);
}

TEST_CASE("bad limit values name their option and range") {
  RequireError({"--model", "m", "--max-metadata-bytes", "100"}, {},
               "--max-metadata-bytes: '100' is not an integer from 512 to 1048576");
  RequireError({"--model", "m", "--max-calls-per-peer", "-1"}, {},
               "--max-calls-per-peer: '-1' is not an integer from 0");
  RequireError({"--model", "m", "--metrics-request-timeout-ms", "0"}, {},
               "--metrics-request-timeout-ms: '0' is not an integer from 1 to 600000");
  RequireError({"--model", "m", "--listen-reuseport", "maybe"}, {},
               "--listen-reuseport: 'maybe' is not true or false");
  RequireError({"--model", "m"}, {{"AURORAEDGE_MAX_STREAMS_PER_CONNECTION", "0"}},
               "environment variable AURORAEDGE_MAX_STREAMS_PER_CONNECTION: '0' is not an integer "
               "from 1");
}

TEST_CASE("--help lists every option with its default and environment variable") {
  const std::string help = ServerHelp();
  for (const char* option : {"--listen", "--model", "--config", "--metrics-listen", "--log-format",
                             "--threads", "--max-waiting-requests", "--drain-timeout-ms"}) {
    CHECK_THAT(help, Catch::Matchers::Contains(option));
  }
  CHECK_THAT(help, Catch::Matchers::Contains("default: 127.0.0.1:50051; env AURORAEDGE_LISTEN"));
  CHECK_THAT(help, Catch::Matchers::Contains("env AURORAEDGE_MAX_WAITING_REQUESTS"));
  CHECK(ParseServerConfig({"--help"}, {}).help);
}

TEST_CASE("TLS and token files: plaintext without tokens by default, three sources each") {
  const ServerConfig defaults = Parse({});
  CHECK_FALSE(defaults.security.tls());
  CHECK(defaults.security.token_file.empty());

  TempConfigFile file(R"({"tls_client_ca": "/etc/ae/clients.pem"})");
  const ServerConfig config =
      Parse({"--config", file.path(), "--tls-cert", "/etc/ae/server.pem", "--token-file=/t.json"},
            {{"AURORAEDGE_TLS_KEY", "/etc/ae/server.key"}});
  CHECK(config.security.tls());
  CHECK(config.security.tls_certificate_file == "/etc/ae/server.pem");
  CHECK(config.security.tls_private_key_file == "/etc/ae/server.key");
  CHECK(config.security.tls_client_ca_file == "/etc/ae/clients.pem");
  CHECK(config.security.token_file == "/t.json");
}

TEST_CASE("TLS settings that only work together name the missing one") {
  RequireError({"--model", "m", "--tls-cert", "c.pem"}, {}, "--tls-cert: needs --tls-key");
  RequireError({"--model", "m"}, {{"AURORAEDGE_TLS_KEY", "k.pem"}}, "--tls-key: needs --tls-cert");
  RequireError({"--model", "m", "--tls-client-ca", "ca.pem"}, {},
               "--tls-client-ca: needs --tls-cert and --tls-key");
  CHECK(Parse({"--token-file", "t.json"}).security.token_file == "t.json");  // tokens alone: fine
}

TEST_CASE("--help names the security options and SIGHUP") {
  const std::string help = ServerHelp();
  for (const char* text : {"--tls-cert FILE", "--tls-key FILE", "--tls-client-ca FILE",
                           "--token-file FILE", "env AURORAEDGE_TOKEN_FILE", "SIGHUP: reload"}) {
    CHECK_THAT(help, Catch::Matchers::Contains(text));
  }
}

}  // namespace auroraedge::server::app
