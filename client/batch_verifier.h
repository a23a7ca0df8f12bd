// Verifies serials against one node the way `chipledger verify` does,
// trusting only the consortium file: the node's latest checkpoint is fetched
// and its quorum checked once, the histories are fetched kHistoriesPerRequest
// serials per POST /v1/histories (each shared event once), and one
// CustodyVerifier checks each event once and judges every serial on its own.
// The node's answers are evidence, never trusted: evidence that does not
// check is a proof-failure in that serial's report. An error means the node
// could not be asked (no answer, an HTTP error, an answer that is not JSON or
// leaves a serial out).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "client/checkpoint_memory.h"
#include "client/node_client.h"
#include "verify/custody_verifier.h"

namespace chipledger {

class BatchVerifier {
 public:
  static constexpr size_t kHistoriesPerRequest = 200;
  using Clock = std::function<uint64_t()>;  // the verifier's clock, ms since the epoch

  // GET /v1/checkpoint, the governance history at its size fetched and
  // followed (CustodyVerifier::follow_governance), then its quorum checked by
  // the nodes in force at its size (a failing note is no error: every
  // report is then a proof-failure saying why). With `memory`, the
  // checkpoint must also extend the largest one verified before for this
  // ledger (CheckpointMemory; the node's consistency proof is fetched and
  // checked); one that does not is no error either: every report is then a
  // split-view (a fork: the two notes are written as evidence) or a
  // stale-checkpoint (older than one verified before) naming why, and the
  // node is not asked for histories. A checkpoint that passes is
  // remembered.
  static Result<BatchVerifier> open(const Consortium& consortium, NodeClient& node,
                                    Clock clock = system_ms, CheckpointMemory* memory = nullptr);

  // The verified checkpoint, or nullptr when the note does not check or
  // contradicts the memory.
  const VerifiedCheckpoint* checkpoint() const;
  // The note's own check: the verified checkpoint, or why its quorum fails.
  const Result<VerifiedCheckpoint>& note() const { return verifier_.checkpoint(); }
  // Why the checkpoint contradicts the memory, if it does: split-view (a
  // fork) or stale-checkpoint (older than one verified before).
  const std::optional<std::pair<Finding, std::string>>& refused() const { return refused_; }
  const VerifierStats& stats() const { return verifier_.stats(); }
  // The consortium in force at every index up to the checkpoint.
  const GovernanceTimeline& governance() const { return verifier_.governance(); }
  // The node's answers, as it gave them: the checkpoint note, and the
  // governance history at its size (JSON text; empty: a 404 without body).
  const std::string& note_text() const { return note_; }
  const std::string& governance_answer() const { return governance_answer_; }

  // One serial: GET /v1/chips/SERIAL/history at the checkpoint's size.
  Result<VerifyReport> verify(const std::string& serial);
  // Every serial, in order, through POST /v1/histories; `progress(n)` after
  // each serial verified.
  Result<std::vector<VerifyReport>> verify_all(const std::vector<std::string>& serials,
                                               const std::function<void(size_t)>& progress = {});

  static uint64_t system_ms();

 private:
  BatchVerifier(NodeClient& node, CustodyVerifier verifier, Clock clock)
      : node_(&node), verifier_(std::move(verifier)), clock_(std::move(clock)) {}
  Status check_memory(const Consortium& consortium, CheckpointMemory& memory,
                      const std::string& note);
  VerifyReport refused_report(const std::string& serial) const;
  Status verify_chunk(const std::vector<std::string>& chunk, std::vector<VerifyReport>& out,
                      const std::function<void(size_t)>& progress);

  NodeClient* node_;
  CustodyVerifier verifier_;
  Clock clock_;
  std::optional<std::pair<Finding, std::string>> refused_;
  std::string note_, governance_answer_;
};

}  // namespace chipledger
