// The C++ engine against the Python reference's fixtures (fp32, small
// configuration, both paths): vision features, prefill, incremental decoding
// and batching.

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "auroraedge/model/engine.h"
#include "engine_fixtures.h"
#include "visual_features_impl.h"

namespace auroraedge::model {
namespace {

using testing::FixturePrompt;
using testing::Fixtures;
using testing::MaxAbsDiff;

struct PathUnderTest {
  std::string model_dir;
  std::string fixtures_dir;
};

const PathUnderTest kCompressed{AURORAEDGE_TEST_MODEL_DIR, AURORAEDGE_TEST_FIXTURES};
const PathUnderTest kBaseline{AURORAEDGE_TEST_BASELINE_MODEL_DIR,
                              AURORAEDGE_TEST_BASELINE_FIXTURES};
constexpr int kNumGenerated = 20;

std::unique_ptr<Engine> LoadEngine(const std::string& model_dir) {
  EngineOptions options;
  options.model_dir = model_dir;
  return Engine::Load(options);
}

std::vector<VisualFeatures> EncodePromptImages(Engine& engine, const Fixtures& f,
                                               const FixturePrompt& prompt) {
  std::vector<const preprocessing::PatchImage*> images;
  for (int64_t i : prompt.images) images.push_back(&f.images[i]);
  return engine.EncodeImages(images);
}

void AddPrompt(Engine& engine, SequenceId id, const Fixtures& f, const FixturePrompt& prompt) {
  engine.AddSequence(id, prompt.tokens, EncodePromptImages(engine, f, prompt), kNumGenerated);
}

// Logits of a step output against reference row `row` of `prompt`.
void CheckRow(const StepOutput& out, const FixturePrompt& prompt, int64_t row, double tolerance) {
  INFO("logits row " << row);
  REQUIRE(static_cast<int64_t>(out.logits.size()) == prompt.logits.size(1));
  CHECK(MaxAbsDiff(out.logits, prompt.logits[row]) <= tolerance);
}

void CheckVision(const PathUnderTest& path) {
  const auto engine = LoadEngine(path.model_dir);
  const Fixtures f = testing::LoadFixtures(path.fixtures_dir);
  const bool compressed = engine->config().path == "compressed";
  std::vector<const preprocessing::PatchImage*> all;
  for (const auto& image : f.images) all.push_back(&image);
  const auto batched = engine->EncodeImages(all);
  REQUIRE(batched.size() == f.images.size());
  for (size_t i = 0; i < f.images.size(); ++i) {
    INFO("image " << i << ": grid " << f.images[i].grid_h << " x " << f.images[i].grid_w);
    const auto* features = batched[i].impl();
    if (compressed) {
      const int64_t valid = f.images[i].num_valid();
      CHECK(MaxAbsDiff(features->valid_rows, f.visual[i].narrow(0, 0, valid)) <= f.tolerance);
      CHECK(MaxAbsDiff(features->splice_rows, f.compressed[i]) <= f.tolerance);
    } else {
      CHECK(MaxAbsDiff(features->splice_rows, f.visual[i]) <= f.tolerance);
    }
    // The same image alone gives the same features as inside the batch.
    const auto alone = engine->EncodeImages({&f.images[i]});
    CHECK(MaxAbsDiff(alone[0].impl()->splice_rows, features->splice_rows) <= f.tolerance);
  }
}

// Each prompt alone: prefill in one chunk, then the reference's 20
// generated tokens one decode step at a time.
void CheckIncrementalDecoding(const PathUnderTest& path) {
  const auto engine = LoadEngine(path.model_dir);
  const Fixtures f = testing::LoadFixtures(path.fixtures_dir);
  for (size_t j = 0; j < f.prompts.size(); ++j) {
    INFO("prompt " << j);
    const FixturePrompt& prompt = f.prompts[j];
    const auto length = static_cast<int64_t>(prompt.tokens.size());
    const auto id = static_cast<SequenceId>(j);
    AddPrompt(*engine, id, f, prompt);
    auto out = engine->Step({StepItem::Prefill(id, static_cast<int>(length))});
    REQUIRE(out.size() == 1);
    CheckRow(out[0], prompt, length - 1, f.tolerance);
    for (int k = 0; k < kNumGenerated; ++k) {
      INFO("decode step " << k);
      if (prompt.margin[k].item<float>() > f.tolerance) {
        const auto argmax =
            std::max_element(out[0].logits.begin(), out[0].logits.end()) - out[0].logits.begin();
        CHECK(argmax == prompt.generated[k]);
      }
      out = engine->Step({StepItem::Decode(id, prompt.generated[k])});
      REQUIRE(out.size() == 1);
      CheckRow(out[0], prompt, length + k, f.tolerance);
    }
    engine->Release(id);
  }
  CHECK(engine->num_sequences() == 0);
  CHECK(engine->kv_tokens_reserved() == 0);
}

// Prefill in chunks of 5 (chunks split image runs and text), logits at
// every chunk end.
void CheckChunkedPrefill(const PathUnderTest& path) {
  const auto engine = LoadEngine(path.model_dir);
  const Fixtures f = testing::LoadFixtures(path.fixtures_dir);
  constexpr int kChunk = 5;
  for (size_t j = 0; j < f.prompts.size(); ++j) {
    INFO("prompt " << j);
    const FixturePrompt& prompt = f.prompts[j];
    const auto length = static_cast<int>(prompt.tokens.size());
    AddPrompt(*engine, 0, f, prompt);
    for (int start = 0; start < length; start += kChunk) {
      const int n = std::min(kChunk, length - start);
      const auto out = engine->Step({StepItem::Prefill(0, n)});
      REQUIRE(out.size() == 1);
      CheckRow(out[0], prompt, start + n - 1, f.tolerance);
    }
    engine->Release(0);
  }
}

// Every prompt in one engine, stepped together: prefill chunks of some
// sequences share steps with decode rows of others, rows that want no
// logits are mixed in, and every sequence must match its reference alone.
void CheckBatch(const PathUnderTest& path) {
  const auto engine = LoadEngine(path.model_dir);
  const Fixtures f = testing::LoadFixtures(path.fixtures_dir);
  const auto count = static_cast<SequenceId>(f.prompts.size());
  for (SequenceId id = 0; id < count; ++id) AddPrompt(*engine, id, f, f.prompts[id]);
  CHECK(engine->num_sequences() == count);

  std::vector<int> decoded(count, -1);  // -1: prompt not yet computed
  std::vector<int> prefilled(count, 0);
  // Sequence id joins at step id; its prompt goes in two chunks, the first
  // without logits.
  for (int step = 0; step < count + 2 * kNumGenerated; ++step) {
    std::vector<StepItem> items;
    std::vector<SequenceId> with_logits;
    for (SequenceId id = 0; id < count; ++id) {
      const FixturePrompt& prompt = f.prompts[id];
      const auto length = static_cast<int>(prompt.tokens.size());
      if (step < id || decoded[id] >= kNumGenerated) continue;
      if (decoded[id] >= 0) {
        items.push_back(StepItem::Decode(id, prompt.generated[decoded[id]]));
        with_logits.push_back(id);
      } else if (prefilled[id] == 0) {
        const int first = length / 2;
        items.push_back(StepItem::Prefill(id, first, /*want_logits=*/false));
      } else {
        items.push_back(StepItem::Prefill(id, length - prefilled[id]));
        with_logits.push_back(id);
      }
    }
    if (items.empty()) break;
    const auto outputs = engine->Step(items);
    REQUIRE(outputs.size() == with_logits.size());
    for (size_t o = 0; o < outputs.size(); ++o) {
      const SequenceId id = with_logits[o];
      INFO("step " << step << ", sequence " << id);
      CHECK(outputs[o].sequence == id);
      const auto length = static_cast<int64_t>(f.prompts[id].tokens.size());
      CheckRow(outputs[o], f.prompts[id], length + decoded[id], f.tolerance);
    }
    for (const StepItem& item : items) {
      if (item.is_decode || item.want_logits) {
        ++decoded[item.sequence];
      } else {
        prefilled[item.sequence] = item.num_tokens;
      }
    }
  }
  for (SequenceId id = 0; id < count; ++id) CHECK(decoded[id] == kNumGenerated);
}

// The batched paths: decode rows of every prompt (0 to 3 images, so
// different numbers of fusion cross-attention rows) in the same steps, at
// different past lengths (each starts decoding one step after the previous
// one), while the last prompt is prefilled one token per step (one-row
// prefill items, visual placeholders among them) until it decodes too.
void CheckDecodeTogether(const PathUnderTest& path) {
  const auto engine = LoadEngine(path.model_dir);
  const Fixtures f = testing::LoadFixtures(path.fixtures_dir);
  const auto count = static_cast<SequenceId>(f.prompts.size());
  const SequenceId last = count - 1;
  for (SequenceId id = 0; id < count; ++id) AddPrompt(*engine, id, f, f.prompts[id]);
  std::vector<StepItem> prefill;
  for (SequenceId id = 0; id < last; ++id) {
    prefill.push_back(StepItem::Prefill(id, static_cast<int>(f.prompts[id].tokens.size()),
                                        /*want_logits=*/false));
  }
  engine->Step(prefill);

  std::vector<int> decoded(count, 0);
  int last_prefilled = 0;
  const auto last_length = static_cast<int>(f.prompts[last].tokens.size());
  for (int step = 0;; ++step) {
    std::vector<StepItem> items;
    for (SequenceId id = 0; id < count; ++id) {
      if (id == last && last_prefilled < last_length) {
        items.push_back(
            StepItem::Prefill(id, 1, /*want_logits=*/last_prefilled + 1 == last_length));
      } else if (step >= id && decoded[id] < kNumGenerated) {
        items.push_back(StepItem::Decode(id, f.prompts[id].generated[decoded[id]]));
      }
    }
    if (items.empty()) break;
    const auto outputs = engine->Step(items);
    size_t o = 0;
    for (const StepItem& item : items) {
      const FixturePrompt& prompt = f.prompts[item.sequence];
      if (!item.is_decode) {
        if (++last_prefilled < last_length) continue;
        INFO("step " << step << ", prompt " << item.sequence << " prefilled");
        REQUIRE(o < outputs.size());
        CheckRow(outputs[o++], prompt, last_length - 1, f.tolerance);
        continue;
      }
      INFO("step " << step << ", prompt " << item.sequence << ", decode "
                   << decoded[item.sequence]);
      REQUIRE(o < outputs.size());
      CHECK(outputs[o].sequence == item.sequence);
      const auto length = static_cast<int64_t>(prompt.tokens.size());
      CheckRow(outputs[o++], prompt, length + decoded[item.sequence], f.tolerance);
      ++decoded[item.sequence];
    }
    CHECK(o == outputs.size());
  }
  for (SequenceId id = 0; id < count; ++id) CHECK(decoded[id] == kNumGenerated);
}

TEST_CASE("vision features match the reference, square and non-square grids (compressed)") {
  CheckVision(kCompressed);
}

TEST_CASE("vision features match the reference, padded slots zero (baseline)") {
  CheckVision(kBaseline);
}

TEST_CASE("prefill and 20 decode steps equal the full-sequence reference (compressed)") {
  CheckIncrementalDecoding(kCompressed);
}

TEST_CASE("prefill and 20 decode steps equal the full-sequence reference (baseline)") {
  CheckIncrementalDecoding(kBaseline);
}

TEST_CASE("chunked prefill equals the full-sequence reference (compressed)") {
  CheckChunkedPrefill(kCompressed);
}

TEST_CASE("chunked prefill equals the full-sequence reference (baseline)") {
  CheckChunkedPrefill(kBaseline);
}

TEST_CASE("a batch of sequences of different lengths equals each alone (compressed)") {
  CheckBatch(kCompressed);
}

TEST_CASE("a batch of sequences of different lengths equals each alone (baseline)") {
  CheckBatch(kBaseline);
}

TEST_CASE("batched decode rows (different lengths and images) equal each alone (compressed)") {
  CheckDecodeTogether(kCompressed);
}

TEST_CASE("batched decode rows (different lengths and images) equal each alone (baseline)") {
  CheckDecodeTogether(kBaseline);
}

}  // namespace
}  // namespace auroraedge::model
