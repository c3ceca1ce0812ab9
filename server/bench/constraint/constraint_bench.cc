// auroraedge-constraint-bench: what constrained decoding costs on the real
// Qwen vocabulary (151,643 tokens, logits 151,936 wide):
//   - building the vocabulary's trie (once per model);
//   - the grammar alone, and each state's token mask on first use, for the
//     demo record schema and for a schema with a free string (the worst
//     case: most of the vocabulary is allowed inside a string);
//   - preparing the record schema on a worker as the server does: the
//     grammar and its completion bounds (every state's mask and
//     successors), cold, and a cache hit;
//   - the engine thread per token: the next mask (AllowedTokens) and
//     Advance, along the record as Qwen tokenizes it;
//   - the device sampler at 16 rows of 151,936 logits, greedy: without
//     masks, and with every row masked.
//
//   auroraedge-constraint-bench [--tokenizer tokenizer.json]
//       [--schema record.schema.json] [--repeats 30] [--out constraint_bench.json]
//
// Prints the figures and writes them as JSON. Each time is the median of
// --repeats runs, with the thread's CPU time beside it (the machine may be
// shared).

#include <time.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "auroraedge/model/constrained_grammar.h"
#include "auroraedge/model/tokenizer.h"
#include "constrained_sequence.h"
#include "constraint_compiler.h"
#include "device_sampler.h"

namespace {

using namespace auroraedge;
using Clock = std::chrono::steady_clock;

// A bounded string inside an object: most states sit inside the string.
constexpr char kStringSchema[] =
    R"({"type":"object","properties":{"note":{"type":"string","maxLength":64}},"required":["note"]})";

struct Options {
  std::string tokenizer = AURORAEDGE_BENCH_DEFAULT_TOKENIZER;
  std::string schema = AURORAEDGE_BENCH_DEFAULT_SCHEMA;
  int repeats = 30;
  std::string out = "constraint_bench.json";
};

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument(flag + ": missing value");
    const std::string value = argv[++i];
    if (flag == "--tokenizer") {
      options.tokenizer = value;
    } else if (flag == "--schema") {
      options.schema = value;
    } else if (flag == "--repeats") {
      options.repeats = std::max(1, std::stoi(value));
    } else if (flag == "--out") {
      options.out = value;
    } else {
      throw std::invalid_argument("unknown flag " + flag);
    }
  }
  return options;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

double CpuMs() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec * 1e3 + now.tv_nsec * 1e-6;
}

// Median wall and CPU milliseconds of `repeats` runs.
nlohmann::json Time(int repeats, const std::function<void()>& run) {
  std::vector<double> wall, cpu;
  for (int i = 0; i < repeats; ++i) {
    const double cpu_start = CpuMs();
    const auto start = Clock::now();
    run();
    wall.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    cpu.push_back(CpuMs() - cpu_start);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {{"wall_ms_median", wall[wall.size() / 2]},
          {"cpu_ms_median", cpu[cpu.size() / 2]},
          {"wall_ms_min", wall.front()}};
}

double Median(const nlohmann::json& timing) { return timing["wall_ms_median"].get<double>(); }

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

model::constrained::ConstraintSpec SchemaSpec(const std::string& text) {
  model::constrained::ConstraintSpec spec;
  spec.kind = model::constrained::ConstraintSpec::Kind::kJsonSchema;
  spec.json_schema = text;
  return spec;
}

// Each state's first mask computation on a fresh grammar, in ms; "wide"
// states allow more than 10,000 tokens (inside a string: most of the
// vocabulary), where the trie walk visits most of the trie.
nlohmann::json MaskTimes(const model::constrained::ConstraintSpec& spec,
                         const std::shared_ptr<const model::constrained::TokenVocabulary>& vocab) {
  const auto grammar = model::constrained::Grammar::Compile(spec, vocab);
  std::vector<double> times, wide_times;
  int64_t allowed = 0;
  for (int32_t state = 0; state < grammar->num_states(); ++state) {
    const auto start = Clock::now();
    const int32_t count = grammar->AllowedTokens(state).Count();
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (count > 10000) wide_times.push_back(times.back());
    allowed += count;
  }
  double sum = 0;
  for (double t : times) sum += t;
  return {{"states", grammar->num_states()},
          {"all_states_ms", sum},
          {"per_state_ms_median", Median(times)},
          {"per_state_ms_max", *std::max_element(times.begin(), times.end())},
          {"wide_states", wide_times.size()},
          {"wide_state_ms_median", Median(wide_times)},
          {"mean_allowed_tokens", static_cast<double>(allowed) / times.size()}};
}

// What StepInputs sends for 16 greedy rows, masked or not.
model::SamplingInputs GreedyInputs(int rows, const std::vector<uint64_t>* mask) {
  model::SamplingInputs inputs;
  std::vector<int64_t> slots, zeros(rows, 0), ones;
  for (int r = 0; r < rows; ++r) slots.push_back(r);
  const double one = 1.0;
  int64_t one_bits = 0;
  std::memcpy(&one_bits, &one, sizeof one);
  ones.assign(rows, one_bits);
  inputs.slots = at::tensor(slots, at::kLong);
  inputs.top_k = at::tensor(zeros, at::kLong);
  inputs.temperature = at::tensor(zeros, at::kLong).view(at::kDouble);
  inputs.top_p = at::tensor(ones, at::kLong).view(at::kDouble);
  inputs.penalty = at::tensor(ones, at::kLong).view(at::kDouble);
  inputs.uniform = at::tensor(zeros, at::kLong).view(at::kDouble);
  inputs.configs.assign(rows, model::SamplingConfig{});
  if (mask != nullptr) {
    std::vector<int64_t> words;
    for (int r = 0; r < rows; ++r) words.insert(words.end(), mask->begin(), mask->end());
    inputs.num_masked = rows;
    inputs.mask_rows = at::tensor(slots, at::kLong);
    inputs.mask_bits = at::tensor(words, at::kLong).view(at::kByte).view({rows, -1});
  } else {
    inputs.mask_rows = at::empty({0}, at::kLong);
    inputs.mask_bits = at::empty({0, 0}, at::kByte);
  }
  return inputs;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = ParseOptions(argc, argv);
    const model::Tokenizer tokenizer = model::Tokenizer::Load(options.tokenizer);
    const std::vector<int32_t> eos = {tokenizer.SpecialTokenId("<|im_end|>"),
                                      tokenizer.SpecialTokenId("<|endoftext|>")};
    const int32_t vocab = std::max<int32_t>(151936, tokenizer.vocab_size());
    std::shared_ptr<const model::constrained::TokenVocabulary> vocabulary;
    const nlohmann::json vocabulary_build = Time(3, [&] {
      vocabulary = model::constrained::TokenVocabulary::FromTokenizer(tokenizer, eos, vocab);
    });

    const model::constrained::ConstraintSpec spec = SchemaSpec(ReadFile(options.schema));
    const nlohmann::json grammar_only =
        Time(options.repeats, [&] { model::constrained::Grammar::Compile(spec, vocabulary); });
    const nlohmann::json record_masks = MaskTimes(spec, vocabulary);
    const nlohmann::json string_masks = MaskTimes(SchemaSpec(kStringSchema), vocabulary);

    server::CompiledConstraint compiled;
    const nlohmann::json cold = Time(options.repeats, [&] {
      server::ConstraintCompiler compiler(vocabulary, 4);
      compiled = compiler.Compile(spec);
    });
    server::ConstraintCompiler cached(vocabulary, 4);
    cached.Compile(spec);
    const nlohmann::json hit = Time(options.repeats, [&] { cached.Compile(spec); });

    // The engine thread per token, along the record as Qwen spells it.
    const std::string record =
        R"({"status":"NG","defect":"missing hole","location":"bottom-right","holes":3})";
    std::vector<int32_t> tokens = tokenizer.Encode(record, false);
    tokens.push_back(eos[0]);
    int64_t checksum = 0;
    constexpr int kWalks = 2000;
    const nlohmann::json walks = Time(options.repeats, [&] {
      for (int w = 0; w < kWalks; ++w) {
        server::ConstrainedSequence sequence(compiled, 64);
        for (int32_t token : tokens) {
          checksum += static_cast<int64_t>(sequence.AllowedTokens()[0] & 1);
          sequence.Advance(token);
        }
      }
    });
    const double per_token_ns =
        Median(walks) * 1e6 / (static_cast<double>(kWalks) * static_cast<double>(tokens.size()));

    // The device sampler at 16 rows: argmax of 151,936 logits, with and
    // without every row's mask (the record's first state).
    constexpr int kRows = 16;
    const auto& start_mask = server::ConstrainedSequence(compiled, 64).AllowedTokens();
    model::DeviceSampler sampler(kRows, vocab, at::Device(at::kCPU));
    at::manual_seed(0);
    const at::Tensor logits = at::randn({kRows, vocab});
    const model::SamplingInputs plain = GreedyInputs(kRows, nullptr);
    const model::SamplingInputs masked = GreedyInputs(kRows, &start_mask);
    at::InferenceMode inference;
    const nlohmann::json sample_plain =
        Time(options.repeats, [&] { checksum += sampler.Sample(logits, plain).rows[0].token; });
    const nlohmann::json sample_masked =
        Time(options.repeats, [&] { checksum += sampler.Sample(logits, masked).rows[0].token; });

    nlohmann::json report = {
        {"vocabulary",
         {{"tokens", tokenizer.vocab_size()},
          {"mask_size", vocab},
          {"trie_nodes", vocabulary->num_trie_nodes()}}},
        {"vocabulary_build", vocabulary_build},
        {"record_schema",
         {{"states", compiled.grammar->num_states()},
          {"bounds_exact", compiled.bounds->exact()},
          {"shortest_answer_tokens", compiled.bounds->Bound(compiled.grammar->start_state())},
          {"grammar_only", grammar_only},
          {"masks_first_use", record_masks},
          {"prepare_cold", cold},
          {"prepare_cache_hit", hit}}},
        {"string_schema_masks_first_use", string_masks},
        {"engine_thread_per_token_ns", per_token_ns},
        {"record_tokens", tokens.size()},
        {"device_sampler_16_rows",
         {{"unmasked", sample_plain},
          {"masked", sample_masked},
          {"mask_ms", Median(sample_masked) - Median(sample_plain)}}},
        {"checksum", checksum}};
    std::ofstream(options.out) << report.dump(2) << "\n";
    std::cout << report.dump(2) << std::endl;
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "auroraedge-constraint-bench: " << error.what() << "\n";
    return 1;
  }
}
