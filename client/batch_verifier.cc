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
                                          Clock clock, CheckpointMemory* memory) {
  auto note = node.checkpoint();
  if (!note) return note.status();
  BatchVerifier v(node, CustodyVerifier(consortium, *note), std::move(clock));
  // The members, keys, nodes and policy in force at every index (a failure
  // to check is every report's proof-failure, not an error); the
  // checkpoint is then judged by the nodes in force at its size.
  bool followed = false;
  if (const auto& tree = v.verifier_.unverified_checkpoint()) {
    auto answer = node.governance_history(tree->size);
    if (!answer) return answer.status();
    v.note_ = *note;
    v.governance_answer_ = *answer ? (*answer)->dump() : "";
    followed =
        v.verifier_
            .follow_governance(decode_history(std::string(kGovernanceHistory), *answer, tree->size))
            .is_ok();
  }
  if (memory && followed && v.checkpoint()) {
    CL_TRY(v.check_memory(consortium, *memory, *note));
  }
  return v;
}

// The served checkpoint against the one remembered: extends it (remembered
// in its place), or a split view (evidence written).
Status BatchVerifier::check_memory(const Consortium& consortium, CheckpointMemory& memory,
                                   const std::string& note) {
  const Checkpoint& now = verifier_.checkpoint()->checkpoint;
  const std::string key = memory_key(consortium);
  auto judged = judge_against_memory(memory, key, now, [this](uint64_t from, uint64_t to) {
    return node_->consistency(from, to);
  });
  if (!judged) return judged.status();
  const CheckpointJudgement& j = judged->judgement;
  if (j.acceptable()) return memory.remember(key, {now.size, now.root, note, "", {}});
  const RememberedCheckpoint& before = *judged->against;
  const std::vector<Hash>& proof = judged->proof;
  std::string reason = j.reason;
  if (j.relation == CheckpointRelation::forked) {
    std::vector<std::string> before_signers = before.signers;
    if (before_signers.empty()) {
      if (auto old = verify_checkpoint(consortium, before.note)) before_signers = old->signers;
    }
    auto path = write_split_view_evidence(memory, key, before, before_signers, note,
                                          verifier_.checkpoint()->signers, proof, reason);
    std::string signers;
    for (const auto& s : before_signers) signers += " " + s;
    signers += " /";
    for (const auto& s : verifier_.checkpoint()->signers) signers += " " + s;
    reason += "; signed by" + signers;
    reason +=
        path ? "; evidence in " + *path : "; the evidence could not be written: " + path.reason();
  }
  refused_.emplace(
      j.relation == CheckpointRelation::forked ? Finding::split_view : Finding::stale_checkpoint,
      std::move(reason));
  return Status::ok();
}

VerifyReport BatchVerifier::refused_report(const std::string& serial) const {
  VerifyReport r;
  r.serial = serial;
  r.findings.push_back(*refused_);
  return r;
}

const VerifiedCheckpoint* BatchVerifier::checkpoint() const {
  const auto& cp = verifier_.checkpoint();
  return cp && !refused_ ? &*cp : nullptr;
}

Result<VerifyReport> BatchVerifier::verify(const std::string& serial) {
  if (refused_) return refused_report(serial);
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
  if (refused_) {
    for (const auto& serial : chunk) {
      out.push_back(refused_report(serial));
      if (progress) progress(1);
    }
    return Status::ok();
  }
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
