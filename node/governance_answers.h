// The node's governance answers (docs/api.md, "Governance"): the
// consortium in force with its rule, and the proposals with their
// approvals and what each still needs. These are the node's word, not
// proofs: the CLI shows them as such (docs/governance.md, section 5).
#pragma once

#include <optional>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>

#include "ledger/governance.h"
#include "ledger/ledger.h"
#include "node/http_types.h"

namespace chipledger {

// One proposal: id, index, author, times, changes, approvals, status
// ("open", "applied", "expired" by `now_ms`), needed, missing, waiting_for.
nlohmann::json proposal_view(const Proposal& p, const Consortium& in_force, uint64_t now_ms);

// GET /v1/governance: {"size", "consortium": the trust file's JSON in force}.
HttpResponse governance_answer(const Ledger& ledger);
// GET /v1/governance/proposals[?all=1][&from=I][&limit=N][&id=HEX]: the
// open ones (with all=1, every one), at log index I or later, at most N
// (1 to kMaxProposalsPerPage), `next` the index of the first left out
// (null: none); with id, only that proposal.
struct ProposalsQuery {
  bool all = false;
  uint64_t from = 0;
  uint64_t limit = 1000;
  std::optional<Hash> id;
};
inline constexpr uint64_t kMaxProposalsPerPage = 1000;
HttpResponse proposals_answer(const Ledger& ledger, uint64_t now_ms, const ProposalsQuery& query);

}  // namespace chipledger
