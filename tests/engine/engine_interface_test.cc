// The Engine interface as the scheduler drives it: KV accounting, and clear
// errors for sequences and steps it must refuse.

#include <catch2/catch.hpp>
#include <stdexcept>

#include "auroraedge/model/engine.h"
#include "torch_engine.h"

namespace auroraedge::model {
namespace {

using Catch::Matchers::Contains;

EngineOptions SmallModel(int64_t kv_cache_bytes = 512LL << 20) {
  EngineOptions options;
  options.model_dir = AURORAEDGE_TEST_MODEL_DIR;
  options.kv_cache_bytes = kv_cache_bytes;
  options.intra_op_threads = 1;
  return options;
}

std::vector<int32_t> Text(int n) { return std::vector<int32_t>(n, 7); }

TEST_CASE("the KV budget becomes a token capacity; sequences reserve prompt + max_new_tokens") {
  const auto probe = Engine::Load(SmallModel());
  const auto per_token = dynamic_cast<TorchEngine&>(*probe).kv_bytes_per_token();
  const DecoderConfig& d = probe->config().decoder;
  const FusionConfig& f = probe->config().fusion;
  CHECK(per_token ==
        4 * 2 * (d.num_layers * d.num_key_value_heads * d.head_dim + f.num_heads * f.head_dim));

  const auto engine = Engine::Load(SmallModel(100 * per_token + per_token / 2));
  CHECK(engine->kv_token_capacity() == 100);
  engine->AddSequence(1, Text(30), {}, 20);
  CHECK(engine->kv_tokens_reserved() == 50);
  CHECK_THROWS_AS(engine->AddSequence(2, Text(40), {}, 20), std::length_error);
  CHECK(engine->num_sequences() == 1);
  engine->AddSequence(3, Text(30), {}, 20);
  CHECK(engine->kv_tokens_reserved() == 100);
  engine->Release(1);
  engine->Release(1);  // unknown ids are ignored
  CHECK(engine->kv_tokens_reserved() == 50);
  CHECK(engine->num_sequences() == 1);
}

TEST_CASE("sequences that do not fit the model are refused with the field named") {
  const auto engine = Engine::Load(SmallModel());
  const ModelConfig& c = engine->config();
  CHECK_THROWS_WITH(engine->AddSequence(1, {}, {}, 4), Contains("prompt_tokens: empty"));
  CHECK_THROWS_WITH(engine->AddSequence(1, Text(4), {}, 0), Contains("max_new_tokens"));
  CHECK_THROWS_WITH(engine->AddSequence(1, {1, c.decoder.vocab_size}, {}, 4),
                    Contains("prompt_tokens[1]"));
  CHECK_THROWS_WITH(engine->AddSequence(1, Text(c.context_length), {}, 1),
                    Contains("context_length"));
  // One placeholder run but no image.
  std::vector<int32_t> prompt(c.visual_tokens_per_image, c.image_pad_token_id);
  CHECK_THROWS_WITH(engine->AddSequence(1, prompt, {}, 4), Contains("image placeholders"));
  // A run one short of an image.
  prompt.pop_back();
  prompt.push_back(3);
  prompt.push_back(c.image_pad_token_id);
  CHECK_THROWS_WITH(engine->AddSequence(1, prompt, {}, 4), Contains("shorter"));
  engine->AddSequence(1, Text(4), {}, 4);
  CHECK_THROWS_WITH(engine->AddSequence(1, Text(4), {}, 4), Contains("already registered"));
  CHECK(engine->kv_tokens_reserved() == 8);
}

TEST_CASE("steps the engine cannot run are refused before anything changes") {
  const auto engine = Engine::Load(SmallModel());
  engine->AddSequence(1, Text(6), {}, 2);
  CHECK_THROWS_WITH(engine->Step({StepItem::Prefill(9, 1)}), Contains("unknown sequence"));
  CHECK_THROWS_WITH(engine->Step({StepItem::Decode(1, 5)}), Contains("decode before the prompt"));
  CHECK_THROWS_WITH(engine->Step({StepItem::Prefill(1, 7)}), Contains("num_tokens 7"));
  CHECK_THROWS_WITH(engine->Step({StepItem::Prefill(1, 2), StepItem::Prefill(1, 2)}),
                    Contains("appears twice"));
  const auto first = engine->Step({StepItem::Prefill(1, 6)});
  REQUIRE(first.size() == 1);
  CHECK(first[0].logits.size() == static_cast<size_t>(engine->config().decoder.vocab_size));
  CHECK_THROWS_WITH(engine->Step({StepItem::Decode(1, -1)}), Contains("decode_token -1"));
  engine->Step({StepItem::Decode(1, 5)});
  engine->Step({StepItem::Decode(1, 5)});
  CHECK_THROWS_AS(engine->Step({StepItem::Decode(1, 5)}), std::length_error);
}

TEST_CASE("a prefill chunk that wants no logits returns nothing") {
  const auto engine = Engine::Load(SmallModel());
  engine->AddSequence(1, Text(6), {}, 2);
  StepItem chunk = StepItem::Prefill(1, 3);
  chunk.want_logits = false;
  CHECK(engine->Step({chunk}).empty());
  CHECK(engine->Step({StepItem::Prefill(1, 3)}).size() == 1);
}

TEST_CASE("images that do not match the model are refused with the field named") {
  const auto engine = Engine::Load(SmallModel());
  const VisionConfig& v = engine->config().vision;
  preprocessing::PatchImage image;
  image.max_num_patches = v.max_num_patches;
  image.patch_dim = 3 * v.patch_size * v.patch_size;
  image.grid_h = 2;
  image.grid_w = 2;
  image.patches.assign(static_cast<size_t>(image.max_num_patches) * image.patch_dim, 0.0f);
  CHECK(engine->EncodeImages({&image}).size() == 1);
  image.grid_w = v.max_num_patches;
  CHECK_THROWS_WITH(engine->EncodeImages({&image}), Contains("images[0].grid"));
  image.grid_w = 2;
  image.patches.pop_back();
  CHECK_THROWS_WITH(engine->EncodeImages({&image}), Contains("images[0].patches"));
}

TEST_CASE("bad engine options are named") {
  EngineOptions options = SmallModel();
  options.dtype = "float16";
  CHECK_THROWS_WITH(Engine::Load(options), Contains("EngineOptions.dtype"));
  options = SmallModel();
  options.device = "tpu";
  CHECK_THROWS_WITH(Engine::Load(options), Contains("EngineOptions.device"));
#ifndef AURORAEDGE_CUDA
  options.device = "cuda";
  CHECK_THROWS_WITH(Engine::Load(options), Contains("AURORAEDGE_CUDA"));
#endif
}

TEST_CASE("bfloat16 runs and stays close to float32") {
  const auto fp32 = Engine::Load(SmallModel());
  EngineOptions options = SmallModel();
  options.dtype = "bfloat16";
  const auto bf16 = Engine::Load(options);
  const std::vector<int32_t> prompt{5, 9, 200, 31, 77, 4};
  fp32->AddSequence(1, prompt, {}, 2);
  bf16->AddSequence(1, prompt, {}, 2);
  const auto a = fp32->Step({StepItem::Prefill(1, 6)});
  const auto b = bf16->Step({StepItem::Prefill(1, 6)});
  double max_diff = 0, max_abs = 0;
  for (size_t i = 0; i < a[0].logits.size(); ++i) {
    max_diff = std::max(max_diff, double(std::abs(a[0].logits[i] - b[0].logits[i])));
    max_abs = std::max(max_abs, double(std::abs(a[0].logits[i])));
  }
  CHECK(max_diff > 0);  // it really ran in another dtype
  CHECK(max_diff < 0.1 * max_abs);
}

}  // namespace
}  // namespace auroraedge::model
