#include "node/raft_membership_plan.h"

#include <algorithm>

namespace chipledger {

std::optional<MembershipChange> next_membership_change(const Consortium& in_force,
                                                       const std::vector<RaftMember>& configuration,
                                                       uint64_t self) {
  auto find = [&](uint64_t id) {
    auto it = std::find_if(configuration.begin(), configuration.end(),
                           [&](const RaftMember& m) { return m.id == id; });
    return it == configuration.end() ? nullptr : &*it;
  };
  for (const auto& n : in_force.nodes()) {
    if (n.raft_id == 0 || n.raft_address.empty() || find(n.raft_id)) continue;
    return MembershipChange{MembershipChange::Op::add, n.raft_id, n.raft_address,
                            RaftMemberRole::voter};
  }
  for (const auto& n : in_force.nodes()) {
    const RaftMember* m = n.raft_id == 0 ? nullptr : find(n.raft_id);
    if (!m || m->role == RaftMemberRole::voter) continue;
    return MembershipChange{MembershipChange::Op::assign, n.raft_id, "", RaftMemberRole::voter};
  }
  for (const auto& [node, raft_id] : in_force.removed_nodes()) {
    if (raft_id == 0 || !find(raft_id)) continue;
    if (raft_id == self) {
      return MembershipChange{MembershipChange::Op::transfer, 0, "", RaftMemberRole::voter};
    }
    return MembershipChange{MembershipChange::Op::remove, raft_id, "", RaftMemberRole::voter};
  }
  return std::nullopt;
}

}  // namespace chipledger
