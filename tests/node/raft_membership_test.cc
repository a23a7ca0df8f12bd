// Raft membership follows governance votes (docs/governance.md, section 6):
// three NodeServices run a cluster whose trust file names their Raft ids; a
// fourth, started with [raft] join = true, is added by a vote (add-node
// with the quorum raised) and the leader makes it a voter: it catches up
// and its checkpoint signature counts. A node removed by a vote leaves the
// Raft configuration and its signature no longer counts. Nothing else
// changes the membership: the single-node-key endpoint is gone.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/node_client.h"
#include "client/submission.h"
#include "ledger/checkpoint.h"
#include "ledger/governance.h"
#include "node/node_config.h"
#include "node/node_service.h"
#include "tests/node/raft_helpers.h"
#include "tests/node/test_consortium.h"
#include "tests/node/test_tls.h"

namespace chipledger {
namespace {

using namespace std::chrono_literals;
using namespace chipledger::testing;
namespace fs = std::filesystem;
using nlohmann::json;

struct FourNodes {
  TempDir tmp{"chipledger-raft-members-"};
  // Three nodes of the trust file (quorum 2), a fourth key for the node
  // added by vote; maker and reg are the admins, 2 of 2.
  std::unique_ptr<TestConsortium> tc = make_consortium("raft-members", 2, 4);
  std::vector<NodeConfig> configs;
  std::vector<std::unique_ptr<NodeService>> nodes;

  Consortium genesis;

  FourNodes() {
    std::vector<RaftPeerConfig> peers;
    for (size_t i = 0; i < 4; ++i) {
      peers.push_back(RaftPeerConfig{i + 1, "127.0.0.1:" + std::to_string(free_port()),
                                     "https://127.0.0.1:" + std::to_string(free_port())});
      NodeConfig c;
      c.node_id = tc->node_id(i);
      c.key_file = key_file(i);
      must_ok(tc->node_key(i).save_file(c.key_file));
      c.data_dir = (tmp.path / c.node_id).string();
      c.consortium_file = (tmp.path / "consortium.json").string();
      c.listen_port = static_cast<uint16_t>(std::stoi(peers.back().api_url.substr(18)));
      c.raft_id = i + 1;
      c.raft_listen = peers.back().address;
      c.raft_election_timeout_ms = 400;
      c.raft_heartbeat_timeout_ms = 40;
      write_test_tls(tmp.path, c);
      configs.push_back(c);
    }
    // The trust file: nodes 1-3 with their Raft ids; node 4 is not in it.
    auto c = must(Consortium::create(tc->ledger_id, 2, Policy{}));
    for (const auto& [id, m] : tc->consortium.members()) must_ok(c.add_member(m));
    for (size_t i = 0; i < 3; ++i) {
      NodeInfo n = tc->consortium.nodes()[i];
      n.api = peers[i].api_url;
      n.raft_id = i + 1;
      n.raft_address = peers[i].address;
      must_ok(c.add_node(std::move(n)));
    }
    must_ok(c.set_governance(GovernanceRule{{"maker", "reg"}, 2, 3600 * 1000}));
    must_ok(c.validate());
    genesis = c;
    {
      std::ofstream out(tmp.path / "consortium.json");
      out << genesis.to_json();
    }
    // The first three bootstrap as the cluster; the fourth joins later.
    for (size_t i = 0; i < 3; ++i) configs[i].raft_peers.assign(peers.begin(), peers.begin() + 3);
    configs[3].raft_peers = peers;
    configs[3].raft_join = true;
    nodes.resize(4);
    for (size_t i = 0; i < 3; ++i) start(i);
  }
  ~FourNodes() {
    for (auto& n : nodes) {
      if (n) n->stop();
    }
  }

  void start(size_t i) {
    nodes[i] = must(NodeService::open(configs[i]));
    must_ok(nodes[i]->start());
  }
  std::string key_file(size_t i) const { return (tmp.path / (tc->node_id(i) + ".pem")).string(); }
  std::string url(size_t i) const {
    return "https://127.0.0.1:" + std::to_string(configs[i].listen_port);
  }
  json health(size_t i) const {
    auto client = must(NodeClient::connect_to(url(i), test_https_options()));
    return must(client->health());
  }
  std::optional<size_t> leader() const {
    for (size_t i = 0; i < 4; ++i) {
      if (nodes[i] && health(i)["raft"]["role"] == "leader") return i;
    }
    return std::nullopt;
  }
  bool sizes_equal(const std::vector<size_t>& which, uint64_t size) const {
    for (size_t i : which) {
      if (health(i)["size"] != size) return false;
    }
    return true;
  }
  std::vector<uint64_t> voters(size_t i) const {
    std::vector<uint64_t> out;
    json h = health(i);  // the range below must not outlive it
    for (const auto& m : h["raft"]["members"]) {
      if (m["role"] == "voter") out.push_back(m["id"]);
    }
    return out;
  }
};

// A proposal by maker and reg's vote, each submitted until accepted.
void pass(NodeClient& client, const TestConsortium& tc, std::vector<GovernanceChange> changes) {
  Transaction p = base_tx(tc, TxType::propose, "maker", now_ms());
  p.changes = std::move(changes);
  SignedTransaction proposal = sign(tc, p);
  auto proposed = submit_and_resolve(client, proposal, std::chrono::steady_clock::now() + 20s, 5s);
  INFO(proposed.reason);
  REQUIRE(proposed.kind == SubmitOutcome::Kind::accepted);
  Transaction v = base_tx(tc, TxType::vote, "reg", now_ms());
  v.proposal = proposal.txid;
  auto voted = submit_and_resolve(client, sign(tc, v), std::chrono::steady_clock::now() + 20s, 5s);
  INFO(voted.reason);
  REQUIRE(voted.kind == SubmitOutcome::Kind::accepted);
}

// The signers of node i's checkpoint that count by `in_force`.
std::vector<std::string> counted_signers(const FourNodes& c, size_t i, const Consortium& in_force) {
  auto client = must(NodeClient::connect_to(c.url(i), test_https_options()));
  auto note = client->checkpoint();
  if (!note) return {};
  auto cp = verify_checkpoint(in_force, *note);
  return cp ? cp->signers : std::vector<std::string>{};
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE(
    "membership: a node added by vote becomes a voter and signs, a node removed by vote leaves",
    "[raft][membership][governance]") {
  FourNodes c;
  std::optional<size_t> leader;
  REQUIRE(eventually([&] { return (leader = c.leader()).has_value(); }));
  auto client = must(NodeClient::connect_to(c.url(*leader), test_https_options()));
  for (int i = 0; i < 3; ++i) {
    CHECK(submit_and_resolve(*client, register_tx(*c.tc, {"SN-" + std::to_string(i)}, now_ms()),
                             std::chrono::steady_clock::now() + 20s, 5s)
              .kind == SubmitOutcome::Kind::accepted);
  }
  CHECK(c.voters(*leader) == std::vector<uint64_t>{1, 2, 3});

  // Node 4 starts with join = true: no bootstrap, nothing until added.
  c.start(3);
  CHECK(c.health(3)["size"] == 0);
  CHECK(c.voters(*leader) == std::vector<uint64_t>{1, 2, 3});

  // The vote: node-4 added with the quorum raised to 3 of 4 (2 of 4 would
  // be no majority, and the proposal is refused).
  GovernanceChange add;
  add.kind = ChangeKind::add_node;
  add.node = c.tc->node_id(3);
  add.member = "maker";
  add.keys = {c.tc->node_key(3).public_key().der()};
  add.api = c.url(3);
  add.raft_id = 4;
  add.raft_address = c.configs[3].raft_listen;
  GovernanceChange quorum;
  quorum.kind = ChangeKind::set_quorum;
  quorum.quorum = 3;
  pass(*client, *c.tc, {add, quorum});
  Consortium four = must(apply_changes(c.genesis, {add, quorum}, 1, 1));

  // The leader makes it a voter; it catches up; its signature counts.
  REQUIRE(eventually([&] { return c.voters(*leader) == std::vector<uint64_t>{1, 2, 3, 4}; }, 60s));
  const uint64_t size = c.health(*leader)["size"];
  REQUIRE(eventually([&] { return c.sizes_equal({0, 1, 2, 3}, size); }, 60s));
  CHECK(submit_and_resolve(*client, register_tx(*c.tc, {"SN-3"}, now_ms()),
                           std::chrono::steady_clock::now() + 20s, 5s)
            .kind == SubmitOutcome::Kind::accepted);
  REQUIRE(eventually([&] { return has(counted_signers(c, *leader, four), "node-4"); }, 60s));

  // A follower removed by vote (the quorum back to 2 of 3): out of the Raft
  // configuration, and its signature no longer counts.
  size_t gone = (*leader + 1) % 3;
  GovernanceChange remove;
  remove.kind = ChangeKind::remove_node;
  remove.node = c.tc->node_id(gone);
  GovernanceChange two = quorum;
  two.quorum = 2;
  pass(*client, *c.tc, {remove, two});
  Consortium three = must(apply_changes(four, {remove, two}, 2, 2));
  REQUIRE(eventually(
      [&] {
        auto v = c.voters(*leader);
        return v.size() == 3 && std::find(v.begin(), v.end(), gone + 1) == v.end();
      },
      60s));
  CHECK(c.health(*leader)["raft"]["members"].size() == 3);
  c.nodes[gone]->stop();
  c.nodes[gone].reset();
  // Its ledger knows the votes: a node config that disagrees with the
  // consortium in force about node ids or Raft ids is refused at start.
  {
    NodeConfig reuse = c.configs[gone];
    CHECK_THAT(NodeService::open(reuse).reason(),
               Catch::Contains("was removed by a governance vote"));
    reuse.node_id = c.tc->node_id(3);
    reuse.key_file = c.key_file(3);
    reuse.raft_id = 9;
    CHECK_THAT(NodeService::open(reuse).reason(),
               Catch::Contains("gives node " + c.tc->node_id(3) + " the Raft id 4"));
    reuse.raft_id = gone + 1;
    CHECK_THAT(NodeService::open(reuse).reason(),
               Catch::Contains("removed by a governance vote; it is never used again"));
    reuse.raft_id = *leader + 1;
    CHECK_THAT(NodeService::open(reuse).reason(),
               Catch::Contains("is node " + c.tc->node_id(*leader) + "'s in the consortium"));
  }
  std::vector<size_t> left;
  for (size_t i = 0; i < 4; ++i) {
    if (c.nodes[i]) left.push_back(i);
  }
  for (int i = 4; i < 6; ++i) {
    CHECK(submit_and_resolve(*client, register_tx(*c.tc, {"SN-" + std::to_string(i)}, now_ms()),
                             std::chrono::steady_clock::now() + 20s, 5s)
              .kind == SubmitOutcome::Kind::accepted);
  }
  const uint64_t final_size = c.health(*leader)["size"];
  REQUIRE(eventually([&] { return c.sizes_equal(left, final_size); }, 60s));
  std::vector<std::string> signers;
  REQUIRE(eventually(
      [&] {
        signers = counted_signers(c, *leader, three);
        return signers.size() >= 2;
      },
      60s));
  CHECK_FALSE(has(signers, c.tc->node_id(gone)));

  // The leader itself removed by vote: it hands the leadership on first
  // (raft_transfer), and the next leader removes it.
  const size_t old_leader = *leader;
  size_t other = 3;  // node-4, not the leader
  auto via = must(NodeClient::connect_to(c.url(other), test_https_options()));
  GovernanceChange remove_leader = remove;
  remove_leader.node = c.tc->node_id(old_leader);
  pass(*via, *c.tc, {remove_leader});
  std::optional<size_t> next;
  REQUIRE(eventually(
      [&] {
        next.reset();
        for (size_t i : left) {
          if (i != old_leader && c.nodes[i] && c.health(i)["raft"]["role"] == "leader") next = i;
        }
        if (!next) return false;
        auto v = c.voters(*next);
        return v.size() == 2 && std::find(v.begin(), v.end(), old_leader + 1) == v.end();
      },
      60s));
  CHECK(*next != old_leader);
}

}  // namespace chipledger
