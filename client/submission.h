// Submits one signed transaction to a consortium's nodes and learns what
// really happened to it (docs/api.md, "Outcomes"): accepted at an index,
// refused by the ledger (nothing changed), not submitted (no node took it:
// nothing done), or unknown (it may still land; only when the deadline came
// first). A follower's redirect is followed; a node that does not answer,
// or has no leader, is left for the next one; an answer "unknown" (no
// answer after sending, 202, a transaction on its way) is resolved by
// asking GET /v1/transactions/TXID until the node knows, and by submitting
// again where the node does not know it (safe: the ledger takes a txid
// once, and answers a resubmission of one that landed with its index).
// A node's "accepted" is its word only: the caller checks a receipt.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "client/node_client.h"

namespace chipledger {

struct SubmitOutcome {
  enum class Kind { accepted, refused, not_submitted, unknown } kind = Kind::unknown;
  uint64_t index = 0;      // accepted
  bool duplicate = false;  // accepted: the ledger had it before the last submission
  std::string reason;      // refused: the ledger's reason; otherwise the last problem
  // How it went: one line per step ("node A: no answer", "asked B: waiting").
  std::vector<std::string> trail;
  // Whether some attempt's outcome was unknown before the final answer.
  bool was_unknown = false;
  size_t attempts = 0;
};
const char* submit_outcome_name(SubmitOutcome::Kind kind);

// Retries and resolves a submission until `deadline`. Each HTTP call waits
// at most `per_call` (and never past the deadline), so one paused node
// leaves time for the others.
SubmitOutcome submit_and_resolve(NodeClient& node, const SignedTransaction& tx,
                                 std::chrono::steady_clock::time_point deadline,
                                 std::chrono::milliseconds per_call);

}  // namespace chipledger
