#pragma once

// Turns a GenerationRequest or an InspectionRequest into what the engine
// thread runs: the prompt's token ids (chat template, image placeholders,
// reference captions), the resolved sampling settings and the stream's
// output state, a Generate's compiled constraint, an Inspect's label
// tokens. Every field of a request is validated here, once; the layers
// after it trust the result. Runs on a preparation worker, never on a gRPC
// or the engine thread.
//
// Threading: Prepare and PrepareInspection are const and thread-safe. Holds
// non-owning pointers to the tokenizer, the chat template and the
// constraint compiler, which must outlive it.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auroraedge/model/chat_template.h"
#include "auroraedge/model/model_config.h"
#include "auroraedge/model/sampling_config.h"
#include "auroraedge/model/step_batch.h"
#include "auroraedge/model/tokenizer.h"
#include "auroraedge/server/generation.h"
#include "auroraedge/server/inspection.h"
#include "constrained_sequence.h"
#include "constraint_compiler.h"
#include "sequence_output.h"

namespace auroraedge::server {

struct PreparationLimits {
  int max_images = 0;
  int max_prompt_bytes = 0;
  model::KvGeometry kv;  // a request's prompt + max_new_tokens must fit its blocks
};

// An Inspect call's labels as the engine scores them.
struct PreparedInspection {
  std::vector<std::string> labels;
  // Each label's tokens (encoded as the assistant's answer), then the end
  // of the answer (<|im_end|>): its log-probability is the answer being
  // exactly this label.
  std::vector<std::vector<int32_t>> label_tokens;
  std::optional<DecisionRule> decision_rule;
  int scored_rows() const;  // the label rows the scoring step adds
};

struct PreparedRequest {
  std::vector<int32_t> prompt_tokens;  // with the image placeholder runs
  int max_new_tokens = 0;              // 0 for an inspection
  model::SamplingConfig sampling;
  std::unique_ptr<SequenceOutput> output;            // null for an inspection
  std::unique_ptr<ConstrainedSequence> constrained;  // a Generate with choice or json_schema
  std::optional<PreparedInspection> inspection;      // an Inspect call
};

class RequestPreparer {
 public:
  // `constraints` may be null: the model's vocabulary cannot be constrained
  // (`constraints_unavailable` says why) and constrained requests are
  // refused.
  RequestPreparer(const model::Tokenizer& tokenizer, const model::ChatTemplate& chat_template,
                  const model::ModelConfig& config, const PreparationLimits& limits,
                  ConstraintCompiler* constraints = nullptr,
                  std::string constraints_unavailable = "no constraint compiler was set up");

  // Unset sampling parameters take the model's defaults; an unset seed takes
  // `random_seed`; an unset max_new_tokens is cut to what the context and
  // the KV storage leave (and raised to what a constraint's shortest answer
  // needs). Throws std::invalid_argument whose message names the field and
  // its limit.
  PreparedRequest Prepare(const GenerationRequest& request, uint64_t random_seed) const;

  // The same for an Inspect call: labels (at least 1, at most
  // kMaxInspectionLabels, none empty or repeated, each fitting the context
  // after the prompt, all of them the KV storage) and the decision rule.
  PreparedRequest PrepareInspection(const InspectionRequest& request) const;

 private:
  std::vector<int32_t> BuildPrompt(const std::vector<model::ImageRole>& roles, int num_images,
                                   const std::string& system_prompt,
                                   const std::string& prompt) const;
  // Tokens the context and the KV storage leave after the prompt; throws
  // when none.
  int64_t Room(int prompt_tokens) const;
  int MaxNewTokens(const SamplingParams& params, int prompt_tokens, int least) const;
  std::unique_ptr<ConstrainedSequence> PrepareConstraint(const SamplingParams& params,
                                                         int prompt_tokens,
                                                         int* max_new_tokens) const;
  PreparedInspection PrepareLabels(const InspectionRequest& request, int prompt_tokens) const;

  const model::Tokenizer& tokenizer_;
  const model::ChatTemplate& chat_template_;
  const model::ModelConfig& config_;
  PreparationLimits limits_;
  ConstraintCompiler* constraints_;
  std::string constraints_unavailable_;
};

}  // namespace auroraedge::server
