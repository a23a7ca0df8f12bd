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

#include "client/custody_verifier.h"
#include "client/node_client.h"

namespace chipledger {

class BatchVerifier {
 public:
  static constexpr size_t kHistoriesPerRequest = 200;
  using Clock = std::function<uint64_t()>;  // the verifier's clock, ms since the epoch

  // GET /v1/checkpoint, then its quorum checked (a failing note is no error:
  // every report is then a proof-failure saying why).
  static Result<BatchVerifier> open(const Consortium& consortium, NodeClient& node,
                                    Clock clock = system_ms);

  // The verified checkpoint, or nullptr when the note does not check.
  const VerifiedCheckpoint* checkpoint() const;
  const VerifierStats& stats() const { return verifier_.stats(); }

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
  Status verify_chunk(const std::vector<std::string>& chunk, std::vector<VerifyReport>& out,
                      const std::function<void(size_t)>& progress);

  NodeClient* node_;
  CustodyVerifier verifier_;
  Clock clock_;
};

}  // namespace chipledger
