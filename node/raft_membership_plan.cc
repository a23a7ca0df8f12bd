#include "node/raft_membership_plan.h"

#include <algorithm>

namespace chipledger {
namespace {

const RaftMember* find(const std::vector<RaftMember>& configuration, uint64_t id) {
  auto it = std::find_if(configuration.begin(), configuration.end(),
                         [&](const RaftMember& m) { return m.id == id; });
  return it == configuration.end() ? nullptr : &*it;
}

// The Raft id of a server that must leave: a removed node's, or (when every
// node in force names its Raft id, so the consortium speaks for the whole
// configuration) one that belongs to no node in force.
std::optional<uint64_t> server_to_remove(const Consortium& in_force,
                                         const std::vector<RaftMember>& configuration) {
  for (const auto& [node, raft_id] : in_force.removed_nodes()) {
    if (raft_id != 0 && find(configuration, raft_id)) return raft_id;
  }
  const auto& nodes = in_force.nodes();
  bool all_named =
      std::all_of(nodes.begin(), nodes.end(), [](const NodeInfo& n) { return n.raft_id != 0; });
  if (!all_named) return std::nullopt;
  for (const auto& m : configuration) {
    bool known = std::any_of(nodes.begin(), nodes.end(),
                             [&](const NodeInfo& n) { return n.raft_id == m.id; });
    if (!known) return m.id;
  }
  return std::nullopt;
}

}  // namespace

std::optional<MembershipChange> next_membership_change(const Consortium& in_force,
                                                       const std::vector<RaftMember>& configuration,
                                                       uint64_t self) {
  if (auto gone = server_to_remove(in_force, configuration)) {
    if (*gone == self) {
      return MembershipChange{MembershipChange::Op::transfer, 0, "", RaftMemberRole::voter};
    }
    return MembershipChange{MembershipChange::Op::remove, *gone, "", RaftMemberRole::voter};
  }
  for (const auto& n : in_force.nodes()) {
    if (n.raft_id == 0 || n.raft_address.empty() || find(configuration, n.raft_id)) continue;
    return MembershipChange{MembershipChange::Op::add, n.raft_id, n.raft_address,
                            RaftMemberRole::voter};
  }
  for (const auto& n : in_force.nodes()) {
    const RaftMember* m = n.raft_id == 0 ? nullptr : find(configuration, n.raft_id);
    if (!m || m->role == RaftMemberRole::voter) continue;
    return MembershipChange{MembershipChange::Op::assign, n.raft_id, "", RaftMemberRole::voter};
  }
  return std::nullopt;
}

}  // namespace chipledger
