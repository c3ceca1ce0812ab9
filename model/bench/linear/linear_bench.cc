// auroraedge-linear-bench: what the decoder's linear layers reach on this
// CPU, in one run: the DRAM bandwidth (read and copy), then for each config
// the decode step's matrix-vector products (1 row through every layer and
// the LM head) as tokens/s and percent of the bandwidth roofline, and the
// prefill's matrix products (--prefill-rows rows through every layer, the
// LM head for the last row only), per path and thread count. Random
// weights of the real shapes; only enough layers to defeat the caches are
// held at once. Each figure is the median of --rounds rounds that take the
// thread counts in turn (each the best of a few runs), and each round
// measures its own roofline, so that a neighbour's load on the CPUs or on
// the memory falls on all of them alike. Prints the figures and writes
// them as JSON. A benchmark, never a test.
//
//   auroraedge-linear-bench [--config FILE]... [--threads 1,2] [--out FILE]
//       [--prefill-rows 128] [--resident-mib 512] [--min-seconds 0.2] [--rounds 5]
//       [--paths aten_fp32,aten_bf16,packed_fp32,packed_int8,packed_bf16]

#include <ATen/ATen.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "auroraedge/model/packed_linear.h"
#include "auroraedge/model/runtime_info.h"
#include "decoder_shapes.h"
#include "linear_paths.h"

namespace auroraedge::model::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Args {
  std::vector<std::string> configs;
  std::vector<int> threads{1, 2};
  std::vector<Path> paths{Path::kAtenFloat32, Path::kAtenBFloat16, Path::kPackedFloat32,
                          Path::kPackedInt8, Path::kPackedBFloat16};
  std::string out = "linear_bench.json";
  int64_t prefill_rows = 128;
  int64_t resident_mib = 512;
  double min_seconds = 0.2;
  int rounds = 5;
};

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) items.push_back(item);
  return items;
}

Path ParsePath(const std::string& name) {
  for (const Path path : {Path::kAtenFloat32, Path::kAtenBFloat16, Path::kPackedFloat32,
                          Path::kPackedInt8, Path::kPackedBFloat16})
    if (name == PathName(path)) return path;
  throw std::invalid_argument("--paths: unknown path '" + name + "'");
}

Args ParseArgs(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(flag + ": missing value");
      return argv[++i];
    };
    if (flag == "--config") {
      args.configs.push_back(value());
    } else if (flag == "--threads") {
      args.threads.clear();
      for (const auto& t : SplitCommas(value())) args.threads.push_back(std::stoi(t));
    } else if (flag == "--paths") {
      args.paths.clear();
      for (const auto& p : SplitCommas(value())) args.paths.push_back(ParsePath(p));
    } else if (flag == "--out") {
      args.out = value();
    } else if (flag == "--prefill-rows") {
      args.prefill_rows = std::stoll(value());
    } else if (flag == "--resident-mib") {
      args.resident_mib = std::stoll(value());
    } else if (flag == "--min-seconds") {
      args.min_seconds = std::stod(value());
    } else if (flag == "--rounds") {
      args.rounds = std::stoi(value());
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  if (args.configs.empty())
    args.configs = {AURORAEDGE_CONFIG_DIR "/auroraedge-v-0.5b.json",
                    AURORAEDGE_CONFIG_DIR "/auroraedge-v-2b.json"};
  return args;
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// The best time of `run` after one warm-up call (which builds kernels and
// touches the memory): at least `min_reps` timed calls and `min_seconds`.
double BestSeconds(const std::function<void()>& run, double min_seconds, int min_reps) {
  run();
  double best = 1e30, total = 0;
  for (int rep = 0; rep < min_reps || total < min_seconds; ++rep) {
    const auto start = Clock::now();
    run();
    const double elapsed = Seconds(start);
    best = std::min(best, elapsed);
    total += elapsed;
  }
  return best;
}

std::string LoadAverage() {
  std::ifstream file("/proc/loadavg");
  std::string one, five, fifteen;
  file >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// Sustained read bandwidth in bytes/s: the best of `repeats` maxima over
// `buffer` on LibTorch's intra-op threads. A maximum, not a sum: LibTorch's
// float sum (cascade summation) is bound by its arithmetic on one core
// (16 against 21 GB/s here) and would understate the roofline.
double ReadBandwidth(const at::Tensor& buffer, int repeats) {
  const double seconds = BestSeconds([&] { buffer.amax().item<float>(); }, 0, repeats);
  return buffer.numel() * buffer.element_size() / seconds;
}

// Read bandwidth (`probe`, 1 GiB) and copy bandwidth (bytes read plus
// written, 512 MiB each way) per thread count, the best of `rounds`.
json MeasureBandwidth(const std::vector<int>& threads, int rounds, const at::Tensor& probe) {
  const auto source = at::ones({(int64_t{512} << 20) / 4});
  auto destination = at::empty_like(source);
  std::map<int, std::pair<double, double>> best;  // threads -> (read, copy)
  for (int round = 0; round < rounds; ++round) {
    for (const int t : threads) {
      SetIntraOpThreads(t);
      const double copy =
          2.0 * source.numel() * 4 / BestSeconds([&] { destination.copy_(source); }, 0, 3);
      best[t].first = std::max(best[t].first, ReadBandwidth(probe, 3));
      best[t].second = std::max(best[t].second, copy);
    }
  }
  json figures = json::array();
  for (const int t : threads) {
    const auto [read, copy] = best[t];
    std::printf("DRAM with %d threads: read %.1f GB/s, copy %.1f GB/s (read + write)\n", t,
                read / 1e9, copy / 1e9);
    figures.push_back({{"threads", t}, {"read_bytes_per_s", read}, {"copy_bytes_per_s", copy}});
  }
  return figures;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Layers held at once: enough that their weights pass `resident_bytes`
// (so that they stream from DRAM, not the caches), at least 2.
int ResidentLayers(const DecoderShapes& shapes, int64_t layer_bytes, int64_t resident_bytes) {
  const int64_t wanted = (resident_bytes + layer_bytes - 1) / layer_bytes;
  return static_cast<int>(std::clamp<int64_t>(wanted, 2, shapes.num_layers));
}

using Layer = std::vector<std::unique_ptr<BenchLinear>>;

Layer MakeLayer(Path path, const DecoderShapes& shapes, int64_t max_rows) {
  Layer layer;
  for (const LinearShape& shape : shapes.layer)
    layer.push_back(MakeBenchLinear(path, MakeRandomWeights(shape), max_rows));
  return layer;
}

int64_t LayerBytes(const Layer& layer) {
  int64_t bytes = 0;
  for (const auto& linear : layer) bytes += linear->weight_bytes();
  return bytes;
}

// One path on one config: per round, the read bandwidth at the largest
// thread count (the roofline of that round), then each thread count's best
// decode layer, LM head and prefill layer times; the figures are the
// medians over the rounds, each round's decode set against its own roofline.
json BenchPath(const Args& args, const DecoderShapes& shapes, Path path,
               const RandomWeights& lm_head_weights, const at::Tensor& probe,
               const LinearCpuSupport& cpu) {
  const char* name = PathName(path);
  // Without AVX-512, LibTorch's bf16 matrix products run on slow loops
  // (minutes for the 2b's prefill): one layer, timed once, stands for all.
  const bool slow_prefill = path == Path::kAtenBFloat16 && cpu.isa.rfind("avx512", 0) != 0;
  const auto build_start = Clock::now();
  std::vector<Layer> layers;
  layers.push_back(MakeLayer(path, shapes, args.prefill_rows));
  const int64_t layer_bytes = LayerBytes(layers[0]);
  const int resident = ResidentLayers(shapes, layer_bytes, args.resident_mib << 20);
  while (static_cast<int>(layers.size()) < resident)
    layers.push_back(MakeLayer(path, shapes, args.prefill_rows));
  const auto lm_head = MakeBenchLinear(path, lm_head_weights, 1);
  const int64_t lm_head_bytes = lm_head->weight_bytes();
  const int64_t step_bytes = shapes.num_layers * layer_bytes + lm_head_bytes;
  std::printf("[%s %s] %d of %d layers held (%.0f MiB), step streams %.0f MiB; built in %.1f s\n",
              shapes.name.c_str(), name, resident, shapes.num_layers,
              double(resident * layer_bytes) / (1 << 20), double(step_bytes) / (1 << 20),
              Seconds(build_start));

  const auto run_layers = [&](int64_t rows, size_t count) {
    for (size_t l = 0; l < count; ++l)
      for (auto& linear : layers[l]) linear->Run(rows);
  };
  const size_t prefill_layers = slow_prefill ? 1 : std::min<size_t>(2, layers.size());
  const auto prefill = [&] { run_layers(args.prefill_rows, prefill_layers); };
  const auto prefill_once = [&] {
    const auto start = Clock::now();
    prefill();
    return Seconds(start);
  };
  struct Round {
    double decode_tps, percent_of_roofline, prefill_tps, layer_bytes_per_s, lm_head_bytes_per_s;
  };
  std::map<int, std::vector<Round>> rounds;  // by thread count
  const int max_threads = *std::max_element(args.threads.begin(), args.threads.end());
  for (int round = 0; round < (slow_prefill ? 1 : args.rounds); ++round) {
    SetIntraOpThreads(max_threads);
    const double bandwidth = ReadBandwidth(probe, 3);
    for (const int t : args.threads) {
      SetIntraOpThreads(t);
      const double layer_s =
          BestSeconds([&] { run_layers(1, layers.size()); }, args.min_seconds, 3) / layers.size();
      const double lm_head_s = BestSeconds([&] { lm_head->Run(1); }, args.min_seconds, 3);
      const double prefill_layer_s =
          (slow_prefill ? prefill_once() : BestSeconds(prefill, args.min_seconds, 2)) /
          prefill_layers;
      const double decode_tps = 1.0 / (shapes.num_layers * layer_s + lm_head_s);
      rounds[t].push_back({decode_tps, 100.0 * decode_tps * step_bytes / bandwidth,
                           args.prefill_rows / (shapes.num_layers * prefill_layer_s + lm_head_s),
                           layer_bytes / layer_s, lm_head_bytes / lm_head_s});
    }
  }
  json runs = json::array();
  for (const int t : args.threads) {
    const auto median = [&](double Round::*field) {
      std::vector<double> values;
      for (const Round& r : rounds[t]) values.push_back(r.*field);
      return Median(values);
    };
    std::vector<double> percents;
    for (const Round& r : rounds[t]) percents.push_back(r.percent_of_roofline);
    const json run = {{"threads", t},
                      {"decode_tokens_per_s", median(&Round::decode_tps)},
                      {"percent_of_roofline", median(&Round::percent_of_roofline)},
                      {"percent_of_roofline_per_round", percents},
                      {"decode_layer_bytes_per_s", median(&Round::layer_bytes_per_s)},
                      {"lm_head_bytes_per_s", median(&Round::lm_head_bytes_per_s)},
                      {"prefill_tokens_per_s", median(&Round::prefill_tps)}};
    std::printf(
        "[%s %s] %d threads: decode %.2f tokens/s (layers at %.1f GB/s, LM head at %.1f GB/s), "
        "%.1f%% of roofline; prefill %lld rows %.1f tokens/s\n",
        shapes.name.c_str(), name, t, run["decode_tokens_per_s"].get<double>(),
        run["decode_layer_bytes_per_s"].get<double>() / 1e9,
        run["lm_head_bytes_per_s"].get<double>() / 1e9, run["percent_of_roofline"].get<double>(),
        static_cast<long long>(args.prefill_rows), run["prefill_tokens_per_s"].get<double>());
    runs.push_back(run);
  }
  return {{"path", name},
          {"implementation", layers[0][0]->implementation()},
          {"layers_held", resident},
          {"layer_weight_bytes", layer_bytes},
          {"step_weight_bytes", step_bytes},
          {"runs", runs}};
}

// Figure of `path` at `threads` in a config's results, or 0.
double Figure(const json& paths, const std::string& path, int threads, const std::string& key) {
  for (const auto& p : paths)
    if (p["path"] == path)
      for (const auto& run : p["runs"])
        if (run["threads"] == threads) return run[key].get<double>();
  return 0;
}

void PrintSummary(const json& config, const std::vector<int>& threads) {
  const json& paths = config["paths"];
  std::printf("\n%s: decode tokens/s (%% of roofline), prefill tokens/s\n",
              config["name"].get<std::string>().c_str());
  for (const auto& p : paths) {
    const std::string name = p["path"];
    std::printf("  %-12s", name.c_str());
    for (const int t : threads)
      std::printf("  %dt: %7.2f (%5.1f%%) %8.1f", t, Figure(paths, name, t, "decode_tokens_per_s"),
                  Figure(paths, name, t, "percent_of_roofline"),
                  Figure(paths, name, t, "prefill_tokens_per_s"));
    if (threads.size() >= 2) {
      const int a = threads[0], b = threads[1];
      std::printf("  %dt/%dt: decode %.2fx prefill %.2fx", b, a,
                  Figure(paths, name, b, "decode_tokens_per_s") /
                      Figure(paths, name, a, "decode_tokens_per_s"),
                  Figure(paths, name, b, "prefill_tokens_per_s") /
                      Figure(paths, name, a, "prefill_tokens_per_s"));
    }
    std::printf("\n");
  }
}

int Main(int argc, char** argv) {
  const Args args = ParseArgs(argc, argv);
  const RuntimeInfo info = GetRuntimeInfo();
  const LinearCpuSupport cpu = DetectLinearCpuSupport();
  const std::string load_before = LoadAverage();
  std::printf("LibTorch %s, BLAS %s, %d cores; oneDNN ISA %s (native int8 %d, bf16 %d); load %s\n",
              info.torch_version.c_str(), info.blas_library.c_str(), info.available_cores,
              cpu.isa.c_str(), cpu.native_int8, cpu.native_bf16, load_before.c_str());
  json report = {{"torch_version", info.torch_version},     {"blas_library", info.blas_library},
                 {"available_cores", info.available_cores}, {"onednn_isa", cpu.isa},
                 {"native_int8", cpu.native_int8},          {"native_bf16", cpu.native_bf16},
                 {"prefill_rows", args.prefill_rows},       {"rounds", args.rounds},
                 {"load_average_before", load_before}};
  const auto probe = at::ones({(int64_t{1} << 30) / 4});
  report["bandwidth"] = MeasureBandwidth(args.threads, args.rounds, probe);
  report["configs"] = json::array();
  for (const std::string& path : args.configs) {
    const DecoderShapes shapes = LoadDecoderShapes(path);
    const RandomWeights lm_head = MakeRandomWeights(shapes.lm_head);
    json config = {{"name", shapes.name},
                   {"config", path},
                   {"num_layers", shapes.num_layers},
                   {"fp32_step_weight_bytes", 4 * shapes.StepParameters()},
                   {"paths", json::array()}};
    for (const Path p : args.paths) {
      if (p == Path::kPackedBFloat16 && !cpu.native_bf16) continue;
      config["paths"].push_back(BenchPath(args, shapes, p, lm_head, probe, cpu));
    }
    PrintSummary(config, args.threads);
    report["configs"].push_back(config);
  }
  report["load_average_after"] = LoadAverage();
  std::printf("load average after: %s\n", report["load_average_after"].get<std::string>().c_str());
  std::ofstream(args.out) << report.dump(2) << "\n";
  std::printf("wrote %s\n", args.out.c_str());
  return 0;
}

}  // namespace
}  // namespace auroraedge::model::bench

int main(int argc, char** argv) {
  try {
    return auroraedge::model::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "auroraedge-linear-bench: %s\n", e.what());
    return 2;
  }
}
