// The pure plan the leader follows to make the Raft configuration match the
// consortium in force (node/raft_membership_plan.h): removals first, then
// additions as spares, then promotions; the leader hands on its leadership
// before its own removal; servers of nodes without a Raft id are left alone.
#include "node/raft_membership_plan.h"

#include <catch2/catch.hpp>

#include "tests/node/test_consortium.h"

namespace chipledger {
namespace {

using testing::fresh_key;
using testing::must_ok;
using Op = MembershipChange::Op;

// A consortium of nodes "node-<raft id>" (raft id 0: none) run by one member.
Consortium nodes_with(const std::vector<uint64_t>& raft_ids) {
  auto c = Consortium::create("plan-test", static_cast<uint32_t>(raft_ids.size() / 2 + 1), {});
  REQUIRE(c);
  must_ok(c->add_member(
      Member{"m", "M", {Role::manufacturer}, "TW", {fresh_key().public_key()}, false}));
  int n = 0;
  for (uint64_t id : raft_ids) {
    std::string address = id ? "127.0.0.1:" + std::to_string(7000 + id) : "";
    must_ok(c->add_node(
        NodeInfo{"node-" + std::to_string(++n), "m", fresh_key().public_key(), "", id, address}));
  }
  return std::move(*c);
}

std::vector<RaftMember> voters(const std::vector<uint64_t>& ids) {
  std::vector<RaftMember> out;
  for (uint64_t id : ids) out.push_back({id, "127.0.0.1:" + std::to_string(7000 + id)});
  return out;
}

}  // namespace

TEST_CASE("membership plan: nothing to do when the configuration follows the consortium",
          "[raft][governance]") {
  CHECK_FALSE(next_membership_change(nodes_with({1, 2, 3}), voters({1, 2, 3}), 1));
}

TEST_CASE("membership plan: an added node joins as a spare, then becomes a voter",
          "[raft][governance]") {
  Consortium c = nodes_with({1, 2, 3, 4});
  auto add = next_membership_change(c, voters({1, 2, 3}), 1);
  REQUIRE(add);
  CHECK(add->op == Op::add);
  CHECK(add->id == 4);
  CHECK(add->address == "127.0.0.1:7004");
  auto config = voters({1, 2, 3});
  config.push_back({4, "127.0.0.1:7004", RaftMemberRole::spare});
  auto promote = next_membership_change(c, config, 1);
  REQUIRE(promote);
  CHECK(promote->op == Op::assign);
  CHECK(promote->id == 4);
  CHECK(promote->role == RaftMemberRole::voter);
}

TEST_CASE("membership plan: a removed node's server goes first, before any addition",
          "[raft][governance]") {
  Consortium c = nodes_with({1, 2, 3});
  must_ok(c.remove_node("node-3", 10));
  // node-5 added by the same vote, and its server not up yet (a spare that
  // never catches up): the removal is not held back behind it.
  must_ok(c.add_node(NodeInfo{"node-5", "m", fresh_key().public_key(), "", 5, "127.0.0.1:7005"}));
  auto config = voters({1, 2, 3});
  config.push_back({5, "127.0.0.1:7005", RaftMemberRole::spare});
  auto change = next_membership_change(c, config, 1);
  REQUIRE(change);
  CHECK(change->op == Op::remove);
  CHECK(change->id == 3);
}

TEST_CASE("membership plan: the leader removed hands on its leadership first",
          "[raft][governance]") {
  Consortium c = nodes_with({1, 2, 3});
  must_ok(c.remove_node("node-1", 10));
  auto change = next_membership_change(c, voters({1, 2, 3}), 1);
  REQUIRE(change);
  CHECK(change->op == Op::transfer);
  // On the new leader, the old one's server is removed.
  auto then = next_membership_change(c, voters({1, 2, 3}), 2);
  REQUIRE(then);
  CHECK(then->op == Op::remove);
  CHECK(then->id == 1);
}

TEST_CASE("membership plan: a server of no node in force leaves once every node names its Raft id",
          "[raft][governance]") {
  // Every node names its Raft id: server 9 belongs to no node, it leaves.
  auto stray = next_membership_change(nodes_with({1, 2, 3}), voters({1, 2, 3, 9}), 1);
  REQUIRE(stray);
  CHECK(stray->op == Op::remove);
  CHECK(stray->id == 9);
  // A trust file with a node without a Raft id: its server is unknown, so
  // no server the consortium does not name is touched.
  CHECK_FALSE(next_membership_change(nodes_with({1, 2, 0}), voters({1, 2, 9}), 1));
}

}  // namespace chipledger
