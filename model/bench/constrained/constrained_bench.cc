// auroraedge-constrained-bench: what constrained decoding costs on the real
// Qwen vocabulary (151,643 tokens, logits 151,936 wide):
//   - building the vocabulary's trie (once per model);
//   - compiling the demo record schema (cold, and a GrammarCache hit);
//   - computing each state's token mask (first use; cached after), for the
//     record schema and for a schema with a free string (the worst case:
//     most of the vocabulary is allowed inside a string);
//   - per generated token: Advance, and AllowedTokens once cached.
//
//   auroraedge-constrained-bench [--tokenizer tokenizer.json]
//       [--schema record.schema.json] [--repeats 50] [--out constrained_bench.json]
//
// Prints the figures and writes them as JSON. One thread; each time is the
// median of --repeats runs (the machine may be shared), with CPU times beside
// the wall times where a run is long enough to read them.

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "auroraedge/model/constrained_grammar.h"
#include "auroraedge/model/grammar_cache.h"
#include "auroraedge/model/token_vocabulary.h"
#include "auroraedge/model/tokenizer.h"

namespace {

using namespace auroraedge::model;
using namespace auroraedge::model::constrained;
using Clock = std::chrono::steady_clock;

// A bounded string inside an object: most states sit inside the string.
constexpr char kStringSchema[] =
    R"({"type":"object","properties":{"note":{"type":"string","maxLength":64}},"required":["note"]})";

struct Options {
  std::string tokenizer = AURORAEDGE_BENCH_DEFAULT_TOKENIZER;
  std::string schema = AURORAEDGE_BENCH_DEFAULT_SCHEMA;
  int repeats = 50;
  std::string out = "constrained_bench.json";
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
      options.repeats = std::stoi(value);
      if (options.repeats < 1) throw std::invalid_argument("--repeats must be at least 1");
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

double CpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return now.tv_sec + now.tv_nsec * 1e-9;
}

struct Timing {
  double wall_ms = 0;  // median
  double cpu_ms = 0;   // median
  double min_ms = 0;
  double max_ms = 0;
};

Timing Time(int repeats, const std::function<void()>& run) {
  std::vector<double> wall;
  std::vector<double> cpu;
  for (int i = 0; i < repeats; ++i) {
    const double cpu_start = CpuSeconds();
    const auto start = Clock::now();
    run();
    wall.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    cpu.push_back((CpuSeconds() - cpu_start) * 1e3);
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2], wall.front(), wall.back()};
}

nlohmann::json ToJson(const Timing& t) {
  return {{"wall_ms_median", t.wall_ms},
          {"cpu_ms_median", t.cpu_ms},
          {"wall_ms_min", t.min_ms},
          {"wall_ms_max", t.max_ms}};
}

ConstraintSpec SchemaSpec(const std::string& text) {
  ConstraintSpec spec;
  spec.kind = ConstraintSpec::Kind::kJsonSchema;
  spec.json_schema = text;
  return spec;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Each state's first mask computation on a fresh grammar, in ms; "wide"
// states allow more than 10,000 tokens (inside a string: most of the
// vocabulary), where the trie walk visits most of the trie.
nlohmann::json MaskTimes(const ConstraintSpec& spec,
                         const std::shared_ptr<const TokenVocabulary>& vocabulary) {
  const auto grammar = Grammar::Compile(spec, vocabulary);
  std::vector<double> times;
  std::vector<double> wide_times;
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
  int64_t checksum = 0;
  constexpr int kLookups = 1000;
  const auto cached = Time(1, [&] {
    for (int i = 0; i < kLookups; ++i) {
      for (int32_t state = 0; state < grammar->num_states(); ++state) {
        checksum += grammar->AllowedTokens(state).words()[0] & 1;
      }
    }
  });
  return {{"states", grammar->num_states()},
          {"all_states_ms", sum},
          {"per_state_ms_mean", sum / times.size()},
          {"per_state_ms_median", Median(times)},
          {"per_state_ms_max", *std::max_element(times.begin(), times.end())},
          {"wide_states", wide_times.size()},
          {"wide_state_ms_median", Median(wide_times)},
          {"mean_allowed_tokens", static_cast<double>(allowed) / times.size()},
          {"cached_lookup_ns", cached.wall_ms * 1e6 / (kLookups * grammar->num_states())},
          {"checksum", checksum}};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = ParseOptions(argc, argv);
    const Tokenizer tokenizer = Tokenizer::Load(options.tokenizer);
    const std::vector<int32_t> eos = {tokenizer.SpecialTokenId("<|im_end|>"),
                                      tokenizer.SpecialTokenId("<|endoftext|>")};
    const int32_t mask_size = std::max<int32_t>(151936, tokenizer.vocab_size());
    std::shared_ptr<const TokenVocabulary> vocabulary;
    const Timing vocabulary_build = Time(std::max(1, options.repeats / 10), [&] {
      vocabulary = TokenVocabulary::FromTokenizer(tokenizer, eos, mask_size);
    });

    const ConstraintSpec record = SchemaSpec(ReadFile(options.schema));
    const Timing compile = Time(options.repeats, [&] { Grammar::Compile(record, vocabulary); });
    GrammarCache cache(16);
    cache.Get(record, vocabulary);
    const Timing cache_hit = Time(options.repeats, [&] { cache.Get(record, vocabulary); });
    // Compile plus every state's mask: the cost of a schema seen for the
    // first time if all its masks were wanted at once.
    const Timing compile_all_masks = Time(std::max(1, options.repeats / 10), [&] {
      const auto grammar = Grammar::Compile(record, vocabulary);
      for (int32_t s = 0; s < grammar->num_states(); ++s) grammar->AllowedTokens(s);
    });
    const nlohmann::json record_masks = MaskTimes(record, vocabulary);
    const nlohmann::json string_masks = MaskTimes(SchemaSpec(kStringSchema), vocabulary);

    // Per token: the demo's records as Qwen tokenizes them, through a matcher
    // whose masks are already cached (the steady state of a served schema).
    const auto grammar = cache.Get(record, vocabulary);
    std::vector<std::vector<int32_t>> records;
    for (const char* status : {"OK", "NG"}) {
      for (const char* defect : {"none", "scratch", "dent", "crack", "missing hole", "burr"}) {
        for (int holes = 0; holes <= 5; ++holes) {
          records.push_back(tokenizer.Encode(
              std::string(R"({"status":")") + status + R"(","defect":")" + defect +
                  R"(","location":"centre","holes":)" + std::to_string(holes) + "}",
              false));
          records.back().push_back(eos[0]);
        }
      }
    }
    int64_t tokens = 0;
    int64_t checksum = 0;
    const Timing advance = Time(options.repeats, [&] {
      for (const auto& ids : records) {
        GrammarMatcher matcher(grammar);
        for (int32_t id : ids) {
          checksum += matcher.AllowedTokens().Allows(id);
          matcher.Advance(id);
        }
        tokens += ids.size();
      }
    });
    const int64_t tokens_per_run = tokens / options.repeats;
    const double per_token_ns = advance.wall_ms * 1e6 / tokens_per_run;

    const nlohmann::json result = {{"tokenizer", options.tokenizer},
                                   {"schema", options.schema},
                                   {"vocabulary_tokens", vocabulary->trie_token_ids().size()},
                                   {"mask_size", vocabulary->mask_size()},
                                   {"trie_nodes", vocabulary->num_trie_nodes()},
                                   {"repeats", options.repeats},
                                   {"vocabulary_build", ToJson(vocabulary_build)},
                                   {"record_compile", ToJson(compile)},
                                   {"record_cache_hit", ToJson(cache_hit)},
                                   {"record_compile_and_all_masks", ToJson(compile_all_masks)},
                                   {"record_masks", record_masks},
                                   {"string_schema_masks", string_masks},
                                   {"advance_and_mask_per_token_ns", per_token_ns},
                                   {"tokens_per_run", tokens_per_run},
                                   {"checksum", checksum}};
    std::ofstream(options.out) << result.dump(2) << "\n";

    std::printf("vocabulary: %zu tokens, %d trie nodes, mask %d bits\n",
                vocabulary->trie_token_ids().size(), vocabulary->num_trie_nodes(),
                vocabulary->mask_size());
    std::printf("vocabulary build (once per model)     %9.2f ms wall, %9.2f ms CPU\n",
                vocabulary_build.wall_ms, vocabulary_build.cpu_ms);
    std::printf("record schema compile (goal < 50 ms)  %9.3f ms wall, %9.3f ms CPU\n",
                compile.wall_ms, compile.cpu_ms);
    std::printf("record schema, cache hit              %9.4f ms\n", cache_hit.wall_ms);
    std::printf("record compile + all %d masks         %9.2f ms wall, %9.2f ms CPU\n",
                record_masks["states"].get<int>(), compile_all_masks.wall_ms,
                compile_all_masks.cpu_ms);
    for (const auto& [name, masks] :
         {std::pair{"record", record_masks}, std::pair{"string", string_masks}}) {
      std::printf(
          "%-6s masks: %4d states, first use per state mean %.3f / median %.3f / max %.3f "
          "ms; %d wide states (> 10,000 tokens) median %.3f ms; cached %.1f ns; %.0f "
          "tokens allowed on average\n",
          name, masks["states"].get<int>(), masks["per_state_ms_mean"].get<double>(),
          masks["per_state_ms_median"].get<double>(), masks["per_state_ms_max"].get<double>(),
          masks["wide_states"].get<int>(), masks["wide_state_ms_median"].get<double>(),
          masks["cached_lookup_ns"].get<double>(), masks["mean_allowed_tokens"].get<double>());
    }
    std::printf("per token, Advance + cached AllowedTokens: %.1f ns (%lld tokens a run)\n",
                per_token_ns, static_cast<long long>(tokens_per_run));
    std::printf("wrote %s\n", options.out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "auroraedge-constrained-bench: %s\n", e.what());
    return 1;
  }
}
