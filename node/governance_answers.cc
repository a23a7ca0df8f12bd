#include "node/governance_answers.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "node/api.h"

namespace chipledger {

using nlohmann::json;

json proposal_view(const Proposal& p, const Consortium& in_force, uint64_t now_ms) {
  json changes = json::array();
  for (const auto& c : p.changes) changes.push_back(change_to_json(c));
  const auto& rule = in_force.governance();
  json waiting = json::array();
  RuleShortfall shortfall;
  auto approved = [&](const std::string& a) {
    return std::binary_search(p.approvals.begin(), p.approvals.end(), a);
  };
  if (rule) {
    for (const auto& a : rule->admins) {
      if (!approved(a)) waiting.push_back(a);
    }
    // The approvals that count now, as a vote counts them: active admins.
    std::vector<std::string> counted;
    for (const auto& a : p.approvals) {
      if (approval_counts(in_force, a)) counted.push_back(a);
    }
    shortfall = rule->shortfall(counted);
  }
  uint32_t needed = rule ? rule->threshold : 0;
  std::string status = p.applied ? "applied" : now_ms > p.expires_ms ? "expired" : "open";
  json j{{"id", hex_encode(p.id)},   {"index", p.index},           {"author", p.author},
         {"time_ms", p.time_ms},     {"expires_ms", p.expires_ms}, {"changes", changes},
         {"approvals", p.approvals}, {"needed", needed},           {"status", status}};
  if (p.applied) {
    j["applied_index"] = p.applied_index;
  } else {
    j["missing"] = shortfall.overall;
    json groups = json::array();
    for (const auto& [name, n] : shortfall.groups) {
      json group_waiting = json::array();
      for (const auto& g : rule->groups) {
        if (g.name != name) continue;
        for (const auto& a : g.admins) {
          if (!approved(a)) group_waiting.push_back(a);
        }
      }
      groups.push_back({{"group", name}, {"missing", n}, {"waiting_for", group_waiting}});
    }
    j["missing_groups"] = groups;
    j["waiting_for"] = waiting;
  }
  return j;
}

HttpResponse governance_answer(const Ledger& ledger) {
  auto c = ledger.consortium();
  json j{{"size", ledger.size()}, {"consortium", json::parse(c->governed_json())}};
  return HttpResponse{200, "application/json", j.dump()};
}

HttpResponse proposals_answer(const Ledger& ledger, uint64_t now_ms, const ProposalsQuery& q) {
  auto list = ledger.proposals();  // in log index order
  if (!list) return status_error(list.status());
  auto c = ledger.consortium();
  json out = json::array();
  json next = nullptr;
  for (const auto& p : *list) {
    if (p.index < q.from || (q.id && p.id != *q.id)) continue;
    json v = proposal_view(p, *c, now_ms);
    if (!q.all && !q.id && v["status"] != "open") continue;
    if (out.size() >= q.limit) {
      next = p.index;
      break;
    }
    out.push_back(std::move(v));
  }
  json rule = nullptr;
  if (c->governance()) {
    rule = {{"admins", c->governance()->admins},
            {"threshold", c->governance()->threshold},
            {"proposal_lifetime_ms", c->governance()->proposal_lifetime_ms},
            {"groups", admin_groups_to_json(c->governance()->groups)}};
  }
  json j{{"size", ledger.size()}, {"rule", rule}, {"proposals", out}, {"next", next}};
  return HttpResponse{200, "application/json", j.dump()};
}

}  // namespace chipledger
