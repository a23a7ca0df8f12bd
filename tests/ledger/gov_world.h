// The rules world with a governed consortium (maker, dc and reg admins, 2
// of 3, proposals live an hour) and helpers that propose and vote: the
// governance tests' world.
#pragma once

#include <catch2/catch.hpp>

#include "ledger/governance.h"
#include "tests/ledger/rules_world.h"

namespace chipledger::testing {

inline constexpr uint64_t kHour = 3600 * 1000;

inline GovernanceRule test_rule() {
  GovernanceRule rule;
  rule.admins = {"dc", "maker", "reg"};
  rule.threshold = 2;
  rule.proposal_lifetime_ms = kHour;
  return rule;
}

// The rules world, its consortium governed by maker, dc and reg, 2 of 3.
struct GovWorld : RulesWorld {
  GovWorld() { govern_by(test_rule()); }

  // The world's consortium governed by `rule`, its ledger opened afresh.
  void govern_by(const GovernanceRule& rule) {
    REQUIRE(tc.consortium.set_governance(rule));
    REQUIRE(tc.consortium.validate());
    ledger = std::move(*Ledger::open(std::make_unique<MemoryStore>(), tc.consortium));
  }

  // A member's key pair, kept for signing once the member is added.
  PublicKey new_key(const std::string& id) {
    auto key = PrivateKey::generate(KeyAlgorithm::ed25519);
    PublicKey pub = key->public_key();
    tc.keys.insert_or_assign(id, std::move(*key));
    return pub;
  }

  GovernanceChange add_member(const std::string& id, Role role, const std::string& country) {
    GovernanceChange c;
    c.kind = ChangeKind::add_member;
    c.member = id;
    c.name = id + " Ltd";
    c.roles = {role};
    c.country = country;
    c.keys = {new_key(id).der()};
    return c;
  }
  static GovernanceChange about(ChangeKind kind, const std::string& member) {
    GovernanceChange c;
    c.kind = kind;
    c.member = member;
    return c;
  }

  // Proposes; returns the proposal id (the transaction's id).
  Hash propose(const std::string& author, std::vector<GovernanceChange> changes,
               uint64_t now = kNow) {
    Transaction t = tc.tx(author, TxType::propose);
    t.time_ms = now;
    t.changes = std::move(changes);
    SignedTransaction stx = tc.sign(t);
    auto out = apply(stx, now);
    INFO("refused: " << out.reason);
    REQUIRE(out.accepted);
    return stx.txid;
  }
  TxOutcome vote(const std::string& author, const Hash& proposal, uint64_t now = kNow) {
    Transaction t = tc.tx(author, TxType::vote);
    t.time_ms = now;
    t.proposal = proposal;
    return apply(t, now);
  }
  const Member* member(const std::string& id) { return ledger->consortium()->member(id); }
};

}  // namespace chipledger::testing
