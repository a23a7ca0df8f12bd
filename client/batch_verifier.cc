#include "client/batch_verifier.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

namespace chipledger {

using nlohmann::json;

uint64_t BatchVerifier::system_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

Result<BatchVerifier> BatchVerifier::open(const Consortium& consortium, NodeClient& node,
                                          Clock clock) {
  auto note = node.checkpoint();
  if (!note) return note.status();
  return BatchVerifier(node, CustodyVerifier(consortium, *note), std::move(clock));
}

const VerifiedCheckpoint* BatchVerifier::checkpoint() const {
  const auto& cp = verifier_.checkpoint();
  return cp ? &*cp : nullptr;
}

Result<VerifyReport> BatchVerifier::verify(const std::string& serial) {
  Result<HistoryEvidence> evidence = HistoryEvidence{};
  if (const auto* cp = checkpoint()) {
    auto answer = node_->history(serial, cp->checkpoint.size);
    if (!answer) return answer.status();
    evidence = decode_history(serial, *answer, cp->checkpoint.size);
  }
  return verifier_.verify(serial, evidence, clock_());
}

// One POST /v1/histories for `chunk` (none when the checkpoint failed: every
// report is a proof-failure then), each serial verified from its answer.
Status BatchVerifier::verify_chunk(const std::vector<std::string>& chunk,
                                   std::vector<VerifyReport>& out,
                                   const std::function<void(size_t)>& progress) {
  Result<HistoryEvidence> evidence = HistoryEvidence{};
  if (const auto* cp = checkpoint()) {
    auto answer = node_->histories(chunk, cp->checkpoint.size);
    if (!answer) return answer.status();
    evidence = decode_histories(*answer);
    for (const auto& serial : chunk) {
      if (evidence && !evidence->find(serial)) {
        return Status::error("the node's answer lacks serial " + serial);
      }
    }
  }
  uint64_t now = clock_();
  for (const auto& serial : chunk) {
    out.push_back(verifier_.verify(serial, evidence, now));
    if (progress) progress(1);
  }
  return Status::ok();
}

Result<std::vector<VerifyReport>> BatchVerifier::verify_all(
    const std::vector<std::string>& serials, const std::function<void(size_t)>& progress) {
  std::vector<VerifyReport> reports;
  reports.reserve(serials.size());
  for (size_t i = 0; i < serials.size(); i += kHistoriesPerRequest) {
    auto end =
        serials.begin() + static_cast<long>(std::min(serials.size(), i + kHistoriesPerRequest));
    std::vector<std::string> chunk(serials.begin() + static_cast<long>(i), end);
    CL_TRY(verify_chunk(chunk, reports, progress));
  }
  return reports;
}

}  // namespace chipledger
