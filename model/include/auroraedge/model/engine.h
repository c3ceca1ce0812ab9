#pragma once

// The model engine as the scheduler drives it: plain types only, no LibTorch,
// so server code that includes this header compiles fast.
//
// Threading: an Engine is owned and used by exactly one thread (the server's
// engine loop). No method is thread-safe. VisualFeatures may be moved
// between threads.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "auroraedge/model/model_config.h"
#include "auroraedge/preprocessing/patches.h"

namespace auroraedge::model {

struct EngineOptions {
  std::string model_dir;
  std::string device = "cpu";     // "cpu" or "cuda[:N]"
  std::string dtype = "float32";  // "float32" or "bfloat16"
  int intra_op_threads = 0;       // 0: DefaultIntraOpThreads() (runtime_info.h)
  // Upper bound on KV-cache memory; the engine turns it into a token capacity.
  int64_t kv_cache_bytes = 512LL << 20;
  bool verify_checksums = true;
};

// Projected + compressed features of one image, ready to be spliced into a
// sequence. Opaque: holds device tensors inside the engine's implementation.
class VisualFeatures {
 public:
  struct Impl;
  VisualFeatures();
  explicit VisualFeatures(std::shared_ptr<const Impl> impl);
  const Impl* impl() const { return impl_.get(); }

 private:
  std::shared_ptr<const Impl> impl_;
};

using SequenceId = int64_t;

// One row of a batched step. A prefill chunk feeds prompt tokens
// [num_computed, num_computed + num_tokens) of the sequence's prompt; a decode
// row feeds exactly the one token the caller sampled last.
struct StepItem {
  SequenceId sequence = 0;
  int num_tokens = 1;  // prompt tokens of this chunk; 1 for decode
  bool is_decode = false;
  int32_t decode_token = -1;  // the token to append, when is_decode
  bool want_logits = true;    // false for a prefill chunk that is not the last

  static StepItem Prefill(SequenceId sequence, int num_tokens, bool want_logits = true) {
    StepItem item;
    item.sequence = sequence;
    item.num_tokens = num_tokens;
    item.want_logits = want_logits;
    return item;
  }
  static StepItem Decode(SequenceId sequence, int32_t token) {
    StepItem item;
    item.sequence = sequence;
    item.is_decode = true;
    item.decode_token = token;
    return item;
  }
};

struct StepOutput {
  SequenceId sequence = 0;
  std::vector<float> logits;  // vocab_size floats when want_logits, else empty
};

class Engine {
 public:
  // Loads and validates a model directory. Throws ModelLoadError (see
  // model_config.h) naming the file or tensor, what was expected and found,
  // and std::invalid_argument naming the EngineOptions field it cannot use.
  // Sets LibTorch's intra-op thread count (a process-wide setting).
  static std::unique_ptr<Engine> Load(const EngineOptions& options);
  virtual ~Engine() = default;

  virtual const ModelConfig& config() const = 0;

  // Vision encoder + projector + compressor for a batch of images that may
  // come from different requests. Returns one VisualFeatures per image.
  virtual std::vector<VisualFeatures> EncodeImages(
      const std::vector<const preprocessing::PatchImage*>& images) = 0;

  // Registers a sequence: its full prompt token ids (with the image
  // placeholder runs the prompt format put there) and one VisualFeatures per
  // image, in order. Reserves KV-cache room for prompt + max_new_tokens.
  // Throws std::invalid_argument when the placeholders do not match the
  // images, and std::length_error when the KV budget cannot hold it.
  virtual void AddSequence(SequenceId id, std::vector<int32_t> prompt_tokens,
                           std::vector<VisualFeatures> images, int max_new_tokens) = 0;

  // Runs one batched forward step over the given rows (each sequence at most
  // once). Outputs come in the order of the rows that asked for logits.
  virtual std::vector<StepOutput> Step(const std::vector<StepItem>& items) = 0;

  // Frees the sequence's KV cache and features. Unknown ids are ignored.
  virtual void Release(SequenceId id) = 0;

  // KV cache accounting in tokens. A token costs the decoder's K/V of every
  // layer plus, on the compressed path, the fusion layer's self-attention
  // K/V; capacity is EngineOptions.kv_cache_bytes over that cost. A
  // sequence reserves prompt + max_new_tokens at AddSequence, allocated
  // then, and frees it at Release.
  virtual int64_t kv_tokens_reserved() const = 0;
  virtual int64_t kv_token_capacity() const = 0;
  virtual int num_sequences() const = 0;
};

}  // namespace auroraedge::model
