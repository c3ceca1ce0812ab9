// auroraedge-engine-bench: the model runner alone, on the CPU or a GPU:
// load time and memory, warm time to first token split into image encoding
// and prefill, decode tokens/s at batch 1 against the roofline of the
// bandwidth measured in the same run, decode at a larger batch, the step
// time against rows and context length with the bytes each decode step
// uploads, and the compressed-vs-baseline comparison. With several
// --weights or --threads, also the CPU matrix: text prefill and batch-1
// decode for each weight format and thread count in this one process, so
// that their ratios are measured under the same load. Prints the figures
// and writes them as JSON. A benchmark, never a test.
//
//   auroraedge-engine-bench --model DIR [--baseline DIR] [--out bench.json]
//       [--device cpu|cuda:N] [--dtype float32|bfloat16]
//       [--weights float32[,int8]] [--threads N[,M]] [--matrix-only]
//       [--prefill-tokens 128] [--prompt-tokens 32] [--decode-steps 16] [--batch 8]
//       [--rows 1,4,16,64] [--contexts 100,1000,2000] [--no-verify]
//
// The full figures run with the first weights and thread count;
// --matrix-only skips them (and the baseline).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "auroraedge/model/runtime_info.h"
#include "memory_probe.h"
#include "prefill_flops.h"
#include "torch_model_runner.h"

namespace auroraedge::model::bench {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Args {
  std::string model;
  std::string baseline;
  std::string out = "engine_bench.json";
  std::string device = "cpu";
  std::string dtype = "float32";
  std::vector<std::string> weights{"float32"};
  std::vector<int> threads{0};
  bool matrix_only = false;
  int prefill_tokens = 128;
  int prompt_tokens = 32;
  int decode_steps = 16;
  int batch = 8;
  std::vector<int> rows{1, 4, 16, 64};
  std::vector<int> contexts{100, 1000, 2000};
  bool verify = true;
};

std::vector<std::string> ParseNames(const std::string& text) {
  std::vector<std::string> values;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) values.push_back(item);
  }
  return values;
}

std::vector<int> ParseList(const std::string& text) {
  std::vector<int> values;
  for (const std::string& item : ParseNames(text)) values.push_back(std::stoi(item));
  return values;
}

Args ParseArgs(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(flag + ": missing value");
      return argv[++i];
    };
    if (flag == "--model") {
      args.model = value();
    } else if (flag == "--baseline") {
      args.baseline = value();
    } else if (flag == "--out") {
      args.out = value();
    } else if (flag == "--device") {
      args.device = value();
    } else if (flag == "--dtype") {
      args.dtype = value();
    } else if (flag == "--weights") {
      args.weights = ParseNames(value());
    } else if (flag == "--threads") {
      args.threads = ParseList(value());
    } else if (flag == "--matrix-only") {
      args.matrix_only = true;
    } else if (flag == "--prefill-tokens") {
      args.prefill_tokens = std::stoi(value());
    } else if (flag == "--prompt-tokens") {
      args.prompt_tokens = std::stoi(value());
    } else if (flag == "--decode-steps") {
      args.decode_steps = std::stoi(value());
    } else if (flag == "--batch") {
      args.batch = std::stoi(value());
    } else if (flag == "--rows") {
      args.rows = ParseList(value());
    } else if (flag == "--contexts") {
      args.contexts = ParseList(value());
    } else if (flag == "--no-verify") {
      args.verify = false;
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  if (args.model.empty()) throw std::invalid_argument("--model DIR is required");
  if (args.weights.empty() || args.threads.empty())
    throw std::invalid_argument("--weights and --threads need at least one value");
  return args;
}

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double GiB(int64_t bytes) { return double(bytes) / (1LL << 30); }

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

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

// Text tokens below every special token.
std::vector<int32_t> TextTokens(const ModelConfig& config, int count, int salt = 0) {
  const int32_t first_special = std::min(config.vision_start_token_id, config.image_pad_token_id);
  std::vector<int32_t> tokens;
  for (int i = 0; i < count; ++i) tokens.push_back(((i + salt) * 7919 + 13) % first_special);
  return tokens;
}

// <|vision_start|> <|image_pad|> x N <|vision_end|> then `text` text tokens.
std::vector<int32_t> ImagePrompt(const ModelConfig& config, int text) {
  std::vector<int32_t> prompt{config.vision_start_token_id};
  prompt.insert(prompt.end(), config.visual_tokens_per_image, config.image_pad_token_id);
  prompt.push_back(config.vision_end_token_id);
  const auto tokens = TextTokens(config, text);
  prompt.insert(prompt.end(), tokens.begin(), tokens.end());
  return prompt;
}

// Plays the scheduler: each sequence of a phase its own seat and run of
// blocks; Reset when a phase's sequences have ended.
class Placer {
 public:
  explicit Placer(const KvGeometry& geometry) : geometry_(geometry) {}
  KvPlacement Next(int64_t tokens) {
    const int64_t blocks = (tokens + geometry_.block_size - 1) / geometry_.block_size;
    if (next_slot_ >= geometry_.num_slots || next_block_ + blocks > geometry_.num_blocks) {
      throw std::logic_error("bench: the KV storage is too small for this phase");
    }
    const KvPlacement placement{next_slot_++, next_block_, blocks};
    next_block_ += blocks;
    return placement;
  }
  void Reset() {
    next_slot_ = 0;
    next_block_ = 0;
  }

 private:
  KvGeometry geometry_;
  int next_slot_ = 0;
  int64_t next_block_ = 0;
};

SequenceStart Start(SequenceId id, std::vector<int32_t> prompt, int max_new, Placer& placer) {
  SequenceStart start;
  start.id = id;
  start.placement = placer.Next(static_cast<int64_t>(prompt.size()) + max_new);
  start.prompt = std::move(prompt);
  start.max_new_tokens = max_new;
  return start;
}

// Every row must go through.
std::vector<RowResult> MustStep(ModelRunner& runner, const std::vector<StepRow>& rows) {
  auto results = runner.Step(rows);
  for (const RowResult& result : results) {
    if (!result.ok()) throw std::runtime_error("step failed: " + result.error);
  }
  return results;
}

struct FirstToken {
  double encode_s = 0;
  double prefill_s = 0;
  double ttft_s = 0;
  int32_t token = -1;
};

// Image encoding, registration and prefill of sequence `id`, until the
// first token is on the host. The sequence stays registered.
FirstToken RunFirstToken(TorchModelRunner& runner, const std::string& device, SequenceId id,
                         const preprocessing::PatchImage& image, const std::vector<int32_t>& prompt,
                         int max_new, Placer& placer) {
  FirstToken r;
  Synchronize(device);
  const auto start = Clock::now();
  auto features = runner.EncodeImages({&image});
  Synchronize(device);
  r.encode_s = Seconds(start);
  const auto prefill_start = Clock::now();
  runner.StartSequence(Start(id, prompt, max_new, placer), std::move(features));
  r.token = MustStep(runner, {StepRow::Prefill(id, static_cast<int>(prompt.size()))})[0].token;
  r.prefill_s = Seconds(prefill_start);
  r.ttft_s = Seconds(start);
  return r;
}

json FirstTokenJson(const FirstToken& r) {
  return {{"encode_images_s", r.encode_s}, {"prefill_s", r.prefill_s}, {"ttft_s", r.ttft_s}};
}

// The element size of the KV storage and the activations.
int64_t ElementBytes(const Args& args) { return args.dtype == "bfloat16" ? 2 : 4; }

EngineOptions Options(const Args& args, const std::string& dir, int sequences, int64_t tokens,
                      const std::string& weights, int threads) {
  EngineOptions options;
  options.model_dir = dir;
  options.device = args.device;
  options.dtype = args.dtype;
  options.weights = weights;
  options.intra_op_threads = threads;
  options.verify_checksums = args.verify;
  options.max_sequences = sequences;
  const ModelConfig config = LoadModelConfig(dir);
  const int64_t element = ElementBytes(args);
  const DecoderConfig& d = config.decoder;
  const int64_t per_token = 2LL * element *
                            (d.num_layers * d.num_key_value_heads * d.head_dim +
                             int64_t{config.fusion.num_heads} * config.fusion.head_dim);
  options.kv_cache_bytes = std::max<int64_t>(tokens, 1024) * per_token;
  return options;
}

// Decode rows of `count` sequences, each already prefilled, for `steps`
// steps. Returns the median step time.
double TimeDecode(TorchModelRunner& runner, std::vector<std::pair<SequenceId, int32_t>>& sequences,
                  int steps, int64_t* metadata_bytes) {
  std::vector<double> times;
  for (int step = 0; step < steps; ++step) {
    std::vector<StepRow> rows;
    for (const auto& [id, token] : sequences) rows.push_back(StepRow::Decode(id, token));
    const auto start = Clock::now();
    const auto results = MustStep(runner, rows);
    times.push_back(Seconds(start));
    for (size_t i = 0; i < sequences.size(); ++i) sequences[i].second = results[i].token;
    *metadata_bytes = runner.last_step_metadata_bytes();
  }
  return Median(times);
}

// Registers `rows` text sequences of `context` tokens and prefills them in
// chunks of at most 512 tokens, 2048 per step.
std::vector<std::pair<SequenceId, int32_t>> Prefill(TorchModelRunner& runner, Placer& placer,
                                                    SequenceId first_id, int rows, int context,
                                                    int max_new) {
  std::vector<std::pair<SequenceId, int32_t>> sequences;
  std::vector<int> done(rows, 0);
  for (int r = 0; r < rows; ++r) {
    runner.StartSequence(
        Start(first_id + r, TextTokens(runner.config(), context, r), max_new, placer), {});
    sequences.emplace_back(first_id + r, -1);
  }
  for (bool pending = true; pending;) {
    pending = false;
    std::vector<StepRow> batch;
    std::vector<int> which;
    int budget = 2048;
    for (int r = 0; r < rows && budget > 0; ++r) {
      const int n = std::min({512, context - done[r], budget});
      if (n <= 0) continue;
      batch.push_back(StepRow::Prefill(first_id + r, n, done[r] + n == context));
      which.push_back(r);
      budget -= n;
    }
    if (batch.empty()) break;
    const auto results = MustStep(runner, batch);
    for (size_t i = 0; i < batch.size(); ++i) {
      const int r = which[i];
      done[r] += batch[i].num_tokens;
      if (done[r] == context) sequences[r].second = results[i].token;
      pending = pending || done[r] < context;
    }
    for (int r = 0; r < rows; ++r) pending = pending || done[r] < context;
  }
  return sequences;
}

void EndAll(ModelRunner& runner, const std::vector<std::pair<SequenceId, int32_t>>& sequences) {
  for (const auto& [id, token] : sequences) runner.EndSequence(id);
}

// Bytes one decode step reads: the weights as they run (packed, int8), the
// decoder and fusion KV at mean lengths `mean_length` and `mean_text`, and
// `visual_rows` rows of cross-attention KV.
double DecodeStepBytes(const TorchModelRunner& runner, int64_t element, double mean_length,
                       double mean_text, int64_t visual_rows) {
  const DecoderConfig& d = runner.config().decoder;
  const double decoder_kv = 2.0 * d.num_layers * d.num_key_value_heads * d.head_dim * element;
  const double fusion_kv = double(runner.kv_geometry().bytes_per_token) - decoder_kv;
  return double(runner.decode_weight_bytes()) + decoder_kv * mean_length +
         fusion_kv * (mean_text + double(visual_rows));
}

// One weight format at one thread count: the median prefill of
// --prefill-tokens text tokens (of three, after one that builds the
// kernels), then decode at batch 1 for --decode-steps steps (after one
// warm-up step) on the last of them.
json MatrixCell(TorchModelRunner& runner, const Args& args, int threads, double bandwidth) {
  const int used = SetIntraOpThreads(threads);
  const ModelConfig& config = runner.config();
  Placer placer(runner.kv_geometry());
  const int max_new = args.decode_steps + 2;
  std::vector<double> prefill_times;
  int32_t token = -1;
  for (SequenceId id = 1; id <= 4; ++id) {
    runner.StartSequence(
        Start(id, TextTokens(config, args.prefill_tokens, static_cast<int>(id)), max_new, placer),
        {});
    const auto start = Clock::now();
    token = MustStep(runner, {StepRow::Prefill(id, args.prefill_tokens)})[0].token;
    if (id > 1) prefill_times.push_back(Seconds(start));
    if (id < 4) runner.EndSequence(id);
  }
  std::vector<std::pair<SequenceId, int32_t>> one{{4, token}};
  int64_t metadata_bytes = 0;
  TimeDecode(runner, one, 1, &metadata_bytes);
  const auto start = Clock::now();
  TimeDecode(runner, one, args.decode_steps, &metadata_bytes);
  const double decode_tokens_per_s = args.decode_steps / Seconds(start);
  runner.EndSequence(4);
  const double mean_length = args.prefill_tokens + 1 + args.decode_steps / 2.0;
  const double bytes_per_step =
      DecodeStepBytes(runner, ElementBytes(args), mean_length, mean_length, 0);
  const double roofline = bandwidth / bytes_per_step;
  const double prefill_tokens_per_s = args.prefill_tokens / Median(prefill_times);
  std::printf(
      "[matrix] %d threads: prefill of %d tokens %.1f tokens/s; decode %.2f tokens/s at batch 1, "
      "%.1f%% of the roofline (%.1f tokens/s, %.1f MB per step)\n",
      used, args.prefill_tokens, prefill_tokens_per_s, decode_tokens_per_s,
      100.0 * decode_tokens_per_s / roofline, roofline, bytes_per_step / 1e6);
  return {{"threads", used},
          {"prefill_tokens", args.prefill_tokens},
          {"prefill_tokens_per_s", prefill_tokens_per_s},
          {"decode_steps", args.decode_steps},
          {"decode_tokens_per_s", decode_tokens_per_s},
          {"bytes_read_per_step", bytes_per_step},
          {"roofline_tokens_per_s", roofline},
          {"percent_of_roofline", 100.0 * decode_tokens_per_s / roofline}};
}

// Every --weights format at every --threads count, one loaded runner per
// format, text only.
json RunMatrix(const Args& args, double bandwidth) {
  json cells = json::array();
  const int64_t kv_tokens = 4LL * (args.prefill_tokens + args.decode_steps + 32);
  for (const std::string& weights : args.weights) {
    const auto start = Clock::now();
    TorchModelRunner runner(Options(args, args.model, 4, kv_tokens, weights, args.threads.front()));
    std::printf("[matrix] %s weights: loaded in %.2f s, %.1f MB read per decode step\n",
                weights.c_str(), Seconds(start), runner.decode_weight_bytes() / 1e6);
    for (int threads : args.threads) {
      json cell = MatrixCell(runner, args, threads, bandwidth);
      cell["weights"] = weights;
      cells.push_back(cell);
    }
  }
  return cells;
}

json RunCompressed(const Args& args, double bandwidth) {
  const int max_rows = std::max(args.batch, *std::max_element(args.rows.begin(), args.rows.end()));
  const int max_context = *std::max_element(args.contexts.begin(), args.contexts.end());
  const int sweep_steps = 8;
  // The largest phase: the sweep's rows at its longest context, or the
  // batch at the image prompt's length (a block of rounding each).
  const ModelConfig model = LoadModelConfig(args.model);
  const int64_t prompt_length = model.visual_tokens_per_image + 2 + args.prompt_tokens;
  const int64_t kv_tokens = std::max<int64_t>(
      int64_t{max_rows} * (std::min(max_context, model.context_length) + sweep_steps + 32),
      int64_t{args.batch + 1} * (prompt_length + args.decode_steps + 32));
  const int64_t rss_before = ResidentBytes();
  auto start = Clock::now();
  TorchModelRunner runner(
      Options(args, args.model, max_rows, kv_tokens, args.weights[0], args.threads[0]));
  const double load_s = Seconds(start);
  const ModelConfig& config = runner.config();
  const int64_t rss_loaded = ResidentBytes();
  std::printf("[%s] loaded in %.2f s (RSS +%.2f GiB; KV storage %.2f GiB)\n", config.path.c_str(),
              load_s, GiB(rss_loaded - rss_before), GiB(runner.kv_storage_bytes()));
  Placer placer(runner.kv_geometry());

  const auto image = FullImage(config);
  const auto prompt = ImagePrompt(config, args.prompt_tokens);
  const int max_new = args.decode_steps + 1;
  const FirstToken cold = RunFirstToken(runner, args.device, 1, image, prompt, max_new, placer);
  runner.EndSequence(1);
  FirstToken warm;
  for (SequenceId id = 2; id < 5; ++id) {  // the best of three warm runs
    placer.Reset();
    const FirstToken run = RunFirstToken(runner, args.device, id, image, prompt, max_new, placer);
    if (id == 2 || run.ttft_s < warm.ttft_s) warm = run;
    if (id < 4) runner.EndSequence(id);
  }
  std::printf("[%s] TTFT cold %.4f s, warm %.4f s (encode %.4f s, prefill %.4f s)\n",
              config.path.c_str(), cold.ttft_s, warm.ttft_s, warm.encode_s, warm.prefill_s);

  // Decode at batch 1 from the warm sequence.
  std::vector<std::pair<SequenceId, int32_t>> one{{4, warm.token}};
  int64_t metadata_bytes = 0;
  start = Clock::now();
  TimeDecode(runner, one, args.decode_steps, &metadata_bytes);
  const double decode_s = Seconds(start);
  const double tokens_per_s = args.decode_steps / decode_s;
  runner.EndSequence(4);
  const int64_t rss_after = ResidentBytes();

  const double bytes_per_step = DecodeStepBytes(
      runner, ElementBytes(args), double(prompt.size()) + args.decode_steps / 2.0,
      double(prompt.size() - config.visual_tokens_per_image) + args.decode_steps / 2.0,
      image.num_valid());
  const double roofline = bandwidth / bytes_per_step;
  std::printf("[%s] decode %.2f tokens/s at batch 1; roofline %.1f tokens/s (%.1f%%)\n",
              config.path.c_str(), tokens_per_s, roofline, 100.0 * tokens_per_s / roofline);

  // Decode at a larger batch: aggregate tokens/s.
  placer.Reset();
  auto batch = Prefill(runner, placer, 100, args.batch, static_cast<int>(prompt_length),
                       args.decode_steps + 1);
  start = Clock::now();
  TimeDecode(runner, batch, args.decode_steps, &metadata_bytes);
  const double batch_tokens_per_s = double(args.batch) * args.decode_steps / Seconds(start);
  EndAll(runner, batch);
  std::printf("[%s] decode %.2f tokens/s at batch %d (aggregate)\n", config.path.c_str(),
              batch_tokens_per_s, args.batch);

  // Step time against rows and context length.
  json sweep = json::array();
  SequenceId next_id = 1000;
  for (int context : args.contexts) {
    if (context + sweep_steps + 1 > config.context_length) {
      std::printf("[%s] step: context %d skipped (context_length %d)\n", config.path.c_str(),
                  context, config.context_length);
      continue;
    }
    for (int rows : args.rows) {
      placer.Reset();
      auto sequences = Prefill(runner, placer, next_id, rows, context, sweep_steps + 1);
      next_id += rows;
      const double step_s = TimeDecode(runner, sequences, sweep_steps, &metadata_bytes);
      EndAll(runner, sequences);
      std::printf(
          "[%s] step: %3d rows at context %5d: %.5f s (%.1f tokens/s), %lld bytes uploaded\n",
          config.path.c_str(), rows, context, step_s, rows / step_s,
          static_cast<long long>(metadata_bytes));
      sweep.push_back({{"rows", rows},
                       {"context", context},
                       {"step_s", step_s},
                       {"tokens_per_s", rows / step_s},
                       {"bytes_uploaded_per_step", metadata_bytes},
                       {"kv_bytes_copied_per_step", 0}});
    }
  }

  return {{"model_dir", args.model},
          {"path", config.path},
          {"load_s", load_s},
          {"weight_bytes", runner.weight_bytes()},
          {"kv_storage_bytes", runner.kv_storage_bytes()},
          {"rss_before_load_bytes", rss_before},
          {"rss_after_load_bytes", rss_loaded},
          {"rss_after_decode_bytes", rss_after},
          {"rss_peak_bytes", PeakResidentBytes()},
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
            {"percent_of_roofline", 100.0 * tokens_per_s / roofline}}},
          {"decode_batch", {{"batch", args.batch}, {"tokens_per_s", batch_tokens_per_s}}},
          {"step_sweep", sweep}};
}

json RunBaseline(const Args& args) {
  const ModelConfig config = LoadModelConfig(args.baseline);
  auto start = Clock::now();
  TorchModelRunner runner(Options(args, args.baseline, 4,
                                  4 * (config.visual_tokens_per_image + args.prompt_tokens + 32),
                                  args.weights[0], args.threads[0]));
  const double load_s = Seconds(start);
  Placer placer(runner.kv_geometry());
  const auto image = FullImage(config);
  const auto prompt = ImagePrompt(config, args.prompt_tokens);
  const FirstToken cold = RunFirstToken(runner, args.device, 1, image, prompt, 1, placer);
  runner.EndSequence(1);
  FirstToken warm;
  for (SequenceId id = 2; id < 5; ++id) {
    const FirstToken run = RunFirstToken(runner, args.device, id, image, prompt, 1, placer);
    if (id == 2 || run.ttft_s < warm.ttft_s) warm = run;
    runner.EndSequence(id);
  }
  std::printf("[%s] loaded in %.2f s; TTFT cold %.4f s, warm %.4f s (prefill %.4f s)\n",
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
  // The bandwidth with the most threads asked for: the machine's roofline.
  SetIntraOpThreads(*std::max_element(args.threads.begin(), args.threads.end()));
  const RuntimeInfo info = GetRuntimeInfo();
  std::printf("LibTorch %s, BLAS %s, %d intra-op threads of %d cores, device %s, %s\n",
              info.torch_version.c_str(), info.blas_library.c_str(), info.intra_op_threads,
              info.available_cores, args.device.c_str(), args.dtype.c_str());
  const double bandwidth =
      MeasureBandwidth(args.device, args.device == "cpu" ? (1LL << 30) : (4LL << 30), 5);
  std::printf("%s bandwidth %.1f GB/s\n", args.device.c_str(), bandwidth / 1e9);

  json report = {{"runtime",
                  {{"torch_version", info.torch_version},
                   {"blas_library", info.blas_library},
                   {"intra_op_threads", info.intra_op_threads},
                   {"available_cores", info.available_cores}}},
                 {"dtype", args.dtype},
                 {"weights", args.weights[0]},
                 {"device", args.device},
                 {"bandwidth_bytes_per_s", bandwidth}};
  if (args.weights.size() > 1 || args.threads.size() > 1 || args.matrix_only)
    report["matrix"] = RunMatrix(args, bandwidth);
  if (!args.matrix_only) report["compressed"] = RunCompressed(args, bandwidth);
  if (!args.matrix_only && !args.baseline.empty()) {
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
