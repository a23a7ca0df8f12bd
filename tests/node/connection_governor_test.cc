// The API server's connection books (node/connection_governor.h): the caps
// in all and per address hold, a full server or address makes room by
// closing the connection that has waited longest for a request, and refuses
// a newcomer only when every open connection is busy. A randomised run
// checks the invariants against a plain model (the seed is printed;
// CHIPLEDGER_TEST_SEED replays it).
#include "node/connection_governor.h"
#include "tests/test_seed.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <random>
#include <string>

namespace chipledger {
namespace {

using G = ConnectionGovernor;

using chipledger::testing::test_seed;

TEST_CASE("connection governor: a full server evicts the longest-waiting connection",
          "[connection_governor]") {
  G g({3, 10});
  auto a = g.open("10.0.0.1", 100);
  auto b = g.open("10.0.0.2", 200);
  auto c = g.open("10.0.0.3", 300);
  REQUIRE(a.outcome == G::Outcome::admitted);
  REQUIRE(c.outcome == G::Outcome::admitted);
  CHECK_FALSE(c.evict);
  g.set_waiting(a.id, false, 400);  // a has a request: busy
  auto d = g.open("10.0.0.4", 500);
  REQUIRE(d.outcome == G::Outcome::admitted);
  REQUIRE(d.evict);
  CHECK(*d.evict == b.id);  // b waited since 200, longer than c
  CHECK(g.stats().open == 3);
  CHECK(g.stats().evicted == 1);
  g.close(b.id);  // the evicted session closing later changes nothing
  CHECK(g.stats().open == 3);
}

TEST_CASE("connection governor: a server whose connections are all busy refuses",
          "[connection_governor]") {
  G g({2, 10});
  auto a = g.open("10.0.0.1", 1);
  auto b = g.open("10.0.0.2", 2);
  g.set_waiting(a.id, false, 3);
  g.set_waiting(b.id, false, 3);
  auto c = g.open("10.0.0.3", 4);
  CHECK(c.outcome == G::Outcome::server_full);
  CHECK(g.stats().refused_server_full == 1);
  CHECK(g.stats().open == 2);
  g.close(a.id);
  CHECK(g.open("10.0.0.3", 5).outcome == G::Outcome::admitted);
}

TEST_CASE("connection governor: an address at its cap makes room from its own connections only",
          "[connection_governor]") {
  G g({100, 2});
  auto other = g.open("10.0.0.9", 1);  // waited longest of all
  auto a1 = g.open("10.0.0.1", 2);
  auto a2 = g.open("10.0.0.1", 3);
  g.set_waiting(a1.id, false, 4);
  auto a3 = g.open("10.0.0.1", 5);
  REQUIRE(a3.outcome == G::Outcome::admitted);
  REQUIRE(a3.evict);
  CHECK(*a3.evict == a2.id);  // not `other`: another address keeps its slot
  g.set_waiting(a3.id, false, 6);
  CHECK(g.open("10.0.0.1", 7).outcome == G::Outcome::address_full);
  CHECK(g.stats().refused_address_full == 1);
  CHECK(g.open("10.0.0.2", 8).outcome == G::Outcome::admitted);
  (void)other;
}

TEST_CASE("connection governor: a connection waiting again is evicted by its new waiting time",
          "[connection_governor]") {
  G g({2, 10});
  auto a = g.open("10.0.0.1", 1);
  auto b = g.open("10.0.0.2", 2);
  g.set_waiting(a.id, false, 3);
  g.set_waiting(a.id, true, 10);  // answered, keep-alive: waiting since 10
  auto c = g.open("10.0.0.3", 11);
  REQUIRE(c.evict);
  CHECK(*c.evict == b.id);
}

TEST_CASE("connection governor: random opens, requests and closes keep the caps",
          "[connection_governor]") {
  const uint64_t seed = test_seed();
  WARN("connection governor seed " << seed << " (set CHIPLEDGER_TEST_SEED to replay)");
  std::mt19937_64 rng(seed);
  const G::Limits limits{20, 5};
  G g(limits);
  struct Model {
    std::string address;
    bool waiting = true;
    uint64_t since = 0;
  };
  std::map<uint64_t, Model> open;
  uint64_t now = 0;
  for (int step = 0; step < 20000; ++step) {
    ++now;
    const int op = static_cast<int>(rng() % 4);
    if (op == 0 || open.empty()) {
      const std::string address = "10.0.0." + std::to_string(rng() % 8);
      size_t from_address = 0;
      bool any_waiting = false, address_waiting = false;
      uint64_t oldest = UINT64_MAX, oldest_here = UINT64_MAX;
      for (const auto& [id, m] : open) {
        if (m.address == address) ++from_address;
        if (!m.waiting) continue;
        any_waiting = true;
        oldest = std::min(oldest, m.since);
        if (m.address == address) {
          address_waiting = true;
          oldest_here = std::min(oldest_here, m.since);
        }
      }
      auto d = g.open(address, now);
      if (from_address >= limits.max_per_address) {
        REQUIRE((d.outcome == G::Outcome::admitted) == address_waiting);
        if (d.evict) REQUIRE(open.at(*d.evict).since == oldest_here);
      } else if (open.size() >= limits.max_connections) {
        REQUIRE((d.outcome == G::Outcome::admitted) == any_waiting);
        if (d.evict) REQUIRE(open.at(*d.evict).since == oldest);
      } else {
        REQUIRE(d.outcome == G::Outcome::admitted);
        REQUIRE_FALSE(d.evict);
      }
      if (d.evict) {
        REQUIRE(open.at(*d.evict).waiting);
        open.erase(*d.evict);
      }
      if (d.outcome == G::Outcome::admitted) open[d.id] = Model{address, true, now};
    } else {
      auto it = open.begin();
      std::advance(it, static_cast<long>(rng() % open.size()));
      if (op == 1) {
        g.close(it->first);
        open.erase(it);
      } else {
        const bool waiting = op == 2;
        g.set_waiting(it->first, waiting, now);
        if (waiting || it->second.waiting) it->second.since = now;
        it->second.waiting = waiting;
      }
    }
    REQUIRE(g.stats().open == open.size());
    REQUIRE(open.size() <= limits.max_connections);
  }
}

}  // namespace
}  // namespace chipledger
