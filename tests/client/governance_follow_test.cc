// CustodyVerifier::follow_governance over evidence built in-process by the
// node's own code: every event judged by the consortium in force at its
// index, a revocation that reaches back named as revoked-key (for custody
// and governance events alike), a governance event withheld or no
// governance followed at all a proof-failure.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ledger/governance.h"
#include "tests/client/evidence.h"
#include "verify/custody_verifier.h"

namespace chipledger {
namespace {

using json = nlohmann::json;
using namespace chipledger::testing;
constexpr uint64_t kVerifyNow = 1790000000000;

// maker and reg are admins, one approval applies a proposal. Log:
//   0 maker registers SN1 SN2      3 reg: dist gets a new key, its old one
//   1 maker transfers SN1 -> dist    is revoked from index 2
//   2 dist accepts SN1 (a thief     4 maker (its key stolen too) restricts NL
//     holding dist's key)           5 reg: maker's key revoked from index 4
struct GovernedWorld {
  std::unique_ptr<TestConsortium> tc = make_consortium();
  std::unique_ptr<Ledger> ledger;
  PrivateKey dist_new = fresh_key();
  PrivateKey maker_new = fresh_key();
  Checkpoint cp;

  static GovernanceChange key_change(ChangeKind kind, const std::string& member) {
    GovernanceChange c;
    c.kind = kind;
    c.member = member;
    return c;
  }
  SignedTransaction propose(const std::string& author, std::vector<GovernanceChange> changes,
                            uint64_t t) {
    Transaction tx = base_tx(*tc, TxType::propose, author, t);
    tx.changes = std::move(changes);
    return sign(*tc, tx);
  }
  std::vector<GovernanceChange> replace_key(const std::string& member, const PrivateKey& old_key,
                                            const PrivateKey& new_key, uint64_t from) {
    auto add = key_change(ChangeKind::add_key, member);
    add.keys = {new_key.public_key().der()};
    auto revoke = key_change(ChangeKind::revoke_key, member);
    revoke.key_id = old_key.public_key().key_id();
    revoke.from_index = from;
    return {add, revoke};
  }

  GovernedWorld() {
    make_maker_and_reg_admins(*tc);
    ledger = open_memory_ledger(tc->consortium);
    auto reg = register_tx(*tc, {"SN1", "SN2"});
    apply_all(*ledger, {reg});
    auto x = transfer_tx(*tc, "maker", "SN1", reg.txid, "dist", kT0 + 1);
    apply_all(*ledger, {x});
    apply_all(*ledger, {accept_tx(*tc, "dist", "SN1", x.txid, kT0 + 2)});
    apply_all(*ledger, {propose("reg", replace_key("dist", tc->dist, dist_new, 2), kT0 + 3)});
    auto restrict = key_change(ChangeKind::set_policy, "");
    restrict.member.clear();
    restrict.policy = tc->consortium.policy();
    restrict.policy.restricted_destinations = {"NL"};
    restrict.policy.controlled_models = {"H100"};
    apply_all(*ledger, {propose("maker", {restrict}, kT0 + 4)});
    apply_all(*ledger, {propose("reg", replace_key("maker", tc->maker, maker_new, 4), kT0 + 5)});
    REQUIRE(ledger->size() == 6);
    cp = checkpoint_of(*ledger, 6);
  }
  std::string note() const { return note_for(cp, {{tc->node_id(), &tc->node_key()}}); }
  std::optional<json> governance_answer() const {
    return history_json(*ledger, std::string(kGovernanceHistory), cp.size);
  }
  Status follow(CustodyVerifier& v, const std::optional<json>& answer) const {
    return v.follow_governance(decode_history(std::string(kGovernanceHistory), answer, cp.size));
  }
  VerifyReport verify(CustodyVerifier& v, const std::string& serial) const {
    return v.verify(serial, history_evidence(*ledger, serial, cp.size), kVerifyNow);
  }
};

std::vector<std::string> findings_of(const VerifyReport& r, Finding f) {
  std::vector<std::string> out;
  for (const auto& [finding, reason] : r.findings) {
    if (finding == f) out.push_back(reason);
  }
  return out;
}

}  // namespace

TEST_CASE("follow governance: events judged at their index, revocations reaching back named",
          "[verifier][governance]") {
  GovernedWorld w;
  CustodyVerifier v(w.tc->consortium, w.note());
  Status followed = w.follow(v, w.governance_answer());
  INFO(followed.reason());
  REQUIRE(followed);
  CHECK(v.governance().changes() == 3);
  CHECK(v.governance().record()->events == 3);

  VerifyReport r = w.verify(v, "SN1");
  INFO(r.to_json().dump(2));
  CHECK(r.verdict() == "revoked-key");
  CHECK(r.exit_code() == 23);
  auto revoked = findings_of(r, Finding::revoked_key);
  REQUIRE(revoked.size() == 2);  // the thief's accept, and the stolen admin key's vote
  CHECK_THAT(revoked[0] + revoked[1], Catch::Contains("the event at index 2 was signed by dist") &&
                                          Catch::Contains("governance: the event at index 4"));
  REQUIRE(r.chain.size() == 3);
  CHECK(r.chain[0].key_status == "valid");  // maker's key was good at index 0
  CHECK(r.chain[1].key_status == "valid");
  CHECK(r.chain[2].key_status == "revoked from index 2 (at index 3)");
  CHECK(r.chain[2].key_id == hex_encode(w.tc->dist.public_key().key_id()));
  // Judged by the policy in force at the checkpoint: NL restricted since 4.
  CHECK_FALSE(findings_of(r, Finding::restricted_destination).empty());
  CHECK(r.governance_events == 3);

  // Every report carries the governance event signed by a revoked key.
  VerifyReport other = w.verify(v, "SN2");
  CHECK(findings_of(other, Finding::revoked_key).size() == 1);
}

TEST_CASE("follow governance: withheld, missing or unfollowed governance is a proof-failure",
          "[verifier][governance]") {
  GovernedWorld w;
  SECTION("the last governance event left out") {
    json answer = *w.governance_answer();
    answer["events"].erase(answer["events"].end() - 1);
    CustodyVerifier v(w.tc->consortium, w.note());
    CHECK_FALSE(w.follow(v, answer));
    VerifyReport r = w.verify(v, "SN1");
    REQUIRE(r.verdict() == "proof-failure");
    CHECK_THAT(r.findings.front().second,
               Catch::Contains("the governance history does not check") &&
                   Catch::Contains("events were withheld or altered"));
  }
  SECTION("a 404: no governance at all") {
    CustodyVerifier v(w.tc->consortium, w.note());
    CHECK_FALSE(w.follow(v, std::nullopt));
    CHECK(w.verify(v, "SN2").verdict() == "proof-failure");
  }
  SECTION("a custody event passed off as governance") {
    json answer = *w.governance_answer();
    auto custody = history_json(*w.ledger, "SN1", w.cp.size);
    answer["events"][0] = (*custody)["events"][0];
    CustodyVerifier v(w.tc->consortium, w.note());
    Status st = w.follow(v, answer);
    CHECK_THAT(st.reason(), Catch::Contains("not a governance transaction"));
  }
  SECTION("not followed") {
    CustodyVerifier v(w.tc->consortium, w.note());
    VerifyReport r = w.verify(v, "SN2");
    REQUIRE(r.verdict() == "proof-failure");
    CHECK_THAT(r.findings.front().second, Catch::Contains("was not followed"));
  }
}

TEST_CASE("follow governance: the node's pages of the governance history add up to the whole",
          "[verifier][governance]") {
  GovernedWorld w;
  const std::string g(kGovernanceHistory);
  json whole = *w.governance_answer();
  REQUIRE(whole["events"].size() == 3);
  CHECK_FALSE(whole.contains("next"));
  json merged;
  std::optional<uint64_t> after;
  for (int pages = 0; pages < 10; ++pages) {
    HistoryPage page;
    page.after = after;
    page.max_events = 1;
    json part = answer_json(history_answer(*w.ledger, g, w.cp.size, kNoAnswerLimit, page));
    REQUIRE(part["state"] == whole["state"]);  // every page carries the state proof
    if (merged.is_null()) {
      merged = part;
    } else {
      for (const auto& e : part["events"]) merged["events"].push_back(e);
    }
    if (!part.contains("next")) break;
    REQUIRE(part["events"].size() == 1);
    REQUIRE(part["next"] == part["events"].back()["index"]);
    after = part["next"].get<uint64_t>();
  }
  merged.erase("next");
  CHECK(merged == whole);
  CustodyVerifier v(w.tc->consortium, w.note());
  CHECK(w.follow(v, merged));

  // A page also ends at half the byte limit: never a 413.
  const size_t bytes = history_answer(*w.ledger, g, w.cp.size).body.size();
  HistoryPage by_bytes;
  by_bytes.max_events = 1000;
  json part = answer_json(history_answer(*w.ledger, g, w.cp.size, bytes, by_bytes));
  REQUIRE(part.contains("next"));
  CHECK(part["events"].size() < 3);
  CHECK(part["next"] == part["events"].back()["index"]);
}

TEST_CASE("follow governance: the checkpoint is judged by the nodes in force at its size",
          "[verifier][governance][nodes]") {
  // One node (quorum 1); a vote adds node-2 and raises the quorum to 2.
  auto tc = make_consortium("nodes-follow", 1, 2);
  Consortium genesis = must(Consortium::create(tc->ledger_id, 1, tc->consortium.policy()));
  for (const auto& [id, m] : tc->consortium.members()) must_ok(genesis.add_member(m));
  must_ok(genesis.add_node(tc->consortium.nodes()[0]));
  must_ok(genesis.set_governance(GovernanceRule{{"maker", "reg"}, 1, 3600 * 1000}));
  must_ok(genesis.validate());
  auto ledger = open_memory_ledger(genesis);
  apply_all(*ledger, {register_tx(*tc, {"SN1"})});
  GovernanceChange add;
  add.kind = ChangeKind::add_node;
  add.node = tc->node_id(1);
  add.member = "maker";
  add.keys = {tc->node_key(1).public_key().der()};
  add.raft_id = 2;
  add.raft_address = "127.0.0.1:7902";
  GovernanceChange quorum;
  quorum.kind = ChangeKind::set_quorum;
  quorum.quorum = 2;
  Transaction p = base_tx(*tc, TxType::propose, "maker", kT0 + 1);
  p.changes = {add, quorum};
  apply_all(*ledger, {sign(*tc, p)});
  REQUIRE(ledger->consortium()->quorum() == 2);
  const Checkpoint cp = checkpoint_of(*ledger, ledger->size());
  auto follow = [&](const std::string& note) {
    auto v = std::make_unique<CustodyVerifier>(genesis, note);
    (void)v->follow_governance(
        decode_history(std::string(kGovernanceHistory),
                       history_json(*ledger, std::string(kGovernanceHistory), cp.size), cp.size));
    return v;
  };
  // node-1 alone was the genesis quorum; at this size it is not.
  auto alone = follow(note_for(cp, {{tc->node_id(0), &tc->node_key(0)}}));
  REQUIRE_FALSE(alone->checkpoint());
  CHECK_THAT(alone->checkpoint().reason(), Catch::Contains("the consortium's quorum is 2") &&
                                               Catch::Contains("by the nodes in force"));
  VerifyReport refused =
      alone->verify("SN1", history_evidence(*ledger, "SN1", cp.size), kVerifyNow);
  CHECK(refused.verdict() == "proof-failure");
  // With the added node's signature it verifies: node-2 counts.
  auto both = follow(
      note_for(cp, {{tc->node_id(0), &tc->node_key(0)}, {tc->node_id(1), &tc->node_key(1)}}));
  INFO(both->checkpoint().reason());
  REQUIRE(both->checkpoint());
  CHECK(both->checkpoint()->signers == std::vector<std::string>{tc->node_id(0), tc->node_id(1)});
  VerifyReport ok = both->verify("SN1", history_evidence(*ledger, "SN1", cp.size), kVerifyNow);
  INFO(ok.to_json().dump(2));
  CHECK(ok.verdict() != "proof-failure");
  // Before the governance is followed, node-2 is nobody: the genesis judges.
  CustodyVerifier unfollowed(genesis, note_for(cp, {{tc->node_id(1), &tc->node_key(1)}}));
  CHECK_FALSE(unfollowed.checkpoint());
}

}  // namespace chipledger
