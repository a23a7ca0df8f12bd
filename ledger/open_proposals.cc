#include "ledger/open_proposals.h"

#include <iterator>

namespace chipledger {

void OpenProposals::note(const Proposal& p) {
  auto it = unapplied_.find(p.author);
  if (p.applied) {
    if (it == unapplied_.end()) return;
    it->second.erase({p.expires_ms, p.id});
    if (it->second.empty()) unapplied_.erase(it);
    return;
  }
  if (it == unapplied_.end())
    it = unapplied_.emplace(p.author, std::set<std::pair<uint64_t, Hash>>{}).first;
  it->second.insert({p.expires_ms, p.id});
}

size_t OpenProposals::open_at(std::string_view author, uint64_t time_ms) const {
  auto it = unapplied_.find(author);
  if (it == unapplied_.end()) return 0;
  return static_cast<size_t>(
      std::distance(it->second.lower_bound({time_ms, Hash{}}), it->second.end()));
}

}  // namespace chipledger
