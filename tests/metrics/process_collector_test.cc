#include "process_collector.h"

#include <catch2/catch.hpp>

namespace auroraedge::server {
namespace {

TEST_CASE("statm page counts become bytes") {
  const auto memory = ParseStatm("2500 300 120 1 0 400 0\n", 4096);
  REQUIRE(memory);
  CHECK(memory->virtual_bytes == 2500 * 4096);
  CHECK(memory->resident_bytes == 300 * 4096);
}

TEST_CASE("a statm without two page counts is rejected") {
  CHECK_FALSE(ParseStatm("", 4096));
  CHECK_FALSE(ParseStatm("2500", 4096));
  CHECK_FALSE(ParseStatm("2500 x", 4096));
  CHECK_FALSE(ParseStatm("abc 300", 4096));
}

}  // namespace
}  // namespace auroraedge::server
