#include "auroraedge/server/scheduler.h"

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <vector>

using namespace auroraedge::server;
using namespace std::chrono_literals;
using Clock = Scheduler::Clock;

namespace {

SchedulerOptions SmallOptions() {
  SchedulerOptions options;
  options.max_waiting_requests = 8;
  options.max_running_sequences = 4;
  options.max_prefill_tokens_per_step = 32;
  options.max_vision_batch = 4;
  options.max_vision_wait = 2ms;
  options.kv_token_capacity = 1024;
  options.kv_block_size = 16;
  return options;
}

RequestSpec Spec(SequenceId id, int prompt, int max_new, int images = 0,
                 Priority priority = Priority::kNormal) {
  RequestSpec spec;
  spec.id = id;
  spec.prompt_tokens = prompt;
  spec.max_new_tokens = max_new;
  spec.num_images = images;
  spec.priority = priority;
  return spec;
}

bool Contains(const std::vector<SequenceId>& ids, SequenceId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

TEST_CASE("Scheduler: a text request goes prefill -> decoding and frees its KV on finish") {
  Scheduler scheduler(SmallOptions());
  REQUIRE(scheduler.Add(Spec(1, 10, 5)).ok());
  CHECK(scheduler.num_waiting() == 1);

  const Clock::time_point now = Clock::now();
  StepPlan plan = scheduler.Plan(now);
  REQUIRE(plan.prefill.size() == 1);
  CHECK(plan.prefill[0].start == 0);
  CHECK(plan.prefill[0].num_tokens == 10);
  CHECK(plan.prefill[0].completes_prompt);
  CHECK(plan.decode.empty());
  CHECK(scheduler.num_waiting() == 0);
  CHECK(scheduler.num_running() == 1);
  CHECK(scheduler.kv_tokens_reserved() == 16);  // 15 tokens -> one block

  plan = scheduler.Plan(now);
  CHECK(plan.decode == std::vector<SequenceId>{1});
  CHECK(plan.prefill.empty());
  scheduler.Finish(1);
  CHECK(scheduler.kv_tokens_reserved() == 0);
  CHECK(scheduler.num_running() == 0);
  CHECK_FALSE(scheduler.phase(1));
}

TEST_CASE("Scheduler: long prompts are chunked within the prefill budget while decodes go on") {
  Scheduler scheduler(SmallOptions());  // 32 prefill tokens per step
  REQUIRE(scheduler.Add(Spec(1, 8, 50)).ok());
  const Clock::time_point now = Clock::now();
  scheduler.Plan(now);  // 1 prefilled
  REQUIRE(scheduler.Add(Spec(2, 70, 4)).ok());

  std::vector<PrefillChunk> chunks;
  for (int step = 0; step < 3; ++step) {
    const StepPlan plan = scheduler.Plan(now);
    CHECK(plan.decode == std::vector<SequenceId>{1});  // every step, no stall
    CHECK(plan.prefill_tokens() <= 32);
    chunks.insert(chunks.end(), plan.prefill.begin(), plan.prefill.end());
  }
  REQUIRE(chunks.size() == 3);
  CHECK(chunks[0].start == 0);
  CHECK(chunks[0].num_tokens == 32);
  CHECK_FALSE(chunks[0].completes_prompt);
  CHECK(chunks[1].start == 32);
  CHECK(chunks[2].start == 64);
  CHECK(chunks[2].num_tokens == 6);
  CHECK(chunks[2].completes_prompt);
  const StepPlan next = scheduler.Plan(now);
  CHECK(next.decode == std::vector<SequenceId>{1, 2});
}

TEST_CASE("Scheduler: the prefill budget is shared across newcomers in admission order") {
  Scheduler scheduler(SmallOptions());
  REQUIRE(scheduler.Add(Spec(1, 20, 4)).ok());
  REQUIRE(scheduler.Add(Spec(2, 20, 4)).ok());
  const StepPlan plan = scheduler.Plan(Clock::now());
  REQUIRE(plan.prefill.size() == 2);
  CHECK(plan.prefill[0].id == 1);
  CHECK(plan.prefill[0].num_tokens == 20);
  CHECK(plan.prefill[1].id == 2);
  CHECK(plan.prefill[1].num_tokens == 12);
  CHECK_FALSE(plan.prefill[1].completes_prompt);
}

TEST_CASE("Scheduler: admission reserves prompt + max_new_tokens and never over-commits") {
  SchedulerOptions options = SmallOptions();
  options.kv_token_capacity = 256;  // 16 blocks
  options.max_running_sequences = 16;
  Scheduler scheduler(options);
  for (SequenceId id = 1; id <= 4; ++id)
    REQUIRE(scheduler.Add(Spec(id, 60, 40)).ok());  // 7 blocks each
  const StepPlan plan = scheduler.Plan(Clock::now());
  CHECK(plan.admitted == std::vector<SequenceId>{1, 2});
  CHECK(scheduler.num_running() == 2);
  CHECK(scheduler.num_waiting() == 2);
  CHECK(scheduler.kv_tokens_reserved() == 224);
  CHECK(scheduler.phase(3) == RequestPhase::kWaiting);

  scheduler.Finish(1);
  scheduler.Plan(Clock::now());
  CHECK(scheduler.phase(3) == RequestPhase::kPrefill);
  CHECK(scheduler.phase(4) == RequestPhase::kWaiting);
  CHECK(scheduler.kv_tokens_reserved() <= scheduler.kv_token_capacity());
}

TEST_CASE("Scheduler: a request that can never fit is refused at Add") {
  SchedulerOptions options = SmallOptions();
  options.kv_token_capacity = 128;
  Scheduler scheduler(options);
  const Status status = scheduler.Add(Spec(1, 100, 29));
  CHECK(status.code == StatusCode::kInvalidArgument);
  CHECK_THAT(status.message, Catch::Contains("KV cache capacity of 128"));
  CHECK(scheduler.Add(Spec(2, 100, 28)).ok());
  CHECK(scheduler.Add(Spec(3, 0, 28)).code == StatusCode::kInvalidArgument);
  CHECK(scheduler.Add(Spec(4, 10, 0)).code == StatusCode::kInvalidArgument);
}

TEST_CASE("Scheduler: the waiting queue is bounded and RESOURCE_EXHAUSTED beyond it") {
  SchedulerOptions options = SmallOptions();
  options.max_waiting_requests = 3;
  options.max_running_sequences = 1;
  Scheduler scheduler(options);
  for (SequenceId id = 1; id <= 3; ++id) REQUIRE(scheduler.Add(Spec(id, 4, 4)).ok());
  const Status full = scheduler.Add(Spec(4, 4, 4));
  CHECK(full.code == StatusCode::kResourceExhausted);
  CHECK_THAT(full.message, Catch::Contains("max_waiting_requests"));

  scheduler.Plan(Clock::now());  // admits one: a waiting slot frees up
  CHECK(scheduler.num_waiting() == 2);
  CHECK(scheduler.Add(Spec(5, 4, 4)).ok());
  CHECK(scheduler.Add(Spec(6, 4, 4)).code == StatusCode::kResourceExhausted);
}

TEST_CASE("Scheduler: line-critical requests are admitted first, FIFO within a priority") {
  SchedulerOptions options = SmallOptions();
  options.max_running_sequences = 1;
  Scheduler scheduler(options);
  REQUIRE(scheduler.Add(Spec(1, 4, 2, 0, Priority::kBackground)).ok());
  REQUIRE(scheduler.Add(Spec(2, 4, 2, 0, Priority::kNormal)).ok());
  REQUIRE(scheduler.Add(Spec(3, 4, 2, 0, Priority::kLineCritical)).ok());
  REQUIRE(scheduler.Add(Spec(4, 4, 2, 0, Priority::kBackground)).ok());
  REQUIRE(scheduler.Add(Spec(5, 4, 2, 0, Priority::kLineCritical)).ok());

  std::vector<SequenceId> order;
  for (int i = 0; i < 5; ++i) {
    const StepPlan plan = scheduler.Plan(Clock::now());
    REQUIRE(plan.prefill.size() == 1);
    order.push_back(plan.prefill[0].id);
    scheduler.Finish(plan.prefill[0].id);
  }
  CHECK(order == std::vector<SequenceId>{3, 5, 2, 1, 4});
}

TEST_CASE("Scheduler: images go preprocessing -> vision batch -> prefill") {
  Scheduler scheduler(SmallOptions());  // vision batch of 4 images
  REQUIRE(scheduler.Add(Spec(1, 80, 4, 2)).ok());
  REQUIRE(scheduler.Add(Spec(2, 80, 4, 2)).ok());
  REQUIRE(scheduler.Add(Spec(3, 80, 4, 1)).ok());
  const Clock::time_point t0 = Clock::now();
  StepPlan plan = scheduler.Plan(t0);
  CHECK(plan.admitted == std::vector<SequenceId>{1, 2, 3});
  CHECK(plan.to_preprocess == std::vector<SequenceId>{1, 2, 3});
  CHECK_FALSE(plan.has_work());

  scheduler.OnPreprocessed(1, t0);
  plan = scheduler.Plan(t0 + 1ms);  // 2 images ready, more on their way, wait not over
  CHECK(plan.vision_batch.empty());
  REQUIRE(scheduler.NextWakeup());
  CHECK(*scheduler.NextWakeup() == t0 + 2ms);

  scheduler.OnPreprocessed(2, t0 + 1ms);
  plan = scheduler.Plan(t0 + 1ms);  // 4 images: a full batch
  CHECK(plan.vision_batch == std::vector<SequenceId>{1, 2});
  CHECK(plan.vision_images == 4);
  CHECK(plan.prefill.empty());
  CHECK(scheduler.phase(1) == RequestPhase::kPrefill);

  scheduler.OnPreprocessed(3, t0 + 1ms);
  plan = scheduler.Plan(t0 + 1ms);  // nothing else preprocessing: no point waiting
  CHECK(plan.vision_batch == std::vector<SequenceId>{3});
  REQUIRE(plan.prefill.size() == 1);
  CHECK(plan.prefill[0].id == 1);
  CHECK(plan.prefill[0].num_tokens == 32);
}

TEST_CASE("Scheduler: the vision wait dispatches a partial batch") {
  Scheduler scheduler(SmallOptions());
  REQUIRE(scheduler.Add(Spec(1, 80, 4, 1)).ok());
  REQUIRE(scheduler.Add(Spec(2, 80, 4, 1)).ok());
  const Clock::time_point t0 = Clock::now();
  scheduler.Plan(t0);
  scheduler.OnPreprocessed(1, t0);
  CHECK(scheduler.Plan(t0 + 1ms).vision_batch.empty());
  CHECK(scheduler.Plan(t0 + 2ms).vision_batch == std::vector<SequenceId>{1});
}

TEST_CASE("Scheduler: a request with more images than the batch is encoded alone") {
  SchedulerOptions options = SmallOptions();
  options.max_vision_batch = 2;
  Scheduler scheduler(options);
  REQUIRE(scheduler.Add(Spec(1, 80, 4, 3)).ok());
  REQUIRE(scheduler.Add(Spec(2, 80, 4, 1)).ok());
  const Clock::time_point t0 = Clock::now();
  scheduler.Plan(t0);
  scheduler.OnPreprocessed(1, t0);
  scheduler.OnPreprocessed(2, t0);
  CHECK(scheduler.Plan(t0).vision_batch == std::vector<SequenceId>{1});
  CHECK(scheduler.Plan(t0).vision_batch == std::vector<SequenceId>{2});
}

TEST_CASE("Scheduler: cancel in every phase frees the KV at the next plan") {
  const RequestPhase phase =
      GENERATE(RequestPhase::kWaiting, RequestPhase::kPreprocessing, RequestPhase::kVision,
               RequestPhase::kPrefill, RequestPhase::kDecoding);
  SchedulerOptions options = SmallOptions();
  options.max_running_sequences = 1;
  options.max_prefill_tokens_per_step = 8;
  Scheduler scheduler(options);
  REQUIRE(scheduler.Add(Spec(1, 20, 4, 1)).ok());
  REQUIRE(scheduler.Add(Spec(2, 20, 4, 1)).ok());  // stays waiting behind 1
  const SequenceId victim = phase == RequestPhase::kWaiting ? 2 : 1;
  const Clock::time_point t0 = Clock::now();
  scheduler.Plan(t0);
  if (phase >= RequestPhase::kVision) scheduler.OnPreprocessed(1, t0);
  if (phase >= RequestPhase::kPrefill) scheduler.Plan(t0);  // vision batch
  if (phase >= RequestPhase::kDecoding) {
    for (int i = 0; i < 3; ++i) scheduler.Plan(t0);
  }
  REQUIRE(scheduler.phase(victim) == phase);

  scheduler.RequestAbort(victim, EndReason::kCancelled);
  CHECK(scheduler.phase(victim) == phase);  // queued until the next plan
  const StepPlan plan = scheduler.Plan(t0);
  REQUIRE(plan.ended.size() == 1);
  CHECK(plan.ended[0].id == victim);
  CHECK(plan.ended[0].phase == phase);
  CHECK(plan.ended[0].reason == EndReason::kCancelled);
  CHECK_FALSE(Contains(plan.decode, victim));
  CHECK_FALSE(scheduler.phase(victim));
  if (victim == 1) {
    scheduler.Finish(2);
  } else {
    scheduler.Finish(1);
  }
  CHECK(scheduler.kv_tokens_reserved() == 0);
  CHECK(scheduler.num_waiting() == 0);
  CHECK(scheduler.num_running() == 0);
}

TEST_CASE("Scheduler: deadlines end requests in every phase at the next plan") {
  SchedulerOptions options = SmallOptions();
  options.max_running_sequences = 3;
  options.max_prefill_tokens_per_step = 8;
  Scheduler scheduler(options);
  const Clock::time_point t0 = Clock::now();
  RequestSpec decoding = Spec(1, 4, 10);
  RequestSpec prefill = Spec(2, 40, 10);
  RequestSpec preprocessing = Spec(3, 10, 10, 1);
  RequestSpec waiting = Spec(4, 10, 10);
  for (RequestSpec* spec : {&decoding, &prefill, &preprocessing, &waiting}) {
    spec->deadline = t0 + 10ms;
    REQUIRE(scheduler.Add(*spec).ok());
  }
  scheduler.Plan(t0);
  scheduler.Plan(t0);
  CHECK(scheduler.phase(1) == RequestPhase::kDecoding);
  CHECK(scheduler.phase(2) == RequestPhase::kPrefill);
  CHECK(scheduler.phase(3) == RequestPhase::kPreprocessing);
  CHECK(scheduler.phase(4) == RequestPhase::kWaiting);
  CHECK(scheduler.NextWakeup() == t0 + 10ms);

  CHECK(scheduler.Plan(t0 + 9ms).ended.empty());
  const StepPlan plan = scheduler.Plan(t0 + 10ms);
  std::map<SequenceId, RequestPhase> ended;
  for (const EndedRequest& end : plan.ended) {
    CHECK(end.reason == EndReason::kDeadline);
    ended[end.id] = end.phase;
  }
  CHECK(ended == std::map<SequenceId, RequestPhase>{{1, RequestPhase::kDecoding},
                                                    {2, RequestPhase::kPrefill},
                                                    {3, RequestPhase::kPreprocessing},
                                                    {4, RequestPhase::kWaiting}});
  CHECK_FALSE(plan.has_work());
  CHECK(scheduler.kv_tokens_reserved() == 0);
  CHECK(scheduler.num_waiting() == 0);
}

TEST_CASE("Scheduler: decoding past max_new_tokens is a logic error, not an overrun") {
  Scheduler scheduler(SmallOptions());
  REQUIRE(scheduler.Add(Spec(1, 4, 2)).ok());
  scheduler.Plan(Clock::now());  // prefill: 4 tokens
  scheduler.Plan(Clock::now());  // decode: 5
  scheduler.Plan(Clock::now());  // decode: 6 = 4 + 2
  CHECK_THROWS_AS(scheduler.Plan(Clock::now()), std::logic_error);
}

TEST_CASE("Scheduler: Add and RequestAbort are safe from other threads while it plans") {
  SchedulerOptions options = SmallOptions();
  options.max_waiting_requests = 1000;
  options.kv_token_capacity = 1 << 20;
  Scheduler scheduler(options);
  std::atomic<int> producers_done{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < 4; ++t) {
    producers.emplace_back([&scheduler, &producers_done, t] {
      for (int i = 0; i < 100; ++i) {
        const SequenceId id = t * 1000 + i;
        if (!scheduler.Add(Spec(id, 4, 4)).ok()) std::abort();
        if (i % 2 == 0) scheduler.RequestAbort(id, EndReason::kCancelled);
      }
      ++producers_done;
    });
  }
  std::set<SequenceId> cancelled;
  std::set<SequenceId> served;
  while (producers_done.load() < 4 || scheduler.num_waiting() > 0 || scheduler.num_running() > 0) {
    const StepPlan plan = scheduler.Plan(Clock::now());
    for (const EndedRequest& end : plan.ended) cancelled.insert(end.id);
    for (const PrefillChunk& chunk : plan.prefill) {
      served.insert(chunk.id);
      scheduler.Finish(chunk.id);
    }
  }
  for (std::thread& producer : producers) producer.join();
  CHECK(cancelled.size() + served.size() == 400);
  for (SequenceId id : served) CHECK_FALSE(cancelled.count(id));
  for (SequenceId id : cancelled) CHECK(id % 2 == 0);
  CHECK(scheduler.kv_tokens_reserved() == 0);
}

TEST_CASE("Scheduler: random workloads keep every invariant") {
  SchedulerOptions options = SmallOptions();
  options.kv_token_capacity = 600;
  options.max_running_sequences = 6;
  options.max_waiting_requests = 20;
  Scheduler scheduler(options);
  std::mt19937 rng(7);
  std::map<SequenceId, int> generated;  // decoding requests -> tokens decoded
  std::map<SequenceId, int> max_new;
  SequenceId next_id = 1;
  Clock::time_point now = Clock::now();
  for (int step = 0; step < 2000; ++step) {
    now += 1ms;
    if (rng() % 3 == 0) {
      RequestSpec spec = Spec(next_id, 1 + rng() % 120, 1 + rng() % 60, rng() % 3,
                              static_cast<Priority>(rng() % 3));
      if (rng() % 10 == 0) spec.deadline = now + std::chrono::milliseconds(rng() % 50);
      if (scheduler.Add(spec).ok()) max_new[next_id] = spec.max_new_tokens;
      ++next_id;
    }
    if (rng() % 20 == 0 && next_id > 1) {
      scheduler.RequestAbort(1 + rng() % (next_id - 1), EndReason::kCancelled);
    }
    const StepPlan plan = scheduler.Plan(now);
    for (const EndedRequest& end : plan.ended) generated.erase(end.id);
    for (SequenceId id : plan.to_preprocess) scheduler.OnPreprocessed(id, now);
    std::set<SequenceId> rows;
    for (const PrefillChunk& chunk : plan.prefill) {
      CHECK(rows.insert(chunk.id).second);
      if (chunk.completes_prompt) generated[chunk.id] = 1;
    }
    for (SequenceId id : plan.decode) {
      CHECK(rows.insert(id).second);
      ++generated.at(id);
    }
    CHECK(plan.prefill_tokens() <= options.max_prefill_tokens_per_step);
    CHECK(scheduler.kv_tokens_reserved() <= scheduler.kv_token_capacity());
    for (auto it = generated.begin(); it != generated.end();) {
      if (it->second >= max_new.at(it->first) || rng() % 25 == 0) {
        scheduler.Finish(it->first);
        it = generated.erase(it);
      } else {
        ++it;
      }
    }
    scheduler.CheckInvariants();
  }
}
