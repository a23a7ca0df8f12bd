// Governance: how the consortium changes (docs/governance.md). A pure,
// deterministic function of (the consortium in force, the open proposal a
// vote names, one signed propose / vote / rotate-key transaction, its log
// index) to the consortium and proposal after it, or a refusal with a
// reason. The ledger calls it when it applies a block; a verifier following
// the governance replays the same calls. Nothing changes on a refusal, and
// a proposal's changes apply all together or not at all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/result.h"
#include "ledger/consortium.h"
#include "ledger/governance_change.h"
#include "ledger/serial_record.h"
#include "ledger/transaction.h"

namespace chipledger {

// What the ledger keeps of a proposal (docs/storage.md, "Proposal").
struct Proposal {
  Hash id{};           // the propose transaction's id
  uint64_t index = 0;  // its log index
  std::string author;
  uint64_t time_ms = 0;     // its signed time
  uint64_t expires_ms = 0;  // time_ms + the rule's lifetime when proposed
  std::vector<GovernanceChange> changes;
  std::vector<std::string> approvals;  // admins who approved, sorted (the author among them)
  bool applied = false;
  uint64_t applied_index = 0;  // the transaction that met the threshold

  Bytes encode() const;
  static Result<Proposal> decode(ByteView bytes);
  bool operator==(const Proposal&) const = default;
};

struct GovernanceStep {
  // The consortium after the transaction, when it changed (a proposal met
  // its threshold, or a key was rotated); nullopt: unchanged.
  std::optional<Consortium> consortium;
  // The proposal after the transaction (propose, vote); nullopt for rotate-key.
  std::optional<Proposal> proposal;
};

// The consortium with every change made in order, validated whole
// (Consortium::validate), taking effect at log index `at_index` (a key
// revoked is retired there) for the proposal at `proposal_index` (a
// revocation's from_index may not be later); a refusal names the first
// change that fails.
Result<Consortium> apply_changes(const Consortium& consortium,
                                 const std::vector<GovernanceChange>& changes, uint64_t at_index,
                                 uint64_t proposal_index);

// Whether `id`'s approval counts under `c`: an admin of the rule in force
// and an active (not suspended) member. A vote keeps only such approvals;
// a node's view of a proposal counts the same ones.
bool approval_counts(const Consortium& c, std::string_view id);

// An admin may have at most this many proposals open at once: each one is
// state every node keeps and every listing shows (docs/governance.md, 3).
inline constexpr size_t kMaxOpenProposalsPerAdmin = 16;
// Whether `p` is still open for a transaction signed at `time_ms`: not
// applied, and a vote signed then would not be late.
inline bool is_open_at(const Proposal& p, uint64_t time_ms) {
  return !p.applied && time_ms <= p.expires_ms;
}

// Applies a propose, vote or rotate-key transaction (its signature checked,
// its author an active member) at `log_index`. `proposal`: for a vote, the
// proposal it names as the ledger keeps it (nullptr: none with that id).
// `open_by_author`: for a propose, how many proposals by its author are
// open at its signed time (is_open_at); a propose at the limit is refused.
Result<GovernanceStep> apply_governance(const Consortium& consortium, const SignedTransaction& stx,
                                        uint64_t log_index, const Proposal* proposal,
                                        size_t open_by_author);

// The pseudo-serial of the governance history (no serial can have '#'):
// its history lists every governance transaction, and its state-map leaf
// (docs/governance.md, section 5) commits to their count and the latest,
// so a verifier can prove it was given all of them.
inline constexpr std::string_view kGovernanceHistory = "#governance";

// The governance history's record after the governance transaction `stx`
// at `log_index` (`before`: the record before it, nullopt for the first):
// only the latest event's id, index and signed time and the event count
// are set.
SerialRecord governance_record_after(const std::optional<SerialRecord>& before,
                                     const SignedTransaction& stx, uint64_t log_index);

}  // namespace chipledger
