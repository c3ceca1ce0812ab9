// The ModelRunner interface as the engine thread drives it: the KV storage's
// geometry, placements it refuses, rows that fail alone, and the bytes a
// decode step moves.

#include <catch2/catch.hpp>
#include <algorithm>
#include <stdexcept>

#include "auroraedge/model/packed_linear.h"
#include "runner_test_support.h"

namespace auroraedge::model {
namespace {

using Catch::Matchers::Contains;
using testing::LoadRunner;
using testing::Placements;
using testing::SmallModelOptions;
using testing::Start;

std::vector<int32_t> Text(int n, int32_t token = 7) { return std::vector<int32_t>(n, token); }

TEST_CASE("the KV budget becomes whole blocks of storage, allocated at load") {
  const auto probe = LoadRunner(SmallModelOptions());
  const DecoderConfig& d = probe->config().decoder;
  const FusionConfig& f = probe->config().fusion;
  const int64_t per_token =
      4 * 2 * (d.num_layers * d.num_key_value_heads * d.head_dim + f.num_heads * f.head_dim);
  CHECK(probe->kv_geometry().bytes_per_token == per_token);

  EngineOptions options = SmallModelOptions();
  options.kv_block_size = 4;
  options.max_sequences = 3;
  options.kv_cache_bytes = 100 * per_token + per_token / 2;
  const auto runner = LoadRunner(options);
  CHECK(runner->kv_geometry().num_blocks == 25);
  CHECK(runner->kv_geometry().block_size == 4);
  CHECK(runner->kv_geometry().num_slots == 3);
  const int64_t cross_rows = int64_t{runner->config().max_images_per_request} *
                             runner->config().vision.max_num_patches * 3;
  CHECK(runner->kv_storage_bytes() ==
        100 * per_token + cross_rows * 4 * 2 * f.num_heads * f.head_dim);
}

TEST_CASE("placements and sequences that do not fit are refused with the field named") {
  EngineOptions options = SmallModelOptions();
  options.max_sequences = 2;
  const auto runner = LoadRunner(options);
  const KvGeometry& g = runner->kv_geometry();
  const ModelConfig& c = runner->config();
  const KvPlacement room{0, 0, 4};
  CHECK_THROWS_WITH(runner->StartSequence(Start(1, {}, 4, room), {}), Contains("prompt: empty"));
  CHECK_THROWS_WITH(runner->StartSequence(Start(1, Text(4), 0, room), {}),
                    Contains("max_new_tokens"));
  CHECK_THROWS_WITH(runner->StartSequence(Start(1, {1, c.decoder.vocab_size}, 4, room), {}),
                    Contains("prompt[1]"));
  CHECK_THROWS_WITH(
      runner->StartSequence(Start(1, Text(c.context_length), 1, {0, 0, g.num_blocks}), {}),
      Contains("context_length"));
  CHECK_THROWS_WITH(runner->StartSequence(Start(1, Text(60), 10, room), {}),
                    Contains("placement.num_blocks"));
  CHECK_THROWS_WITH(runner->StartSequence(Start(1, Text(4), 4, {2, 0, 1}), {}),
                    Contains("placement.slot: 2"));
  CHECK_THROWS_WITH(runner->StartSequence(Start(1, Text(4), 4, {0, g.num_blocks - 1, 2}), {}),
                    Contains("not inside"));
  SequenceStart bad_sampling = Start(1, Text(4), 4, room);
  bad_sampling.sampling.top_p = 0;
  CHECK_THROWS_WITH(runner->StartSequence(bad_sampling, {}), Contains("top_p"));
  // One placeholder run but no image; then a run one short of an image.
  std::vector<int32_t> prompt(c.visual_tokens_per_image, c.image_pad_token_id);
  CHECK_THROWS_WITH(runner->StartSequence(Start(1, prompt, 4, room), {}),
                    Contains("image placeholders"));
  prompt.pop_back();
  prompt.push_back(3);
  prompt.push_back(c.image_pad_token_id);
  CHECK_THROWS_WITH(runner->StartSequence(Start(1, prompt, 4, room), {}), Contains("shorter"));
  CHECK(runner->num_sequences() == 0);

  runner->StartSequence(Start(1, Text(4), 4, room), {});
  CHECK_THROWS_WITH(runner->StartSequence(Start(1, Text(4), 4, {1, 4, 1}), {}),
                    Contains("already registered"));
  CHECK_THROWS_WITH(runner->StartSequence(Start(2, Text(4), 4, {0, 4, 1}), {}),
                    Contains("placement.slot: 0 is in use"));
  runner->EndSequence(1);
  runner->EndSequence(1);  // unknown ids are ignored
  runner->StartSequence(Start(2, Text(4), 4, {0, 4, 1}), {});  // the seat is free again
  CHECK(runner->num_sequences() == 1);
}

TEST_CASE("rows the runner cannot run fail alone; the others in the step go through") {
  const auto runner = LoadRunner(SmallModelOptions());
  runner->StartSequence(Start(1, Text(6), 2, {0, 0, 1}), {});
  runner->StartSequence(Start(2, Text(6), 2, {1, 1, 1}), {});
  const auto check_alone = [&](const StepRow& bad, const std::string& message) {
    INFO(message);
    const auto results = runner->Step({bad, StepRow::Prefill(2, 1, /*sample=*/false)});
    REQUIRE(results.size() == 2);
    CHECK_THAT(results[0].error, Contains(message));
    CHECK(results[1].ok());
  };
  check_alone(StepRow::Prefill(9, 1), "unknown sequence");
  check_alone(StepRow::Decode(1, 5), "decode before the prompt");
  check_alone(StepRow::Prefill(1, 7), "num_tokens 7");
  const auto twice = runner->Step({StepRow::Prefill(1, 2), StepRow::Prefill(1, 2)});
  CHECK(twice[0].ok());
  CHECK_THAT(twice[1].error, Contains("appears twice"));
  // The first of those rows went through: 4 prompt tokens are left.
  const auto first = runner->Step({StepRow::Prefill(1, 4)});
  REQUIRE(first[0].ok());
  CHECK(first[0].token >= 0);
  CHECK(first[0].token < runner->config().decoder.vocab_size);
  CHECK_THAT(runner->Step({StepRow::Decode(1, -1)})[0].error, Contains("decode_token -1"));
  CHECK(runner->Step({StepRow::Decode(1, 5)})[0].ok());
  CHECK(runner->Step({StepRow::Decode(1, 5)})[0].ok());
  CHECK_THAT(runner->Step({StepRow::Decode(1, 5)})[0].error, Contains("max_new_tokens"));
}

TEST_CASE("a prefill chunk that samples nothing returns no token") {
  const auto runner = LoadRunner(SmallModelOptions());
  runner->StartSequence(Start(1, Text(6), 2, {0, 0, 1}), {});
  const auto chunk = runner->Step({StepRow::Prefill(1, 3, /*sample=*/false)});
  CHECK(chunk[0].ok());
  CHECK(chunk[0].token == -1);
  CHECK(runner->Step({StepRow::Prefill(1, 3)})[0].token >= 0);
}

// Greedy tokens of three sequences decoded together for `steps` steps.
std::vector<std::vector<int32_t>> DecodeThree(TorchModelRunner& runner, int steps,
                                              std::vector<std::string>* errors) {
  Placements placements(runner.kv_geometry());
  std::vector<std::vector<int32_t>> tokens(3);
  std::vector<StepRow> rows;
  for (SequenceId id = 0; id < 3; ++id) {
    runner.StartSequence(Start(id, Text(5 + 3 * static_cast<int>(id), 11 + static_cast<int>(id)),
                               steps + 1, placements.Next(6 + 3 * id + steps)),
                         {});
    rows.push_back(StepRow::Prefill(id, 5 + 3 * static_cast<int>(id)));
  }
  for (int step = 0; step <= steps; ++step) {
    const auto results = runner.Step(rows);
    rows.clear();
    for (const RowResult& result : results) {
      if (!result.ok()) {
        errors->push_back(result.error);
        continue;
      }
      tokens[result.sequence].push_back(result.token);
      rows.push_back(StepRow::Decode(result.sequence, result.token));
    }
  }
  return tokens;
}

TEST_CASE("a forward pass that fails inside a batch ends only the row that fails alone") {
  const auto clean = LoadRunner(SmallModelOptions());
  std::vector<std::string> errors;
  const auto expected = DecodeThree(*clean, 6, &errors);
  REQUIRE(errors.empty());

  const auto runner = LoadRunner(SmallModelOptions());
  int failures = 0;
  runner->set_fault_hook([&](const std::vector<SequenceId>& batch) {
    if (std::find(batch.begin(), batch.end(), 1) != batch.end() && ++failures > 1) {
      throw std::runtime_error("injected failure of sequence 1");
    }
  });
  const auto tokens = DecodeThree(*runner, 6, &errors);
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Contains("injected failure of sequence 1"));
  CHECK(tokens[0] == expected[0]);
  CHECK(tokens[2] == expected[2]);
  // Sequence 1 ran its prefill (the first batch), then failed alone.
  CHECK(tokens[1] == std::vector<int32_t>{expected[1][0]});
}

TEST_CASE("a decode step uploads the same few bytes whatever the context length") {
  const auto runner = LoadRunner(SmallModelOptions());
  runner->StartSequence(Start(1, Text(8), 4, {0, 0, 1}), {});
  runner->StartSequence(Start(2, Text(400), 4, {1, 1, 26}), {});
  runner->Step({StepRow::Prefill(1, 8), StepRow::Prefill(2, 400)});
  runner->Step({StepRow::Decode(1, 3)});
  const int64_t short_context = runner->last_step_metadata_bytes();
  runner->Step({StepRow::Decode(2, 3)});
  CHECK(runner->last_step_metadata_bytes() == short_context);
  CHECK(short_context < 512);
}

TEST_CASE("images that do not match the model are refused with the field named") {
  const auto runner = LoadRunner(SmallModelOptions());
  const VisionConfig& v = runner->config().vision;
  preprocessing::PatchImage image;
  image.max_num_patches = v.max_num_patches;
  image.patch_dim = 3 * v.patch_size * v.patch_size;
  image.grid_h = 2;
  image.grid_w = 2;
  image.patches.assign(static_cast<size_t>(image.max_num_patches) * image.patch_dim, 0.0f);
  CHECK(runner->EncodeImages({&image}).size() == 1);
  image.grid_w = v.max_num_patches;
  CHECK_THROWS_WITH(runner->EncodeImages({&image}), Contains("images[0].grid"));
  image.grid_w = 2;
  image.patches.pop_back();
  CHECK_THROWS_WITH(runner->EncodeImages({&image}), Contains("images[0].patches"));
}

TEST_CASE("bad engine options are named") {
  EngineOptions options = SmallModelOptions();
  options.dtype = "float16";
  CHECK_THROWS_WITH(ModelRunner::Load(options), Contains("EngineOptions.dtype"));
  options = SmallModelOptions();
  options.device = "tpu";
  CHECK_THROWS_WITH(ModelRunner::Load(options), Contains("EngineOptions.device"));
  options = SmallModelOptions();
  options.kv_block_size = 0;
  CHECK_THROWS_WITH(ModelRunner::Load(options), Contains("EngineOptions.kv_block_size"));
  options = SmallModelOptions();
  options.max_sequences = 0;
  CHECK_THROWS_WITH(ModelRunner::Load(options), Contains("EngineOptions.max_sequences"));
  options = SmallModelOptions();
  options.kv_cache_bytes = 100;
  CHECK_THROWS_WITH(ModelRunner::Load(options), Contains("EngineOptions.kv_cache_bytes"));
#ifndef AURORAEDGE_CUDA
  options = SmallModelOptions();
  options.device = "cuda";
  CHECK_THROWS_WITH(ModelRunner::Load(options), Contains("AURORAEDGE_CUDA"));
#endif
}

TEST_CASE("bfloat16 runs and stays close to float32 where the CPU has native bf16") {
  const auto fp32 = LoadRunner(SmallModelOptions());
  EngineOptions options = SmallModelOptions();
  options.dtype = "bfloat16";
#ifndef AURORAEDGE_CUDA
  if (!DetectLinearCpuSupport().native_bf16) {
    // Refused instead (linear_weights_test.cc checks the message).
    CHECK_THROWS_WITH(ModelRunner::Load(options), Contains("no native bf16"));
    return;
  }
#endif
  const auto bf16 = LoadRunner(options);
  const std::vector<int32_t> prompt{5, 9, 200, 31, 77, 4};
  fp32->StartSequence(Start(1, prompt, 2, {0, 0, 1}), {});
  bf16->StartSequence(Start(1, prompt, 2, {0, 0, 1}), {});
  at::Tensor a, b;
  fp32->StepWithLogits({StepRow::Prefill(1, 6)}, &a);
  bf16->StepWithLogits({StepRow::Prefill(1, 6)}, &b);
  const double max_diff = (a - b).abs().max().item<double>();
  CHECK(max_diff > 0);  // it really ran in another dtype
  CHECK(max_diff < 0.1 * a.abs().max().item<double>());
}

}  // namespace
}  // namespace auroraedge::model
