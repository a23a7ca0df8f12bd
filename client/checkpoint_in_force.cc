#include "client/checkpoint_in_force.h"

#include <nlohmann/json.hpp>

#include "ledger/governance.h"
#include "verify/custody_verifier.h"
#include "verify/evidence_decoding.h"

namespace chipledger {

Result<CheckpointInForce> verify_checkpoint_in_force(NodeClient& node, const Consortium& genesis,
                                                     const std::string& note) {
  using R = Result<CheckpointInForce>;
  CustodyVerifier v(genesis, note);
  const auto& tree = v.unverified_checkpoint();
  if (!tree) return R(tree.status());
  auto answer = node.governance_history(tree->size);
  if (!answer) return R(answer.status().context("the governance history"));
  CL_TRY(v.follow_governance(decode_history(std::string(kGovernanceHistory), *answer, tree->size)));
  if (!v.checkpoint()) return R(v.checkpoint().status());
  return CheckpointInForce{*v.checkpoint(), v.governance().latest()};
}

}  // namespace chipledger
