// Test helper (header-only): the evidence a node serves, built in-process
// from a Ledger by the node's own code (node/evidence_answers.h), and
// checkpoint notes signed with chosen keys.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "client/node_client.h"
#include "crypto/signed_note.h"
#include "ledger/checkpoint.h"
#include "ledger/transaction_json.h"
#include "node/evidence_answers.h"
#include "tests/node/test_consortium.h"
#include "verify/custody_verifier.h"

namespace chipledger::testing {

// GET /v1/chips/SERIAL/history?size=S as the node answers it
// (node/evidence_answers.h; for a serial with no events, the 404 answer with
// its absence proof).
inline nlohmann::json answer_json(const HttpResponse& answer) {
  if (answer.status != 200 && answer.status != 404) {
    throw std::runtime_error("history answer HTTP " + std::to_string(answer.status) + ": " +
                             answer.body);
  }
  return nlohmann::json::parse(answer.body);
}

inline std::optional<nlohmann::json> history_json(const Ledger& ledger, const std::string& serial,
                                                  uint64_t size) {
  return answer_json(history_answer(ledger, serial, size));
}

// POST /v1/histories for `serials` at `size` as the node answers it: each
// serial's event indices (null: none), each event once.
inline nlohmann::json histories_json(const Ledger& ledger, const std::vector<std::string>& serials,
                                     uint64_t size) {
  return answer_json(histories_answer(ledger, serials, size));
}

// The typed evidence of a GET history answer (as BatchVerifier decodes it).
inline Result<HistoryEvidence> history_evidence(const std::string& serial,
                                                const std::optional<nlohmann::json>& answer,
                                                uint64_t size = 0) {
  return decode_history(serial, answer, size);
}

// The ledger's own evidence for `serial` at `size`, through the API's JSON.
inline Result<HistoryEvidence> history_evidence(const Ledger& ledger, const std::string& serial,
                                                uint64_t size) {
  return decode_history(serial, history_json(ledger, serial, size), size);
}

// A CustodyVerifier given a GET history answer or a POST /v1/histories
// answer, decoded as BatchVerifier decodes them.
inline VerifyReport verify(CustodyVerifier& v, const std::string& serial,
                           const std::optional<nlohmann::json>& answer, uint64_t now) {
  return v.verify(serial, decode_history(serial, answer, 0), now);
}
inline VerifyReport verify_in_batch(CustodyVerifier& v, const std::string& serial,
                                    const nlohmann::json& batch, uint64_t now) {
  return v.verify(serial, decode_histories(batch), now);
}

// The checkpoint a node of `ledger` writes at `size` (docs/checkpoint.md):
// its log root and the ledger's state root at that size.
inline Checkpoint checkpoint_of(const Ledger& ledger, uint64_t size) {
  return Checkpoint::make(ledger.genesis().ledger_id(), size, must(ledger.root_at(size)),
                          must(ledger.state_root_at(size)));
}

// When note_for's signatures are made unless told otherwise (POSIX seconds):
// the clock the client tests verify at (1,790,000,000,000 ms).
inline constexpr uint64_t kEvidenceSignedAt = 1'790'000'000;

// A signed note over `cp` with one cosignature per (name, key), all made at
// `signed_at` (POSIX seconds).
inline std::string note_for(const Checkpoint& cp,
                            const std::vector<std::pair<std::string, const PrivateKey*>>& signers,
                            uint64_t signed_at = kEvidenceSignedAt) {
  SignedNote note{cp.text(), {}};
  for (const auto& [name, key] : signers) {
    note.signatures.push_back(must(sign_cosignature(note.text, name, *key, signed_at)));
  }
  return format_note(note);
}

// The same with each signer's own time (POSIX seconds).
inline std::string note_at_times(
    const Checkpoint& cp,
    const std::vector<std::tuple<std::string, const PrivateKey*, uint64_t>>& signers) {
  SignedNote note{cp.text(), {}};
  for (const auto& [name, key, time] : signers) {
    note.signatures.push_back(must(sign_cosignature(note.text, name, *key, time)));
  }
  return format_note(note);
}

// The names of a report's findings, most severe first.
inline std::vector<std::string> finding_names(const VerifyReport& r) {
  std::vector<std::string> out;
  for (const auto& [f, reason] : r.findings) out.emplace_back(finding_name(f));
  return out;
}

// Every finding with its reason, for INFO.
inline std::string describe(const VerifyReport& r) {
  std::string out = "verdict " + r.verdict();
  for (const auto& [f, reason] : r.findings) {
    out += "\n  " + std::string(finding_name(f)) + ": " + reason;
  }
  return out;
}

// The evidence checks: no proof-failure (whatever else the verdict says).
inline void require_evidence_checks(const VerifyReport& r) {
  INFO(describe(r));
  for (const auto& [f, reason] : r.findings) REQUIRE(f != Finding::proof_failure);
}

}  // namespace chipledger::testing
