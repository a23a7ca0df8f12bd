// The node's answer to each submitted transaction (docs/api.md,
// "Outcomes"): exactly one of
// - accepted: in the ledger at `index` (now, or already: a resubmission of
//   a transaction that landed is answered with the index it landed at);
// - refused: nothing changed, with the reason; `retry` when the refusal is
//   "not now" (no leader, full, the client's share used) rather than the
//   rules' or the signature's "no";
// - unknown: the transaction was proposed, or is on its way, and may still
//   land; the client asks GET /v1/transactions/TXID (or resubmits, which is
//   safe) to learn what happened.
// A failure is reported as "nothing was done" only when its code says so
// (invalid, refused, unavailable); every other failure after admission is
// unknown.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "ledger/ledger.h"
#include "node/admission.h"

namespace chipledger {

// One result of a submission, with its HTTP status in "status":
// 200 accepted, 422 refused, 202 unknown, 503/429 refused with retry.
nlohmann::json outcome_item(const Result<TxOutcome>& outcome, const std::string& txid);
// The same for a transaction the door did not admit.
nlohmann::json admission_item(const Admission::Decision& d, const std::string& txid);

// The same outcomes as metric labels (docs/metrics.md): outcome "accepted",
// "refused" or "unknown", and a reason from a fixed set: "new", "duplicate"
// (accepted); "rules", "invalid", "arrival" (the signature or the arrival
// checks), "full", "client_full", "unavailable" (refused); "waiting",
// "unknown" (unknown).
struct SubmissionLabel {
  std::string_view outcome;
  std::string_view reason;
};
SubmissionLabel submission_label(const Result<TxOutcome>& outcome);
SubmissionLabel submission_label(const Admission::Decision& d);

}  // namespace chipledger
