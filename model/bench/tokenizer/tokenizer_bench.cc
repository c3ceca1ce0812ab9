// auroraedge-tokenizer-bench: encode speed of the C++ tokenizer against the
// JavaScript reference on the same few megabytes of mixed text, in the same
// run, and decode speed (whole sequences and streaming, token by token).
//
//   auroraedge-tokenizer-bench [--tokenizer tokenizer.json] [--node-modules DIR]
//       [--megabytes 4] [--out tokenizer_bench.json]
//
// Prints the figures and writes them as JSON. Single thread throughout; the
// rates are per CPU second (the machine may be shared), with the wall-clock
// rates beside them.

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "auroraedge/model/stream_detokenizer.h"
#include "auroraedge/model/tokenizer.h"
#include "bench_text.h"

namespace {

using auroraedge::model::StreamDetokenizer;
using auroraedge::model::Tokenizer;
using Clock = std::chrono::steady_clock;
using Ids = std::vector<std::vector<int32_t>>;

struct Options {
  std::string tokenizer = AURORAEDGE_BENCH_DEFAULT_TOKENIZER;
  std::string node_modules = AURORAEDGE_BENCH_DEFAULT_NODE_MODULES;
  double megabytes = 4;
  std::string out = "tokenizer_bench.json";
};

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(flag + ": missing value");
    const std::string value = argv[++i];
    if (flag == "--tokenizer") {
      options.tokenizer = value;
    } else if (flag == "--node-modules") {
      options.node_modules = value;
    } else if (flag == "--megabytes") {
      options.megabytes = std::stod(value);
      if (options.megabytes <= 0 || options.megabytes > 256) {
        throw std::invalid_argument("--megabytes must be in (0, 256], got " + value);
      }
    } else if (flag == "--out") {
      options.out = value;
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  return options;
}

struct Seconds {
  double wall = 0;
  double cpu = 0;
};

// Times `work`, wall clock and this process's CPU.
template <typename Work>
Seconds Measure(Work&& work) {
  const auto wall_start = Clock::now();
  const std::clock_t cpu_start = std::clock();
  work();
  return {std::chrono::duration<double>(Clock::now() - wall_start).count(),
          static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC};
}

Seconds Encode(const Tokenizer& tokenizer, const std::vector<std::string>& documents, Ids* ids) {
  ids->clear();
  return Measure([&] {
    for (const auto& document : documents) ids->push_back(tokenizer.Encode(document, false));
  });
}

// Runs the JavaScript reference on the same documents; returns its times and
// ids.
Seconds RunReference(const Options& options, const std::vector<std::string>& documents, Ids* ids) {
  const std::string documents_path = options.out + ".documents.json";
  std::ofstream(documents_path) << nlohmann::json(documents).dump();
  const std::string command = "node '" + std::string(AURORAEDGE_BENCH_JS) + "' '" +
                              options.node_modules + "' '" + options.tokenizer + "' '" +
                              documents_path + "'";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run: " + command);
  std::string output;
  char buffer[1 << 16];
  for (size_t n; (n = fread(buffer, 1, sizeof(buffer), pipe)) > 0;) output.append(buffer, n);
  const int status = pclose(pipe);
  std::remove(documents_path.c_str());
  if (status != 0) throw std::runtime_error("the JavaScript reference failed: " + command);
  const auto result = nlohmann::json::parse(output);
  *ids = result.at("ids").get<Ids>();
  return {result.at("seconds").get<double>(), result.at("cpu_seconds").get<double>()};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = ParseOptions(argc, argv);
    const auto documents =
        auroraedge::model::bench::MixedDocuments(options.megabytes * 1e6, 2000, 42);
    size_t bytes = 0;
    for (const auto& document : documents) bytes += document.size();
    const double megabytes = bytes / 1e6;

    const auto load_start = Clock::now();
    const Tokenizer tokenizer = Tokenizer::Load(options.tokenizer);
    const double load_seconds = std::chrono::duration<double>(Clock::now() - load_start).count();

    // The first pass fills the word cache; the second is the steady state.
    Ids cpp_ids;
    const Seconds cold = Encode(tokenizer, documents, &cpp_ids);
    const Seconds warm = Encode(tokenizer, documents, &cpp_ids);
    size_t tokens = 0;
    for (const auto& ids : cpp_ids) tokens += ids.size();

    Ids js_ids;
    const Seconds js = RunReference(options, documents, &js_ids);

    size_t decoded_bytes = 0;
    const Seconds decode = Measure([&] {
      for (const auto& ids : cpp_ids) decoded_bytes += tokenizer.Decode(ids, true).size();
    });
    size_t streamed_bytes = 0;
    const Seconds stream = Measure([&] {
      for (const auto& ids : cpp_ids) {
        StreamDetokenizer detokenizer(tokenizer, true);
        for (const int32_t id : ids) streamed_bytes += detokenizer.Push(id).size();
        streamed_bytes += detokenizer.Finish().size();
      }
    });

    const nlohmann::json figures = {
        {"tokenizer", options.tokenizer},
        {"documents", documents.size()},
        {"megabytes", megabytes},
        {"tokens", tokens},
        {"load_seconds", load_seconds},
        {"cpp_encode_mb_per_cpu_s", megabytes / warm.cpu},
        {"cpp_encode_mb_per_cpu_s_cold_cache", megabytes / cold.cpu},
        {"js_encode_mb_per_cpu_s", megabytes / js.cpu},
        {"speedup_vs_js", js.cpu / warm.cpu},
        {"speedup_vs_js_cold_cache", js.cpu / cold.cpu},
        {"cpp_encode_mb_per_wall_s", megabytes / warm.wall},
        {"js_encode_mb_per_wall_s", megabytes / js.wall},
        {"ids_identical_to_js", cpp_ids == js_ids},
        {"decode_tokens_per_cpu_s", tokens / decode.cpu},
        {"stream_decode_tokens_per_cpu_s", tokens / stream.cpu},
        {"decoded_bytes_match", decoded_bytes == streamed_bytes && decoded_bytes == bytes},
    };
    std::ofstream(options.out) << figures.dump(2) << "\n";
    std::cout << figures.dump(2) << "\n";
    return cpp_ids == js_ids ? 0 : 1;
  } catch (const std::exception& error) {
    std::cerr << "auroraedge-tokenizer-bench: " << error.what() << "\n";
    return 2;
  }
}
