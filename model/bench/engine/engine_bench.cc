// auroraedge-engine-bench: load time, resident memory against weight bytes,
// time to first token, decode tokens/s against the measured memory-bandwidth
// roofline, and the compressed-vs-baseline prefill comparison. Prints the
// figures and writes them as JSON. A benchmark, never a test.
//
//   auroraedge-engine-bench --model DIR [--baseline DIR] [--out bench.json]
//       [--threads N] [--dtype float32|bfloat16] [--prompt-tokens 32]
//       [--decode-steps 16] [--no-verify]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "auroraedge/model/engine.h"
#include "auroraedge/model/runtime_info.h"
#include "memory_probe.h"
#include "prefill_flops.h"
#include "torch_engine.h"

namespace auroraedge::model::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Args {
  std::string model;
  std::string baseline;
  std::string out = "engine_bench.json";
  int threads = 0;
  std::string dtype = "float32";
  int prompt_tokens = 32;
  int decode_steps = 16;
  bool verify = true;
};

Args ParseArgs(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(flag + ": missing value");
      return argv[++i];
    };
    if (flag == "--model")
      args.model = value();
    else if (flag == "--baseline")
      args.baseline = value();
    else if (flag == "--out")
      args.out = value();
    else if (flag == "--threads")
      args.threads = std::stoi(value());
    else if (flag == "--dtype")
      args.dtype = value();
    else if (flag == "--prompt-tokens")
      args.prompt_tokens = std::stoi(value());
    else if (flag == "--decode-steps")
      args.decode_steps = std::stoi(value());
    else if (flag == "--no-verify")
      args.verify = false;
    else
      throw std::invalid_argument("unknown flag " + flag);
  }
  if (args.model.empty()) throw std::invalid_argument("--model DIR is required");
  return args;
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double GiB(int64_t bytes) { return double(bytes) / (1LL << 30); }

// One full-size image: a 16 x 16 grid when max_num_patches is 256.
preprocessing::PatchImage FullImage(const ModelConfig& config) {
  const VisionConfig& v = config.vision;
  preprocessing::PatchImage image;
  image.max_num_patches = v.max_num_patches;
  image.patch_dim = 3 * v.patch_size * v.patch_size;
  image.grid_h = 1;
  while ((image.grid_h + 1) * (image.grid_h + 1) <= v.max_num_patches) ++image.grid_h;
  image.grid_w = v.max_num_patches / image.grid_h;
  at::manual_seed(0);
  const auto patches = (at::rand({image.max_num_patches, image.patch_dim}) * 2 - 1).contiguous();
  image.patches.assign(patches.data_ptr<float>(), patches.data_ptr<float>() + patches.numel());
  return image;
}

// <|vision_start|> <|image_pad|> x N <|vision_end|> then `text` text tokens.
std::vector<int32_t> ImagePrompt(const ModelConfig& config, int text) {
  std::vector<int32_t> prompt{config.vision_start_token_id};
  prompt.insert(prompt.end(), config.visual_tokens_per_image, config.image_pad_token_id);
  prompt.push_back(config.vision_end_token_id);
  const int32_t first_special = std::min(config.vision_start_token_id, config.image_pad_token_id);
  for (int i = 0; i < text; ++i) prompt.push_back((i * 7919 + 13) % first_special);
  return prompt;
}

int32_t Argmax(const std::vector<float>& logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

struct FirstToken {
  double encode_s = 0;
  double prefill_s = 0;
  double ttft_s = 0;
  int32_t token = -1;
};

// Image encoding, sequence registration and prefill of sequence `id`, until
// the first token is chosen. The sequence stays registered.
FirstToken RunFirstToken(Engine& engine, SequenceId id, const preprocessing::PatchImage& image,
                         const std::vector<int32_t>& prompt, int max_new_tokens) {
  FirstToken r;
  const auto start = Clock::now();
  auto features = engine.EncodeImages({&image});
  r.encode_s = Seconds(start);
  const auto prefill_start = Clock::now();
  engine.AddSequence(id, prompt, std::move(features), max_new_tokens);
  r.token =
      Argmax(engine.Step({StepItem::Prefill(id, static_cast<int>(prompt.size()))}).at(0).logits);
  r.prefill_s = Seconds(prefill_start);
  r.ttft_s = Seconds(start);
  return r;
}

json FirstTokenJson(const FirstToken& r) {
  return {{"encode_images_s", r.encode_s}, {"prefill_s", r.prefill_s}, {"ttft_s", r.ttft_s}};
}

EngineOptions Options(const Args& args, const std::string& dir) {
  EngineOptions options;
  options.model_dir = dir;
  options.dtype = args.dtype;
  options.intra_op_threads = args.threads;
  options.verify_checksums = args.verify;
  return options;
}

json RunCompressed(const Args& args, double bandwidth) {
  const int64_t rss_before = ResidentBytes();
  auto start = Clock::now();
  auto loaded = Engine::Load(Options(args, args.model));
  const double load_s = Seconds(start);
  auto& engine = dynamic_cast<TorchEngine&>(*loaded);
  const ModelConfig& config = engine.config();
  const int64_t rss_loaded = ResidentBytes();
  std::printf("[%s] loaded in %.2f s (RSS +%.2f GiB)\n", config.path.c_str(), load_s,
              GiB(rss_loaded - rss_before));

  const auto image = FullImage(config);
  const auto prompt = ImagePrompt(config, args.prompt_tokens);
  const int max_new = args.decode_steps + 1;
  const FirstToken cold = RunFirstToken(engine, 1, image, prompt, max_new);
  engine.Release(1);
  const FirstToken warm = RunFirstToken(engine, 2, image, prompt, max_new);
  std::printf("[%s] TTFT cold %.3f s, warm %.3f s (encode %.3f s, prefill %.3f s)\n",
              config.path.c_str(), cold.ttft_s, warm.ttft_s, warm.encode_s, warm.prefill_s);

  // Decode at batch 1 from the warm sequence.
  int32_t token = warm.token;
  start = Clock::now();
  for (int i = 0; i < args.decode_steps; ++i) {
    token = Argmax(engine.Step({StepItem::Decode(2, token)}).at(0).logits);
  }
  const double decode_s = Seconds(start);
  const double tokens_per_s = args.decode_steps / decode_s;
  const int64_t rss_after = ResidentBytes();
  const int64_t rss_peak = PeakResidentBytes();
  engine.Release(2);

  // Bytes one decode step reads: weights, the decoder and fusion caches at
  // their mean length over the run, and the cross-attention K/V.
  const double mean_length = double(prompt.size()) + args.decode_steps / 2.0;
  const double mean_text =
      double(prompt.size() - config.visual_tokens_per_image) + args.decode_steps / 2.0;
  const DecoderConfig& d = config.decoder;
  const int64_t element = args.dtype == "bfloat16" ? 2 : 4;
  const double decoder_kv = 2.0 * d.num_layers * d.num_key_value_heads * d.head_dim * element;
  const double fusion_kv = double(engine.kv_bytes_per_token()) - decoder_kv;
  const double bytes_per_step = double(engine.decode_weight_bytes()) + decoder_kv * mean_length +
                                fusion_kv * mean_text +
                                double(engine.cross_kv_bytes_per_row()) * image.num_valid();
  const double roofline = bandwidth / bytes_per_step;
  std::printf("[%s] decode %.3f tokens/s at batch 1; roofline %.3f tokens/s (%.1f%%)\n",
              config.path.c_str(), tokens_per_s, roofline, 100.0 * tokens_per_s / roofline);
  std::printf("[%s] RSS %.2f GiB (peak %.2f GiB) for %.2f GiB of weights: %.3fx\n",
              config.path.c_str(), GiB(rss_after - rss_before), GiB(rss_peak),
              GiB(engine.weight_bytes()), double(rss_after - rss_before) / engine.weight_bytes());

  return {{"model_dir", args.model},
          {"path", config.path},
          {"load_s", load_s},
          {"weight_bytes", engine.weight_bytes()},
          {"rss_before_load_bytes", rss_before},
          {"rss_after_load_bytes", rss_loaded},
          {"rss_after_decode_bytes", rss_after},
          {"rss_peak_bytes", rss_peak},
          {"rss_over_weights", double(rss_after - rss_before) / engine.weight_bytes()},
          {"prompt_tokens", prompt.size()},
          {"first_token_cold", FirstTokenJson(cold)},
          {"first_token_warm", FirstTokenJson(warm)},
          {"decode",
           {{"batch", 1},
            {"steps", args.decode_steps},
            {"seconds", decode_s},
            {"tokens_per_s", tokens_per_s},
            {"bytes_read_per_step", bytes_per_step},
            {"roofline_tokens_per_s", roofline},
            {"percent_of_roofline", 100.0 * tokens_per_s / roofline}}}};
}

json RunBaseline(const Args& args) {
  auto start = Clock::now();
  const auto engine = Engine::Load(Options(args, args.baseline));
  const double load_s = Seconds(start);
  const ModelConfig& config = engine->config();
  const auto image = FullImage(config);
  const auto prompt = ImagePrompt(config, args.prompt_tokens);
  const FirstToken cold = RunFirstToken(*engine, 1, image, prompt, 1);
  engine->Release(1);
  const FirstToken warm = RunFirstToken(*engine, 2, image, prompt, 1);
  std::printf("[%s] loaded in %.2f s; TTFT cold %.3f s, warm %.3f s (prefill %.3f s)\n",
              config.path.c_str(), load_s, cold.ttft_s, warm.ttft_s, warm.prefill_s);
  return {{"model_dir", args.baseline},
          {"path", config.path},
          {"load_s", load_s},
          {"prompt_tokens", prompt.size()},
          {"first_token_cold", FirstTokenJson(cold)},
          {"first_token_warm", FirstTokenJson(warm)}};
}

json PrefillFlops(const ModelConfig& compressed, const ModelConfig& baseline, int text_tokens) {
  // Both prompts carry one image run plus its start/end tokens and the text.
  const int64_t compressed_length = compressed.visual_tokens_per_image + 2 + text_tokens;
  const int64_t baseline_length = baseline.visual_tokens_per_image + 2 + text_tokens;
  const double decoder = DecoderPrefillFlops(compressed, compressed_length);
  const double fusion =
      FusionPrefillFlops(compressed, text_tokens + 2, compressed.vision.max_num_patches);
  const double base = DecoderPrefillFlops(baseline, baseline_length);
  return {{"compressed_decoder_tokens", compressed_length},
          {"baseline_decoder_tokens", baseline_length},
          {"compressed_decoder_flops", decoder},
          {"compressed_fusion_flops", fusion},
          {"baseline_decoder_flops", base},
          {"decoder_flops_ratio", decoder / base},
          {"decoder_plus_fusion_flops_ratio", (decoder + fusion) / base}};
}

int Main(int argc, char** argv) {
  const Args args = ParseArgs(argc, argv);
  SetIntraOpThreads(args.threads);
  const RuntimeInfo info = GetRuntimeInfo();
  std::printf("LibTorch %s, BLAS %s, %d intra-op threads of %d cores\n", info.torch_version.c_str(),
              info.blas_library.c_str(), info.intra_op_threads, info.available_cores);
  const double bandwidth = MeasureReadBandwidth(1LL << 30, 5);
  std::printf("read bandwidth %.2f GB/s\n", bandwidth / 1e9);

  json report = {{"runtime",
                  {{"torch_version", info.torch_version},
                   {"blas_library", info.blas_library},
                   {"intra_op_threads", info.intra_op_threads},
                   {"available_cores", info.available_cores}}},
                 {"dtype", args.dtype},
                 {"device", "cpu"},
                 {"read_bandwidth_bytes_per_s", bandwidth}};
  report["compressed"] = RunCompressed(args, bandwidth);
  if (!args.baseline.empty()) {
    report["baseline"] = RunBaseline(args);
    const double compressed_ttft = report["compressed"]["first_token_warm"]["ttft_s"];
    const double baseline_ttft = report["baseline"]["first_token_warm"]["ttft_s"];
    const double compressed_prefill = report["compressed"]["first_token_warm"]["prefill_s"];
    const double baseline_prefill = report["baseline"]["first_token_warm"]["prefill_s"];
    report["comparison"] = PrefillFlops(LoadModelConfig(args.model), LoadModelConfig(args.baseline),
                                        args.prompt_tokens);
    report["comparison"]["ttft_ratio"] = compressed_ttft / baseline_ttft;
    report["comparison"]["prefill_time_ratio"] = compressed_prefill / baseline_prefill;
    std::printf(
        "compressed vs baseline: decoder prefill FLOPs %.3f (with fusion %.3f), "
        "prefill time %.3f, TTFT %.3f\n",
        report["comparison"]["decoder_flops_ratio"].get<double>(),
        report["comparison"]["decoder_plus_fusion_flops_ratio"].get<double>(),
        compressed_prefill / baseline_prefill, compressed_ttft / baseline_ttft);
  }
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
    std::fprintf(stderr, "auroraedge-engine-bench: %s\n", e.what());
    return 1;
  }
}
