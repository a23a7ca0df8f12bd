// Time (docs/rules.md, "Times"): block times never go backwards, whatever
// time a leader proposes, and every node decides that from its log alone;
// a trust file cannot set an unbounded clock skew.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/node/test_consortium.h"

namespace chipledger {
namespace {

using namespace chipledger::testing;

}  // namespace

TEST_CASE("block times never go backwards: an earlier proposed time takes the last block's",
          "[ledger][time]") {
  auto tc = make_consortium();
  const uint64_t skew = tc->consortium.policy().max_clock_skew_ms;
  const uint64_t back = skew + 60 * 1000;  // a clock stepped back further than the skew
  for (bool clamped : {false, true}) {
    INFO((clamped ? "after a later block" : "on its own"));
    auto ledger = open_memory_ledger(tc->consortium);
    if (clamped) {
      auto first = must(ledger->apply_block({{register_tx(*tc, {"SN-A"}, kT0), false}}, kT0));
      REQUIRE(first[0].accepted);
    }
    // A transaction signed at the earlier time, in a block proposed at it:
    // on its own it is on time; after a block at kT0 the block's time is
    // kT0, and the transaction is further from it than the skew allows.
    uint64_t early = kT0 - back;
    auto out = must(ledger->apply_block({{register_tx(*tc, {"SN-B"}, early), false}}, early));
    if (clamped) {
      CHECK_FALSE(out[0].accepted);
      CHECK_THAT(out[0].reason, Catch::Contains("away from the ledger's clock"));
    } else {
      CHECK(out[0].accepted);
    }
  }
}

TEST_CASE("a trust file's clock skew is bounded", "[consortium][time]") {
  auto tc = make_consortium();
  auto j = nlohmann::json::parse(tc->consortium.to_json());
  j["policy"]["max_clock_skew_seconds"] = 3600;
  CHECK(Consortium::from_json(j.dump()));
  j["policy"]["max_clock_skew_seconds"] = 3601;
  auto too_much = Consortium::from_json(j.dump());
  REQUIRE_FALSE(too_much);
  CHECK_THAT(too_much.reason(), Catch::Contains("at most 3600"));
}

}  // namespace chipledger
