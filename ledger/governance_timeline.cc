#include "ledger/governance_timeline.h"

#include <algorithm>

#include "ledger/custody_rules.h"

namespace chipledger {

GovernanceTimeline::GovernanceTimeline(Consortium genesis) {
  in_force_.emplace_back(0, std::make_shared<const Consortium>(std::move(genesis)));
}

Status GovernanceTimeline::apply(const SignedTransaction& stx, uint64_t log_index) {
  if (!is_governance(stx.tx.type)) return Status::error("not a governance transaction");
  if (record_ && log_index <= record_->last_index) {
    return Status::error("governance transactions are not in log order (index " +
                         std::to_string(log_index) + " after " +
                         std::to_string(record_->last_index) + ")");
  }
  const Consortium& current = latest();
  CL_TRY(check_author(current, stx.tx));
  const Proposal* named = nullptr;
  if (stx.tx.type == TxType::vote) {
    auto it = proposals_.find(stx.tx.proposal);
    if (it != proposals_.end()) named = &it->second;
  }
  const size_t open_by_author =
      stx.tx.type == TxType::propose ? open_.open_at(stx.tx.author, stx.tx.time_ms) : 0;
  auto step = apply_governance(current, stx, log_index, named, open_by_author);
  if (!step) return step.status();
  if (step->proposal) {
    open_.note(*step->proposal);
    proposals_[step->proposal->id] = std::move(*step->proposal);
  }
  if (step->consortium) {
    in_force_.emplace_back(log_index + 1,
                           std::make_shared<const Consortium>(std::move(*step->consortium)));
  }
  record_ = governance_record_after(record_, stx, log_index);
  return Status::ok();
}

const Consortium& GovernanceTimeline::at(uint64_t log_index) const {
  // The last entry in force at or before `log_index` (the first is at 0).
  auto it = std::upper_bound(in_force_.begin(), in_force_.end(), log_index,
                             [](uint64_t i, const auto& entry) { return i < entry.first; });
  return *std::prev(it)->second;
}

}  // namespace chipledger
