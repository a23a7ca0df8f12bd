// Raft snapshots through the real Replicator (libuv I/O, TCP, RocksDB
// ledgers): with a small snapshot threshold and trailing window, the
// leader compacts its log while a follower is stopped; on restart the
// follower is further behind than the log reaches, receives the leader's
// snapshot of the ledger state, restores it and goes on with the entries
// after it, ending with the same size, root and applied entry. A node
// restarted on its own folders reloads its local snapshot without
// rewriting anything.
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "ledger/rocks_store.h"
#include "node/block_sequencer.h"
#include "node/raft_replicator.h"
#include "tests/node/raft_helpers.h"
#include "tests/node/raft_test_node.h"
#include "tests/node/test_consortium.h"

namespace chipledger {
namespace {

using namespace std::chrono_literals;
using namespace chipledger::testing;
namespace fs = std::filesystem;

constexpr unsigned kThreshold = 32;
constexpr unsigned kTrailing = 16;

using SnapNode = RaftTestNode;

struct SnapCluster {
  TempDir tmp{"chipledger-raft-snap-"};
  std::unique_ptr<TestConsortium> tc = make_consortium("raft-snapshot", 1, 3);
  std::vector<std::unique_ptr<SnapNode>> nodes;
  std::vector<RaftPeer> peers;

  SnapCluster() {
    for (uint64_t i = 0; i < 3; ++i) {
      auto n = std::make_unique<SnapNode>();
      n->id = i + 1;
      n->gather = 1ms;
      n->tune = [](ReplicatorOptions& o) {
        o.snapshot_threshold = kThreshold;
        o.snapshot_trailing = kTrailing;
      };
      n->address = "127.0.0.1:" + std::to_string(free_port());
      n->dir = tmp.path / ("node" + std::to_string(i + 1));
      fs::create_directories(n->dir);
      peers.push_back(RaftPeer{n->id, n->address});
      nodes.push_back(std::move(n));
    }
    for (auto& n : nodes) must_ok(n->start(tc->consortium, peers));
  }
  ~SnapCluster() {
    for (auto& n : nodes) n->stop();
  }

  SnapNode* leader() {
    SnapNode* found = nullptr;
    for (auto& n : nodes) {
      if (n->running() && n->replicator->status().role == RaftRole::leader) found = n.get();
    }
    if (!found) return nullptr;
    for (auto& n : nodes) {
      if (n->running() && n->replicator->status().leader_id != found->id) return nullptr;
    }
    return found;
  }

  SnapNode* wait_leader() {
    SnapNode* l = nullptr;
    eventually([&] { return (l = leader()) != nullptr; });
    return l;
  }

  // Submits `tx` to whichever node leads until it is accepted or found
  // already in the ledger. A leader can lose its term mid-test when a
  // loaded CI machine stalls it past the election timeout (400 ms); the
  // same signed transaction is then resubmitted to the next leader, and
  // a replay answer says where the first copy landed.
  void submit_until_in(const SignedTransaction& tx) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
      SnapNode* l = wait_leader();
      if (!l) continue;
      auto r = l->submit(tx);
      if (r && (r->accepted || r->already_in_ledger)) return;
      last = r ? r->reason : r.reason();
      std::this_thread::sleep_for(20ms);
    }
    FAIL("not in the ledger within 60 s: " << last);
  }

  // The most snapshots any running node other than `away` has taken.
  uint64_t snapshots_taken(const SnapNode* away) {
    uint64_t most = 0;
    for (auto& n : nodes) {
      if (n.get() == away || !n->running()) continue;
      most = std::max<uint64_t>(most, n->replicator->status().snapshots_taken);
    }
    return most;
  }

  bool converged(uint64_t size) {
    std::optional<Hash> root;
    for (auto& n : nodes) {
      if (!n->running()) continue;
      if (n->ledger->size() != size) return false;
      auto r = n->ledger->root_at(size);
      if (!r || (root && *root != *r)) return false;
      root = *r;
    }
    return true;
  }
};

size_t snapshot_files(const fs::path& raft_dir) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(raft_dir)) {
    if (e.path().filename().string().rfind("snapshot-", 0) == 0) ++n;
  }
  return n;
}

}  // namespace

TEST_CASE(
    "a follower further behind than the leader's log catches up from a snapshot of the "
    "ledger state",
    "[raft][snapshot]") {
  SnapCluster c;
  SnapNode* leader = nullptr;
  REQUIRE(eventually([&] { return (leader = c.leader()) != nullptr; }));
  SnapNode* away = nullptr;
  for (auto& n : c.nodes) {
    if (n.get() != leader) away = n.get();
  }
  uint64_t n = 0;
  auto reg = [&] { c.submit_until_in(register_tx(*c.tc, {"SN-" + std::to_string(n++)})); };
  for (int i = 0; i < 5; ++i) reg();
  REQUIRE(eventually([&] { return c.converged(n); }));
  away->stop();

  // One block per submission: several thresholds' worth of entries.
  for (unsigned i = 0; i < 5 * kThreshold; ++i) reg();
  REQUIRE(eventually([&] { return c.converged(n); }));
  REQUIRE(eventually([&] { return c.snapshots_taken(away) >= 2; }));
  CHECK(eventually([&] {  // .meta and data, on every node that stayed
    for (auto& node : c.nodes) {
      if (node.get() != away && snapshot_files(node->dir / "raft") < 2) return false;
    }
    return true;
  }));
  CHECK(away->ledger->size() == 5);

  must_ok(away->start(c.tc->consortium, c.peers));
  REQUIRE(eventually([&] { return c.converged(n); }, 30s));
  CHECK(away->replicator->status().snapshots_restored >= 1);
  // It goes on with entries after the snapshot, and every node agrees.
  for (int i = 0; i < 3; ++i) reg();
  REQUIRE(eventually([&] { return c.converged(n); }));
  REQUIRE(eventually([&] {
    SnapNode* l = c.leader();
    return l && away->ledger->applied_entry() == l->ledger->applied_entry();
  }));
  auto rec = must(away->ledger->serial("SN-40"));
  CHECK(rec.has_value());

  // A restart on its own folders: libraft loads the local snapshot, which
  // the ledger has already (nothing is rewritten), then replays the rest.
  away->stop();
  must_ok(away->start(c.tc->consortium, c.peers));
  CHECK(away->replicator->status().snapshots_restored == 0);
  for (int i = 0; i < 3; ++i) reg();
  REQUIRE(eventually([&] { return c.converged(n); }));
  std::cout << "raft_snapshot_test: " << n << " entries; the nodes that stayed took up to "
            << c.snapshots_taken(away) << " snapshots" << std::endl;
}

}  // namespace chipledger
