// Membership changes at run time through `chipledger-node admin`'s client
// (node/admin_client.h -> POST /v1/admin/membership -> libraft's raft_add,
// raft_assign, raft_remove): three NodeServices run, a fourth started with
// [raft] join = true is added and made a voter and catches up; a follower
// is removed and the cluster goes on. A change not signed by a node key of
// the consortium is refused.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "client/node_client.h"
#include "client/submission.h"
#include "crypto/signed_note.h"
#include "node/admin_client.h"
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
  std::unique_ptr<TestConsortium> tc = make_consortium("raft-members", 3, 4);
  std::vector<NodeConfig> configs;
  std::vector<std::unique_ptr<NodeService>> nodes;

  FourNodes() {
    {
      std::ofstream out(tmp.path / "consortium.json");
      out << tc->consortium.to_json();
    }
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
  // `chipledger-node admin --ca --tls-cert --tls-key` as node i's operator.
  AdminTarget admin(size_t to, size_t as) const {
    AdminTarget t{url(to), tc->node_id(as), key_file(as)};
    t.ca_file = configs[as].tls_ca_file;
    t.tls_cert_file = configs[as].tls_cert_file;
    t.tls_key_file = configs[as].tls_key_file;
    return t;
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

}  // namespace

TEST_CASE("admin: add a fourth node as a voter, remove another, the cluster goes on",
          "[raft][membership]") {
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

  // Node 4 starts with join = true: no bootstrap, no leader until added.
  c.start(3);
  CHECK(c.health(3)["size"] == 0);

  // A change signed by a key the consortium does not list: 403.
  {
    auto stranger = fresh_key();
    std::string stranger_file = (c.tmp.path / "stranger.pem").string();
    must_ok(stranger.save_file(stranger_file));
    AdminTarget target = c.admin(0, 0);
    target.key_file = stranger_file;
    auto refused = request_membership_change(
        target, MembershipRequest{"add", 4, c.configs[3].raft_listen, ""});
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.reason(), Catch::Contains("403"));
  }
  // A rightly signed change from a caller without a node's TLS certificate:
  // 401 before the note is read.
  {
    AdminTarget target = c.admin(0, 0);
    target.tls_cert_file.clear();
    target.tls_key_file.clear();
    auto refused = request_membership_change(
        target, MembershipRequest{"add", 4, c.configs[3].raft_listen, ""});
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.reason(), Catch::Contains("401"));
    CHECK_THAT(refused.reason(), Catch::Contains("client certificate"));
  }

  // Through a follower (421 -> the leader): add as a spare, then a voter.
  size_t follower = (*leader + 1) % 3;
  AdminTarget admin = c.admin(follower, follower);
  must(request_membership_change(admin, MembershipRequest{"add", 4, c.configs[3].raft_listen, ""}));
  auto promoted =
      must(request_membership_change(admin, MembershipRequest{"assign", 4, "", "voter"}));
  CHECK_THAT(promoted, Catch::Contains("\"id\":4"));
  REQUIRE(eventually([&] { return c.voters(*leader) == std::vector<uint64_t>{1, 2, 3, 4}; }));
  REQUIRE(eventually([&] { return c.sizes_equal({0, 1, 2, 3}, 3); }));

  // Remove a follower other than the leader; four voters -> three.
  size_t gone = (*leader + 2) % 3;
  must(request_membership_change(admin, MembershipRequest{"remove", gone + 1, "", ""}));
  REQUIRE(eventually([&] { return c.voters(*leader).size() == 3; }));
  c.nodes[gone]->stop();
  c.nodes[gone].reset();
  std::vector<size_t> left;
  for (size_t i = 0; i < 4; ++i) {
    if (c.nodes[i]) left.push_back(i);
  }
  for (int i = 3; i < 6; ++i) {
    CHECK(submit_and_resolve(*client, register_tx(*c.tc, {"SN-" + std::to_string(i)}, now_ms()),
                             std::chrono::steady_clock::now() + 20s, 5s)
              .kind == SubmitOutcome::Kind::accepted);
  }
  REQUIRE(eventually([&] { return c.sizes_equal(left, 6); }));
  AdminTarget reader{c.url(3), "", ""};
  reader.ca_file = c.configs[3].tls_ca_file;  // server verification only
  auto listed = must(list_members(reader));
  CHECK_THAT(listed, Catch::Contains("\"members\""));
}

}  // namespace chipledger
