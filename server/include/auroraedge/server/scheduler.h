#pragma once

// The serving scheduler: request phases, priorities, deadlines,
// cancellation, seats and KV blocks (KvCacheManager, the only book), a
// per-step prompt-token budget and vision batches. Plain C++ (no model, no
// tensors). The engine thread drives it, vLLM-style: Plan -> execute ->
// CompleteStep; a sequence advances only once its part of the step went
// through.
//
// Threading: none. It belongs to the engine thread; other threads reach it
// through the engine thread's inbox.

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "auroraedge/model/step_batch.h"
#include "auroraedge/server/kv_cache_manager.h"
#include "auroraedge/server/scheduler_request.h"
#include "auroraedge/server/step_plan.h"

namespace auroraedge::server {

struct SchedulerOptions {
  int max_waiting_requests = 64;  // beyond: RESOURCE_EXHAUSTED at once
  int max_prefill_tokens_per_step = 256;
  int max_vision_batch = 8;  // images per vision batch
  std::chrono::microseconds max_vision_wait{2000};
};

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;

  // `kv`: the runner's storage, whose seats bound the running sequences
  // (EngineOptions::max_sequences).
  // Throws std::invalid_argument naming an option out of range.
  Scheduler(const SchedulerOptions& options, const model::KvGeometry& kv);

  // Queues a request whose preparation validated it. Throws
  // std::logic_error when its sizes could never be served or its id is
  // known: the preparation must have refused it.
  void Add(const RequestSpec& spec);
  // Ends a request now, in any phase; it shows up in the next plan's
  // `ended`. Unknown ids are ignored.
  void Abort(SequenceId id, EndReason reason);

  // Ends every request whose deadline is at or before `now`; they show up
  // in the next plan's `ended`.
  void ExpireDeadlines(Clock::time_point now);
  // Ends expired requests, admits waiting requests by (priority, arrival)
  // while a seat and a run of blocks are free, hands out decode rows,
  // prefill chunks within the token budget and a vision batch.
  StepPlan Plan(Clock::time_point now);
  // The plan was executed. Requests still here went through: vision-batch
  // requests go on to their prompt, prefill chunks and decode rows count as
  // computed. (Requests whose part failed were removed with Finish before.)
  void CompleteStep(const StepPlan& plan);
  // A request's images are preprocessed: it waits for a vision batch.
  void OnPreprocessed(SequenceId id, Clock::time_point now);
  // Removes a request in any phase and frees its seat and blocks. Unknown
  // ids are ignored.
  void Finish(SequenceId id);

  // When a plan would do something even if nothing else happens (a deadline
  // or the vision wait running out); nullopt when nothing is pending.
  std::optional<Clock::time_point> NextWakeup() const;
  std::optional<RequestPhase> phase(SequenceId id) const;
  // The seat and blocks of an admitted request.
  std::optional<model::KvPlacement> placement(SequenceId id) const;
  // Throws std::logic_error naming what broke when a budget is over-committed
  // or the books disagree with themselves; Plan calls it at its end.
  void CheckInvariants() const;

  int num_waiting() const { return static_cast<int>(waiting_.size()); }
  int num_running() const { return static_cast<int>(running_.size()); }
  int64_t kv_tokens_reserved() const { return kv_.reserved_tokens(); }
  const KvCacheManager& kv() const { return kv_; }

 private:
  struct Entry {
    RequestSpec spec;
    RequestPhase phase = RequestPhase::kWaiting;
    uint64_t arrival = 0;
    int64_t computed_tokens = 0;  // prompt and generated tokens that went through
    Clock::time_point vision_ready_since;
  };
  // Waiting order: priority, then arrival.
  using WaitingKey = std::tuple<int, uint64_t, SequenceId>;

  void Admit(StepPlan& plan);
  void ScheduleDecode(StepPlan& plan) const;
  void SchedulePrefill(StepPlan& plan) const;
  void ScheduleVision(Clock::time_point now, StepPlan& plan) const;
  void Remove(SequenceId id);
  static WaitingKey KeyOf(const Entry& entry);

  const SchedulerOptions options_;
  KvCacheManager kv_;
  uint64_t next_arrival_ = 0;
  std::unordered_map<SequenceId, Entry> entries_;
  std::set<WaitingKey> waiting_;
  std::vector<SequenceId> running_;  // admission order
  std::vector<EndedRequest> ended_;  // since the last plan
};

}  // namespace auroraedge::server
