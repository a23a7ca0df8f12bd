// The Raft configuration follows the consortium in force (docs/governance.md,
// section 6): a node added by a governance vote becomes a Raft voter, a node
// removed by one leaves the configuration. This is the pure decision the
// leader takes, one change at a time (libraft allows one uncommitted
// configuration change): which change comes next, if any. While a node in
// force has no Raft id (a trust file written before nodes had one), servers
// the consortium says nothing about are never touched.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ledger/consortium.h"
#include "node/raft_replicator.h"

namespace chipledger {

// In this order: remove a server whose Raft id belongs to a removed node,
// or, when every node in force names its Raft id, to no node in force
// (when that is `self`, the leader, first hand the leadership to another
// voter: Op::transfer); add a node of the consortium missing from the
// configuration (as a spare); make a node of the consortium that is not a
// voter a voter. Removals come first so that an added node that never
// comes up cannot hold back a removal: libraft gives up its promotion
// after 30 s, and the next change planned is then the removal.
// nullopt: the configuration follows the consortium.
std::optional<MembershipChange> next_membership_change(const Consortium& in_force,
                                                       const std::vector<RaftMember>& configuration,
                                                       uint64_t self);

}  // namespace chipledger
