#pragma once

// The model as the engine thread drives it: plain types only, no LibTorch,
// so server code that includes this header compiles fast.
//
// A ModelRunner holds the weights, the KV storage for the whole configured
// budget (allocated once) and per-seat state, and executes batched steps
// whose rows read and write that storage in place. Who runs, and where its
// KV lives, is the scheduler's decision (KvPlacement in step_batch.h): the
// runner books nothing itself.
//
// Threading: a ModelRunner is owned and used by exactly one thread (the
// server's engine thread). No method is thread-safe. VisualFeatures may be
// moved between threads.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "auroraedge/model/model_config.h"
#include "auroraedge/model/step_batch.h"
#include "auroraedge/preprocessing/patches.h"

namespace auroraedge::model {

struct EngineOptions {
  std::string model_dir;
  std::string device = "cpu";     // "cpu" or "cuda[:N]"
  std::string dtype = "float32";  // "float32" or "bfloat16"
  // The decoder's and fusion layer's linear weights: "float32", or "int8"
  // (quantized at load, per output channel; CPU, dtype float32).
  std::string weights = "float32";
  int intra_op_threads = 0;       // 0: DefaultIntraOpThreads() (runtime_info.h)
  // KV storage, allocated once at load: the decoder's and the fusion layer's
  // keys and values for this many bytes of tokens (whole blocks).
  int64_t kv_cache_bytes = 512LL << 20;
  int kv_block_size = 16;  // tokens per block
  // Sequences that can run at once (seats): bounds the decode batch.
  int max_sequences = 16;
  bool verify_checksums = true;
};

// Projected + compressed features of one image, ready to be spliced into a
// sequence. Opaque: holds device tensors inside the runner's implementation.
class VisualFeatures {
 public:
  struct Impl;
  VisualFeatures();
  explicit VisualFeatures(std::shared_ptr<const Impl> impl);
  const Impl* impl() const { return impl_.get(); }
  // Bytes of (device) memory the features hold; 0 when empty. What an
  // image-feature cache counts against its budget.
  int64_t bytes() const;

 private:
  std::shared_ptr<const Impl> impl_;
};

class ModelRunner {
 public:
  // Loads and validates a model directory and allocates the KV storage.
  // Throws ModelLoadError (model_config.h) naming the file or tensor, what
  // was expected and found, and std::invalid_argument naming the
  // EngineOptions field it cannot use. Sets LibTorch's intra-op thread
  // count (a process-wide setting).
  static std::unique_ptr<ModelRunner> Load(const EngineOptions& options);
  virtual ~ModelRunner() = default;

  virtual const ModelConfig& config() const = 0;
  virtual const KvGeometry& kv_geometry() const = 0;

  // Vision encoder + projector + compressor for a batch of images that may
  // come from different requests. Returns one VisualFeatures per image.
  // Throws std::invalid_argument naming the image that does not fit.
  virtual std::vector<VisualFeatures> EncodeImages(
      const std::vector<const preprocessing::PatchImage*>& images) = 0;

  // Registers a sequence in the seat and KV blocks the scheduler handed it,
  // with one VisualFeatures per image placeholder run of its prompt. Throws
  // std::invalid_argument naming the field that does not fit (placeholders
  // against images, a placement outside the storage or too small for
  // prompt + max_new_tokens, a seat in use) and changes nothing then.
  virtual void StartSequence(const SequenceStart& start, std::vector<VisualFeatures> images) = 0;

  // Runs one batched step over the rows (each sequence at most once). Every
  // row gets a result, in order: a row that cannot run, or that fails while
  // the others go through, reports its error and leaves its sequence as it
  // was; the rest of the batch is not affected.
  virtual std::vector<RowResult> Step(const std::vector<StepRow>& rows) = 0;

  // Forgets the sequence; its seat and blocks are the scheduler's again.
  // Unknown ids are ignored.
  virtual void EndSequence(SequenceId id) = 0;

  virtual int num_sequences() const = 0;
};

}  // namespace auroraedge::model
