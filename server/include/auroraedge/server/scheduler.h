#pragma once

// The serving scheduler: request phases, priorities, a bounded waiting
// queue, deadlines, cancellation, a KV budget and a per-step token budget.
// Plain C++ (no model, no tensors): the engine loop asks it for a StepPlan,
// executes it, and reports back through OnPreprocessed and Finish.
//
// Threading: Add, RequestAbort and the counters are thread-safe; everything
// else belongs to the one engine thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "auroraedge/server/kv_block_manager.h"
#include "auroraedge/server/scheduler_request.h"
#include "auroraedge/server/status.h"
#include "auroraedge/server/step_plan.h"

namespace auroraedge::server {

struct SchedulerOptions {
  int max_waiting_requests = 64;
  int max_running_sequences = 16;  // admitted and not finished, at most
  int max_prefill_tokens_per_step = 256;
  int max_vision_batch = 8;  // images per vision batch
  std::chrono::microseconds max_vision_wait{2000};
  int64_t kv_token_capacity = 0;  // the model engine's kv_token_capacity()
  int kv_block_size = 16;
};

class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;

  // Throws std::invalid_argument naming the option and its range.
  explicit Scheduler(const SchedulerOptions& options);

  // Queues a request. RESOURCE_EXHAUSTED when max_waiting_requests already
  // wait; INVALID_ARGUMENT when its sizes are out of range or it could never
  // fit in the KV budget. Thread-safe.
  Status Add(const RequestSpec& spec);
  // Ends a request at the start of the next Plan (it shows up in
  // StepPlan::ended). Unknown ids are ignored. Thread-safe.
  void RequestAbort(SequenceId id, EndReason reason);

  // Applies queued aborts and deadlines, admits waiting requests by
  // (priority, arrival), hands out decode rows, prefill chunks within the
  // prefill budget and a vision batch. Assumes the plan is executed.
  StepPlan Plan(Clock::time_point now);
  // A request's images are preprocessed: it waits for a vision batch.
  void OnPreprocessed(SequenceId id, Clock::time_point now);
  // Removes a request in any phase and frees its KV. Unknown ids are ignored.
  void Finish(SequenceId id);

  // When a plan would do something even if nothing else happens (a deadline
  // or the vision wait running out); nullopt when nothing is pending.
  std::optional<Clock::time_point> NextWakeup() const;
  std::optional<RequestPhase> phase(SequenceId id) const;
  // Throws std::logic_error when a budget is over-committed or the
  // bookkeeping disagrees with itself; Plan calls it at its end.
  void CheckInvariants() const;

  // Thread-safe.
  int num_waiting() const { return num_waiting_.load(); }
  int num_running() const { return num_running_.load(); }
  int64_t kv_tokens_reserved() const { return kv_tokens_reserved_.load(); }
  int64_t kv_token_capacity() const { return kv_.capacity_tokens(); }

 private:
  struct Entry {
    RequestSpec spec;
    RequestPhase phase = RequestPhase::kWaiting;
    uint64_t arrival = 0;
    int64_t computed_tokens = 0;  // tokens handed out in prefill chunks and decode rows
    Clock::time_point vision_ready_since;
  };
  // Waiting order: priority, then arrival.
  using WaitingKey = std::tuple<int, uint64_t, SequenceId>;

  void TakeIncoming(StepPlan& plan);
  void ExpireDeadlines(Clock::time_point now, StepPlan& plan);
  void Admit(StepPlan& plan);
  void ScheduleDecode(StepPlan& plan);
  void SchedulePrefill(StepPlan& plan);
  void ScheduleVision(Clock::time_point now, StepPlan& plan);
  void Remove(SequenceId id);
  void PublishCounters();
  static WaitingKey KeyOf(const Entry& entry);

  const SchedulerOptions options_;
  KvBlockManager kv_;

  mutable std::mutex incoming_mu_;
  std::vector<Entry> incoming_;                                   // guarded
  std::vector<std::pair<SequenceId, EndReason>> pending_aborts_;  // guarded
  uint64_t next_arrival_ = 0;                                     // guarded

  std::unordered_map<SequenceId, Entry> entries_;
  std::set<WaitingKey> waiting_;
  std::vector<SequenceId> running_;  // admission order

  std::atomic<int> num_waiting_{0};  // incoming + waiting
  std::atomic<int> num_running_{0};
  std::atomic<int64_t> kv_tokens_reserved_{0};
};

}  // namespace auroraedge::server
