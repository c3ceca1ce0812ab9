#include "request_preparation.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <string>

#include "auroraedge/preprocessing/preprocess.h"

namespace auroraedge::server {
namespace {

void CheckTextSize(const std::string& field, const std::string& text, int max_bytes) {
  if (text.size() > static_cast<size_t>(max_bytes)) {
    throw std::invalid_argument(field + ": " + std::to_string(text.size()) + " bytes; at most " +
                                std::to_string(max_bytes) + " are allowed (max_prompt_bytes)");
  }
}

void Refuse(const std::string& message) { throw std::invalid_argument(message); }

std::string Quoted(const std::string& text) { return "\"" + text + "\""; }

// The compiler's messages name "choices[i]"; the request's field is
// sampling.choice.
std::string ChoiceMessage(const std::string& message) {
  const std::string prefix = "choices";
  if (message.compare(0, prefix.size(), prefix) == 0) {
    return "sampling.choice" + message.substr(prefix.size());
  }
  return "sampling.choice: " + message;
}

void CheckDecisionRule(const DecisionRule& rule, const std::vector<std::string>& labels) {
  if (std::find(labels.begin(), labels.end(), rule.label) == labels.end()) {
    Refuse("decision_rule.label: " + Quoted(rule.label) + " is not one of the labels");
  }
  const auto check = [](const char* field, double value) {
    if (!std::isfinite(value) || value < 0 || value > 1) {
      Refuse(std::string("decision_rule.") + field + ": " + std::to_string(value) +
             " is not a probability in [0, 1]");
    }
  };
  check("ok_below", rule.ok_below);
  check("ng_from", rule.ng_from);
  if (rule.ok_below > rule.ng_from) {
    Refuse("decision_rule.ok_below: " + std::to_string(rule.ok_below) + " is above ng_from " +
           std::to_string(rule.ng_from) + "; the uncertain band is [ok_below, ng_from)");
  }
}

}  // namespace

int PreparedInspection::scored_rows() const {
  int rows = 0;
  for (const auto& tokens : label_tokens) rows += static_cast<int>(tokens.size()) - 1;
  return rows;
}

RequestPreparer::RequestPreparer(const model::Tokenizer& tokenizer,
                                 const model::ChatTemplate& chat_template,
                                 const model::ModelConfig& config, const PreparationLimits& limits,
                                 ConstraintCompiler* constraints,
                                 std::string constraints_unavailable)
    : tokenizer_(tokenizer),
      chat_template_(chat_template),
      config_(config),
      limits_(limits),
      constraints_(constraints),
      constraints_unavailable_(std::move(constraints_unavailable)) {}

std::vector<int32_t> RequestPreparer::BuildPrompt(const std::vector<model::ImageRole>& roles,
                                                  int num_images, const std::string& system_prompt,
                                                  const std::string& prompt) const {
  preprocessing::CheckImageCount(num_images, limits_.max_images);
  CheckTextSize("prompt", prompt, limits_.max_prompt_bytes);
  CheckTextSize("system_prompt", system_prompt, limits_.max_prompt_bytes);
  if (!roles.empty() && static_cast<int>(roles.size()) != num_images) {
    Refuse("images: " + std::to_string(roles.size()) + " roles for " + std::to_string(num_images) +
           " images");
  }
  return chat_template_.Build({system_prompt, prompt, num_images, roles});
}

PreparedRequest RequestPreparer::Prepare(const GenerationRequest& request,
                                         uint64_t random_seed) const {
  PreparedRequest prepared;
  prepared.prompt_tokens = BuildPrompt(request.image_roles, static_cast<int>(request.images.size()),
                                       request.system_prompt, request.prompt);
  const auto prompt_tokens = static_cast<int>(prepared.prompt_tokens.size());
  const SamplingParams& params = request.sampling;
  const model::GenerationDefaults& defaults = config_.generation;
  model::SamplingConfig& sampling = prepared.sampling;
  sampling.temperature = params.temperature.value_or(defaults.temperature);
  sampling.top_k = params.top_k.value_or(defaults.top_k);
  sampling.top_p = params.top_p.value_or(defaults.top_p);
  sampling.repetition_penalty = params.repetition_penalty.value_or(defaults.repetition_penalty);
  sampling.seed = params.seed.value_or(random_seed);
  sampling.top_logprobs = params.top_logprobs.value_or(-1);
  // The sampling settings' own checks name the field without its message.
  try {
    model::ValidateSamplingConfig(sampling, config_.decoder.vocab_size);
  } catch (const std::invalid_argument& error) {
    Refuse(std::string("sampling.") + error.what());
  }
  if (!params.choice.empty() || !params.json_schema.empty()) {
    prepared.constrained = PrepareConstraint(params, prompt_tokens, &prepared.max_new_tokens);
  } else {
    prepared.max_new_tokens = MaxNewTokens(params, prompt_tokens, 1);
  }
  try {
    prepared.output =
        std::make_unique<SequenceOutput>(tokenizer_, request.skip_special_tokens, params.stop,
                                         config_.eos_token_ids, prepared.max_new_tokens);
  } catch (const std::invalid_argument& error) {
    Refuse(std::string("sampling.") + error.what());
  }
  return prepared;
}

std::unique_ptr<ConstrainedSequence> RequestPreparer::PrepareConstraint(
    const SamplingParams& params, int prompt_tokens, int* max_new_tokens) const {
  const bool choice = !params.choice.empty();
  const std::string field = choice ? "sampling.choice" : "sampling.json_schema";
  if (choice && !params.json_schema.empty()) {
    Refuse("sampling.choice: give either choice or json_schema, not both");
  }
  if (!params.stop.empty()) {
    Refuse("sampling.stop: stop strings cannot be combined with " + field +
           " (they would cut the constrained answer)");
  }
  if (constraints_ == nullptr) {
    Refuse(field + ": this model's vocabulary cannot be constrained: " + constraints_unavailable_);
  }
  model::constrained::ConstraintSpec spec;
  spec.kind = choice ? model::constrained::ConstraintSpec::Kind::kChoice
                     : model::constrained::ConstraintSpec::Kind::kJsonSchema;
  spec.choices = params.choice;
  spec.json_schema = params.json_schema;
  CompiledConstraint compiled;
  try {
    compiled = constraints_->Compile(spec);
  } catch (const model::constrained::ConstraintError& error) {
    Refuse(choice ? ChoiceMessage(error.what()) : field + ": " + error.what());
  }
  const int32_t least = compiled.bounds->Bound(compiled.grammar->start_state());
  *max_new_tokens = MaxNewTokens(params, prompt_tokens, least);
  return std::make_unique<ConstrainedSequence>(std::move(compiled), *max_new_tokens);
}

int64_t RequestPreparer::Room(int prompt_tokens) const {
  // Room for the answer: the context, and the whole blocks of the KV storage.
  const int64_t storage = limits_.kv.num_blocks * limits_.kv.block_size;
  const int64_t limit = std::min<int64_t>(config_.context_length, storage);
  const char* const bound = limit == config_.context_length ? "context_length" : "KV storage";
  const int64_t room = limit - prompt_tokens;
  if (room < 1) {
    Refuse("prompt: " + std::to_string(prompt_tokens) +
           " tokens (images included) leave no room for an answer in the " + bound + " of " +
           std::to_string(limit) + " tokens");
  }
  return room;
}

// `least`: the tokens a constrained answer may need to finish (1 without a
// constraint). An unset max_new_tokens takes the model's default, raised to
// `least`, cut to the room.
int RequestPreparer::MaxNewTokens(const SamplingParams& params, int prompt_tokens,
                                  int least) const {
  const int64_t room = Room(prompt_tokens);
  const std::string constraint = params.choice.empty() ? "sampling.json_schema" : "sampling.choice";
  if (least > room) {
    Refuse("prompt: " + std::to_string(prompt_tokens) + " tokens leave room for " +
           std::to_string(room) + " answer tokens; " + constraint + "'s shortest answer can take " +
           std::to_string(least));
  }
  if (!params.max_new_tokens) {
    return static_cast<int>(
        std::min<int64_t>(std::max({config_.generation.max_new_tokens, least, 1}), room));
  }
  const int requested = *params.max_new_tokens;
  if (requested < 1 || requested > room) {
    Refuse("sampling.max_new_tokens: " + std::to_string(requested) + " is out of range [1, " +
           std::to_string(room) + "] (the context or KV storage minus a prompt of " +
           std::to_string(prompt_tokens) + " tokens)");
  }
  if (requested < least) {
    Refuse("sampling.max_new_tokens: " + std::to_string(requested) + " is too small for " +
           constraint + ": finishing its shortest answer can take " + std::to_string(least) +
           " tokens");
  }
  return requested;
}

PreparedRequest RequestPreparer::PrepareInspection(const InspectionRequest& request) const {
  PreparedRequest prepared;
  prepared.prompt_tokens = BuildPrompt(request.image_roles, static_cast<int>(request.images.size()),
                                       request.system_prompt, request.prompt);
  prepared.inspection = PrepareLabels(request, static_cast<int>(prepared.prompt_tokens.size()));
  return prepared;
}

PreparedInspection RequestPreparer::PrepareLabels(const InspectionRequest& request,
                                                  int prompt_tokens) const {
  const std::vector<std::string>& labels = request.labels;
  if (labels.empty()) Refuse("labels: empty; give the answers to choose from, e.g. OK and NG");
  if (static_cast<int>(labels.size()) > kMaxInspectionLabels) {
    Refuse("labels: " + std::to_string(labels.size()) + " labels; at most " +
           std::to_string(kMaxInspectionLabels) + " are allowed");
  }
  PreparedInspection inspection;
  inspection.labels = labels;
  std::map<std::string, size_t> seen;
  int64_t rows = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string field = "labels[" + std::to_string(i) + "]";
    if (labels[i].empty()) Refuse(field + ": empty");
    CheckTextSize(field, labels[i], limits_.max_prompt_bytes);
    const auto [first, inserted] = seen.emplace(labels[i], i);
    if (!inserted) {
      Refuse(field + ": " + Quoted(labels[i]) + " is labels[" + std::to_string(first->second) +
             "] again; labels must differ");
    }
    std::vector<int32_t> tokens = tokenizer_.Encode(labels[i], /*allow_special=*/false, field);
    tokens.push_back(chat_template_.im_end_id());
    const int64_t length = static_cast<int64_t>(tokens.size());
    if (prompt_tokens + length > config_.context_length) {
      Refuse(field + ": " + std::to_string(length) +
             " tokens (the end of the answer included) after a prompt of " +
             std::to_string(prompt_tokens) + " tokens exceed the model's context_length " +
             std::to_string(config_.context_length));
    }
    rows += length - 1;
    inspection.label_tokens.push_back(std::move(tokens));
  }
  const int64_t storage = limits_.kv.num_blocks * limits_.kv.block_size;
  if (prompt_tokens + rows > storage) {
    Refuse("labels: their " + std::to_string(rows) + " tokens after a prompt of " +
           std::to_string(prompt_tokens) + " tokens exceed the KV storage of " +
           std::to_string(storage) + " tokens");
  }
  if (request.decision_rule) CheckDecisionRule(*request.decision_rule, labels);
  inspection.decision_rule = request.decision_rule;
  return inspection;
}

}  // namespace auroraedge::server
