// The consortium in force at every log index of one ledger, followed from
// its genesis trust file through its governance transactions (propose,
// vote, rotate-key) in log order, by the rules the ledger applies
// (apply_governance). What a verifier judges an event by: the members,
// roles, keys and policy in force at that event's index
// (docs/governance.md, section 5). Pure: no I/O, no clock.
//
// Guarantees: a governance transaction changes the consortium from the next
// log index on, exactly as in the ledger; a transaction the rules refuse
// changes nothing and is reported; record() is the governance history's
// state-map leaf the ledger commits after the same transactions.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "crypto/result.h"
#include "ledger/consortium.h"
#include "ledger/governance.h"
#include "ledger/open_proposals.h"
#include "ledger/serial_record.h"
#include "ledger/transaction.h"

namespace chipledger {

class GovernanceTimeline {
 public:
  explicit GovernanceTimeline(Consortium genesis);

  // Applies the governance transaction at `log_index`, later than every one
  // applied before. Its signature must have been checked against at(log_index)
  // (check_signature); apply checks again, without the signature, that its
  // author is an active member holding the key (check_author). A refusal
  // says why and changes nothing.
  Status apply(const SignedTransaction& stx, uint64_t log_index);

  // The consortium in force for a transaction at `log_index`.
  const Consortium& at(uint64_t log_index) const;
  const Consortium& genesis() const { return *in_force_.front().second; }
  const Consortium& latest() const { return *in_force_.back().second; }
  // How many times the consortium changed (a proposal applied, a key rotated).
  size_t changes() const { return in_force_.size() - 1; }
  // The governance history's record: nullopt before any governance transaction.
  const std::optional<SerialRecord>& record() const { return record_; }
  // The proposals as the ledger keeps them after the same transactions.
  const std::map<Hash, Proposal>& proposals() const { return proposals_; }

 private:
  // (first log index it is in force at, the consortium), in index order.
  std::vector<std::pair<uint64_t, std::shared_ptr<const Consortium>>> in_force_;
  std::map<Hash, Proposal> proposals_;
  OpenProposals open_;  // to judge the cap on open proposals per admin
  std::optional<SerialRecord> record_;
};

}  // namespace chipledger
