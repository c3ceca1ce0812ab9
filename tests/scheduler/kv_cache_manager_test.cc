#include "auroraedge/server/kv_cache_manager.h"

#include <catch2/catch.hpp>
#include <random>
#include <stdexcept>

using namespace auroraedge::server;
using auroraedge::model::KvGeometry;
using auroraedge::model::KvPlacement;

namespace {

KvGeometry Geometry(int64_t blocks, int block_size = 16, int slots = 4) {
  KvGeometry geometry;
  geometry.num_blocks = blocks;
  geometry.block_size = block_size;
  geometry.num_slots = slots;
  return geometry;
}

}  // namespace

TEST_CASE("KV manager: placements round up to whole blocks, lowest seat first, and come back") {
  KvCacheManager kv(Geometry(10));
  const auto a = kv.Allocate(1, 17);  // 2 blocks
  REQUIRE(a);
  CHECK(a->slot == 0);
  CHECK(a->first_block == 0);
  CHECK(a->num_blocks == 2);
  const auto b = kv.Allocate(2, 16);
  REQUIRE(b);
  CHECK(b->slot == 1);
  CHECK(b->first_block == 2);
  CHECK(kv.reserved_tokens() == 48);
  CHECK(kv.placement(2)->first_block == 2);
  kv.Free(1);
  kv.Free(1);  // unknown ids are ignored
  CHECK(kv.reserved_tokens() == 16);
  CHECK_FALSE(kv.placement(1));
  const auto c = kv.Allocate(3, 1);
  REQUIRE(c);
  CHECK(c->slot == 0);  // the freed seat
  kv.CheckInvariants();
}

TEST_CASE("KV manager: no seat or no contiguous run answers nullopt and changes nothing") {
  KvCacheManager kv(Geometry(6, 16, 2));
  REQUIRE(kv.Allocate(1, 32));  // blocks 0-1
  REQUIRE(kv.Allocate(2, 32));  // blocks 2-3
  CHECK_FALSE(kv.Allocate(3, 16));  // no seat
  kv.Free(1);
  // 4 blocks are free (0-1 and 4-5) but no run of 3.
  CHECK_FALSE(kv.Allocate(3, 48));
  CHECK(kv.used_blocks() == 2);
  kv.CheckInvariants();
  kv.Free(2);  // runs merge: 0-5 free again
  const auto whole = kv.Allocate(3, 96);
  REQUIRE(whole);
  CHECK(whole->first_block == 0);
  CHECK(whole->num_blocks == 6);
  kv.CheckInvariants();
}

TEST_CASE("KV manager: the smallest free run that fits is taken") {
  KvCacheManager kv(Geometry(10, 1, 8));
  for (int id = 1; id <= 5; ++id) REQUIRE(kv.Allocate(id, 2));  // 0-1 2-3 4-5 6-7 8-9
  kv.Free(1);                                                     // run of 2 at 0
  kv.Free(3);
  kv.Free(4);  // run of 4 at 4
  const auto two = kv.Allocate(6, 2);
  REQUIRE(two);
  CHECK(two->first_block == 0);
  const auto three = kv.Allocate(7, 3);
  REQUIRE(three);
  CHECK(three->first_block == 4);
  kv.CheckInvariants();
}

TEST_CASE("KV manager: a second placement for one sequence is a logic error") {
  KvCacheManager kv(Geometry(4));
  REQUIRE(kv.Allocate(1, 4));
  CHECK_THROWS_AS(kv.Allocate(1, 4), std::logic_error);
}

TEST_CASE("KV manager: bad geometry is named") {
  CHECK_THROWS_WITH(KvCacheManager(Geometry(0)), Catch::Contains("kv geometry"));
  CHECK_THROWS_WITH(KvCacheManager(Geometry(4, 0)), Catch::Contains("each must be at least 1"));
  CHECK_THROWS_WITH(KvCacheManager(Geometry(4, 16, 0)), Catch::Contains("seats"));
}

TEST_CASE("KV manager: random allocations never overlap and keep the books") {
  KvCacheManager kv(Geometry(64, 4, 8));
  std::mt19937 rng(5);
  std::vector<int64_t> held;
  for (int i = 0; i < 3000; ++i) {
    if (!held.empty() && rng() % 2 == 0) {
      const size_t k = rng() % held.size();
      kv.Free(held[k]);
      held.erase(held.begin() + static_cast<std::ptrdiff_t>(k));
    } else if (kv.Allocate(i, 1 + rng() % 60)) {
      held.push_back(i);
    }
    kv.CheckInvariants();
  }
}
