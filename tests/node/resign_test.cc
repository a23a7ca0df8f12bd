// Timed re-signing (docs/checkpoint.md, "Freshness"), driven by a fake clock
// through CheckpointPublisher's clock seam, no sleeping: on an idle ledger a
// node's signature time advances every resign interval, the peers take the
// newer signature in place of the older one, and the served checkpoint's
// freshness advances; a clock stepped back never dates a signature earlier;
// a peer's signature from too far in the future is refused.
#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "crypto/signed_note.h"
#include "ledger/checkpoint.h"
#include "node/checkpoint_publisher.h"
#include "node/resign_timer.h"
#include "tests/node/raft_helpers.h"
#include "tests/node/test_consortium.h"

namespace chipledger {
namespace {

using namespace std::chrono_literals;
using namespace chipledger::testing;

constexpr uint64_t kStartMs = 1'790'000'000'000;
constexpr uint64_t kInterval = 60;  // seconds

struct Node {
  std::unique_ptr<Ledger> ledger;
  std::atomic<uint64_t> now_ms{kStartMs};
  std::unique_ptr<CheckpointPublisher> cps;
};

// Three nodes (quorum 2), each with its own fake clock; one block applied.
struct Clocked {
  std::unique_ptr<TestConsortium> tc = make_consortium("resign-test", 2, 3);
  std::vector<std::unique_ptr<Node>> nodes;

  Clocked() {
    for (size_t i = 0; i < 3; ++i) {
      auto n = std::make_unique<Node>();
      n->ledger = open_memory_ledger(tc->consortium);
      Node* raw = n.get();
      CheckpointPublisher::Options o;
      o.now_ms = [raw] { return raw->now_ms.load(); };
      o.resign_interval_seconds = kInterval;
      n->cps = std::make_unique<CheckpointPublisher>(*n->ledger, tc->node_id(i), tc->node_key(i),
                                                     nullptr, o);
      must_ok(n->cps->refresh());
      nodes.push_back(std::move(n));
    }
    auto reg = register_tx(*tc, {"SN-1"});
    for (auto& n : nodes) {
      apply_all(*n->ledger, {reg});
      must_ok(n->cps->refresh());
    }
  }
  CheckpointPublisher& cps(size_t i) { return *nodes[i]->cps; }
  void advance(uint64_t seconds) {
    for (auto& n : nodes) n->now_ms += seconds * 1000;
  }
  // Every node sends its newest note to every other (what CosignSender does).
  void exchange() {
    for (size_t from = 0; from < 3; ++from) {
      std::string note = cps(from).newest().note;
      for (size_t to = 0; to < 3; ++to) {
        if (to == from) continue;
        CosignOutcome o = cps(to).add_signatures(note);
        INFO(o.reason);
        REQUIRE(o.kind == CosignOutcome::Kind::kept);
      }
    }
  }
  // Node i's own signature time on its newest checkpoint, as a client reads it.
  uint64_t own_time(size_t i) {
    auto note = must(parse_note(cps(i).newest().note));
    for (const auto& sig : note.signatures) {
      if (sig.name == tc->node_id(i)) {
        return must(verify_node_cosignature(tc->consortium, note.text, sig));
      }
    }
    FAIL("no signature of its own");
    return 0;
  }
};

}  // namespace

TEST_CASE("re-signing: an idle ledger's signature times and freshness advance by the clock",
          "[cosign][resign]") {
  Clocked c;
  c.exchange();
  uint64_t t0 = kStartMs / 1000;
  auto first = must(verify_checkpoint(c.tc->consortium, c.cps(0).served().note));
  CHECK(first.checkpoint.size == 1);
  CHECK(first.fresh_as_of == t0);

  // Not due before the interval has passed: nothing signed, nothing sent.
  uint64_t version = c.cps(0).version();
  c.advance(kInterval - 1);
  CHECK_FALSE(must(c.cps(0).resign_if_due()));
  CHECK(c.cps(0).version() == version);

  c.advance(1);
  for (size_t i = 0; i < 3; ++i) CHECK(must(c.cps(i).resign_if_due()));
  CHECK(c.cps(0).version() == version + 1);  // the cosign sender sends the new note
  CHECK(c.nodes[0]->ledger->size() == 1);    // no write in between
  CHECK(c.own_time(0) == t0 + kInterval);
  // The peers' newer signatures replace their older ones.
  c.exchange();
  for (size_t i = 0; i < 3; ++i) {
    auto v = must(verify_checkpoint(c.tc->consortium, c.cps(i).served().note));
    CHECK(v.checkpoint.size == 1);
    REQUIRE(v.signed_at.size() == 3);
    for (const auto& s : v.signed_at) CHECK(s.time == t0 + kInterval);
    CHECK(v.fresh_as_of == t0 + kInterval);
    CHECK(c.cps(i).served().fresh_as_of == t0 + kInterval);
  }
  // Kept in the checkpoint column too (GET /v1/checkpoint?size=1).
  auto stored = must(c.nodes[1]->ledger->checkpoint_at(1));
  REQUIRE(stored.has_value());
  CHECK(must(verify_checkpoint(c.tc->consortium, *stored)).fresh_as_of == t0 + kInterval);

  // Ten idle intervals later the checkpoint is exactly as fresh.
  for (int k = 2; k <= 10; ++k) {
    c.advance(kInterval);
    for (size_t i = 0; i < 3; ++i) REQUIRE(must(c.cps(i).resign_if_due()));
    c.exchange();
  }
  CHECK(c.cps(2).served().fresh_as_of == t0 + 10 * kInterval);
  Policy policy;  // max age 600 s
  auto v = must(verify_checkpoint(c.tc->consortium, c.cps(2).served().note));
  CHECK(checkpoint_age_status(v, policy, c.nodes[2]->now_ms + 599'000));
}

TEST_CASE("re-signing: a block signs at once, and the interval counts from then",
          "[cosign][resign]") {
  Clocked c;
  c.advance(40);
  for (auto& n : c.nodes) {
    apply_all(*n->ledger, {register_tx(*c.tc, {"SN-2"})});
    must_ok(n->cps->refresh());
  }
  c.exchange();
  CHECK(c.cps(0).served().size == 2);
  CHECK(c.cps(0).served().fresh_as_of == kStartMs / 1000 + 40);
  c.advance(30);  // 70 s after the first signature, 30 s after the block's
  CHECK_FALSE(must(c.cps(0).resign_if_due()));
  c.advance(30);
  CHECK(must(c.cps(0).resign_if_due()));
}

TEST_CASE("re-signing: a clock stepped back never dates a signature earlier", "[cosign][resign]") {
  Clocked c;
  uint64_t t0 = kStartMs / 1000;
  c.advance(100);
  must_ok(c.cps(0).refresh());
  CHECK(c.own_time(0) == t0 + 100);
  c.nodes[0]->now_ms = kStartMs - 3'600'000;
  must_ok(c.cps(0).refresh());
  CHECK(c.own_time(0) == t0 + 100);
  // An older signature of a peer does not replace its newer one either.
  c.nodes[0]->now_ms = kStartMs + 200'000;
  std::string old_note = c.cps(1).newest().note;  // node-2 at t0
  c.nodes[1]->now_ms = kStartMs + 200'000;
  must_ok(c.cps(1).refresh());
  REQUIRE(c.cps(0).add_signatures(c.cps(1).newest().note).kind == CosignOutcome::Kind::kept);
  CosignOutcome o = c.cps(0).add_signatures(old_note);
  CHECK(o.kind == CosignOutcome::Kind::kept);
  auto v = must(verify_checkpoint(c.tc->consortium, c.cps(0).served().note));
  REQUIRE(v.signed_at.size() == 2);
  CHECK(v.signed_at[1].time == t0 + 200);
}

TEST_CASE("re-signing: a peer's signature dated beyond the clock skew is refused",
          "[cosign][resign]") {
  Clocked c;
  uint64_t skew_s = c.tc->consortium.policy().max_clock_skew_ms / 1000;
  c.nodes[1]->now_ms = kStartMs + (skew_s + 1) * 1000;
  must_ok(c.cps(1).refresh());
  CosignOutcome o = c.cps(0).add_signatures(c.cps(1).newest().note);
  CHECK(o.kind == CosignOutcome::Kind::refused);
  CHECK_THAT(o.reason, Catch::Contains("future"));
  c.nodes[1]->now_ms = kStartMs + skew_s * 1000;
  c.nodes[2]->now_ms = kStartMs + skew_s * 1000;
  must_ok(c.cps(2).refresh());
  CHECK(c.cps(0).add_signatures(c.cps(2).newest().note).kind == CosignOutcome::Kind::kept);
}

TEST_CASE("ResignTimer calls its function every period until stopped", "[cosign][resign]") {
  std::atomic<int> ticks{0};
  ResignTimer timer([&] { ++ticks; }, 5ms);
  timer.start();
  REQUIRE(eventually([&] { return ticks.load() >= 3; }));
  timer.stop();
  int after = ticks.load();
  CHECK(ticks.load() == after);
  CHECK(ResignTimer::period_for(1) == 250ms);
  CHECK(ResignTimer::period_for(60) == 5000ms);
  CHECK(ResignTimer::period_for(0) == 50ms);
}

}  // namespace chipledger
