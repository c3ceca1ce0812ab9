#include "auroraedge/server/kv_block_manager.h"

#include <catch2/catch.hpp>
#include <stdexcept>

using auroraedge::server::KvBlockManager;

TEST_CASE("KV blocks: reservations round up to whole blocks and come back on free") {
  KvBlockManager kv(100, 16);  // 6 whole blocks: 96 tokens
  REQUIRE(kv.capacity_tokens() == 96);
  const auto first = kv.Reserve(1, 17);
  REQUIRE(first);
  CHECK(first->blocks == 2);
  CHECK(kv.reserved_tokens() == 32);
  REQUIRE(kv.Reserve(2, 64));
  CHECK(kv.used_blocks() == 6);
  kv.CheckInvariants();
  kv.Free(1);
  CHECK(kv.reserved_tokens() == 64);
  kv.Free(1);  // unknown now: ignored
  kv.Free(2);
  CHECK(kv.reserved_tokens() == 0);
  CHECK(kv.num_sequences() == 0);
}

TEST_CASE("KV blocks: no room answers nullopt and changes nothing") {
  KvBlockManager kv(64, 16);
  REQUIRE(kv.Reserve(1, 40));
  CHECK_FALSE(kv.Reserve(2, 17));
  CHECK(kv.used_blocks() == 3);
  CHECK(kv.Reserve(2, 16));
  CHECK_FALSE(kv.Reserve(3, 1));
  CHECK_FALSE(kv.CouldEverHold(65));
  CHECK(kv.CouldEverHold(64));
  kv.CheckInvariants();
}

TEST_CASE("KV blocks: a second reservation for one sequence is a logic error") {
  KvBlockManager kv(64, 16);
  REQUIRE(kv.Reserve(1, 8));
  CHECK_THROWS_AS(kv.Reserve(1, 8), std::logic_error);
}

TEST_CASE("KV blocks: bad construction names the setting") {
  CHECK_THROWS_WITH(KvBlockManager(64, 0), Catch::Contains("block_size"));
  CHECK_THROWS_WITH(KvBlockManager(-1, 16), Catch::Contains("capacity"));
}
