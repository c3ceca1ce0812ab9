#include "auroraedge/server/scheduler.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <vector>

using namespace auroraedge::server;
using namespace std::chrono_literals;
using auroraedge::model::KvGeometry;
using Clock = Scheduler::Clock;

namespace {

SchedulerOptions SmallOptions() {
  SchedulerOptions options;
  options.max_waiting_requests = 8;
  options.max_prefill_tokens_per_step = 32;
  options.max_vision_batch = 4;
  options.max_vision_wait = 2ms;
  return options;
}

// 64 blocks of 16 tokens, 4 seats unless said otherwise.
KvGeometry Storage(int64_t blocks = 64, int slots = 4) {
  KvGeometry geometry;
  geometry.num_blocks = blocks;
  geometry.block_size = 16;
  geometry.num_slots = slots;
  return geometry;
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

// A plan that the engine thread executed in full.
StepPlan Step(Scheduler& scheduler, Clock::time_point now) {
  StepPlan plan = scheduler.Plan(now);
  scheduler.CompleteStep(plan);
  return plan;
}

}  // namespace

TEST_CASE("Scheduler: a text request goes prefill -> decoding and frees its KV on finish") {
  Scheduler scheduler(SmallOptions(), Storage());
  scheduler.Add(Spec(1, 10, 5));
  CHECK(scheduler.num_waiting() == 1);

  const Clock::time_point now = Clock::now();
  StepPlan plan = Step(scheduler, now);
  CHECK(plan.admitted == std::vector<SequenceId>{1});
  REQUIRE(plan.prefill.size() == 1);
  CHECK(plan.prefill[0].start == 0);
  CHECK(plan.prefill[0].num_tokens == 10);
  CHECK(plan.prefill[0].completes_prompt);
  CHECK(plan.decode.empty());
  CHECK(scheduler.num_waiting() == 0);
  CHECK(scheduler.num_running() == 1);
  CHECK(scheduler.kv_tokens_reserved() == 16);  // 15 tokens -> one block
  REQUIRE(scheduler.placement(1));
  CHECK(scheduler.placement(1)->num_blocks == 1);

  plan = Step(scheduler, now);
  CHECK(plan.decode == std::vector<SequenceId>{1});
  CHECK(plan.prefill.empty());
  scheduler.Finish(1);
  CHECK(scheduler.kv_tokens_reserved() == 0);
  CHECK(scheduler.num_running() == 0);
  CHECK_FALSE(scheduler.phase(1));
  CHECK_FALSE(scheduler.placement(1));
}

TEST_CASE("Scheduler: a sequence advances only once its step went through") {
  Scheduler scheduler(SmallOptions(), Storage());
  scheduler.Add(Spec(1, 40, 5));
  const Clock::time_point now = Clock::now();
  const StepPlan first = scheduler.Plan(now);
  REQUIRE(first.prefill.size() == 1);
  // Not completed: the next plan hands out the same chunk again.
  const StepPlan again = scheduler.Plan(now);
  REQUIRE(again.prefill.size() == 1);
  CHECK(again.prefill[0].start == 0);
  CHECK(again.prefill[0].num_tokens == 32);
  scheduler.CompleteStep(again);
  const StepPlan next = scheduler.Plan(now);
  REQUIRE(next.prefill.size() == 1);
  CHECK(next.prefill[0].start == 32);
}

TEST_CASE("Scheduler: a request whose part failed is finished and the rest advance") {
  Scheduler scheduler(SmallOptions(), Storage());
  scheduler.Add(Spec(1, 8, 5));
  scheduler.Add(Spec(2, 8, 5));
  const Clock::time_point now = Clock::now();
  const StepPlan plan = scheduler.Plan(now);
  REQUIRE(plan.prefill.size() == 2);
  scheduler.Finish(2);  // its row failed
  scheduler.CompleteStep(plan);
  CHECK(scheduler.phase(1) == RequestPhase::kDecoding);
  CHECK_FALSE(scheduler.phase(2));
  CHECK(scheduler.Plan(now).decode == std::vector<SequenceId>{1});
}

TEST_CASE("Scheduler: long prompts are chunked within the prefill budget while decodes go on") {
  Scheduler scheduler(SmallOptions(), Storage());  // 32 prefill tokens per step
  scheduler.Add(Spec(1, 8, 50));
  const Clock::time_point now = Clock::now();
  Step(scheduler, now);  // 1 prefilled
  scheduler.Add(Spec(2, 70, 4));

  std::vector<PrefillChunk> chunks;
  for (int step = 0; step < 3; ++step) {
    const StepPlan plan = Step(scheduler, now);
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
  CHECK(Step(scheduler, now).decode == std::vector<SequenceId>{1, 2});
}

TEST_CASE("Scheduler: the prefill budget is shared across newcomers in admission order") {
  Scheduler scheduler(SmallOptions(), Storage());
  scheduler.Add(Spec(1, 20, 4));
  scheduler.Add(Spec(2, 20, 4));
  const StepPlan plan = scheduler.Plan(Clock::now());
  REQUIRE(plan.prefill.size() == 2);
  CHECK(plan.prefill[0].id == 1);
  CHECK(plan.prefill[0].num_tokens == 20);
  CHECK(plan.prefill[1].id == 2);
  CHECK(plan.prefill[1].num_tokens == 12);
  CHECK_FALSE(plan.prefill[1].completes_prompt);
}

RequestSpec Inspection(SequenceId id, int prompt, int scored) {
  RequestSpec spec = Spec(id, prompt, 0);
  spec.scored_tokens = scored;
  return spec;
}

TEST_CASE("Scheduler: an inspection's label rows take KV room and ride in its last chunk") {
  Scheduler scheduler(SmallOptions(), Storage());  // 32 prefill tokens per step
  scheduler.Add(Inspection(1, 40, 9));
  const Clock::time_point now = Clock::now();
  StepPlan plan = Step(scheduler, now);
  CHECK(scheduler.placement(1)->num_blocks == 4);  // 49 tokens
  REQUIRE(plan.prefill.size() == 1);
  CHECK(plan.prefill[0].num_tokens == 32);
  CHECK_FALSE(plan.prefill[0].completes_prompt);
  CHECK(plan.prefill[0].scored_tokens == 0);
  plan = Step(scheduler, now);
  REQUIRE(plan.prefill.size() == 1);
  CHECK(plan.prefill[0].num_tokens == 8);
  CHECK(plan.prefill[0].completes_prompt);
  CHECK(plan.prefill[0].scored_tokens == 9);
  CHECK(plan.prefill_tokens() == 17);
  // The engine ends an inspection with the step that scored it.
  scheduler.Finish(1);
  CHECK(scheduler.kv_tokens_reserved() == 0);
  CHECK_THROWS_WITH(scheduler.Add(Inspection(2, 10, 0)), Catch::Contains("preparation"));
}

TEST_CASE("Scheduler: label rows count against the prefill budget") {
  Scheduler scheduler(SmallOptions(), Storage());  // 32 prefill tokens per step
  scheduler.Add(Spec(1, 20, 4));
  scheduler.Add(Inspection(2, 6, 8));
  scheduler.Add(Inspection(3, 4, 40));  // more label rows than the whole budget
  const Clock::time_point now = Clock::now();
  StepPlan plan = Step(scheduler, now);
  // 20 + (6 + 8) > 32: the inspection's chunk stops one token short.
  REQUIRE(plan.prefill.size() == 3);
  CHECK(plan.prefill[1].num_tokens == 5);
  CHECK_FALSE(plan.prefill[1].completes_prompt);
  CHECK(plan.prefill[2].num_tokens == 3);
  CHECK(plan.prefill_tokens() == 28);
  plan = Step(scheduler, now);
  // Request 2 completes within the budget; request 3's 40 rows do not fit
  // behind it, so it waits.
  REQUIRE(plan.prefill.size() == 1);
  CHECK(plan.prefill[0].id == 2);
  CHECK(plan.prefill[0].completes_prompt);
  scheduler.Finish(2);
  // The first chunk of a step may exceed the budget by its label rows.
  plan = Step(scheduler, now);
  REQUIRE(plan.prefill.size() == 1);
  CHECK(plan.prefill[0].id == 3);
  CHECK(plan.prefill[0].num_tokens == 1);
  CHECK(plan.prefill[0].scored_tokens == 40);
  CHECK(plan.prefill_tokens() == 41);
}

TEST_CASE("Scheduler: admission hands out seats and disjoint blocks and never over-commits") {
  Scheduler scheduler(SmallOptions(), Storage(16, 16));  // 256 tokens
  for (SequenceId id = 1; id <= 4; ++id) scheduler.Add(Spec(id, 60, 40));  // 7 blocks each
  const StepPlan plan = scheduler.Plan(Clock::now());
  CHECK(plan.admitted == std::vector<SequenceId>{1, 2});
  CHECK(scheduler.num_running() == 2);
  CHECK(scheduler.num_waiting() == 2);
  CHECK(scheduler.kv_tokens_reserved() == 224);
  CHECK(scheduler.phase(3) == RequestPhase::kWaiting);
  const auto one = *scheduler.placement(1);
  const auto two = *scheduler.placement(2);
  CHECK(one.slot != two.slot);
  CHECK((one.first_block + one.num_blocks <= two.first_block ||
         two.first_block + two.num_blocks <= one.first_block));

  scheduler.Finish(1);
  scheduler.Plan(Clock::now());
  CHECK(scheduler.phase(3) == RequestPhase::kPrefill);
  CHECK(scheduler.phase(4) == RequestPhase::kWaiting);
  CHECK(scheduler.kv_tokens_reserved() <= scheduler.kv().capacity_tokens());
}

TEST_CASE("Scheduler: the runner's seats bound the running requests") {
  Scheduler scheduler(SmallOptions(), Storage(64, 2));
  for (SequenceId id = 1; id <= 3; ++id) scheduler.Add(Spec(id, 4, 4));
  CHECK(scheduler.Plan(Clock::now()).admitted == std::vector<SequenceId>{1, 2});
  CHECK(scheduler.phase(3) == RequestPhase::kWaiting);
}

TEST_CASE("Scheduler: a request waits until a long enough run of blocks is free") {
  Scheduler scheduler(SmallOptions(), Storage(6, 4));
  scheduler.Add(Spec(1, 16, 16));  // blocks 0-1
  scheduler.Add(Spec(2, 16, 16));  // 2-3
  scheduler.Add(Spec(3, 16, 16));  // 4-5
  Step(scheduler, Clock::now());
  scheduler.Finish(1);
  scheduler.Finish(3);
  scheduler.Add(Spec(4, 40, 8));  // 3 blocks: 4 are free, but not in one run
  CHECK(scheduler.Plan(Clock::now()).admitted.empty());
  scheduler.Finish(2);
  CHECK(scheduler.Plan(Clock::now()).admitted == std::vector<SequenceId>{4});
}

TEST_CASE("Scheduler: a request that could never be served is a logic error at Add") {
  Scheduler scheduler(SmallOptions(), Storage(8));  // 128 tokens
  CHECK_THROWS_WITH(scheduler.Add(Spec(1, 100, 29)), Catch::Contains("preparation"));
  scheduler.Add(Spec(2, 100, 28));
  CHECK_THROWS_AS(scheduler.Add(Spec(3, 0, 28)), std::logic_error);
  CHECK_THROWS_AS(scheduler.Add(Spec(4, 10, 0)), std::logic_error);
  CHECK_THROWS_WITH(scheduler.Add(Spec(2, 4, 4)), Catch::Contains("added twice"));
}

TEST_CASE("Scheduler: line-critical requests are admitted first, FIFO within a priority") {
  Scheduler scheduler(SmallOptions(), Storage(64, 1));
  scheduler.Add(Spec(1, 4, 2, 0, Priority::kBackground));
  scheduler.Add(Spec(2, 4, 2, 0, Priority::kNormal));
  scheduler.Add(Spec(3, 4, 2, 0, Priority::kLineCritical));
  scheduler.Add(Spec(4, 4, 2, 0, Priority::kBackground));
  scheduler.Add(Spec(5, 4, 2, 0, Priority::kLineCritical));

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
  Scheduler scheduler(SmallOptions(), Storage());  // vision batch of 4 images
  scheduler.Add(Spec(1, 80, 4, 2));
  scheduler.Add(Spec(2, 80, 4, 2));
  scheduler.Add(Spec(3, 80, 4, 1));
  const Clock::time_point t0 = Clock::now();
  StepPlan plan = Step(scheduler, t0);
  CHECK(plan.admitted == std::vector<SequenceId>{1, 2, 3});
  CHECK(plan.to_preprocess == std::vector<SequenceId>{1, 2, 3});
  CHECK_FALSE(plan.has_work());

  scheduler.OnPreprocessed(1, t0);
  plan = Step(scheduler, t0 + 1ms);  // 2 images ready, more on their way, wait not over
  CHECK(plan.vision_batch.empty());
  REQUIRE(scheduler.NextWakeup());
  CHECK(*scheduler.NextWakeup() == t0 + 2ms);

  scheduler.OnPreprocessed(2, t0 + 1ms);
  plan = scheduler.Plan(t0 + 1ms);  // 4 images: a full batch
  CHECK(plan.vision_batch == std::vector<SequenceId>{1, 2});
  CHECK(plan.vision_images == 4);
  CHECK(plan.prefill.empty());
  CHECK(scheduler.phase(1) == RequestPhase::kVision);  // until the batch went through
  scheduler.CompleteStep(plan);
  CHECK(scheduler.phase(1) == RequestPhase::kPrefill);

  scheduler.OnPreprocessed(3, t0 + 1ms);
  plan = Step(scheduler, t0 + 1ms);  // nothing else preprocessing: no point waiting
  CHECK(plan.vision_batch == std::vector<SequenceId>{3});
  REQUIRE(plan.prefill.size() == 1);
  CHECK(plan.prefill[0].id == 1);
  CHECK(plan.prefill[0].num_tokens == 32);
}

TEST_CASE("Scheduler: the vision wait dispatches a partial batch") {
  Scheduler scheduler(SmallOptions(), Storage());
  scheduler.Add(Spec(1, 80, 4, 1));
  scheduler.Add(Spec(2, 80, 4, 1));
  const Clock::time_point t0 = Clock::now();
  Step(scheduler, t0);
  scheduler.OnPreprocessed(1, t0);
  CHECK(Step(scheduler, t0 + 1ms).vision_batch.empty());
  CHECK(Step(scheduler, t0 + 2ms).vision_batch == std::vector<SequenceId>{1});
}

TEST_CASE("Scheduler: a request with more images than the batch is encoded alone") {
  SchedulerOptions options = SmallOptions();
  options.max_vision_batch = 2;
  Scheduler scheduler(options, Storage());
  scheduler.Add(Spec(1, 80, 4, 3));
  scheduler.Add(Spec(2, 80, 4, 1));
  const Clock::time_point t0 = Clock::now();
  Step(scheduler, t0);
  scheduler.OnPreprocessed(1, t0);
  scheduler.OnPreprocessed(2, t0);
  CHECK(Step(scheduler, t0).vision_batch == std::vector<SequenceId>{1});
  CHECK(Step(scheduler, t0).vision_batch == std::vector<SequenceId>{2});
}

TEST_CASE("Scheduler: abort in every phase frees the seat and blocks at once") {
  const RequestPhase phase =
      GENERATE(RequestPhase::kWaiting, RequestPhase::kPreprocessing, RequestPhase::kVision,
               RequestPhase::kPrefill, RequestPhase::kDecoding);
  SchedulerOptions options = SmallOptions();
  options.max_prefill_tokens_per_step = 8;
  Scheduler scheduler(options, Storage(64, 1));
  scheduler.Add(Spec(1, 20, 4, 1));
  scheduler.Add(Spec(2, 20, 4, 1));  // stays waiting behind 1
  const SequenceId victim = phase == RequestPhase::kWaiting ? 2 : 1;
  const Clock::time_point t0 = Clock::now();
  Step(scheduler, t0);
  if (phase >= RequestPhase::kVision) scheduler.OnPreprocessed(1, t0);
  if (phase >= RequestPhase::kPrefill) Step(scheduler, t0);  // vision batch
  if (phase >= RequestPhase::kDecoding) {
    for (int i = 0; i < 3; ++i) Step(scheduler, t0);
  }
  REQUIRE(scheduler.phase(victim) == phase);

  scheduler.Abort(victim, EndReason::kCancelled);
  CHECK_FALSE(scheduler.phase(victim));
  const StepPlan plan = scheduler.Plan(t0);
  REQUIRE(plan.ended.size() == 1);
  CHECK(plan.ended[0].id == victim);
  CHECK(plan.ended[0].phase == phase);
  CHECK(plan.ended[0].reason == EndReason::kCancelled);
  CHECK_FALSE(Contains(plan.decode, victim));
  CHECK(scheduler.Plan(t0).ended.empty());  // reported once
  scheduler.Finish(victim == 1 ? 2 : 1);
  CHECK(scheduler.kv_tokens_reserved() == 0);
  CHECK(scheduler.num_waiting() == 0);
  CHECK(scheduler.num_running() == 0);
}

TEST_CASE("Scheduler: deadlines end requests in every phase at the next plan") {
  SchedulerOptions options = SmallOptions();
  options.max_prefill_tokens_per_step = 8;
  Scheduler scheduler(options, Storage(64, 3));
  const Clock::time_point t0 = Clock::now();
  RequestSpec decoding = Spec(1, 4, 10);
  RequestSpec prefill = Spec(2, 40, 10);
  RequestSpec preprocessing = Spec(3, 10, 10, 1);
  RequestSpec waiting = Spec(4, 10, 10);
  for (RequestSpec* spec : {&decoding, &prefill, &preprocessing, &waiting}) {
    spec->deadline = t0 + 10ms;
    scheduler.Add(*spec);
  }
  Step(scheduler, t0);
  Step(scheduler, t0);
  CHECK(scheduler.phase(1) == RequestPhase::kDecoding);
  CHECK(scheduler.phase(2) == RequestPhase::kPrefill);
  CHECK(scheduler.phase(3) == RequestPhase::kPreprocessing);
  CHECK(scheduler.phase(4) == RequestPhase::kWaiting);
  CHECK(scheduler.NextWakeup() == t0 + 10ms);

  CHECK(Step(scheduler, t0 + 9ms).ended.empty());
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
  Scheduler scheduler(SmallOptions(), Storage());
  scheduler.Add(Spec(1, 4, 2));
  Step(scheduler, Clock::now());  // prefill: 4 tokens and the first new one
  Step(scheduler, Clock::now());  // decode: 5
  Step(scheduler, Clock::now());  // decode: 6 = 4 + 2
  CHECK_THROWS_WITH(scheduler.Plan(Clock::now()), Catch::Contains("past its max_new_tokens"));
}

TEST_CASE("Scheduler: random workloads keep every invariant") {
  Scheduler scheduler(SmallOptions(), Storage(40, 6));
  std::mt19937 rng(7);
  std::map<SequenceId, int> generated;  // decoding requests -> tokens decoded
  std::map<SequenceId, int> max_new;
  SequenceId next_id = 1;
  Clock::time_point now = Clock::now();
  for (int step = 0; step < 2000; ++step) {
    now += 1ms;
    if (rng() % 3 == 0 && scheduler.num_waiting() < 20) {
      RequestSpec spec = Spec(next_id, 1 + rng() % 120, 1 + rng() % 60, rng() % 3,
                              static_cast<Priority>(rng() % 3));
      if (rng() % 10 == 0) spec.deadline = now + std::chrono::milliseconds(rng() % 50);
      scheduler.Add(spec);
      max_new[next_id] = spec.max_new_tokens;
      ++next_id;
    }
    if (rng() % 20 == 0 && next_id > 1) {
      const SequenceId victim = 1 + rng() % (next_id - 1);
      scheduler.Abort(victim, EndReason::kCancelled);
      generated.erase(victim);
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
    CHECK(plan.prefill_tokens() <= SmallOptions().max_prefill_tokens_per_step);
    scheduler.CompleteStep(plan);
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
