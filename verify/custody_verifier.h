// Checks a serial's evidence as fetched from any node, trusting only the
// consortium file: the checkpoint's quorum of node signatures, every event's
// author signature, its inclusion proof against the checkpoint root, and the
// custody rules along the chain (the ledger's own engine: prev links,
// authority, custody). Pure: no network; the verifier's clock is passed in.
// The verdict is "ok" or names every finding (docs/verdicts.md).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/checkpoint.h"
#include "ledger/consortium.h"
#include "ledger/governance_timeline.h"
#include "ledger/serial_record.h"
#include "verify/custody_evidence.h"
#include "verify/location_verdict.h"

namespace chipledger {

// In order of severity: a report's exit code is its most severe finding's.
enum class Finding {
  proof_failure,
  split_view,
  stale_checkpoint,
  revoked_key,
  not_registered,
  flagged,
  reported,
  unlicensed_export,
  restricted_destination,
  location_mismatch,
  decommissioned,
  in_transit,
  not_installed,
  never_attested,
  stale_attestation,
  location_unproven,
};
inline constexpr Finding kAllFindings[] = {
    Finding::proof_failure,     Finding::split_view,        Finding::stale_checkpoint,
    Finding::revoked_key,       Finding::not_registered,    Finding::flagged,
    Finding::reported,          Finding::unlicensed_export, Finding::restricted_destination,
    Finding::location_mismatch, Finding::decommissioned,    Finding::in_transit,
    Finding::not_installed,     Finding::never_attested,    Finding::stale_attestation,
    Finding::location_unproven};
std::string_view finding_name(Finding f);     // "proof-failure", ...
int finding_exit_code(Finding f);             // documented in README.md
std::string_view finding_meaning(Finding f);  // one plain-language line

struct ChainRow {
  uint64_t index = 0;
  std::string event;  // "register H100", "transfer -> distributor (export to SG)", ...
  // The same event as fields, for programs (docs/verdicts.md, "--json"):
  std::string type;     // tx_type_name: "register", "transfer", "accept", ...
  std::string txid;     // hex
  std::string from;     // the serial's holder before the event ("" at its registration)
  std::string to;       // transfer: the recipient; accept: the new holder; else ""
  std::string ship_to;  // transfer: the ship-to country; else ""
  std::string license;  // transfer: the license shipped under; license: the one issued
  std::string site;     // register: the fab site; install, attest, locate: the install site
  std::string unit;     // pack: the unit packed into; unpack: the unit left
  std::string kind;     // report, decommission: the kind
  std::string member;
  std::string role;
  std::string country;
  std::string key_id;  // hex id of the key that signed it, valid at its index
  // "valid", or "revoked from index F (at index A)": a revocation that
  // reached back over this event (docs/governance.md, section 4).
  std::string key_status = "valid";
  uint64_t time_ms = 0;
};

struct VerifyReport {
  std::string serial;
  std::vector<std::pair<Finding, std::string>> findings;  // most severe first, with reasons
  std::vector<ChainRow> chain;
  std::vector<std::string> checkpoint_signers;
  std::vector<SignedAt> checkpoint_signed_at;  // each signer's signature time (POSIX s)
  uint64_t checkpoint_size = 0;
  uint64_t checkpoint_age_ms = 0;  // how old the checkpoint's freshness is at the verifier's clock
  // The governance followed up to the checkpoint: its transactions, and how
  // many times they changed the consortium.
  uint64_t governance_events = 0;
  uint64_t governance_changes = 0;
  std::string holder;
  std::string status;                 // "held", "in-transit", "decommissioned"
  std::string location;               // last known country
  std::string site;                   // install site, if installed
  std::string unit;                   // the unit it is packed in, if any
  std::vector<std::string> children;  // for a unit: the chips packed in it
  std::string model;
  std::vector<std::string> licenses;  // export licenses its accepted shipments went under
  uint64_t in_transit_for_ms = 0;
  uint64_t last_attest_ms = 0;
  // Where an installed chip is proven to be, when the consortium lists
  // landmarks (docs/location.md, section 8): each statement since its
  // latest install, as judged.
  LocationVerdict location_verdict = LocationVerdict::not_judged;
  std::vector<LocationProof> location_proofs;

  bool ok() const { return findings.empty(); }
  std::string verdict() const;  // "ok" or the most severe finding's name
  int exit_code() const;        // 0 for ok
  nlohmann::json to_json() const;
};

// What a CustodyVerifier did so far: what a benchmark reports, and how a
// test sees that shared work was done once.
struct VerifierStats {
  uint64_t signatures = 0;      // signatures verified: note, event authors, chip attestations
  uint64_t events_checked = 0;  // entries decoded, signature and inclusion proof checked in full
  uint64_t events_reused = 0;   // entries identical to one already checked: replayed only
  uint64_t state_proofs = 0;    // state map proofs checked (one per serial)
};

// Verifies any number of serials against ONE checkpoint note. The note's
// quorum is checked once, at construction. Each event, keyed by its log
// index, is decoded and its author signature and inclusion proof checked
// once however many histories carry it: a later entry at that index reuses
// the result only when its leaf bytes and proof are exactly those already
// checked; anything else is checked in full (so a different transaction at
// an index already proven fails its inclusion proof). Each serial's events
// are then replayed through the ledger's own custody engine
// (ledger/custody_engine.h): the replay gives exactly the SerialRecord the
// ledger stored, and an event the rules refuse is a proof-failure (the log
// holds something the rules forbid). The verdict is judged on that record
// plus what only the verifier tracks (the licenses its shipments went
// under, judged by the trust file's export policy). A report is the one
// verify_custody gives for that serial. Not thread-safe; one per checkpoint.
class CustodyVerifier {
 public:
  CustodyVerifier(const Consortium& consortium, std::string_view checkpoint_note);
  ~CustodyVerifier();
  CustodyVerifier(CustodyVerifier&&) noexcept;
  CustodyVerifier& operator=(CustodyVerifier&&) noexcept;

  // The checkpoint with its quorum checked, or why it fails (every report
  // is then a proof-failure with that reason). A checkpoint whose freshness
  // is older than the policy's max_checkpoint_age at a report's `now_ms` is
  // refused there: that report is a stale-checkpoint, naming age and limit.
  const Result<VerifiedCheckpoint>& checkpoint() const;
  // The note's checkpoint before any signature is checked (its size is what
  // the governance history is fetched at), or why the note does not parse.
  const Result<Checkpoint>& unverified_checkpoint() const;

  // The governance history at the checkpoint's size (decode_history of
  // GET /v1/governance/history with kGovernanceHistory), checked and
  // followed from the genesis trust file (docs/governance.md, section 5):
  // each event's signature against the consortium in force at its index,
  // its inclusion proof, and its replay against the record the state map
  // commits (so none was left out). From then on every event is judged by
  // the consortium in force at its index and every verdict by the policy in
  // force at the checkpoint. Evidence that does not check makes every later
  // report a proof-failure saying why (and is returned). Call once, before
  // verify(): without it (or assume_no_governance) every report is a
  // proof-failure, since the consortium in force is unproven. A governance
  // event signed by a key whose revocation reached back over it is a
  // revoked-key finding in every report. Once followed, the checkpoint is
  // judged again by the nodes and quorum in force at its size when the
  // governance changed them (checkpoint() then says so).
  Status follow_governance(const Result<HistoryEvidence>& evidence);
  // Judges by the genesis trust file alone, unproven: only for a caller
  // that knows the ledger has no governance transaction (tests over a
  // ledger they built, verify_custody).
  void assume_no_governance();
  // The consortium at every index, as followed (genesis only before).
  const GovernanceTimeline& governance() const;

  // `serial` from `evidence`: a node's answer decoded (decode_history,
  // decode_histories in client/node_client.h), or why it could not be (a
  // proof-failure). The answer must be at the checkpoint's size and list the
  // serial (no events: not-registered). `now_ms` is the verifier's clock
  // (attestation age, time in transit).
  VerifyReport verify(const std::string& serial, const Result<HistoryEvidence>& evidence,
                      uint64_t now_ms);

  // The record the latest verify() replayed for its serial: nullopt when
  // it replayed none (no events, or the evidence failed before the end).
  const std::optional<SerialRecord>& replayed() const;

  const VerifierStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One serial with a fresh CustodyVerifier: everything checked from scratch,
// judged by the genesis consortium (assume_no_governance: for a ledger with
// no governance transaction).
VerifyReport verify_custody(const Consortium& consortium, const std::string& serial,
                            const std::string& checkpoint_note,
                            const Result<HistoryEvidence>& evidence, uint64_t now_ms);

}  // namespace chipledger
