#include "auroraedge/server/scheduler.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <unordered_set>

namespace auroraedge::server {
namespace {

void RequireAtLeast(const char* name, int64_t value, int64_t minimum) {
  if (value < minimum) {
    throw std::invalid_argument(std::string("scheduler option ") + name + ": " +
                                std::to_string(value) + " must be at least " +
                                std::to_string(minimum));
  }
}

// KV room a request takes: prompt, answer and an inspection's label rows.
int64_t KvNeed(const RequestSpec& spec) {
  return int64_t{spec.prompt_tokens} + spec.max_new_tokens + spec.scored_tokens;
}

}  // namespace

Scheduler::Scheduler(const SchedulerOptions& options, const model::KvGeometry& kv)
    : options_(options), kv_(kv) {
  RequireAtLeast("max_waiting_requests", options.max_waiting_requests, 0);
  RequireAtLeast("max_prefill_tokens_per_step", options.max_prefill_tokens_per_step, 1);
  RequireAtLeast("max_vision_batch", options.max_vision_batch, 1);
  RequireAtLeast("max_vision_wait (us)", options.max_vision_wait.count(), 0);
}

Scheduler::WaitingKey Scheduler::KeyOf(const Entry& entry) {
  return {static_cast<int>(entry.spec.priority), entry.arrival, entry.spec.id};
}

void Scheduler::Add(const RequestSpec& spec) {
  const int64_t need = KvNeed(spec);
  const bool generates = spec.max_new_tokens >= 1 && spec.scored_tokens == 0;
  const bool inspects = spec.max_new_tokens == 0 && spec.scored_tokens >= 1;
  if (spec.prompt_tokens < 1 || !(generates || inspects) || spec.num_images < 0 ||
      !kv_.CouldEverHold(need)) {
    throw std::logic_error("scheduler: request " + std::to_string(spec.id) + " (" +
                           std::to_string(spec.prompt_tokens) + " prompt tokens, " +
                           std::to_string(spec.max_new_tokens) + " new, " +
                           std::to_string(spec.scored_tokens) + " scored, " +
                           std::to_string(spec.num_images) +
                           " images) should have been refused by its preparation");
  }
  Entry entry;
  entry.spec = spec;
  entry.arrival = next_arrival_++;
  if (!entries_.emplace(spec.id, entry).second) {
    throw std::logic_error("scheduler: request id " + std::to_string(spec.id) + " added twice");
  }
  waiting_.insert(KeyOf(entry));
}

void Scheduler::Abort(SequenceId id, EndReason reason) {
  const auto it = entries_.find(id);
  if (it == entries_.end()) return;
  ended_.push_back({id, it->second.phase, reason});
  Remove(id);
}

StepPlan Scheduler::Plan(Clock::time_point now) {
  ExpireDeadlines(now);
  StepPlan plan;
  plan.ended.swap(ended_);
  Admit(plan);
  ScheduleDecode(plan);
  SchedulePrefill(plan);
  ScheduleVision(now, plan);
  CheckInvariants();
  return plan;
}

void Scheduler::ExpireDeadlines(Clock::time_point now) {
  std::vector<SequenceId> expired;
  for (const auto& [id, entry] : entries_) {
    if (entry.spec.deadline <= now) expired.push_back(id);
  }
  std::sort(expired.begin(), expired.end());
  for (SequenceId id : expired) Abort(id, EndReason::kDeadline);
}

void Scheduler::Admit(StepPlan& plan) {
  while (!waiting_.empty()) {
    const SequenceId id = std::get<2>(*waiting_.begin());
    Entry& entry = entries_.at(id);
    // Strict order: a request that does not fit blocks those behind it, so a
    // large line-critical request is never starved by small background ones.
    if (!kv_.Allocate(id, KvNeed(entry.spec))) break;
    waiting_.erase(waiting_.begin());
    running_.push_back(id);
    plan.admitted.push_back(id);
    if (entry.spec.num_images > 0) {
      entry.phase = RequestPhase::kPreprocessing;
      plan.to_preprocess.push_back(id);
    } else {
      entry.phase = RequestPhase::kPrefill;
    }
  }
}

void Scheduler::ScheduleDecode(StepPlan& plan) const {
  for (SequenceId id : running_) {
    const Entry& entry = entries_.at(id);
    if (entry.phase != RequestPhase::kDecoding) continue;
    const int64_t limit = int64_t{entry.spec.prompt_tokens} + entry.spec.max_new_tokens;
    if (entry.computed_tokens + 1 > limit) {
      throw std::logic_error("scheduler: sequence " + std::to_string(id) +
                             " decodes past its max_new_tokens; it should have been finished");
    }
    plan.decode.push_back(id);
  }
}

// Prompt chunks within the step's token budget. The chunk that completes a
// prompt carries an inspection's label rows, which count against the budget
// too: when they do not fit, the chunk stops one token short of the end,
// unless it is the step's first chunk (so an inspection always gets on,
// exceeding the budget by its label rows at most).
void Scheduler::SchedulePrefill(StepPlan& plan) const {
  int budget = options_.max_prefill_tokens_per_step;
  for (SequenceId id : running_) {
    if (budget <= 0) break;
    const Entry& entry = entries_.at(id);
    if (entry.phase != RequestPhase::kPrefill) continue;
    const int start = static_cast<int>(entry.computed_tokens);
    const int rest = entry.spec.prompt_tokens - start;
    const int scored = entry.spec.scored_tokens;
    if (rest + scored <= budget || (plan.prefill.empty() && rest <= budget)) {
      plan.prefill.push_back({id, start, rest, true, scored});
      budget -= rest + scored;
    } else if (const int count = std::min(rest - 1, budget); count > 0) {
      plan.prefill.push_back({id, start, count, false, 0});
      budget -= count;
    }
  }
}

void Scheduler::ScheduleVision(Clock::time_point now, StepPlan& plan) const {
  int ready_images = 0;
  bool any_preprocessing = false;
  std::optional<Clock::time_point> oldest;
  std::vector<SequenceId> ready;
  for (SequenceId id : running_) {
    const Entry& entry = entries_.at(id);
    if (entry.phase == RequestPhase::kPreprocessing) any_preprocessing = true;
    if (entry.phase != RequestPhase::kVision) continue;
    ready.push_back(id);
    ready_images += entry.spec.num_images;
    if (!oldest || entry.vision_ready_since < *oldest) oldest = entry.vision_ready_since;
  }
  if (ready_images == 0) return;
  // Waiting for a fuller batch only pays while more images are on their way.
  const bool dispatch = ready_images >= options_.max_vision_batch || !any_preprocessing ||
                        now - *oldest >= options_.max_vision_wait;
  if (!dispatch) return;
  std::stable_sort(ready.begin(), ready.end(), [this](SequenceId a, SequenceId b) {
    return entries_.at(a).vision_ready_since < entries_.at(b).vision_ready_since;
  });
  for (SequenceId id : ready) {
    const Entry& entry = entries_.at(id);
    // A request's images stay in one batch; one larger than the batch goes alone.
    if (!plan.vision_batch.empty() &&
        plan.vision_images + entry.spec.num_images > options_.max_vision_batch) {
      break;
    }
    plan.vision_batch.push_back(id);
    plan.vision_images += entry.spec.num_images;
  }
}

void Scheduler::CompleteStep(const StepPlan& plan) {
  const auto find = [this](SequenceId id) -> Entry* {
    const auto it = entries_.find(id);
    return it == entries_.end() ? nullptr : &it->second;
  };
  for (SequenceId id : plan.vision_batch) {
    if (Entry* entry = find(id)) entry->phase = RequestPhase::kPrefill;
  }
  for (const PrefillChunk& chunk : plan.prefill) {
    Entry* entry = find(chunk.id);
    if (entry == nullptr) continue;
    entry->computed_tokens += chunk.num_tokens;
    if (chunk.completes_prompt) entry->phase = RequestPhase::kDecoding;
  }
  for (SequenceId id : plan.decode) {
    if (Entry* entry = find(id)) ++entry->computed_tokens;
  }
}

void Scheduler::OnPreprocessed(SequenceId id, Clock::time_point now) {
  const auto it = entries_.find(id);
  if (it == entries_.end() || it->second.phase != RequestPhase::kPreprocessing) return;
  it->second.phase = RequestPhase::kVision;
  it->second.vision_ready_since = now;
}

void Scheduler::Finish(SequenceId id) { Remove(id); }

void Scheduler::Remove(SequenceId id) {
  const auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second.phase == RequestPhase::kWaiting) {
    waiting_.erase(KeyOf(it->second));
  } else {
    const auto running = std::find(running_.begin(), running_.end(), id);
    if (running != running_.end()) running_.erase(running);
    kv_.Free(id);
  }
  entries_.erase(it);
}

std::optional<Scheduler::Clock::time_point> Scheduler::NextWakeup() const {
  std::optional<Clock::time_point> wakeup;
  const auto consider = [&wakeup](Clock::time_point t) {
    if (!wakeup || t < *wakeup) wakeup = t;
  };
  for (const auto& [id, entry] : entries_) {
    if (entry.spec.deadline != Clock::time_point::max()) consider(entry.spec.deadline);
    if (entry.phase == RequestPhase::kVision) {
      consider(entry.vision_ready_since +
               std::chrono::duration_cast<Clock::duration>(options_.max_vision_wait));
    }
  }
  return wakeup;
}

std::optional<RequestPhase> Scheduler::phase(SequenceId id) const {
  const auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second.phase;
}

std::optional<model::KvPlacement> Scheduler::placement(SequenceId id) const {
  return kv_.placement(id);
}

void Scheduler::CheckInvariants() const {
  kv_.CheckInvariants();
  const auto fail = [](const std::string& what) {
    throw std::logic_error("scheduler invariant: " + what);
  };
  if (kv_.num_sequences() != static_cast<int>(running_.size())) {
    fail(std::to_string(kv_.num_sequences()) + " KV placements for " +
         std::to_string(running_.size()) + " running requests");
  }
  if (waiting_.size() + running_.size() != entries_.size()) {
    fail("a request is neither waiting nor running");
  }
  std::unordered_set<SequenceId> seen;
  for (SequenceId id : running_) {
    const Entry& entry = entries_.at(id);
    if (!seen.insert(id).second) fail("request " + std::to_string(id) + " runs twice");
    if (entry.phase == RequestPhase::kWaiting) fail("a running request is in phase waiting");
    if (entry.computed_tokens > int64_t{entry.spec.prompt_tokens} + entry.spec.max_new_tokens) {
      fail("request " + std::to_string(id) + " computed more tokens than it was given room for");
    }
  }
  for (const WaitingKey& key : waiting_) {
    if (entries_.at(std::get<2>(key)).phase != RequestPhase::kWaiting) {
      fail("a queued request is not in phase waiting");
    }
  }
}

}  // namespace auroraedge::server
