// The Raft configuration follows the consortium in force (docs/governance.md,
// section 6): a node added by a governance vote becomes a Raft voter, a node
// removed by one leaves the configuration. This is the pure decision the
// leader takes, one change at a time (libraft allows one uncommitted
// configuration change): which change comes next, if any. Servers the
// consortium says nothing about (nodes of a trust file without raft ids)
// are never touched.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ledger/consortium.h"
#include "node/raft_replicator.h"

namespace chipledger {

// In this order: add a node of the consortium missing from the
// configuration (as a spare), make a node of the consortium that is not a
// voter a voter, remove a server whose Raft id belongs to a removed node
// (when that is `self`, the leader, first hand the leadership to another
// voter: Op::transfer). nullopt: the configuration follows the consortium.
std::optional<MembershipChange> next_membership_change(const Consortium& in_force,
                                                       const std::vector<RaftMember>& configuration,
                                                       uint64_t self);

}  // namespace chipledger
