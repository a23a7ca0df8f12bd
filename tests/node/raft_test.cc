// Replication through libraft, in process on loopback ports: a one-node
// cluster and a three-node cluster of real Replicators (libuv I/O, TCP
// transport, Raft folders in temporary directories) over RocksDB ledgers,
// each fed by its own BlockSequencer. Submissions on the leader are applied
// on every node with identical roots; a follower refuses them; after the
// leader stops a new one is elected and takes submissions; a restarted node
// replays its Raft log without applying a block twice and catches up.
// Every wait is on a condition with a deadline.
#include "node/raft_replicator.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ledger/rocks_store.h"
#include "node/block_sequencer.h"
#include "tests/node/raft_helpers.h"
#include "tests/node/raft_test_node.h"
#include "tests/node/test_consortium.h"

namespace chipledger {
namespace {

using namespace std::chrono_literals;
using namespace chipledger::testing;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

using Node = RaftTestNode;

struct Cluster {
  TempDir tmp;
  std::unique_ptr<TestConsortium> tc = make_consortium("raft-test", 1, 3);
  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<RaftPeer> peers;

  explicit Cluster(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      auto node = std::make_unique<Node>();
      node->id = i + 1;
      node->address = "127.0.0.1:" + std::to_string(free_port());
      node->dir = tmp.path / ("node" + std::to_string(i + 1));
      fs::create_directories(node->dir);
      peers.push_back(RaftPeer{node->id, node->address});
      nodes.push_back(std::move(node));
    }
    for (auto& node : nodes) must_ok(node->start(tc->consortium, peers));
  }
  ~Cluster() {
    for (auto& n : nodes) n->stop();
  }

  // The one running node that is leader and that every running node follows.
  Node* leader() {
    Node* found = nullptr;
    for (auto& n : nodes) {
      if (!n->running()) continue;
      if (n->replicator->status().role == RaftRole::leader) {
        if (found) return nullptr;
        found = n.get();
      }
    }
    if (!found) return nullptr;
    for (auto& n : nodes) {
      if (n->running() && n->replicator->status().leader_id != found->id) return nullptr;
    }
    return found;
  }

  Node* wait_leader(std::chrono::milliseconds limit = 20s) {
    Node* l = nullptr;
    eventually([&] { return (l = leader()) != nullptr; }, limit);
    return l;
  }

  // Every running node holds `size` entries with one and the same root.
  bool converged(uint64_t size) {
    std::optional<Hash> root;
    for (auto& n : nodes) {
      if (!n->running()) continue;
      if (n->ledger->size() != size) return false;
      auto r = n->ledger->root_at(size);
      if (!r) return false;
      if (root && *root != *r) return false;
      root = *r;
    }
    return true;
  }
};

SignedTransaction reg(const TestConsortium& tc, const std::string& serial) {
  return register_tx(tc, {serial});
}

}  // namespace

TEST_CASE(
    "a one-node cluster: the same code path, applies, answers, and restarts without "
    "applying twice",
    "[raft]") {
  Cluster c(1);
  Node& n = *c.nodes[0];
  Node* l = c.wait_leader(5s);
  REQUIRE(l == &n);

  auto a = must(n.submit(reg(*c.tc, "SN-1")));
  CHECK(a.accepted);
  CHECK(a.index == 0);
  auto b = must(n.submit(reg(*c.tc, "SN-2"), /*checked=*/false));
  CHECK(b.accepted);
  CHECK(b.index == 1);
  // A replay is refused by the rules, through the log like any block.
  auto replay = must(n.submit(reg(*c.tc, "SN-1")));
  CHECK_FALSE(replay.accepted);
  CHECK_THAT(replay.reason, Catch::Contains("already"));
  // A badly signed transaction that was not checked on arrival is checked in apply.
  auto bad = reg(*c.tc, "SN-3");
  bad.signature[0] ^= 1;
  auto refused = must(n.submit(bad, /*checked=*/false));
  CHECK_FALSE(refused.accepted);
  CHECK(n.ledger->size() == 2);
  uint64_t applied = n.ledger->applied_entry();
  CHECK(applied >= 4);  // bootstrap configuration, then one entry per block
  CHECK(n.after_apply_calls.load() == 4);
  // Counted for the ledger's cost: 4 blocks of one transaction each,
  // accepted or refused, and the time they took.
  RaftStatus counted = n.replicator->status();
  CHECK(counted.blocks_applied == 4);
  CHECK(counted.transactions_applied == 4);
  CHECK(counted.apply_us > 0);
  Hash root = must(n.ledger->root_at(2));

  // Restart on the same RocksDB and Raft folder: the log is replayed into
  // the FSM and every entry at or below applied_entry is skipped.
  n.stop();
  must_ok(n.start(c.tc->consortium, c.peers));
  REQUIRE(c.wait_leader(5s) == &n);
  CHECK(n.ledger->size() == 2);
  CHECK(must(n.ledger->root_at(2)) == root);
  CHECK(n.after_apply_calls.load() == 4);
  CHECK(n.replicator->status().last_applied >= applied);
  CHECK(n.replicator->status().blocks_applied == 0);  // skipped entries are not counted
  auto d = must(n.submit(reg(*c.tc, "SN-4")));
  CHECK(d.accepted);
  CHECK(d.index == 2);
  CHECK(n.ledger->applied_entry() > applied);

  // A lost Raft folder under a ledger that applied entries: refuse to start
  // (new entries would be taken for applied ones).
  n.stop();
  fs::remove_all(n.dir / "raft");
  Status lost = n.start(c.tc->consortium, c.peers);
  REQUIRE_FALSE(lost);
  CHECK_THAT(lost.reason(), Catch::Contains("Raft folder was lost or replaced"));

  // A ledger restored from a backup to join a running cluster
  // (docs/backup.md, data_dir/restored.json): its fresh Raft folder is
  // expected, while the node waits to be added...
  const uint64_t restored = n.ledger->applied_entry();
  auto joining = [&](bool first_start) {
    n.tune = [restored, first_start](ReplicatorOptions& o) {
      o.bootstrap = false;
      o.restored_entry = restored;
      o.restored_first_start = first_start;
    };
  };
  joining(true);
  must_ok(n.start(c.tc->consortium, c.peers));
  n.stop();
  // ... but once its Raft held a term (the marker says so), a fresh Raft
  // folder is a lost one again.
  fs::remove_all(n.dir / "raft");
  joining(false);
  Status lost_after_join = n.start(c.tc->consortium, c.peers);
  REQUIRE_FALSE(lost_after_join);
  CHECK_THAT(lost_after_join.reason(), Catch::Contains("Raft folder was lost or replaced"));
  // And the marker never relaxes a node that bootstraps its own log.
  n.tune = [restored](ReplicatorOptions& o) {
    o.restored_entry = restored;
    o.restored_first_start = true;
  };
  Status bootstrapping = n.start(c.tc->consortium, c.peers);
  REQUIRE_FALSE(bootstrapping);
  CHECK_THAT(bootstrapping.reason(), Catch::Contains("Raft folder was lost or replaced"));
}

TEST_CASE(
    "a three-node cluster applies the leader's blocks everywhere, survives the leader's "
    "loss and catches a restarted node up",
    "[raft]") {
  Cluster c(3);
  Node* leader = c.wait_leader();
  REQUIRE(leader != nullptr);

  // Concurrent submissions on the leader share blocks; all are accepted.
  constexpr int kFirst = 40;
  std::vector<std::future<Result<TxOutcome>>> answers;
  for (int i = 0; i < kFirst; ++i) {
    auto tx = reg(*c.tc, "SN-" + std::to_string(i));
    answers.push_back(std::async(std::launch::async, [leader, tx] { return leader->submit(tx); }));
  }
  std::set<uint64_t> indices;
  for (auto& f : answers) {
    auto r = must(f.get());
    INFO(r.reason);
    CHECK(r.accepted);
    indices.insert(r.index);
  }
  CHECK(indices.size() == kFirst);
  CHECK(*indices.rbegin() == kFirst - 1);
  REQUIRE(eventually([&] { return c.converged(kFirst); }));
  // The leader's block clock here is kT0 (2024), years from the followers'
  // real clocks: they apply its blocks all the same, and count and say it.
  for (auto& n : c.nodes) {
    RaftStatus s = n->replicator->status();
    if (n.get() == leader) {
      CHECK(s.skewed_blocks == 0);
    } else {
      CHECK(s.skewed_blocks > 0);
      CHECK(s.last_block_skew_ms < -365LL * 86400 * 1000);
    }
  }

  // A follower's sequencer refuses: only the leader proposes.
  Node* follower = nullptr;
  for (auto& n : c.nodes) {
    if (n.get() != leader) follower = n.get();
  }
  auto not_leader = follower->submit(reg(*c.tc, "SN-follower"));
  REQUIRE_FALSE(not_leader);
  CHECK_THAT(not_leader.reason(), Catch::Contains("not the Raft leader"));

  // Stop the leader; measure until the next transaction is accepted.
  auto killed_at = Clock::now();
  uint64_t old_leader_id = leader->id;
  leader->stop();
  Node* next = c.wait_leader();
  REQUIRE(next != nullptr);
  CHECK(next->id != old_leader_id);
  auto after = must(next->submit(reg(*c.tc, "SN-after-failover")));
  REQUIRE(after.accepted);
  auto failover_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed_at).count();
  std::cout << "raft_test: leader stopped -> next transaction accepted in " << failover_ms << " ms"
            << std::endl;
  CHECK(after.index == kFirst);

  for (int i = 0; i < 10; ++i) {
    auto r = must(next->submit(reg(*c.tc, "SN-more-" + std::to_string(i))));
    CHECK(r.accepted);
  }
  constexpr uint64_t kTotal = kFirst + 11;
  REQUIRE(eventually([&] { return c.converged(kTotal); }));

  // The old leader restarts on its folders: it replays what it applied
  // (skipped), receives what it missed, and ends with the same root.
  Node& old = *c.nodes[old_leader_id - 1];
  CHECK(old.ledger->size() == kFirst);
  must_ok(old.start(c.tc->consortium, c.peers));
  REQUIRE(eventually([&] { return c.converged(kTotal); }));
  REQUIRE(c.wait_leader() != nullptr);
  Hash root = must(c.nodes[0]->ledger->root_at(kTotal));
  for (auto& n : c.nodes) {
    CHECK(must(n->ledger->root_at(kTotal)) == root);
    CHECK(n->ledger->applied_entry() == c.nodes[0]->ledger->applied_entry());
  }
}

}  // namespace chipledger
