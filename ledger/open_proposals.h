// The proposals not yet applied, by author and expiry: how many of an
// admin's proposals are open at a time (is_open_at, ledger/governance.h),
// the count the cap on open proposals per admin is judged by
// (kMaxOpenProposalsPerAdmin, docs/governance.md, section 3). The ledger
// and a verifier's governance timeline each keep one, noting every
// proposal record a governance transaction leaves, so both judge every
// proposal alike. Derived state: rebuilt from the stored proposals, never
// stored or sent in a snapshot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "ledger/governance.h"

namespace chipledger {

class OpenProposals {
 public:
  // The proposal as a propose or vote left it: kept while not applied.
  void note(const Proposal& p);
  // How many proposals by `author` are open for a transaction signed at
  // `time_ms`: not applied, and expiring at or after it. O(log n + the count).
  size_t open_at(std::string_view author, uint64_t time_ms) const;

 private:
  std::map<std::string, std::set<std::pair<uint64_t, Hash>>, std::less<>> unapplied_;
};

}  // namespace chipledger
