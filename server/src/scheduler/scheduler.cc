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

Status InvalidArgument(std::string message) {
  return {StatusCode::kInvalidArgument, std::move(message)};
}

}  // namespace

Scheduler::Scheduler(const SchedulerOptions& options)
    : options_(options), kv_(options.kv_token_capacity, options.kv_block_size) {
  RequireAtLeast("max_waiting_requests", options.max_waiting_requests, 0);
  RequireAtLeast("max_running_sequences", options.max_running_sequences, 1);
  RequireAtLeast("max_prefill_tokens_per_step", options.max_prefill_tokens_per_step, 1);
  RequireAtLeast("max_vision_batch", options.max_vision_batch, 1);
  RequireAtLeast("max_vision_wait (us)", options.max_vision_wait.count(), 0);
}

Scheduler::WaitingKey Scheduler::KeyOf(const Entry& entry) {
  return {static_cast<int>(entry.spec.priority), entry.arrival, entry.spec.id};
}

Status Scheduler::Add(const RequestSpec& spec) {
  if (spec.prompt_tokens < 1) {
    return InvalidArgument("prompt: " + std::to_string(spec.prompt_tokens) +
                           " tokens; at least 1 is needed");
  }
  if (spec.max_new_tokens < 1) {
    return InvalidArgument("max_new_tokens: " + std::to_string(spec.max_new_tokens) +
                           " must be at least 1");
  }
  if (spec.num_images < 0) {
    return InvalidArgument("images: " + std::to_string(spec.num_images) + " is negative");
  }
  const int64_t need = int64_t{spec.prompt_tokens} + spec.max_new_tokens;
  if (!kv_.CouldEverHold(need)) {
    return InvalidArgument("prompt tokens + max_new_tokens: " + std::to_string(spec.prompt_tokens) +
                           " + " + std::to_string(spec.max_new_tokens) +
                           " exceed the KV cache capacity of " +
                           std::to_string(kv_.capacity_tokens()) + " tokens");
  }
  std::lock_guard<std::mutex> lock(incoming_mu_);
  if (num_waiting_.load() >= options_.max_waiting_requests) {
    return {StatusCode::kResourceExhausted,
            "waiting queue is full: " + std::to_string(options_.max_waiting_requests) +
                " requests are already waiting (max_waiting_requests)"};
  }
  Entry entry;
  entry.spec = spec;
  entry.arrival = next_arrival_++;
  incoming_.push_back(entry);
  ++num_waiting_;
  return Status::Ok();
}

void Scheduler::RequestAbort(SequenceId id, EndReason reason) {
  std::lock_guard<std::mutex> lock(incoming_mu_);
  pending_aborts_.emplace_back(id, reason);
}

StepPlan Scheduler::Plan(Clock::time_point now) {
  StepPlan plan;
  TakeIncoming(plan);
  ExpireDeadlines(now, plan);
  Admit(plan);
  ScheduleDecode(plan);
  SchedulePrefill(plan);
  ScheduleVision(now, plan);
  PublishCounters();
  CheckInvariants();
  return plan;
}

void Scheduler::TakeIncoming(StepPlan& plan) {
  std::vector<Entry> incoming;
  std::vector<std::pair<SequenceId, EndReason>> aborts;
  {
    std::lock_guard<std::mutex> lock(incoming_mu_);
    incoming.swap(incoming_);
    aborts.swap(pending_aborts_);
  }
  for (Entry& entry : incoming) {
    const SequenceId id = entry.spec.id;
    if (!entries_.emplace(id, entry).second) {
      throw std::logic_error("scheduler: request id " + std::to_string(id) + " added twice");
    }
    waiting_.insert(KeyOf(entry));
  }
  for (const auto& [id, reason] : aborts) {
    const auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    plan.ended.push_back({id, it->second.phase, reason});
    Remove(id);
  }
}

void Scheduler::ExpireDeadlines(Clock::time_point now, StepPlan& plan) {
  std::vector<SequenceId> expired;
  for (const auto& [id, entry] : entries_) {
    if (entry.spec.deadline <= now) expired.push_back(id);
  }
  std::sort(expired.begin(), expired.end());
  for (SequenceId id : expired) {
    plan.ended.push_back({id, entries_.at(id).phase, EndReason::kDeadline});
    Remove(id);
  }
}

void Scheduler::Admit(StepPlan& plan) {
  while (!waiting_.empty() && static_cast<int>(running_.size()) < options_.max_running_sequences) {
    const SequenceId id = std::get<2>(*waiting_.begin());
    Entry& entry = entries_.at(id);
    // Strict order: a request that does not fit blocks those behind it, so a
    // large line-critical request is never starved by small background ones.
    if (!kv_.Reserve(id, int64_t{entry.spec.prompt_tokens} + entry.spec.max_new_tokens)) break;
    waiting_.erase(waiting_.begin());
    --num_waiting_;
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

void Scheduler::ScheduleDecode(StepPlan& plan) {
  for (SequenceId id : running_) {
    Entry& entry = entries_.at(id);
    if (entry.phase != RequestPhase::kDecoding) continue;
    const int64_t limit = int64_t{entry.spec.prompt_tokens} + entry.spec.max_new_tokens;
    if (entry.computed_tokens + 1 > limit) {
      throw std::logic_error("scheduler: sequence " + std::to_string(id) +
                             " decodes past its max_new_tokens; it should have been finished");
    }
    ++entry.computed_tokens;
    plan.decode.push_back(id);
  }
}

void Scheduler::SchedulePrefill(StepPlan& plan) {
  int budget = options_.max_prefill_tokens_per_step;
  for (SequenceId id : running_) {
    if (budget == 0) break;
    Entry& entry = entries_.at(id);
    if (entry.phase != RequestPhase::kPrefill) continue;
    const int start = static_cast<int>(entry.computed_tokens);
    const int count = std::min(entry.spec.prompt_tokens - start, budget);
    const bool completes = start + count == entry.spec.prompt_tokens;
    plan.prefill.push_back({id, start, count, completes});
    entry.computed_tokens += count;
    budget -= count;
    if (completes) entry.phase = RequestPhase::kDecoding;
  }
}

void Scheduler::ScheduleVision(Clock::time_point now, StepPlan& plan) {
  int ready_images = 0;
  bool any_preprocessing = false;
  std::optional<Clock::time_point> oldest;
  for (SequenceId id : running_) {
    const Entry& entry = entries_.at(id);
    if (entry.phase == RequestPhase::kPreprocessing) any_preprocessing = true;
    if (entry.phase != RequestPhase::kVision) continue;
    ready_images += entry.spec.num_images;
    if (!oldest || entry.vision_ready_since < *oldest) oldest = entry.vision_ready_since;
  }
  if (ready_images == 0) return;
  // Waiting for a fuller batch only pays while more images are on their way.
  const bool dispatch = ready_images >= options_.max_vision_batch || !any_preprocessing ||
                        now - *oldest >= options_.max_vision_wait;
  if (!dispatch) return;
  std::vector<SequenceId> ready;
  for (SequenceId id : running_) {
    if (entries_.at(id).phase == RequestPhase::kVision) ready.push_back(id);
  }
  std::stable_sort(ready.begin(), ready.end(), [this](SequenceId a, SequenceId b) {
    return entries_.at(a).vision_ready_since < entries_.at(b).vision_ready_since;
  });
  for (SequenceId id : ready) {
    Entry& entry = entries_.at(id);
    // A request's images stay in one batch; one larger than the batch goes alone.
    if (!plan.vision_batch.empty() &&
        plan.vision_images + entry.spec.num_images > options_.max_vision_batch) {
      break;
    }
    plan.vision_batch.push_back(id);
    plan.vision_images += entry.spec.num_images;
    entry.phase = RequestPhase::kPrefill;
  }
}

void Scheduler::OnPreprocessed(SequenceId id, Clock::time_point now) {
  const auto it = entries_.find(id);
  if (it == entries_.end() || it->second.phase != RequestPhase::kPreprocessing) return;
  it->second.phase = RequestPhase::kVision;
  it->second.vision_ready_since = now;
}

void Scheduler::Finish(SequenceId id) {
  {
    std::lock_guard<std::mutex> lock(incoming_mu_);
    const auto it = std::find_if(incoming_.begin(), incoming_.end(),
                                 [id](const Entry& entry) { return entry.spec.id == id; });
    if (it != incoming_.end()) {
      incoming_.erase(it);
      --num_waiting_;
      return;
    }
  }
  Remove(id);
  PublishCounters();
}

void Scheduler::Remove(SequenceId id) {
  const auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (it->second.phase == RequestPhase::kWaiting) {
    waiting_.erase(KeyOf(it->second));
    --num_waiting_;
  } else {
    running_.erase(std::find(running_.begin(), running_.end(), id));
    kv_.Free(id);
  }
  entries_.erase(it);
}

void Scheduler::PublishCounters() {
  num_running_ = static_cast<int>(running_.size());
  kv_tokens_reserved_ = kv_.reserved_tokens();
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

void Scheduler::CheckInvariants() const {
  kv_.CheckInvariants();
  const auto fail = [](const std::string& what) {
    throw std::logic_error("scheduler invariant: " + what);
  };
  if (static_cast<int>(running_.size()) > options_.max_running_sequences) {
    fail(std::to_string(running_.size()) + " running > max_running_sequences");
  }
  if (kv_.num_sequences() != static_cast<int>(running_.size())) {
    fail("KV reservations do not match the running requests");
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
      fail("request " + std::to_string(id) + " computed more tokens than it reserved");
    }
  }
  for (const WaitingKey& key : waiting_) {
    if (entries_.at(std::get<2>(key)).phase != RequestPhase::kWaiting) {
      fail("a queued request is not in phase waiting");
    }
  }
}

}  // namespace auroraedge::server
